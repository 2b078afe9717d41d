/**
 * The datastore: immutable files named by the sha256 of their content, under
 * `REPO/store/ab/abcdef...`. A file is written to `REPO/tmp/<pid>-<random>`,
 * fsynced, renamed into place and the folder fsynced, so a crash leaves either
 * the whole file or a temp file, never a torn one. Identical content is stored
 * once; files are never overwritten.
 *
 * Placing a file (the rename) is separated from staging it (write + fsync) so
 * that the repository can do the rename inside the registry's write
 * transaction: a file in store/ that no registry row names is then always a
 * crash leftover, never a put in flight, and `verify` may remove it.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sha256Hex } from './hash.js';
import { errors } from '../errors.js';

export interface StagedFile {
  readonly hash: string;
  readonly size: number;
  /** The temp path; undefined when the content is already stored. */
  readonly tempPath: string | undefined;
}

export class Datastore {
  readonly storeDir: string;
  readonly tmpDir: string;

  constructor(readonly root: string) {
    this.storeDir = join(root, 'store');
    this.tmpDir = join(root, 'tmp');
  }

  init(): void {
    mkdirSync(this.storeDir, { recursive: true });
    mkdirSync(this.tmpDir, { recursive: true });
  }

  pathOf(hash: string): string {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw errors.badInput('datastore', `not a sha256: ${hash}`);
    return join(this.storeDir, hash.slice(0, 2), hash);
  }

  has(hash: string): boolean {
    return existsSync(this.pathOf(hash));
  }

  /** Write the bytes to a durable temp file (nothing visible in store/ yet). */
  stage(bytes: Uint8Array): StagedFile {
    const hash = sha256Hex(bytes);
    if (this.has(hash)) return { hash, size: bytes.length, tempPath: undefined };
    // The pid in the name lets verify tell a live writer's temp file from a crash leftover.
    const tempPath = join(this.tmpDir, `${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      const fd = openSync(tempPath, 'wx', 0o444);
      try {
        let off = 0;
        while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      rmSync(tempPath, { force: true });
      throw errors.io(tempPath, e);
    }
    return { hash, size: bytes.length, tempPath };
  }

  /** Rename a staged file into store/ and fsync the folder. Idempotent. */
  place(staged: StagedFile): void {
    if (staged.tempPath === undefined) return;
    const target = this.pathOf(staged.hash);
    const dir = join(this.storeDir, staged.hash.slice(0, 2));
    mkdirSync(dir, { recursive: true });
    if (existsSync(target)) {
      rmSync(staged.tempPath, { force: true });
      return;
    }
    renameSync(staged.tempPath, target);
    fsyncDir(dir);
  }

  /** Drop a staged file that will not be placed (validation or registry failure). */
  discard(staged: StagedFile): void {
    if (staged.tempPath !== undefined) rmSync(staged.tempPath, { force: true });
  }

  read(hash: string): Uint8Array {
    const path = this.pathOf(hash);
    try {
      return readFileSync(path);
    } catch (e) {
      throw errors.io(path, e);
    }
  }

  remove(hash: string): void {
    rmSync(this.pathOf(hash), { force: true });
  }

  /** Every stored hash (names that are not sha256 are reported separately). */
  list(): { hashes: string[]; strays: string[] } {
    const hashes: string[] = [];
    const strays: string[] = [];
    if (!existsSync(this.storeDir)) return { hashes, strays };
    for (const sub of readdirSync(this.storeDir)) {
      const dir = join(this.storeDir, sub);
      if (!statSync(dir).isDirectory()) {
        strays.push(join('store', sub));
        continue;
      }
      for (const name of readdirSync(dir)) {
        if (/^[0-9a-f]{64}$/.test(name) && name.startsWith(sub)) hashes.push(name);
        else strays.push(join('store', sub, name));
      }
    }
    return { hashes, strays };
  }

  /** Temp files whose writer is gone (dead pid or unparseable name). */
  leftoverTemps(): string[] {
    if (!existsSync(this.tmpDir)) return [];
    return readdirSync(this.tmpDir).filter((name) => {
      const pid = Number(name.split('-')[0]);
      return !(Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid));
    });
  }

  removeTemp(name: string): void {
    rmSync(join(this.tmpDir, name), { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** fsync a folder so that a rename in it survives a power cut. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
