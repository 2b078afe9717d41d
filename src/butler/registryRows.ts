/**
 * What the SQLite and PostgreSQL registries share, decided once: the schema
 * version and its check, the row shapes and their mapping to records, the
 * resolution order of a merge, and the integrity checks both can run in
 * portable SQL. Each backend keeps only its SQL dialect and its transactions.
 */
import { errors } from '../errors.js';
import type { EntryRecord, RefRecord, RunRecord, RunState } from './registry.js';

export const SCHEMA_VERSION = 2;

/** What each migration does (the SQL differs per backend; the versions and their meaning do not). */
export const MIGRATION_DESCRIPTIONS: Readonly<Record<number, string>> = {
  1: 'runs, entries, ancestry closure, refs with their moves, usage',
  2: 'catalog format recorded at put, the lease a run began with, files a gc has yet to remove',
};

/**
 * Refuse a schema this registry cannot use: none at all (unless `create`, at
 * init) or one newer than this skycal. `where` names the registry.
 */
export function checkSchemaVersion(where: string, current: number, create: boolean): void {
  if (current === 0 && !create) {
    throw errors.badInput(where, 'not a skycal repository (the registry has no skycal schema; `skycal init` creates one)');
  }
  if (current > SCHEMA_VERSION) {
    throw errors.badInput(where, `registry schema version ${current} is newer than this skycal understands (${SCHEMA_VERSION})`);
  }
}

export interface RunRow {
  id: string; stage: string; branch: string | null; state: RunState; config_json: string; config_hash: string;
  software_version: string; host: string; user: string; begun_at: number; committed_at: number | null;
  lease_expires_at: number | null; lease_ms: number | null;
}

export interface EntryRow {
  id: number; run_id: string; stage: string; type: string; data_id: string; kind: 'dataset' | 'failure';
  file_hash: string | null; size: number | null; reason: string | null; committed_at: number | null; format: string | null;
}

/** Above this many versions of one dataset, resolution walks the history first (see SqliteRegistry.resolve). */
export const WALK_VERSIONS = 8;

/** The columns of an EntryRow, from `entry e` joined with its `run r`. */
export const ENTRY_COLUMNS = 'e.id, e.run_id, r.stage, e.type, e.data_id, e.kind, e.file_hash, e.size, e.reason, r.committed_at, e.format';

export function toEntry(row: EntryRow): EntryRecord {
  return {
    id: row.id, runId: row.run_id, stage: row.stage, type: row.type, dataId: row.data_id, kind: row.kind,
    fileHash: row.file_hash, size: row.size, reason: row.reason, committedAt: row.committed_at, format: row.format,
  };
}

export function toRun(row: RunRow, parents: string[]): RunRecord {
  return {
    id: row.id, stage: row.stage, branch: row.branch, parents, state: row.state, configJson: row.config_json,
    configHash: row.config_hash, softwareVersion: row.software_version, host: row.host, user: row.user,
    begunAt: row.begun_at, committedAt: row.committed_at, leaseExpiresAt: row.lease_expires_at, leaseMs: row.lease_ms,
  };
}

/**
 * Resolution order of a merge run: Kahn's topological sort of its history
 * with a stack, parents pushed so that the first parent is taken first. A
 * run is emitted only after all of its children in this history, so a
 * change on the second parent's line still shadows the merge base.
 * `ancestorsOf(p)`: p's committed history (itself included); `parentsOf(n)`: n's parents in order.
 */
export function mergeOrder(
  runId: string, parents: readonly string[], ancestorsOf: (id: string) => string[], parentsOf: (id: string) => string[],
): string[] {
  const nodes = new Set<string>();
  for (const p of parents) for (const a of ancestorsOf(p)) nodes.add(a);
  const parentMap = new Map<string, string[]>([[runId, [...parents]]]);
  const childCount = new Map<string, number>();
  for (const n of nodes) parentMap.set(n, parentsOf(n));
  for (const ps of parentMap.values()) for (const p of new Set(ps)) childCount.set(p, (childCount.get(p) ?? 0) + 1);
  const order: string[] = [];
  const stack = [runId];
  while (stack.length > 0) {
    const n = stack.pop()!;
    order.push(n);
    const ps = [...new Set(parentMap.get(n) ?? [])];
    for (let i = ps.length - 1; i >= 0; i--) {
      const p = ps[i]!;
      const left = (childCount.get(p) ?? 1) - 1;
      childCount.set(p, left);
      if (left === 0) stack.push(p);
    }
  }
  return order;
}

/** Ancestry and ref checks in portable SQL, with how each offending row reads as a problem. */
export const SELF_CHECKS: readonly { sql: string; problem: (row: Record<string, string>) => string }[] = [
  {
    sql: `SELECT id FROM run r WHERE state = 'committed'
      AND NOT EXISTS (SELECT 1 FROM ancestry a WHERE a.descendant = r.id AND a.ancestor = r.id)`,
    problem: (r) => `run ${r.id} is committed but has no ancestry`,
  },
  {
    sql: `SELECT DISTINCT descendant AS id FROM ancestry a JOIN run r ON r.id = a.descendant WHERE r.state != 'committed'`,
    problem: (r) => `run ${r.id} is not committed but has ancestry rows (would be visible)`,
  },
  {
    sql: `SELECT f.name, f.run_id FROM ref f JOIN run r ON r.id = f.run_id WHERE r.state != 'committed'`,
    problem: (r) => `ref ${r.name} points at run ${r.run_id}, which is not committed`,
  },
];

/** What the garbage-collection rule reads from a registry (both backends answer it with their own SQL). */
export interface Reachability {
  refs(): RefRecord[];
  runsByState(state: RunState): RunRecord[];
  /** Every run in the history of `tip`, itself included. */
  historyOf(tip: string): string[];
  inputsOf(runId: string): EntryRecord[];
}

/**
 * The runs gc keeps: the histories of every ref and of every open run's
 * parents, then (until nothing changes) the histories of runs whose
 * datasets a kept or open run read, so provenance never points at a
 * deleted run. One rule for both registries.
 */
export function keptRunIds(r: Reachability): Set<string> {
  const kept = new Set<string>();
  const addHistory = (tip: string) => {
    if (kept.has(tip)) return;
    for (const id of r.historyOf(tip)) kept.add(id);
  };
  for (const ref of r.refs()) if (ref.runId !== null) addHistory(ref.runId);
  const open = r.runsByState('open');
  for (const run of open) for (const p of run.parents) addHistory(p);
  let frontier = [...kept, ...open.map((run) => run.id)];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const id of frontier) {
      for (const e of r.inputsOf(id)) {
        if (!kept.has(e.runId)) {
          addHistory(e.runId);
          next.push(e.runId);
        }
      }
    }
    frontier = next;
  }
  return kept;
}
