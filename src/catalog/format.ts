/**
 * Which catalog format a path names (by extension, DESIGN.md §6), and a look
 * at its first and last bytes so that a wrong or truncated file fails with a
 * clear message instead of a decoder's.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { extname } from 'node:path';
import { SkycalError, errors } from '../errors.js';

export type CatalogFormat = 'csv' | 'parquet' | 'arrow' | 'arrows';

/** `-` (or no path) is stdin/stdout, always CSV. */
export const STDIO = '-';

const BY_EXTENSION: Record<string, CatalogFormat> = {
  '.csv': 'csv',
  '.parquet': 'parquet',
  '.pq': 'parquet',
  '.arrow': 'arrow',
  '.feather': 'arrow',
  '.arrows': 'arrows',
};

export function catalogFormat(path: string): CatalogFormat {
  if (path === STDIO) return 'csv';
  const format = BY_EXTENSION[extname(path).toLowerCase()];
  if (format === undefined) {
    throw errors.usage(`${path}: unknown catalog format; use .csv, .parquet, .arrow (IPC file) or .arrows (IPC stream)`);
  }
  return format;
}

const PAR1 = Buffer.from('PAR1');
const ARROW1 = Buffer.from('ARROW1');
/** Bytes of a file's start and end that decide its format (the only bytes a sniff reads). */
export const SNIFF_HEAD_BYTES = 8;
export const SNIFF_TAIL_BYTES = 6;

/** A file's first and last few bytes, and its size: all that sniffing looks at. */
export interface CatalogEnds {
  readonly head: Uint8Array;
  readonly tail: Uint8Array;
  readonly size: number;
}

const eq = (a: Uint8Array, at: number, b: Buffer): boolean => a.length >= at + b.length && Buffer.from(a.buffer, a.byteOffset + at, b.length).equals(b);

/**
 * What a binary catalog is, from its ends (the one sniffer: checkMagic, the
 * repository's put and its reads all use it). Parquet and the Arrow IPC file
 * carry magic at both ends; an IPC stream starts with the 0xFFFFFFFF
 * continuation marker (every message since Arrow 0.15). undefined: none of
 * them (CSV has no magic).
 */
export function sniffCatalogEnds({ head, tail, size }: CatalogEnds): Exclude<CatalogFormat, 'csv'> | undefined {
  if (size >= 12 && eq(head, 0, PAR1) && eq(tail, tail.length - 4, PAR1)) return 'parquet';
  if (size >= 12 && eq(head, 0, ARROW1) && eq(tail, tail.length - 6, ARROW1)) return 'arrow';
  if (size >= 8 && head[0] === 0xff && head[1] === 0xff && head[2] === 0xff && head[3] === 0xff) return 'arrows';
  return undefined;
}

/** The ends of bytes in memory. */
export function endsOfBytes(bytes: Uint8Array): CatalogEnds {
  const n = bytes.length;
  return { head: bytes.subarray(0, Math.min(SNIFF_HEAD_BYTES, n)), tail: bytes.subarray(Math.max(0, n - SNIFF_TAIL_BYTES)), size: n };
}

/** Sniff bytes in memory. */
export function sniffCatalogBytes(bytes: Uint8Array): Exclude<CatalogFormat, 'csv'> | undefined {
  return sniffCatalogEnds(endsOfBytes(bytes));
}

function openError(path: string, e: unknown): SkycalError {
  if ((e as NodeJS.ErrnoException).code === 'ENOENT') return errors.notFound(`catalog ${path}`);
  return errors.io(path, e);
}

/** The ends of a file, reading only those bytes (synchronously: the repository's reads are synchronous). */
export function endsOfFile(path: string): CatalogEnds {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw openError(path, e);
  }
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(SNIFF_HEAD_BYTES, size));
    const tail = Buffer.alloc(Math.min(SNIFF_TAIL_BYTES, size));
    readSync(fd, head, 0, head.length, 0);
    readSync(fd, tail, 0, tail.length, size - tail.length);
    return { head, tail, size };
  } catch (e) {
    throw errors.io(path, e);
  } finally {
    closeSync(fd);
  }
}

/** Sniff a file by its first and last bytes (never reading the rest). */
export function sniffCatalogFormat(path: string): Exclude<CatalogFormat, 'csv'> | undefined {
  return sniffCatalogEnds(endsOfFile(path));
}

/** Why `ends` is not a file of `format` (a message naming what is missing), or undefined when it is. */
export function magicProblem(format: CatalogFormat, ends: CatalogEnds): string | undefined {
  if (format === 'csv') return undefined;
  const { head, size } = ends;
  const found = sniffCatalogEnds(ends);
  if (found === format) return undefined;
  if (format === 'parquet') return eq(head, 0, PAR1) ? 'truncated Parquet file (no PAR1 footer at the end)' : 'not a Parquet file (it does not start with PAR1)';
  if (format === 'arrow') return eq(head, 0, ARROW1) && size >= 6 ? 'truncated Arrow IPC file (no ARROW1 footer at the end)' : 'not an Arrow IPC file (it does not start with ARROW1)';
  return 'not an Arrow IPC stream (no message marker at the start)';
}

/** Throws NOT_FOUND / BAD_INPUT unless the file's magic bytes match its format. */
export async function checkMagic(path: string, format: CatalogFormat): Promise<void> {
  if (format === 'csv') return;
  const problem = magicProblem(format, endsOfFile(path));
  if (problem !== undefined) throw errors.badInput(path, problem);
}
