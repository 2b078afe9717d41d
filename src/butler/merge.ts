/**
 * Merging: publish another line of history into a branch as a run with two
 * parents (the branch tip first, so the branch's own datasets win ties in
 * resolution order). REF may be an open run whose commit lost a race: it is
 * committed off-branch and merged in the same transaction, so a refused merge
 * leaves it open, untouched.
 *
 * When both sides wrote the same (type, dataId) since the merge base the
 * merge is refused (CONFLICT, every clash listed in the error's `conflicts`)
 * unless the user says which side wins: `prefer` ('ours' = the branch,
 * 'theirs' = REF) for all types or per type. The winner's entry is copied into
 * the merge run, so the resolution is explicit in the history. An open run
 * may instead be rebased: its parent becomes the branch's tip and it is
 * committed on top (its own datasets then shadow the branch's).
 *
 * Also refused, unless `force`, when both sides ran one stage with different
 * config hashes (the rule the LSST butler applies to a new tract).
 */
import { errors } from '../errors.js';
import { canonicalJson, sha256Hex } from './hash.js';
import type { EntryRecord } from './registry.js';
import type { Repository } from './repository.js';
import { markMissingOutputs, newRunId, runOrigin } from './runOrigin.js';

export type Side = 'ours' | 'theirs';

export interface MergeOptions {
  /** Merge even when one stage ran with different configs on both sides. */
  readonly force?: boolean;
  /** Which side wins a dataset written on both sides: for all types ('*') or per type (a composite covers its components). */
  readonly prefer?: Readonly<Record<string, Side>> | Side;
  /** Rebase an open run onto the branch's tip instead of merging it. */
  readonly rebase?: boolean;
}

export interface MergeConflict {
  readonly type: string;
  readonly dataId: string;
  readonly ours: string;
  readonly theirs: string;
}

export interface MergeResult {
  readonly branch: string;
  /** The new merge run, or the run fast-forwarded to, or the unchanged tip. */
  readonly runId: string;
  readonly kind: 'merge' | 'fast-forward' | 'up-to-date' | 'rebase';
  readonly mergeBase: string | null;
  /** Datasets written on both sides and how each was resolved. */
  readonly resolved: (MergeConflict & { winner: Side })[];
}

/** `ours`, `theirs`, `TYPE=ours` (repeatable): the CLI's --prefer values. */
export function parsePrefer(values: readonly string[]): Record<string, Side> {
  const out: Record<string, Side> = Object.create(null) as Record<string, Side>;
  for (const v of values) {
    const eq = v.indexOf('=');
    const [type, side] = eq < 0 ? ['*', v] : [v.slice(0, eq), v.slice(eq + 1)];
    if ((side !== 'ours' && side !== 'theirs') || type === '') throw errors.usage(`--prefer: expected ours, theirs or TYPE=ours|theirs, got ${JSON.stringify(v)}`);
    if (Object.hasOwn(out, type)) throw errors.usage(`--prefer: ${type === '*' ? 'a side for all types' : type} given twice`);
    out[type] = side;
  }
  return out;
}

function preferenceFor(prefer: MergeOptions['prefer'], type: string): Side | undefined {
  if (prefer === undefined) return undefined;
  if (typeof prefer === 'string') return prefer;
  const composite = type.includes('.') ? type.slice(0, type.indexOf('.')) : undefined;
  if (Object.hasOwn(prefer, type)) return prefer[type];
  if (composite !== undefined && Object.hasOwn(prefer, composite)) return prefer[composite];
  return Object.hasOwn(prefer, '*') ? prefer['*'] : undefined;
}

export function mergeInto(repo: Repository, branch: string, ref: string, options: MergeOptions = {}): MergeResult {
  const reg = repo.registry;
  return reg.write(() => {
    const target = reg.ref(branch);
    if (target === undefined) throw errors.notFound(`branch ${branch}`);
    if (target.kind !== 'branch') throw errors.badInput('merge', `${branch} is a tag; tags are immutable`);
    const tip = target.runId;
    const now = reg.nextTime();

    let source: string | null;
    const open = reg.run(ref);
    const isOpenRun = open !== undefined && open.state === 'open' && reg.ref(ref) === undefined;
    if (options.rebase) {
      if (!isOpenRun) throw errors.usage(`merge --rebase: ${ref} is not an open run (committed history is immutable; use --prefer ours|theirs)`);
      // The run's own datasets come after the tip's: it shadows what the branch wrote meanwhile.
      reg.reparent(open.id, tip === null ? [] : [tip]);
      markMissingOutputs(reg, open.id);
      reg.markCommitted(open.id, now);
      if (!reg.moveRef(branch, 'branch', tip, open.id, 'rebase', now)) throw errors.conflict(`branch ${branch} moved concurrently`);
      return { branch, runId: open.id, kind: 'rebase', mergeBase: tip, resolved: [] };
    }
    if (isOpenRun) {
      // A run whose commit lost the race: commit it where it began, then merge it.
      markMissingOutputs(reg, open.id);
      reg.markCommitted(open.id, now);
      source = open.id;
    } else {
      source = repo.resolveRef(ref);
    }
    if (source === null) return { branch, runId: tip ?? '', kind: 'up-to-date', mergeBase: tip, resolved: [] };
    if (tip === null || reg.isAncestor(tip, source)) {
      if (!reg.moveRef(branch, 'branch', tip, source, 'merge', now)) throw errors.conflict(`branch ${branch} moved concurrently`);
      return { branch, runId: source, kind: 'fast-forward', mergeBase: tip, resolved: [] };
    }
    if (reg.isAncestor(source, tip)) return { branch, runId: tip, kind: 'up-to-date', mergeBase: source, resolved: [] };

    const base = reg.mergeBase(tip, source);
    // entriesSince is in resolution order, so the first entry of a (type, dataId) is the one each side resolves to.
    const newest = (entries: EntryRecord[]) => {
      const m = new Map<string, EntryRecord>();
      for (const e of entries) if (!m.has(`${e.type} ${e.dataId}`)) m.set(`${e.type} ${e.dataId}`, e);
      return m;
    };
    const ours = newest(reg.entriesSince(tip, base));
    const theirs = newest(reg.entriesSince(source, base));
    const clashes: MergeConflict[] = [];
    for (const [key, e] of theirs) {
      const o = ours.get(key);
      if (o !== undefined) clashes.push({ type: e.type, dataId: e.dataId, ours: o.runId, theirs: e.runId });
    }
    const unresolved = clashes.filter((c) => preferenceFor(options.prefer, c.type) === undefined);
    if (unresolved.length > 0) {
      const list = unresolved.slice(0, 5).map((c) => `${c.type} ${c.dataId} (runs ${c.ours} and ${c.theirs})`);
      throw errors.conflict(
        `cannot merge ${ref} into ${branch}: ${unresolved.length} dataset(s) written on both sides since ${base ?? 'the start'}: ` +
        `${list.join('; ')}${unresolved.length > 5 ? '; ...' : ''}; say which side wins with --prefer ours|theirs (or TYPE=ours|theirs)` +
        (isOpenRun ? `, or rebase the run with --rebase` : ''),
        { conflicts: unresolved });
    }
    if (!options.force) {
      const ourConfigs = new Map<string, string>();
      for (const r of reg.runsSince(tip, base)) if (r.stage !== 'merge') ourConfigs.set(r.stage, r.configHash);
      for (const r of reg.runsSince(source, base)) {
        const theirsHash = ourConfigs.get(r.stage);
        if (r.stage !== 'merge' && theirsHash !== undefined && theirsHash !== r.configHash) {
          throw errors.conflict(`cannot merge ${ref} into ${branch}: stage ${r.stage} ran with config ${theirsHash.slice(0, 12)} on ${branch} and ${r.configHash.slice(0, 12)} on ${ref}; use --force to merge anyway`);
        }
      }
    }
    const resolved = clashes.map((c) => ({ ...c, winner: preferenceFor(options.prefer, c.type)! }));
    const id = newRunId();
    const configJson = canonicalJson({
      merged: ref, into: branch, force: options.force === true,
      ...(resolved.length > 0 ? { prefer: typeof options.prefer === 'string' ? options.prefer : { ...options.prefer } } : {}),
    });
    reg.insertRun({
      id, stage: 'merge', branch, parents: [tip, source], configJson, configHash: sha256Hex(configJson),
      ...runOrigin(), begunAt: now, leaseExpiresAt: null, leaseMs: null,
    }, []);
    // The winner of each clash is written by the merge run itself (rank 0), whatever the parents' order.
    for (const c of resolved) {
      const w = (c.winner === 'ours' ? ours : theirs).get(`${c.type} ${c.dataId}`)!;
      reg.addEntry(id, { type: w.type, dataId: w.dataId, kind: w.kind, fileHash: w.fileHash, size: w.size, reason: w.reason, format: w.format });
    }
    reg.markCommitted(id, now);
    if (!reg.moveRef(branch, 'branch', tip, id, 'merge', now)) throw errors.conflict(`branch ${branch} moved concurrently`);
    return { branch, runId: id, kind: 'merge', mergeBase: base, resolved };
  });
}
