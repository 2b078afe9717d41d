/**
 * The CLI's inputs and outputs in one place: bounded reads of the files
 * named on the command line (readFileBounded, INPUT_LIMITS; catalogs stream
 * through src/catalog, CSV bounded there), dataset bytes to stdout (binary
 * refused on a terminal), and a closed stdout (`| head`) ending the command
 * quietly.
 */
import { INPUT_LIMITS, readFileBounded } from '../io/readBounded.js';
import { errors } from '../errors.js';
import type { CliContext } from './command.js';

export { INPUT_LIMITS, readFileBounded };

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
