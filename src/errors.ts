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

/** One table of factories, so that messages keep one shape (as piscina's errors.ts). */
export const errors = {
  usage: (message: string) => new SkycalError('USAGE', message),
  notFound: (what: string) => new SkycalError('NOT_FOUND', `not found: ${what}`),
  badInput: (where: string, message: string) => new SkycalError('BAD_INPUT', `${where}: ${message}`),
  io: (path: string, cause: unknown) =>
    new SkycalError('IO', `${path}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause }),
  conflict: (message: string, details?: Record<string, unknown>) => new SkycalError('CONFLICT', message, { details }),
  invalidDataset: (message: string) => new SkycalError('INVALID_DATASET', message),
  internal: (cause: unknown) =>
    new SkycalError(
      'INTERNAL',
      `internal error (a bug in skycal; please report it with the command and this message): ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}`,
      { cause },
    ),
};
