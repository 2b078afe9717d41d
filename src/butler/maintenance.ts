/**
 * Keeping a repository honest: `verify` (registry and datastore agree, every
 * checksum matches, crash leftovers found and removed) and `gc` (runs that no
 * ref, open run or provenance link reaches, and their unshared files).
 *
 * The rule both keep: a file that a committed entry names is never removed.
 * Files are renamed into store/ only inside a write transaction that names
 * them, and removed only under the write lock after re-checking that no
 * entry names them, so no interleaving of put, import, gc and verify can
 * remove a live file. gc forgets runs in one transaction, records the files
 * it will remove (`gc_pending`), and removes them only after that commit: a
 * kill leaves the registry consistent and the files pending; the next gc or
 * verify finishes the removal.
 *
 * verify hashes outside the lock (readers and writers go on), and removes a
 * leftover only when it is older than `minAgeMs` (no live transaction on any
 * host can still be placing it) and never when the registry names no file at
 * all (an empty or replaced registry must not empty the store).
 */
import { SkycalError, errors } from '../errors.js';
import { oldEnough } from '../io/atomicFile.js';
import type { Repository } from './repository.js';
import { iso } from './repository.js';

/** Leftovers younger than this are kept (reported, not removed). */
export const LEFTOVER_MIN_AGE_MS = 10 * 60 * 1000;

export interface VerifyReport {
  readonly ok: boolean;
  /** Problems that are not explained by a crash: missing or corrupt files, registry inconsistencies. */
  readonly problems: string[];
  /** Crash leftovers found (and removed unless dryRun): temp files and files no entry names. */
  readonly leftovers: { tempFiles: string[]; unreferencedFiles: string[] };
  /** Leftovers kept: too young to be sure no live writer is placing them, or the registry names nothing. */
  readonly kept: { path: string; why: string }[];
  /** Files an interrupted gc had forgotten and this verify removed. */
  readonly finishedGc: number;
  readonly checkedFiles: number;
}

export interface VerifyOptions {
  readonly dryRun?: boolean;
  /** Leftovers younger than this are kept; default LEFTOVER_MIN_AGE_MS. */
  readonly minAgeMs?: number;
}

export function verifyRepository(repo: Repository, options: VerifyOptions = {}): VerifyReport {
  const reg = repo.registry;
  const minAge = options.minAgeMs ?? LEFTOVER_MIN_AGE_MS;
  const problems = reg.read(() => reg.selfCheck());
  // 1. Hash every named file outside the lock, from one snapshot of the registry.
  const referenced = reg.read(() => reg.referencedHashes());
  const listed = repo.store.list();
  const present = new Set(listed.hashes);
  for (const s of listed.strays) problems.push(`unexpected file in the datastore: ${s}`);
  const suspects: { hash: string; problem: string }[] = [];
  for (const [hash, size] of referenced) {
    if (!present.has(hash)) {
      suspects.push({ hash, problem: `missing file ${hash} (named by the registry)` });
      continue;
    }
    let got: { sha256: string; size: number };
    try {
      got = repo.store.digest(hash);
    } catch (e) {
      suspects.push({ hash, problem: `file ${hash}: unreadable: ${(e as Error).message}` });
      continue;
    }
    if (got.size !== size) suspects.push({ hash, problem: `file ${hash}: ${got.size} bytes, registry says ${size}` });
    else if (got.sha256 !== hash) suspects.push({ hash, problem: `file ${hash}: checksum mismatch (corrupt)` });
  }
  // A file a concurrent gc forgot and removed after the snapshot is not a problem: re-check it is still named.
  const named = reg.read(() => suspects.filter((s) => reg.isReferenced(s.hash)));
  problems.push(...named.map((s) => s.problem));

  // 2. Under the write lock: finish an interrupted gc, then remove leftovers that are old and still unnamed.
  const now = Date.now();
  const kept: { path: string; why: string }[] = [];
  const act = <T>(fn: () => T): T => (options.dryRun ? reg.read(fn) : reg.write(fn));
  const result = act(() => {
    const pending = reg.pendingRemovals();
    const finish = pending.filter((h) => !reg.isReferenced(h));
    const pendingSet = new Set(pending);
    const unreferencedFiles = repo.store.list().hashes.filter((h) => !pendingSet.has(h) && !reg.isReferenced(h));
    const nothingNamed = reg.referencedHashes().size === 0;
    const removable: string[] = [];
    for (const h of unreferencedFiles) {
      if (nothingNamed) kept.push({ path: `store/${h.slice(0, 2)}/${h}`, why: 'the registry names no file at all; nothing is removed' });
      else if (!oldEnough(repo.store.mtimeOf(h) ?? now, minAge, now)) kept.push({ path: `store/${h.slice(0, 2)}/${h}`, why: `younger than ${Math.round(minAge / 1000)} s` });
      else removable.push(h);
    }
    const tempFiles = repo.store.leftoverTemps(minAge, now);
    if (!options.dryRun) {
      for (const h of [...finish, ...removable]) repo.store.remove(h);
      repo.store.syncFolders([...finish, ...removable]);
      reg.clearPendingRemovals(pending);
      for (const t of tempFiles) repo.store.removeTemp(t);
    }
    return { unreferencedFiles: removable, tempFiles, finishedGc: finish.length };
  });
  return {
    ok: problems.length === 0, problems, leftovers: { tempFiles: result.tempFiles, unreferencedFiles: result.unreferencedFiles },
    kept, finishedGc: result.finishedGc, checkedFiles: referenced.size,
  };
}

export interface GcReport {
  readonly dryRun: boolean;
  readonly runs: { id: string; stage: string; state: string; committedAt: string | null; uses: number; lastUsedAt: string | null }[];
  /** Files removed (or, with dryRun, that would be removed). */
  readonly removedFiles: number;
}

export function collectGarbage(repo: Repository, options: { dryRun?: boolean } = {}): GcReport {
  const reg = repo.registry;
  repo.flushUses({ bestEffort: true });
  const describe = () => reg.unreachableRuns().map((r) => {
    const u = reg.usage(r.id);
    return { id: r.id, stage: r.stage, state: r.state, committedAt: iso(r.committedAt), uses: u.uses, lastUsedAt: iso(u.lastUsedAt) };
  });
  if (options.dryRun) {
    return reg.read(() => {
      const runs = describe();
      return { dryRun: true, runs, removedFiles: reg.unsharedHashes(runs.map((r) => r.id)).length };
    });
  }
  // Forget the runs and record what to remove, in one transaction.
  const runs = reg.write(() => {
    const runs = describe();
    reg.addPendingRemovals(reg.deleteRuns(runs.map((r) => r.id)), reg.nextTime());
    return runs;
  });
  return { dryRun: false, runs, removedFiles: finishPendingRemovals(repo) };
}

/** Remove the files gc forgot (re-checked under the lock: a put or import may name them again). */
export function finishPendingRemovals(repo: Repository): number {
  const reg = repo.registry;
  return reg.write(() => {
    const pending = reg.pendingRemovals();
    const remove = pending.filter((h) => !reg.isReferenced(h));
    for (const h of remove) {
      try {
        repo.store.remove(h);
      } catch (e) {
        throw SkycalError.isSkycalError(e) ? e : errors.io(repo.store.pathOf(h), e);
      }
    }
    repo.store.syncFolders(remove);
    reg.clearPendingRemovals(pending);
    return remove.length;
  });
}
