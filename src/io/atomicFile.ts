/**
 * The one way skycal writes a file durably. Whole-file writes never leave a
 * half-written file: write to a temporary name in the same folder, fsync the
 * file, rename it over the target, fsync the folder (so the rename survives
 * a power cut). A reader sees the old file or the new one, never a part.
 *
 * Large outputs (bundles with catalogs) go through `AtomicFileWriter`, which
 * takes the bytes in chunks with the same guarantees. The repository's
 * datastore uses the two halves (`writeNewFileDurable`, `renameDurable`)
 * because it renames inside a registry transaction.
 *
 * What an output path may name is decided by `checkOutputPath`
 * (outputPath.ts): a device or FIFO is written through, never replaced.
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { SkycalError, errors } from '../errors.js';
import { checkOutputPath, type OutputCheck } from './outputPath.js';

/**
 * This host's name as it stands in temporary names (letters, digits and
 * dashes): on a file system shared by several hosts (sharded recompute on a
 * cluster) a pid means something only on the host that wrote it.
 */
export const TEMP_HOST = hostname().replace(/[^A-Za-z0-9-]/g, '-') || 'host';

/**
 * What a temporary's name says of the process that made it, unique to this
 * host, process and call: HOST.PID.HEX (48 random bits: thousands of a
 * bundle's files are staged at once).
 */
export function temporaryOwnerTag(): string {
  return `${TEMP_HOST}.${process.pid}.${randomBytes(6).toString('hex')}`;
}

/** The process a tag of temporaryOwnerTag names, or undefined when `tag` is not one. */
export function temporaryOwnerOf(tag: string): { host: string; pid: number } | undefined {
  const m = /^([A-Za-z0-9-]+)\.(\d+)\.[0-9a-f]+$/.exec(tag);
  return m === null ? undefined : { host: m[1]!, pid: Number(m[2]) };
}

/** A temporary name beside `path`: .NAME.HOST.PID.HEX.tmp. */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${temporaryOwnerTag()}.tmp`);
}

/** How long another host's temporary may go unmodified before its process is taken to be gone (its pid cannot be asked). */
export const FOREIGN_TEMP_MAX_IDLE_MS = 24 * 3600 * 1000;

/**
 * Whether a file last modified at `modifiedMs` is at least `minAgeMs` old at
 * `now`. A minimum age of 0 takes every file: mtimes carry fractions of a
 * millisecond and Date.now() does not, so a file written in the current
 * millisecond looks younger than 0 ms.
 */
export function oldEnough(modifiedMs: number, minAgeMs: number, now = Date.now()): boolean {
  return minAgeMs <= 0 || now - modifiedMs >= minAgeMs;
}

/**
 * Whether the process that made a temporary is gone, so that the temporary
 * may be removed: this host's when its pid no longer runs (never this
 * process's own); another host's (a file system shared by several hosts)
 * only once unmodified for FOREIGN_TEMP_MAX_IDLE_MS, since its pid means
 * nothing here.
 */
export function temporaryOwnerGone(owner: { host: string; pid: number }, modifiedMs: number, now = Date.now()): boolean {
  if (owner.host === TEMP_HOST) return owner.pid !== process.pid && !processAlive(owner.pid);
  return now - modifiedMs >= FOREIGN_TEMP_MAX_IDLE_MS;
}

/** Whether process `pid` runs on this host (EPERM: it runs, as another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A failed write as the IO error users see (a full disk is named as such); a SkycalError passes through. */
export function writeError(path: string, e: unknown): SkycalError {
  if (SkycalError.isSkycalError(e)) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? `the folder ${dirname(path)} does not exist`
    : code === 'ENOSPC' ? 'no space left on the device' : (e as Error).message;
  return errors.io(path, `cannot write: ${why}`, { cause: e });
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}

/** fsync a folder so that a rename or unlink in it survives a power cut. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Create `path` (it must not exist), write and fsync it; on any failure nothing is left. */
export function writeNewFileDurable(path: string, bytes: Uint8Array, mode = 0o644): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'wx', mode);
    writeAll(fd, bytes);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
  } catch (e) {
    if (fd !== undefined) {
      try { closeSync(fd); } catch { /* already closed */ }
    }
    try { unlinkSync(path); } catch { /* never created */ }
    throw writeError(path, e);
  }
}

/** Rename a durable file into place and fsync the folder it lands in. */
export function renameDurable(from: string, to: string): void {
  renameSync(from, to);
  fsyncDir(dirname(to));
}

/**
 * Write a whole file atomically. A character device or FIFO (`/dev/stdout`)
 * is written through; a symbolic link, folder or anything inside a folder
 * the caller protects (`options.notInside`) is refused by checkOutputPath.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string, options: OutputCheck = {}): void {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  if (checkOutputPath(path, options) === 'device') {
    writeThrough(path, bytes);
    return;
  }
  const tmp = temporaryPathFor(path);
  writeNewFileDurable(tmp, bytes);
  try {
    renameDurable(tmp, path);
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* already renamed */ }
    throw writeError(path, e);
  }
}

function writeThrough(path: string, bytes: Uint8Array): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'w');
    writeAll(fd, bytes);
  } catch (e) {
    throw writeError(path, e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * A streaming atomic write: `write` chunks, then `commit` (fsync, rename,
 * fsync folder) or `abort` (remove the temp file). Memory stays at one chunk.
 */
export class AtomicFileWriter {
  readonly tempPath: string;
  private fd: number | undefined;

  constructor(readonly path: string, options: OutputCheck = {}) {
    if (checkOutputPath(path, options) === 'device') throw errors.usage(`${path}: a streamed output must be a regular file`);
    this.tempPath = temporaryPathFor(path);
    try {
      this.fd = openSync(this.tempPath, 'wx', 0o644);
    } catch (e) {
      throw writeError(path, e);
    }
  }

  write(bytes: Uint8Array): void {
    if (this.fd === undefined) throw errors.internal(new Error(`AtomicFileWriter ${this.path}: write after commit or abort`));
    try {
      writeAll(this.fd, bytes);
    } catch (e) {
      this.abort();
      throw writeError(this.path, e);
    }
  }

  commit(): void {
    if (this.fd === undefined) throw errors.internal(new Error(`AtomicFileWriter ${this.path}: commit after commit or abort`));
    try {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = undefined;
      renameDurable(this.tempPath, this.path);
    } catch (e) {
      this.abort();
      throw writeError(this.path, e);
    }
  }

  abort(): void {
    if (this.fd !== undefined) {
      try { closeSync(this.fd); } catch { /* already closed */ }
      this.fd = undefined;
    }
    try { unlinkSync(this.tempPath); } catch { /* gone */ }
  }
}
