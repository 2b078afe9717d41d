/**
 * Which catalog format a path names (by extension, DESIGN.md §6), and a look
 * at its first and last bytes so that a wrong or truncated file fails with a
 * clear message instead of a decoder's.
 */
import { open } from 'node:fs/promises';
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
    throw new SkycalError('USAGE', `${path}: unknown catalog format; use .csv, .parquet, .arrow (IPC file) or .arrows (IPC stream)`);
  }
  return format;
}

const PAR1 = Buffer.from('PAR1');
const ARROW1 = Buffer.from('ARROW1');

/**
 * Which binary catalog encoding bytes are, from their first 8 and last 6
 * bytes only: Parquet and Arrow IPC files carry magic at both ends, an IPC
 * stream starts with the 0xFFFFFFFF continuation marker. Pass the whole file,
 * or its head and tail with the file's size.
 */
export function sniffCatalogBytes(head: Uint8Array, tail: Uint8Array = head, size = head.length): Exclude<CatalogFormat, 'csv'> | undefined {
  const h = Buffer.from(head.buffer, head.byteOffset, Math.min(head.length, 8));
  const t = Buffer.from(tail.buffer, tail.byteOffset + Math.max(0, tail.length - 6), Math.min(tail.length, 6));
  if (size >= 12 && h.subarray(0, 4).equals(PAR1) && t.length >= 4 && t.subarray(t.length - 4).equals(PAR1)) return 'parquet';
  if (size >= 12 && h.length >= 6 && h.subarray(0, 6).equals(ARROW1) && t.equals(ARROW1)) return 'arrow';
  if (size >= 8 && h.length >= 4 && h.readUInt32LE(0) === 0xffffffff) return 'arrows';
  return undefined;
}

/** Throws NOT_FOUND / BAD_INPUT unless the file's magic bytes match its format. */
export async function checkMagic(path: string, format: CatalogFormat): Promise<void> {
  if (format === 'csv') return;
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw errors.notFound(`catalog ${path}`);
    throw errors.io(path, e);
  }
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(8);
    const tail = Buffer.alloc(6);
    await handle.read(head, 0, Math.min(8, size), 0);
    if (size >= 6) await handle.read(tail, 0, 6, size - 6);
    if (format === 'parquet') {
      if (!head.subarray(0, 4).equals(PAR1)) throw errors.badInput(path, 'not a Parquet file (it does not start with PAR1)');
      if (size < 12 || !tail.subarray(2, 6).equals(PAR1)) throw errors.badInput(path, 'truncated Parquet file (no PAR1 footer at the end)');
    } else if (format === 'arrow') {
      if (!head.subarray(0, 6).equals(ARROW1)) throw errors.badInput(path, 'not an Arrow IPC file (it does not start with ARROW1)');
      if (!tail.equals(ARROW1)) throw errors.badInput(path, 'truncated Arrow IPC file (no ARROW1 footer at the end)');
    } else if (size < 8 || head.readUInt32LE(0) !== 0xffffffff) {
      // Every IPC stream message since Arrow 0.15 starts with the 0xFFFFFFFF continuation marker.
      throw errors.badInput(path, 'not an Arrow IPC stream (no message marker at the start)');
    }
  } finally {
    await handle.close();
  }
}
