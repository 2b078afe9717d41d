/**
 * Keeping a repository honest: `verify` (registry and datastore agree, every
 * checksum matches, crash leftovers found and removed) and `gc` (runs that no
 * ref, open run or provenance link reaches, and their unshared files).
 *
 * Both hold the registry's write lock while they look at store/: files are
 * renamed into store/ only inside a write transaction, so under the lock a
 * file that no entry names can only be a leftover of a crashed process.
 */
import { SkycalError } from '../errors.js';
import { sha256Hex } from './hash.js';
import type { Repository } from './repository.js';
import { iso } from './repository.js';

export interface VerifyReport {
  readonly ok: boolean;
  /** Problems that are not explained by a crash: missing or corrupt files, registry inconsistencies. */
  readonly problems: string[];
  /** Crash leftovers found (and removed unless dryRun): temp files and files no entry names. */
  readonly leftovers: { tempFiles: string[]; unreferencedFiles: string[] };
  readonly checkedFiles: number;
}

export function verifyRepository(repo: Repository, options: { dryRun?: boolean } = {}): VerifyReport {
  const problems = repo.registry.selfCheck();
  return repo.registry.write(() => {
    const referenced = repo.registry.referencedHashes();
    const { hashes, strays } = repo.store.list();
    const present = new Set(hashes);
    for (const s of strays) problems.push(`unexpected file in the datastore: ${s}`);
    for (const [hash, size] of referenced) {
      if (!present.has(hash)) {
        problems.push(`missing file ${hash} (named by the registry)`);
        continue;
      }
      const bytes = repo.store.read(hash);
      if (bytes.length !== size) problems.push(`file ${hash}: ${bytes.length} bytes, registry says ${size}`);
      else if (sha256Hex(bytes) !== hash) problems.push(`file ${hash}: checksum mismatch (corrupt)`);
    }
    const unreferencedFiles = hashes.filter((h) => !referenced.has(h));
    const tempFiles = repo.store.leftoverTemps();
    if (!options.dryRun) {
      for (const h of unreferencedFiles) repo.store.remove(h);
      for (const t of tempFiles) repo.store.removeTemp(t);
    }
    return { ok: problems.length === 0, problems, leftovers: { tempFiles, unreferencedFiles }, checkedFiles: referenced.size };
  });
}

export interface GcReport {
  readonly dryRun: boolean;
  readonly runs: { id: string; stage: string; state: string; committedAt: string | null; uses: number; lastUsedAt: string | null }[];
  readonly removedFiles: number;
}

export function collectGarbage(repo: Repository, options: { dryRun?: boolean } = {}): GcReport {
  repo.flushUses();
  return repo.registry.write(() => {
    const unreachable = repo.registry.unreachableRuns();
    const runs = unreachable.map((r) => {
      const u = repo.registry.usage(r.id);
      return { id: r.id, stage: r.stage, state: r.state, committedAt: iso(r.committedAt), uses: u.uses, lastUsedAt: iso(u.lastUsedAt) };
    });
    if (options.dryRun) return { dryRun: true, runs, removedFiles: 0 };
    const unshared = repo.registry.deleteRuns(unreachable.map((r) => r.id));
    for (const h of unshared) {
      try {
        repo.store.remove(h);
      } catch (e) {
        throw new SkycalError('IO', `gc: could not remove ${h}: ${(e as Error).message}`);
      }
    }
    return { dryRun: false, runs, removedFiles: unshared.length };
  });
}
