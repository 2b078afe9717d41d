/**
 * The staging area of a sharded recompute: a hidden folder beside the
 * dataset `DIR` (same file system, so that publishing is a rename), which
 * readers of `DIR/**` never see:
 *
 *   .DIR.skycal-shards/plan.json          the plan, written once (link(2): the first writer wins)
 *   .DIR.skycal-shards/shard-I-of-N/      one shard's parts and its manifest, renamed in whole
 *
 * Publishing links every shard's parts into one new folder, writes the
 * dataset's manifest, and renames it to `DIR`; then the staging area is
 * removed. Every step may race with another shard doing the same on
 * another host: a step that loses finds `DIR` published from the same plan
 * and counts as done. No lock, so nothing to go stale when a host dies.
 */
import { closeSync, copyFileSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { errors } from '../errors.js';
import { DATASET_MANIFEST } from '../io/atomicOutput.js';
import { processAlive } from '../io/atomicFile.js';
import { fsyncDir, writeError, writeNewFileDurable } from '../io/atomicFile.js';

/** The staging folder of dataset folder `target` (no trailing slash). */
export function stagingOf(target: string): string {
  return join(dirname(target), `.${basename(target)}.skycal-shards`);
}

export const PLAN_FILE = 'plan.json';

export const shardFolderName = (index: number, count: number): string => `shard-${index}-of-${count}`;

/** sha256 of a plan's text: what every shard and the published manifest name it by. */
export function digestOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw errors.io(path, e);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw errors.badInput(path, `not JSON: ${(e as Error).message}`);
  }
}

/** The plan recorded in the staging area (its text as written), or undefined. */
export function readStagedPlan(staging: string): string | undefined {
  try {
    return readFileSync(join(staging, PLAN_FILE), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw errors.io(join(staging, PLAN_FILE), e);
  }
}

/** A published dataset's manifest, or undefined when `target` holds none. */
export function readPublishedManifest(target: string): Record<string, unknown> | undefined {
  const m = readJsonFile(join(target, DATASET_MANIFEST));
  return typeof m === 'object' && m !== null ? (m as Record<string, unknown>) : undefined;
}

/**
 * Record `text` as the plan unless one is there: written under a private
 * name, fsynced, then linked to plan.json (link fails if it exists, so two
 * shards planning at once agree on the first). Returns the plan in force.
 */
export function recordPlan(staging: string, text: string): string {
  try {
    mkdirSync(staging);
  } catch (e) {
    // Not recursive: a missing parent is the caller's mistake, not a folder to make.
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError(staging, e);
  }
  const path = join(staging, PLAN_FILE);
  const own = join(staging, `.plan.${hostname()}.${process.pid}.${randomBytes(4).toString('hex')}`);
  writeNewFileDurable(own, new TextEncoder().encode(text));
  try {
    linkSync(own, path);
    fsyncDir(staging);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST') throw errors.io(path, e);
  } finally {
    try {
      unlinkSync(own);
    } catch {
      /* already gone */
    }
  }
  return readStagedPlan(staging) ?? text;
}

/** Hard-link a part into the folder being published (a copy where the file system has no hard links). */
function linkOrCopy(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  try {
    linkSync(from, to);
  } catch (e) {
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EMLINK', 'ENOSYS'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
    copyFileSync(from, to);
    const fd = openSync(to, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

function syncTree(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) syncTree(join(dir, e.name));
  fsyncDir(dir);
}


/** Folders a killed finisher on this host left in the staging area (another host's are left alone: its pids mean nothing here). */
export function removeStalePublishFolders(staging: string): void {
  let names: string[];
  try {
    names = readdirSync(staging);
  } catch {
    return;
  }
  const host = hostname();
  for (const name of names) {
    const m = /^(?:publish|replaced)\.(.+)\.(\d+)\.[0-9a-f]+$/.exec(name);
    if (m === null || m[1] !== host || Number(m[2]) === process.pid || processAlive(Number(m[2]))) continue;
    rmSync(join(staging, name), { recursive: true, force: true });
  }
}

/** A part to publish: where it is in the staging area and where it goes in the dataset. */
export interface StagedPart {
  from: string;
  path: string;
}

/**
 * Build the dataset in the staging area from `parts` and `manifestText`
 * and rename it to `target`, replacing an earlier dataset. `isPublished`
 * says whether `target` already holds this set (a concurrent finisher won):
 * then this one stops, and the dataset is the same.
 */
export function publishDataset(staging: string, target: string, parts: readonly StagedPart[], manifestText: string, isPublished: () => boolean): void {
  const tag = `${hostname()}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const build = join(staging, `publish.${tag}`);
  const aside = join(staging, `replaced.${tag}`);
  try {
    mkdirSync(build);
    for (const p of parts) linkOrCopy(p.from, join(build, p.path));
    writeNewFileDurable(join(build, DATASET_MANIFEST), new TextEncoder().encode(manifestText));
    syncTree(build);
    for (let attempt = 0; ; attempt++) {
      if (isPublished()) return;
      if (attempt === 8) throw new Error('another process keeps replacing it');
      if (existsSync(target)) {
        try {
          // A folder cannot be renamed over a non-empty one: the earlier dataset goes aside first.
          renameSync(target, aside);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw e;
        }
      }
      try {
        renameSync(build, target);
      } catch (e) {
        // Someone published between our two renames: look again.
        if (['EEXIST', 'ENOTEMPTY'].includes((e as NodeJS.ErrnoException).code ?? '')) continue;
        throw e;
      }
      fsyncDir(dirname(target));
      return;
    }
  } catch (e) {
    if (isPublished()) return;
    throw errors.io(target, `cannot publish the sharded dataset: ${(e as Error).message}`, { cause: e });
  } finally {
    rmSync(build, { recursive: true, force: true });
    rmSync(aside, { recursive: true, force: true });
  }
}

/** Remove the staging area once its set is published (best effort: another finisher may be removing it too). */
export function removeStaging(staging: string): void {
  try {
    rmSync(staging, { recursive: true, force: true, maxRetries: 3 });
    fsyncDir(dirname(staging));
  } catch {
    /* a concurrent removal; what is left is removed by the next publish */
  }
}

/** A part's size, or undefined when it is missing. */
export function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}
