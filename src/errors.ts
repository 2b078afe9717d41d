/**
 * The errors a user of skycal can see. Every one carries a stable `code`
 * (DESIGN.md §6): scripts match on the code, people read the message.
 * Only bad configuration and bad input throw; per-point problems inside
 * kernels become NaN plus a status bit instead.
 */
export type ErrorCode =
  | 'USAGE'
  | 'NOT_FOUND'
  | 'INVALID_DATASET'
  | 'CONFLICT'
  | 'BAD_INPUT'
  | 'NO_CONVERGENCE'
  | 'IO'
  /** A bug in skycal, not in the input: exit 70 (EX_SOFTWARE) and a request for a report. */
  | 'INTERNAL';

const BRAND = Symbol.for('skycal/SkycalError');

export class SkycalError extends Error {
  readonly code: ErrorCode;
  /** Machine-readable facts beside the message (a verify report, merge conflicts), shown under --json. */
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly [BRAND] = true;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options);
    this.name = 'SkycalError';
    this.code = code;
    this.details = options?.details;
  }

  /** Brand check that survives two copies of the library (unlike instanceof). */
  static isSkycalError(x: unknown): x is SkycalError {
    return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[BRAND] === true;
  }

  toJSON(): { code: ErrorCode; message: string } & Record<string, unknown> {
    return { ...this.details, code: this.code, message: this.message };
  }
}

/** What a factory may carry beside its message: the error it wraps, facts for --json. */
export interface ErrorOptions {
  readonly cause?: unknown;
  readonly details?: Record<string, unknown>;
}

const text = (x: unknown): string => (x instanceof Error ? x.message : String(x));

/** Only the options given, so that an error without a cause has no `cause` property. */
function given(options: ErrorOptions | undefined): { cause?: unknown; details?: Record<string, unknown> } | undefined {
  if (options === undefined) return undefined;
  return { ...(options.cause !== undefined && { cause: options.cause }), ...(options.details !== undefined && { details: options.details }) };
}

/**
 * One table of factories, so that messages keep one shape (as piscina's
 * errors.ts): the only place in src/ that calls `new SkycalError` (a test
 * checks). Each message names the bad input first, `WHERE: what is wrong`.
 */
export const errors = {
  /** A command line or API call that cannot be right whatever the files hold. */
  usage: (message: string, options?: ErrorOptions) => new SkycalError('USAGE', message, given(options)),
  notFound: (what: string) => new SkycalError('NOT_FOUND', `not found: ${what}`),
  /** `where` names the bad input (a file, a FITS card, an option, a field), `message` what is wrong with it. */
  badInput: (where: string, message: string, options?: ErrorOptions) => new SkycalError('BAD_INPUT', `${where}: ${message}`, given(options)),
  /** `why` is the failure (an Error: its message) or a sentence; an Error is kept as the cause unless options give one. */
  io: (path: string, why: unknown, options?: ErrorOptions) =>
    new SkycalError('IO', `${path}: ${text(why)}`, given({ cause: typeof why === 'string' ? undefined : why, ...options })),
  conflict: (message: string, details?: Record<string, unknown>) => new SkycalError('CONFLICT', message, { details }),
  invalidDataset: (message: string) => new SkycalError('INVALID_DATASET', message),
  /** The same failure (code, details) named by where it came from: `where: message (hint)`, the original as the cause. */
  within: (where: string, e: SkycalError, hint?: string) =>
    new SkycalError(e.code, `${where}: ${e.message}${hint === undefined ? '' : ` (${hint})`}`, given({ cause: e, ...(e.details !== undefined && { details: { ...e.details } }) })),
  /** An error another thread made and sent back as its toJSON() (a worker's): the same code and message. */
  fromJson: (e: { code: ErrorCode; message: string }) => new SkycalError(e.code, e.message),
  internal: (cause: unknown) =>
    new SkycalError(
      'INTERNAL',
      `internal error (a bug in skycal; please report it with the command and this message): ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}`,
      { cause },
    ),
};
