/**
 * Whole-file writes that never leave a half-written file: write to a
 * temporary name in the same folder, fsync, rename over the target. A reader
 * sees the old file or the new one, never a part.
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SkycalError } from '../errors.js';

/** A temporary name beside `path`, unique to this process and moment. */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
}

export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const tmp = temporaryPathFor(path);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? `the folder ${dirname(path)} does not exist` : (e as Error).message;
    throw new SkycalError('IO', `${path}: cannot write: ${why}`, { cause: e });
  }
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
    try {
      unlinkSync(tmp);
    } catch {
      /* never created or already renamed */
    }
    throw new SkycalError('IO', `${path}: cannot write: ${(e as Error).message}`, { cause: e });
  }
}
