/**
 * Merging: publish another line of history into a branch as a run with two
 * parents (the branch tip first, so the branch's own datasets win ties in
 * resolution order). REF may be an open run whose commit lost a race: it is
 * committed off-branch and merged in the same transaction, so a refused merge
 * leaves it open, untouched.
 *
 * Refused (CONFLICT) when both sides wrote the same (type, dataId) since the
 * merge base, and, unless forced, when both sides ran one stage with
 * different config hashes (the rule the LSST butler applies to a new tract).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { errors } from '../errors.js';
import { canonicalJson, sha256Hex } from './hash.js';
import type { Repository } from './repository.js';

export interface MergeResult {
  readonly branch: string;
  /** The new merge run, or the run fast-forwarded to, or the unchanged tip. */
  readonly runId: string;
  readonly kind: 'merge' | 'fast-forward' | 'up-to-date';
  readonly mergeBase: string | null;
}

export function mergeInto(repo: Repository, branch: string, ref: string, options: { force?: boolean } = {}): MergeResult {
  const reg = repo.registry;
  return reg.write(() => {
    const target = reg.ref(branch);
    if (target === undefined) throw errors.notFound(`branch ${branch}`);
    if (target.kind !== 'branch') throw errors.badInput('merge', `${branch} is a tag; tags are immutable`);
    const tip = target.runId;
    const now = reg.nextTime();

    let source: string | null;
    const open = reg.run(ref);
    if (open !== undefined && open.state === 'open' && reg.ref(ref) === undefined) {
      // A run whose commit lost the race: commit it where it began, then merge it.
      for (const x of reg.expectedOutputs(open.id)) {
        if (!reg.entry(open.id, x.type, x.dataId)) {
          reg.addEntry(open.id, { type: x.type, dataId: x.dataId, kind: 'failure', fileHash: null, size: null, reason: 'expected output not produced' });
        }
      }
      reg.markCommitted(open.id, now);
      source = open.id;
    } else {
      source = repo.resolveRef(ref);
    }
    if (source === null) return { branch, runId: tip ?? '', kind: 'up-to-date', mergeBase: tip };
    if (tip === null || reg.isAncestor(tip, source)) {
      if (!reg.moveRef(branch, 'branch', tip, source, 'merge', now)) throw errors.conflict(`branch ${branch} moved concurrently`);
      return { branch, runId: source, kind: 'fast-forward', mergeBase: tip };
    }
    if (reg.isAncestor(source, tip)) return { branch, runId: tip, kind: 'up-to-date', mergeBase: source };

    const base = reg.mergeBase(tip, source);
    const ours = new Map(reg.entriesSince(tip, base).map((e) => [`${e.type} ${e.dataId}`, e]));
    const clashes = reg.entriesSince(source, base).filter((e) => ours.has(`${e.type} ${e.dataId}`));
    if (clashes.length > 0) {
      const list = clashes.slice(0, 5).map((e) => `${e.type} ${e.dataId} (runs ${ours.get(`${e.type} ${e.dataId}`)!.runId} and ${e.runId})`);
      throw errors.conflict(`cannot merge ${ref} into ${branch}: ${clashes.length} dataset(s) written on both sides since ${base ?? 'the start'}: ${list.join('; ')}`);
    }
    if (!options.force) {
      const ourConfigs = new Map<string, string>();
      for (const r of reg.runsSince(tip, base)) if (r.stage !== 'merge') ourConfigs.set(r.stage, r.configHash);
      for (const r of reg.runsSince(source, base)) {
        const theirs = ourConfigs.get(r.stage);
        if (r.stage !== 'merge' && theirs !== undefined && theirs !== r.configHash) {
          throw errors.conflict(`cannot merge ${ref} into ${branch}: stage ${r.stage} ran with config ${theirs.slice(0, 12)} on ${branch} and ${r.configHash.slice(0, 12)} on ${ref}; use --force to merge anyway`);
        }
      }
    }
    const id = `r-${randomBytes(6).toString('hex')}`;
    const configJson = canonicalJson({ merged: ref, into: branch, force: options.force === true });
    reg.insertRun({
      id, stage: 'merge', branch, parents: [tip, source], configJson, configHash: sha256Hex(configJson),
      softwareVersion: repo.describeRun(reg.run(tip)!).softwareVersion, host: hostname(), user: process.env['USER'] ?? 'unknown',
      begunAt: now, leaseExpiresAt: null,
    }, []);
    reg.markCommitted(id, now);
    if (!reg.moveRef(branch, 'branch', tip, id, 'merge', now)) throw errors.conflict(`branch ${branch} moved concurrently`);
    return { branch, runId: id, kind: 'merge', mergeBase: base };
  });
}
