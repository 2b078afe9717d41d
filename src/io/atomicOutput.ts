/**
 * Outputs that appear whole or not at all, written while other work goes on
 * (recompute's parallel output): a file or a folder is built under the
 * temporary name of atomicFile.ts beside its target (same file system),
 * fsynced, renamed into place and its folder fsynced. A temporary left by an earlier process
 * that was killed (SIGKILL: no exit hook runs) is removed by the next run
 * once its process is gone; its name never looked like the output's.
 */
import { closeSync, existsSync, mkdirSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync, writevSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errors } from '../errors.js';
import { TEMP_HOST, temporaryOwnerGone, temporaryOwnerOf, temporaryPathFor, writeError } from './atomicFile.js';

/** Temporary paths still being built, removed if the process exits first (e.g. Ctrl-C). */
const pending = new Set<string>();
let hooked = false;
function track(path: string): void {
  pending.add(path);
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const p of pending) rmSync(p, { recursive: true, force: true });
  });
}

// The names temporaryPathFor gives: .NAME.TAG.tmp, TAG = HOST.PID.HEX; before 2026-12 TAG = PID.HEX, made on this host.
const TAG_WITHOUT_HOST = /^(\d+)\.[0-9a-f]+$/;
const tempBeside = temporaryPathFor;

/** Who made temporary `name` of `target`, or undefined when it is not one. */
function temporaryOwner(name: string, target: string): { host: string; pid: number } | undefined {
  const prefix = `.${target}.`;
  if (!name.startsWith(prefix) || !name.endsWith('.tmp')) return undefined;
  const tag = name.slice(prefix.length, -'.tmp'.length);
  const old = TAG_WITHOUT_HOST.exec(tag);
  return temporaryOwnerOf(tag) ?? (old === null ? undefined : { host: TEMP_HOST, pid: Number(old[1]) });
}

/** Remove temporaries of `target` left by processes that no longer run (temporaryOwnerGone). */
export function removeStaleTemporaries(target: string, now = Date.now()): void {
  const folder = dirname(target);
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return;
  }
  for (const name of names) {
    const owner = temporaryOwner(name, basename(target));
    const path = join(folder, name);
    if (owner === undefined) continue;
    if (temporaryOwnerGone(owner, modifiedMs(path), now)) rmSync(path, { recursive: true, force: true });
  }
}

function modifiedMs(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Date.now(); // gone already
  }
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * All of `pieces` at `position` (or the file's current position): one
 * writev(2) in libuv's pool where it takes them all (FileHandle.writeFile
 * goes in 512 KiB steps, each waiting for the event loop, which a job in
 * this thread keeps busy).
 */
async function writeAll(handle: FileHandle, pieces: readonly Uint8Array[], position?: number): Promise<void> {
  let rest = pieces.filter((p) => p.length > 0);
  let at = position;
  while (rest.length > 0) {
    const n = (await handle.writev(rest, at)).bytesWritten;
    if (at !== undefined) at += n;
    rest = afterShortWrite(rest, n);
  }
}

/** The same, synchronously, on a file descriptor (a worker's own writes). */
export function writeAllSync(fd: number, pieces: readonly Uint8Array[], position?: number): number {
  let rest = pieces.filter((p) => p.length > 0);
  let at = position;
  let total = 0;
  while (rest.length > 0) {
    const n = at === undefined ? writevSync(fd, rest) : writevSync(fd, rest, at);
    total += n;
    if (at !== undefined) at += n;
    rest = afterShortWrite(rest, n);
  }
  return total;
}

/** What is left of `pieces` after a write of `n` bytes: drop what went, resume inside the piece it stopped in. */
function afterShortWrite(pieces: Uint8Array[], n: number): Uint8Array[] {
  let rest = pieces;
  let left = n;
  while (rest.length > 0 && left >= rest[0]!.length) left -= rest.shift()!.length;
  if (left > 0) rest = [rest[0]!.subarray(left), ...rest.slice(1)];
  return rest;
}

/** Bytes written between two background fdatasyncs of an AtomicFile (the disk here writes ~1 GB/s: ~60 ms each). */
const SYNC_EVERY_BYTES = 64 << 20;

/** A file written piece by piece, renamed over `target` on commit. */
export class AtomicFile {
  private constructor(
    readonly target: string,
    readonly temp: string,
    private handle: FileHandle | undefined,
  ) {}

  static async create(target: string): Promise<AtomicFile> {
    removeStaleTemporaries(target);
    const temp = tempBeside(target);
    track(temp);
    try {
      return new AtomicFile(target, temp, await open(temp, 'wx'));
    } catch (e) {
      pending.delete(temp);
      throw errors.io(target, e);
    }
  }

  /** The write in progress: one at a time, so a caller's next job overlaps the last write (memory: one job's bytes more). */
  private writing: Promise<void> = Promise.resolve();

  /**
   * Queue `pieces` (in order) at `position`, by default after what was
   * written before (the file's own position); resolves once
   * the previous write is done (its failure is thrown here or by commit),
   * not this one. The caller must not change the pieces until commit.
   */
  async write(pieces: Uint8Array | readonly Uint8Array[], position?: number): Promise<void> {
    await this.writing.catch((e: unknown) => {
      throw writeError(this.target, e);
    });
    const h = this.handle!;
    const list = pieces instanceof Uint8Array ? [pieces] : pieces;
    for (const p of list) this.unsynced += p.length;
    const flush = this.flushDue();
    this.writing = writeAll(h, list, position).then(() => (flush ? h.datasync() : undefined));
    this.writing.catch(() => {});
  }

  /**
   * `bytes` were written into the temporary by others (recompute's workers,
   * through their own descriptors): counted for the background flush.
   */
  async wroteElsewhere(bytes: number): Promise<void> {
    await this.writing.catch((e: unknown) => {
      throw writeError(this.target, e);
    });
    this.unsynced += bytes;
    if (!this.flushDue()) return;
    const h = this.handle!;
    this.writing = h.datasync();
    this.writing.catch(() => {});
  }

  /** Flush to disk as we go (fdatasync every SYNC_EVERY_BYTES, while the workers compute), so that commit's fsync has little left. */
  private flushDue(): boolean {
    if (this.unsynced < SYNC_EVERY_BYTES) return false;
    this.unsynced = 0;
    return true;
  }
  private unsynced = 0;

  async commit(): Promise<void> {
    try {
      await this.writing;
      const h = this.handle!;
      this.handle = undefined;
      await h.sync();
      await h.close();
      renameSync(this.temp, this.target);
    } catch (e) {
      throw writeError(this.target, e);
    }
    pending.delete(this.temp);
    fsyncPath(dirname(this.target)); // so the rename survives a power cut
  }

  async abort(): Promise<void> {
    await this.writing.catch(() => {});
    await this.handle?.close().catch(() => {});
    this.handle = undefined;
    rmSync(this.temp, { force: true });
    pending.delete(this.temp);
  }
}

/** The file that marks a folder as a skycal dataset (and lists its parts). */
export const DATASET_MANIFEST = '_skycal_dataset.json';

/**
 * A folder built whole, renamed to `target` on commit. An existing target
 * is replaced only when it is an earlier dataset (it holds the manifest)
 * or empty, so that a typo never deletes someone's folder; a folder made by
 * createNew (a bundle export) replaces nothing.
 */
export class AtomicFolder {
  private constructor(
    readonly target: string,
    readonly path: string,
    private readonly replaces: boolean,
  ) {}

  /** Fails (USAGE) when `target` exists and is not a dataset or an empty folder. */
  static checkTarget(target: string): void {
    if (!existsSync(target)) return;
    if (!statSync(target).isDirectory()) throw errors.usage(`${target}: exists and is not a folder; a partitioned output is a folder`);
    const entries = readdirSync(target);
    if (entries.length > 0 && !entries.includes(DATASET_MANIFEST)) {
      throw errors.usage(`${target}: exists and is not an earlier skycal dataset (no ${DATASET_MANIFEST}); choose another folder`);
    }
  }

  static create(target: string): AtomicFolder {
    AtomicFolder.checkTarget(target);
    return AtomicFolder.begin(target, true);
  }

  /** A folder for a target that must not exist, now or at commit (CONFLICT then). */
  static createNew(target: string): AtomicFolder {
    if (existsSync(target)) throw errors.conflict(`${target} already exists`);
    return AtomicFolder.begin(target, false);
  }

  private static begin(target: string, replaces: boolean): AtomicFolder {
    removeStaleTemporaries(target);
    const path = tempBeside(target);
    track(path);
    try {
      mkdirSync(path);
    } catch (e) {
      pending.delete(path);
      throw errors.io(target, e);
    }
    return new AtomicFolder(target, path, replaces);
  }

  /** Write a small file (the manifest) durably. */
  writeFile(name: string, text: string): void {
    try {
      const fd = openSync(join(this.path, name), 'wx');
      try {
        const bytes = new TextEncoder().encode(text);
        let off = 0;
        while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      throw writeError(this.target, e);
    }
  }

  /** fsync every folder (the parts fsynced themselves), then rename into place. */
  commit(): void {
    // Checked again here: another process may have made the target meanwhile, and a rename replaces an empty folder.
    if (!this.replaces && existsSync(this.target)) throw errors.conflict(`${this.target} already exists`);
    try {
      this.commitTree();
    } catch (e) {
      throw writeError(this.target, e);
    }
  }

  private commitTree(): void {
    const syncTree = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) syncTree(join(dir, e.name));
      fsyncPath(dir);
    };
    syncTree(this.path);
    if (existsSync(this.target)) {
      // A folder cannot be renamed over a non-empty one: move the old one aside first.
      const old = tempBeside(this.target);
      track(old);
      renameSync(this.target, old);
      renameSync(this.path, this.target);
      rmSync(old, { recursive: true, force: true });
      pending.delete(old);
    } else {
      renameSync(this.path, this.target);
    }
    pending.delete(this.path);
    fsyncPath(dirname(this.target));
  }

  abort(): void {
    rmSync(this.path, { recursive: true, force: true });
    pending.delete(this.path);
  }
}
