/**
 * The datastore: immutable files named by the sha256 of their content, under
 * `REPO/store/ab/abcdef...`. A file is written to `REPO/tmp/HOST.PID.HEX`
 * and fsynced (io/atomicFile's `writeNewFileDurable`), then renamed into place
 * with the folder fsynced (`renameDurable`), so a crash leaves either the
 * whole file or a temp file, never a torn one. Identical content is stored
 * once; files are never overwritten.
 *
 * Placing a file (the rename) is separated from staging it (write + fsync) so
 * that the repository can do the rename inside the registry's write
 * transaction: a file in store/ that no registry row names is then always a
 * crash leftover (or a file an interrupted gc was removing), never a put in
 * flight. Removal happens only under the write lock after re-checking the
 * registry (see maintenance.ts), and only for files older than a safe age.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, fstatSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { sha256Hex } from './hash.js';
import { errors } from '../errors.js';
import { TEMP_HOST, fsyncDir, oldEnough, renameDurable, temporaryOwnerGone, temporaryOwnerOf, temporaryOwnerTag, writeNewFileDurable } from '../io/atomicFile.js';

// Names in tmp/: a temporaryOwnerTag (HOST.PID.HEX); before 2026-12 PID-HEX, made on this host.
const TEMP_NAME_WITHOUT_HOST = /^(\d+)-[0-9a-f]+$/;

/** Who staged temp file `name`, or undefined when its name says no writer. */
function tempOwner(name: string): { host: string; pid: number } | undefined {
  const old = TEMP_NAME_WITHOUT_HOST.exec(name);
  return temporaryOwnerOf(name) ?? (old === null ? undefined : { host: TEMP_HOST, pid: Number(old[1]) });
}

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
    return this.stageAs(hash, bytes);
  }

  /** Stage even when the content is stored now (inside a transaction that found it gone). */
  stageAs(hash: string, bytes: Uint8Array): StagedFile {
    const tempPath = this.newTempPath();
    mkdirSync(this.tmpDir, { recursive: true }); // a copied repository may lack the empty folder
    writeNewFileDurable(tempPath, bytes, 0o444);
    return { hash, size: bytes.length, tempPath };
  }

  /** Rename a staged file into store/ and fsync the folder. Idempotent. */
  place(staged: StagedFile): void {
    if (staged.tempPath === undefined) return;
    const target = this.pathOf(staged.hash);
    mkdirSync(join(this.storeDir, staged.hash.slice(0, 2)), { recursive: true });
    if (existsSync(target)) {
      rmSync(staged.tempPath, { force: true });
      return;
    }
    try {
      renameDurable(staged.tempPath, target);
    } catch (e) {
      throw errors.io(target, e);
    }
  }

  /** Drop a staged file that will not be placed (validation or registry failure). */
  discard(staged: StagedFile): void {
    if (staged.tempPath !== undefined) rmSync(staged.tempPath, { force: true });
  }

  /** A stored file's bytes, checked against its name: a corrupt file is IO naming it, never returned. */
  read(hash: string): Uint8Array {
    const path = this.pathOf(hash);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      throw errors.io(path, e);
    }
    if (sha256Hex(bytes) !== hash) throw errors.io(path, 'checksum mismatch: the stored file is corrupt (run skycal verify)');
    return bytes;
  }

  /** sha256 and size of a stored file, read in 1 MiB chunks (verify of a large store never holds a file whole). */
  digest(hash: string): { sha256: string; size: number } {
    const path = this.pathOf(hash);
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r');
      const h = createHash('sha256');
      // Sized to the file (at most 1 MiB) and not zero-filled: verify digests every stored file, most far smaller than 1 MiB.
      const buf = Buffer.allocUnsafe(Math.max(1, Math.min(1 << 20, fstatSync(fd).size)));
      let size = 0;
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        h.update(buf.subarray(0, n));
        size += n;
      }
      return { sha256: h.digest('hex'), size };
    } catch (e) {
      throw errors.io(path, e);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /** The first `head` and last `tail` bytes of a stored file (format sniffing without reading it whole). */
  headTail(hash: string, head: number, tail: number): { head: Uint8Array; tail: Uint8Array; size: number } {
    const path = this.pathOf(hash);
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r');
      const size = fstatSync(fd).size;
      const h = Buffer.alloc(Math.min(head, size));
      readSync(fd, h, 0, h.length, 0);
      const t = Buffer.alloc(Math.min(tail, size));
      readSync(fd, t, 0, t.length, size - t.length);
      return { head: h, tail: t, size };
    } catch (e) {
      throw errors.io(path, e);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /** Modification time of a stored file (ms), or undefined when it is gone. */
  mtimeOf(hash: string): number | undefined {
    try {
      return statSync(this.pathOf(hash)).mtimeMs;
    } catch {
      return undefined;
    }
  }

  remove(hash: string): void {
    const path = this.pathOf(hash);
    rmSync(path, { force: true });
  }

  /** fsync the folders files were removed from, so the removal is durable before the registry forgets them. */
  syncFolders(hashes: Iterable<string>): void {
    for (const sub of new Set([...hashes].map((h) => h.slice(0, 2)))) {
      const dir = join(this.storeDir, sub);
      if (existsSync(dir)) fsyncDir(dir);
    }
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

  /**
   * A new name in tmp/ for a file being staged (a put, a bundle's files):
   * HOST.PID.HEX, so that verify on any host sharing the store can tell a
   * live writer's file from a crash leftover.
   */
  newTempPath(): string {
    return join(this.tmpDir, temporaryOwnerTag());
  }

  /**
   * Temp files older than `minAgeMs` whose writer is gone (temporaryOwnerGone:
   * another host's only after a day unmodified), or whose name says no writer.
   */
  leftoverTemps(minAgeMs = 0, now = Date.now()): string[] {
    if (!existsSync(this.tmpDir)) return [];
    return readdirSync(this.tmpDir).filter((name) => {
      let modifiedMs: number;
      try {
        modifiedMs = statSync(join(this.tmpDir, name)).mtimeMs;
      } catch {
        return false; // placed or removed meanwhile
      }
      if (!oldEnough(modifiedMs, minAgeMs, now)) return false;
      const owner = tempOwner(name);
      return owner === undefined || temporaryOwnerGone(owner, modifiedMs, now);
    });
  }

  removeTemp(name: string): void {
    rmSync(join(this.tmpDir, name), { force: true });
  }
}
