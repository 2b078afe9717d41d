/**
 * The CLI's inputs and outputs in one place: bounded reads of a file or
 * stdin, text and binary writes to a file or stdout (binary refused on a
 * terminal), and a closed stdout (`| head`) ending the command quietly.
 */
import { writeFileAtomic } from '../io/atomicFile.js';
import { INPUT_LIMITS, readFileBounded, readStreamBounded } from '../io/readBounded.js';
import { errors } from '../errors.js';
import type { CliContext } from './command.js';

export { INPUT_LIMITS, readFileBounded };

/**
 * Text from a file or `-`/nothing (stdin), at most `maxBytes` (default
 * INPUT_LIMITS.text): BAD_INPUT naming `label` past it.
 */
export async function readTextInput(
  path: string | undefined,
  ctx: Pick<CliContext, 'stdin'>,
  options: { label?: string; maxBytes?: number } = {},
): Promise<{ text: string; source: string }> {
  const bound = { label: options.label ?? '--in', maxBytes: options.maxBytes ?? INPUT_LIMITS.text };
  if (path === undefined || path === '-') {
    return { text: (await readStreamBounded(ctx.stdin, 'stdin', bound)).toString('utf8'), source: 'stdin' };
  }
  return { text: readFileBounded(path, bound).toString('utf8'), source: path };
}

export function writeTextOutput(path: string | undefined, text: string, ctx: CliContext): void {
  if (path === undefined || path === '-') {
    ctx.stdout.write(text);
    return;
  }
  writeFileAtomic(path, text);
}

/** Bytes that are not text: a NUL, or not UTF-8 (Parquet, Arrow, FITS images). */
export function looksBinary(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, 65536);
  if (head.includes(0)) return true;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return false;
  } catch {
    return true;
  }
}

/**
 * Write a dataset's bytes to stdout; binary data (Parquet, Arrow, FITS) are
 * refused on a terminal, where they would only garble it.
 */
export function writeBytesToStdout(ctx: CliContext, bytes: Uint8Array, what: string): void {
  if (ctx.stdoutIsTTY && looksBinary(bytes)) {
    throw errors.usage(`${what} is binary; refusing to write it to a terminal: pass --out FILE, or redirect stdout (> FILE, | ...)`);
  }
  ctx.stdout.write(bytes);
}

/** An error (or its cause) that says the reader of a pipe went away. */
export function isBrokenPipe(e: unknown): boolean {
  for (let x = e, depth = 0; typeof x === 'object' && x !== null && depth < 8; x = (x as { cause?: unknown }).cause, depth++) {
    if ((x as NodeJS.ErrnoException).code === 'EPIPE' || (x as NodeJS.ErrnoException).code === 'ERR_STREAM_DESTROYED') return true;
  }
  return false;
}

/**
 * The bin's stdout: when its reader closes (`skycal get ... | head -c 8`)
 * the write fails with EPIPE, asynchronously; end the process at once with
 * exit 0 instead of an unhandled 'error' and a stack trace. Only stdout
 * reaches here, so no output file is left half-written.
 */
export function exitQuietlyOnBrokenPipe(stdout: NodeJS.WriteStream): void {
  stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (isBrokenPipe(e)) process.exit(0);
    process.stderr.write(`skycal: error [IO]: stdout: ${e.message}\n`);
    process.exit(1);
  });
}
