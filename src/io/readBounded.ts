/**
 * Reading a whole input file with a bound on its size, so that one argument
 * (`--config /dev/zero`, a 40 GB file named as a header) cannot make the
 * process allocate without limit. A regular file is measured before it is
 * read; anything else (a pipe, /dev/stdin, a device) is read up to the bound
 * and refused past it.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { errors } from '../errors.js';

const MiB = 1024 * 1024;

/** The bounds, by what is read (one place, so the CLI and the library agree). */
export const INPUT_LIMITS = {
  /** Header text, PhotoCalib JSON, a config: small text documents. */
  text: 64 * MiB,
  /** A CSV catalog, read whole (V8 strings end near 512 MiB anyway). */
  csv: 512 * MiB,
  /** A FITS file read for its WCS or calibration cards (a whole calexp). */
  fits: 2048 * MiB,
  /** A dataset put into a repository (catalogs, images), or a bundle archive. */
  dataset: 2048 * MiB,
  /** Anything whose size is not known before reading (a pipe, /dev/stdin, a device): no more than this. */
  stream: 64 * MiB,
} as const;

export interface BoundedReadOptions {
  /** The most bytes accepted. */
  readonly maxBytes: number;
  /** How the input was named, for the error: `--config`, `FILE`, `--wcs`. */
  readonly label: string;
  /** The bound for an input of unknown size (not a regular file); default min(maxBytes, INPUT_LIMITS.stream). */
  readonly maxStreamBytes?: number;
}

function tooLarge(path: string, options: BoundedReadOptions): Error {
  return errors.badInput(`${options.label} ${path}`, `larger than the ${(options.maxBytes / MiB).toFixed(0)} MiB accepted here`);
}

/**
 * The bytes of `path`, at most `maxBytes` of them: BAD_INPUT naming the
 * argument when there are more, NOT_FOUND when it does not exist, IO when
 * it cannot be read.
 */
export function readFileBounded(path: string, options: BoundedReadOptions): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw errors.notFound(path);
    throw errors.io(path, e);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw errors.badInput(`${options.label} ${path}`, 'is a folder, not a file');
    if (st.isFile()) {
      if (st.size > options.maxBytes) throw tooLarge(path, options);
      return readAll(fd, path, st.size + 1, options);
    }
    const maxBytes = options.maxStreamBytes ?? Math.min(options.maxBytes, INPUT_LIMITS.stream);
    return readAll(fd, path, 64 * 1024, { ...options, maxBytes });
  } finally {
    closeSync(fd);
  }
}

/** Read to the end, growing the buffer; refuse at maxBytes + 1. */
function readAll(fd: number, path: string, initial: number, options: BoundedReadOptions): Buffer {
  let buf = Buffer.allocUnsafe(Math.min(initial, options.maxBytes + 1));
  let length = 0;
  for (;;) {
    if (length === buf.length) {
      if (length > options.maxBytes) throw tooLarge(path, options);
      const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, options.maxBytes + 1));
      buf.copy(bigger, 0, 0, length);
      buf = bigger;
    }
    let n: number;
    try {
      n = readSync(fd, buf, length, buf.length - length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw errors.io(path, e);
    }
    if (n === 0) break;
    length += n;
  }
  if (length > options.maxBytes) throw tooLarge(path, options);
  return buf.subarray(0, length);
}

/** The bytes of a stream (stdin), at most `maxBytes`. */
export async function readStreamBounded(stream: AsyncIterable<unknown>, source: string, options: BoundedReadOptions): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
    length += b.length;
    if (length > options.maxBytes) throw tooLarge(source, options);
    chunks.push(b);
  }
  return Buffer.concat(chunks, length);
}
