/**
 * The SQLite registry (better-sqlite3): WAL so readers never block the
 * writer, a busy timeout so concurrent writers queue instead of failing,
 * every writer in BEGIN IMMEDIATE (the write lock is taken before anything is
 * read, so a check-then-update such as the compare-and-swap of a branch
 * cannot interleave with another process), foreign keys on, synchronous=FULL
 * (a commit that returned survives a power cut), and a schema version with a
 * migrations table.
 *
 * How resolution stays fast — the `ancestry` closure table. When a run is
 * committed, one row (descendant, ancestor, rank) is written for every run in
 * its history, where rank is the ancestor's position in the descendant's
 * resolution order (0 = itself, then newest first, first parent's line before
 * the second parent's, never a parent before all of its children, as
 * `git log --topo-order`). History never changes after a commit, so the rows
 * are written once: for a single parent they are the parent's rows shifted by
 * one (a single INSERT ... SELECT); for a merge, the order is computed once by
 * a topological sort of the union of the parents' histories.
 *
 * A get is then one indexed query: the (usually few) entries of that
 * (type, dataId) via `entry_by_name`, each probed in `ancestry` by primary key
 * (tip, run), the smallest rank wins. Its cost grows with the number of
 * versions of that one dataset, not with the length of the history, so a
 * 1000-run history resolves as fast as a 10-run one. (A dataset with many
 * versions is instead found by walking the tip's history in rank order, which
 * stops within a few runs: see resolve.) The price is storage:
 * one row per (run, ancestor) pair (500k small rows for a 1000-run linear
 * history); a later registry can store it per first-parent segment instead.
 */
import Database from 'better-sqlite3';
import { SkycalError, errors } from '../errors.js';
import type {
  DatasetTypeRecord, EntryRecord, ExpectedOutput, NewEntry, NewRun, RefKind, RefMove, RefRecord, Registry,
  ResolveOptions, RunRecord, RunState, RunUsage,
} from './registry.js';

export const SCHEMA_VERSION = 1;

/** Migrations in order; migration N brings the schema from N-1 to N. */
const MIGRATIONS: { version: number; description: string; sql: string }[] = [
  {
    version: 1,
    description: 'runs, entries, ancestry closure, refs with their moves, usage',
    sql: `
CREATE TABLE dataset_type (name TEXT PRIMARY KEY, storage_class TEXT NOT NULL);
CREATE TABLE run (
  id TEXT PRIMARY KEY, stage TEXT NOT NULL, branch TEXT,
  state TEXT NOT NULL CHECK (state IN ('open', 'committed', 'abandoned')),
  config_json TEXT NOT NULL, config_hash TEXT NOT NULL, software_version TEXT NOT NULL,
  host TEXT NOT NULL, user TEXT NOT NULL, begun_at INTEGER NOT NULL,
  committed_at INTEGER, lease_expires_at INTEGER);
CREATE INDEX run_by_state ON run(state);
CREATE TABLE run_parent (
  run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE, position INTEGER NOT NULL,
  parent_id TEXT NOT NULL REFERENCES run(id), PRIMARY KEY (run_id, position));
CREATE INDEX run_parent_by_parent ON run_parent(parent_id);
CREATE TABLE expected_output (
  run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE, type TEXT NOT NULL, data_id TEXT NOT NULL,
  PRIMARY KEY (run_id, type, data_id));
CREATE TABLE entry (
  id INTEGER PRIMARY KEY, run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
  type TEXT NOT NULL REFERENCES dataset_type(name), data_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('dataset', 'failure')),
  file_hash TEXT, size INTEGER, reason TEXT,
  CHECK ((kind = 'dataset') = (file_hash IS NOT NULL)),
  UNIQUE (run_id, type, data_id));
CREATE INDEX entry_by_name ON entry(type, data_id);
CREATE INDEX entry_by_hash ON entry(file_hash);
CREATE TABLE run_input (
  run_id TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
  entry_id INTEGER NOT NULL REFERENCES entry(id), PRIMARY KEY (run_id, entry_id));
CREATE TABLE ancestry (
  descendant TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
  ancestor TEXT NOT NULL REFERENCES run(id) ON DELETE CASCADE,
  rank INTEGER NOT NULL, PRIMARY KEY (descendant, ancestor)) WITHOUT ROWID;
CREATE INDEX ancestry_by_rank ON ancestry(descendant, rank);
CREATE INDEX ancestry_by_ancestor ON ancestry(ancestor);
CREATE TABLE ref (
  name TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('branch', 'tag')), run_id TEXT REFERENCES run(id));
CREATE TABLE ref_move (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, kind TEXT NOT NULL, run_id TEXT,
  at INTEGER NOT NULL, reason TEXT NOT NULL);
CREATE INDEX ref_move_by_name ON ref_move(name, seq);
CREATE TABLE run_usage (
  run_id TEXT PRIMARY KEY REFERENCES run(id) ON DELETE CASCADE, uses INTEGER NOT NULL, last_used_at INTEGER);
`,
  },
];

interface RunRow {
  id: string; stage: string; branch: string | null; state: RunState; config_json: string; config_hash: string;
  software_version: string; host: string; user: string; begun_at: number; committed_at: number | null;
  lease_expires_at: number | null;
}
interface EntryRow {
  id: number; run_id: string; stage: string; type: string; data_id: string; kind: 'dataset' | 'failure';
  file_hash: string | null; size: number | null; reason: string | null; committed_at: number | null;
}

/** Above this many versions of one dataset, resolution walks the history first (see resolve). */
const WALK_VERSIONS = 8;

const ENTRY_COLUMNS = 'e.id, e.run_id, r.stage, e.type, e.data_id, e.kind, e.file_hash, e.size, e.reason, r.committed_at';

function toEntry(row: EntryRow): EntryRecord {
  return {
    id: row.id, runId: row.run_id, stage: row.stage, type: row.type, dataId: row.data_id, kind: row.kind,
    fileHash: row.file_hash, size: row.size, reason: row.reason, committedAt: row.committed_at,
  };
}

export class SqliteRegistry implements Registry {
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(readonly path: string, options: { create?: boolean; readonly?: boolean } = {}) {
    try {
      this.db = new Database(path, { fileMustExist: options.create !== true, timeout: 15000 });
    } catch (e) {
      throw errors.io(path, e);
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 15000');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('synchronous = FULL');
  }

  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  migrate(): void {
    this.write(() => {
      this.db.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL);`);
      const current = this.schemaVersion();
      if (current > SCHEMA_VERSION) {
        throw errors.badInput(this.path, `registry schema version ${current} is newer than this skycal understands (${SCHEMA_VERSION})`);
      }
      for (const m of MIGRATIONS) {
        if (m.version <= current) continue;
        this.db.exec(m.sql);
        this.stmt('INSERT INTO migrations (version, description, applied_at) VALUES (?, ?, ?)').run(m.version, m.description, Date.now());
        this.stmt("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)").run(String(m.version));
      }
    });
  }

  schemaVersion(): number {
    const hasMeta = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
    if (!hasMeta) return 0;
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
    return row ? Number(row.value) : 0;
  }

  close(): void {
    this.db.close();
  }

  write<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    try {
      return this.db.transaction(fn).immediate();
    } catch (e) {
      if (SkycalError.isSkycalError(e)) throw e;
      const code = (e as { code?: string }).code ?? '';
      if (code.startsWith('SQLITE_BUSY')) throw errors.conflict(`registry is busy (another writer held it too long): ${(e as Error).message}`);
      if (code.startsWith('SQLITE_CONSTRAINT')) throw errors.conflict(`registry constraint: ${(e as Error).message}`);
      throw errors.io(this.path, e);
    }
  }

  nextTime(): number {
    const row = this.stmt("SELECT value FROM meta WHERE key = 'clock'").get() as { value: string } | undefined;
    const t = Math.max(Date.now(), row ? Number(row.value) + 1 : 0);
    this.stmt("INSERT OR REPLACE INTO meta (key, value) VALUES ('clock', ?)").run(String(t));
    return t;
  }

  // -- dataset types

  addDatasetType(t: DatasetTypeRecord): void {
    this.stmt('INSERT INTO dataset_type (name, storage_class) VALUES (?, ?)').run(t.name, t.storageClass);
  }

  datasetType(name: string): DatasetTypeRecord | undefined {
    const row = this.stmt('SELECT name, storage_class FROM dataset_type WHERE name = ?').get(name) as
      | { name: string; storage_class: string } | undefined;
    return row && { name: row.name, storageClass: row.storage_class };
  }

  datasetTypes(): DatasetTypeRecord[] {
    const rows = this.stmt('SELECT name, storage_class FROM dataset_type ORDER BY name').all() as { name: string; storage_class: string }[];
    return rows.map((r) => ({ name: r.name, storageClass: r.storage_class }));
  }

  // -- runs

  insertRun(run: NewRun, expected: readonly ExpectedOutput[]): void {
    this.stmt(`INSERT INTO run (id, stage, branch, state, config_json, config_hash, software_version, host, user,
      begun_at, committed_at, lease_expires_at) VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, NULL, ?)`).run(
      run.id, run.stage, run.branch, run.configJson, run.configHash, run.softwareVersion, run.host, run.user,
      run.begunAt, run.leaseExpiresAt);
    run.parents.forEach((p, i) => this.stmt('INSERT INTO run_parent (run_id, position, parent_id) VALUES (?, ?, ?)').run(run.id, i, p));
    for (const x of expected) {
      this.stmt('INSERT OR IGNORE INTO expected_output (run_id, type, data_id) VALUES (?, ?, ?)').run(run.id, x.type, x.dataId);
    }
  }

  private toRun(row: RunRow): RunRecord {
    const parents = (this.stmt('SELECT parent_id FROM run_parent WHERE run_id = ? ORDER BY position').all(row.id) as { parent_id: string }[])
      .map((p) => p.parent_id);
    return {
      id: row.id, stage: row.stage, branch: row.branch, parents, state: row.state, configJson: row.config_json,
      configHash: row.config_hash, softwareVersion: row.software_version, host: row.host, user: row.user,
      begunAt: row.begun_at, committedAt: row.committed_at, leaseExpiresAt: row.lease_expires_at,
    };
  }

  run(id: string): RunRecord | undefined {
    const row = this.stmt('SELECT * FROM run WHERE id = ?').get(id) as RunRow | undefined;
    return row && this.toRun(row);
  }

  runsByState(state: RunState): RunRecord[] {
    return (this.stmt('SELECT * FROM run WHERE state = ? ORDER BY begun_at').all(state) as RunRow[]).map((r) => this.toRun(r));
  }

  expectedOutputs(runId: string): ExpectedOutput[] {
    return (this.stmt('SELECT type, data_id FROM expected_output WHERE run_id = ? ORDER BY type, data_id').all(runId) as
      { type: string; data_id: string }[]).map((r) => ({ type: r.type, dataId: r.data_id }));
  }

  renewLease(runId: string, until: number): void {
    this.stmt("UPDATE run SET lease_expires_at = ? WHERE id = ? AND state = 'open'").run(until, runId);
  }

  setRunState(runId: string, state: RunState): void {
    this.stmt('UPDATE run SET state = ?, lease_expires_at = NULL WHERE id = ?').run(state, runId);
  }

  markCommitted(runId: string, at: number): void {
    const changed = this.stmt("UPDATE run SET state = 'committed', committed_at = ?, lease_expires_at = NULL WHERE id = ? AND state = 'open'")
      .run(at, runId).changes;
    if (changed !== 1) throw errors.conflict(`run ${runId} is not open`);
    const parents = (this.stmt('SELECT parent_id FROM run_parent WHERE run_id = ? ORDER BY position').all(runId) as { parent_id: string }[])
      .map((p) => p.parent_id);
    if (parents.length <= 1) {
      this.stmt('INSERT INTO ancestry (descendant, ancestor, rank) VALUES (?, ?, 0)').run(runId, runId);
      if (parents.length === 1) {
        this.stmt('INSERT INTO ancestry (descendant, ancestor, rank) SELECT ?, ancestor, rank + 1 FROM ancestry WHERE descendant = ?')
          .run(runId, parents[0]);
      }
      return;
    }
    const order = this.mergeOrder(runId, parents);
    const insert = this.stmt('INSERT INTO ancestry (descendant, ancestor, rank) VALUES (?, ?, ?)');
    order.forEach((ancestor, rank) => insert.run(runId, ancestor, rank));
  }

  /**
   * Resolution order of a merge run: Kahn's topological sort of its history
   * with a stack, parents pushed so that the first parent is taken first. A
   * run is emitted only after all of its children in this history, so a
   * change on the second parent's line still shadows the merge base.
   */
  private mergeOrder(runId: string, parents: readonly string[]): string[] {
    const nodes = new Set<string>();
    for (const p of parents) {
      for (const r of this.stmt('SELECT ancestor FROM ancestry WHERE descendant = ?').all(p) as { ancestor: string }[]) nodes.add(r.ancestor);
    }
    const parentsOf = new Map<string, string[]>([[runId, [...parents]]]);
    const childCount = new Map<string, number>();
    for (const n of nodes) {
      const ps = (this.stmt('SELECT parent_id FROM run_parent WHERE run_id = ? ORDER BY position').all(n) as { parent_id: string }[])
        .map((p) => p.parent_id);
      parentsOf.set(n, ps);
    }
    for (const ps of parentsOf.values()) for (const p of new Set(ps)) childCount.set(p, (childCount.get(p) ?? 0) + 1);
    const order: string[] = [];
    const stack = [runId];
    while (stack.length > 0) {
      const n = stack.pop()!;
      order.push(n);
      const ps = [...new Set(parentsOf.get(n) ?? [])];
      for (let i = ps.length - 1; i >= 0; i--) {
        const p = ps[i]!;
        const left = (childCount.get(p) ?? 1) - 1;
        childCount.set(p, left);
        if (left === 0) stack.push(p);
      }
    }
    return order;
  }

  // -- entries

  addEntry(runId: string, e: NewEntry): EntryRecord {
    const info = this.stmt('INSERT INTO entry (run_id, type, data_id, kind, file_hash, size, reason) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(runId, e.type, e.dataId, e.kind, e.fileHash, e.size, e.reason);
    return this.entryById(Number(info.lastInsertRowid))!;
  }

  entry(runId: string, type: string, dataId: string): EntryRecord | undefined {
    const row = this.stmt(`SELECT ${ENTRY_COLUMNS} FROM entry e JOIN run r ON r.id = e.run_id
      WHERE e.run_id = ? AND e.type = ? AND e.data_id = ?`).get(runId, type, dataId) as EntryRow | undefined;
    return row && toEntry(row);
  }

  entryById(id: number): EntryRecord | undefined {
    const row = this.stmt(`SELECT ${ENTRY_COLUMNS} FROM entry e JOIN run r ON r.id = e.run_id WHERE e.id = ?`).get(id) as EntryRow | undefined;
    return row && toEntry(row);
  }

  runEntries(runId: string): EntryRecord[] {
    return (this.stmt(`SELECT ${ENTRY_COLUMNS} FROM entry e JOIN run r ON r.id = e.run_id WHERE e.run_id = ? ORDER BY e.type, e.data_id`)
      .all(runId) as EntryRow[]).map(toEntry);
  }

  resolve(tip: string, type: string, dataId: string, options: ResolveOptions = {}): EntryRecord | undefined {
    const params = { tip, type, dataId, stage: options.stage ?? null, asOf: options.asOf ?? null };
    // A dataset rewritten by many runs (jointcal re-run every night) has many versions, and probing
    // each one's rank costs one lookup per version. Its newest visible version is usually a few runs
    // back, so walk the tip's history in rank order instead, and stop at the first run that wrote it;
    // the walk is bounded (2 lookups per version), after which the per-version probe answers exactly.
    const versions = this.stmt('SELECT count(*) FROM entry WHERE type = ? AND data_id = ?').pluck().get(type, dataId) as number;
    if (versions > WALK_VERSIONS) {
      const walked = this.stmt(`SELECT ${ENTRY_COLUMNS} FROM ancestry a
        CROSS JOIN entry e ON e.run_id = a.ancestor AND e.type = @type AND e.data_id = @dataId
        CROSS JOIN run r ON r.id = e.run_id
        WHERE a.descendant = @tip AND a.rank < @maxRank
          AND (@stage IS NULL OR r.stage = @stage) AND (@asOf IS NULL OR r.committed_at <= @asOf)
        ORDER BY a.rank LIMIT 1`).get({ ...params, maxRank: 2 * versions }) as EntryRow | undefined;
      if (walked !== undefined) return toEntry(walked);
    }
    // CROSS JOIN fixes the loop order: the versions of this one dataset outside, the history probe inside.
    const row = this.stmt(`SELECT ${ENTRY_COLUMNS} FROM entry e
      CROSS JOIN ancestry a ON a.descendant = @tip AND a.ancestor = e.run_id
      CROSS JOIN run r ON r.id = e.run_id
      WHERE e.type = @type AND e.data_id = @dataId
        AND (@stage IS NULL OR r.stage = @stage) AND (@asOf IS NULL OR r.committed_at <= @asOf)
      ORDER BY a.rank LIMIT 1`).get(params) as EntryRow | undefined;
    return row && toEntry(row);
  }

  dataIdsOf(tip: string, type: string, options: ResolveOptions = {}): string[] {
    return (this.stmt(`SELECT DISTINCT e.data_id FROM ancestry a JOIN entry e ON e.run_id = a.ancestor JOIN run r ON r.id = e.run_id
      WHERE a.descendant = @tip AND e.type = @type
        AND (@stage IS NULL OR r.stage = @stage) AND (@asOf IS NULL OR r.committed_at <= @asOf)
      ORDER BY e.data_id`).all({ tip, type, stage: options.stage ?? null, asOf: options.asOf ?? null }) as { data_id: string }[])
      .map((r) => r.data_id);
  }

  entriesSince(tip: string, base: string | null): EntryRecord[] {
    return (this.stmt(`SELECT ${ENTRY_COLUMNS} FROM ancestry a JOIN entry e ON e.run_id = a.ancestor JOIN run r ON r.id = e.run_id
      WHERE a.descendant = @tip AND NOT EXISTS (SELECT 1 FROM ancestry b WHERE b.descendant = @base AND b.ancestor = a.ancestor)
      ORDER BY a.rank, e.type, e.data_id`).all({ tip, base }) as EntryRow[]).map(toEntry);
  }

  recordInput(runId: string, entryId: number): void {
    this.stmt('INSERT OR IGNORE INTO run_input (run_id, entry_id) VALUES (?, ?)').run(runId, entryId);
  }

  inputsOf(runId: string): EntryRecord[] {
    return (this.stmt(`SELECT ${ENTRY_COLUMNS} FROM run_input i JOIN entry e ON e.id = i.entry_id JOIN run r ON r.id = e.run_id
      WHERE i.run_id = ? ORDER BY e.type, e.data_id`).all(runId) as EntryRow[]).map(toEntry);
  }

  // -- history

  history(tip: string, asOf?: number): RunRecord[] {
    return (this.stmt(`SELECT r.* FROM ancestry a JOIN run r ON r.id = a.ancestor
      WHERE a.descendant = @tip AND (@asOf IS NULL OR r.committed_at <= @asOf) ORDER BY a.rank`)
      .all({ tip, asOf: asOf ?? null }) as RunRow[]).map((r) => this.toRun(r));
  }

  isAncestor(ancestor: string, descendant: string): boolean {
    return this.stmt('SELECT 1 FROM ancestry WHERE descendant = ? AND ancestor = ?').get(descendant, ancestor) !== undefined;
  }

  mergeBase(a: string, b: string): string | null {
    const row = this.stmt(`SELECT x.ancestor FROM ancestry x JOIN ancestry y ON y.descendant = ? AND y.ancestor = x.ancestor
      WHERE x.descendant = ? ORDER BY x.rank LIMIT 1`).get(b, a) as { ancestor: string } | undefined;
    return row ? row.ancestor : null;
  }

  runsSince(tip: string, base: string | null): RunRecord[] {
    return (this.stmt(`SELECT r.* FROM ancestry a JOIN run r ON r.id = a.ancestor
      WHERE a.descendant = @tip AND NOT EXISTS (SELECT 1 FROM ancestry b WHERE b.descendant = @base AND b.ancestor = a.ancestor)
      ORDER BY a.rank`).all({ tip, base }) as RunRow[]).map((r) => this.toRun(r));
  }

  // -- refs

  ref(name: string): RefRecord | undefined {
    const row = this.stmt('SELECT name, kind, run_id FROM ref WHERE name = ?').get(name) as
      | { name: string; kind: RefKind; run_id: string | null } | undefined;
    return row && { name: row.name, kind: row.kind, runId: row.run_id };
  }

  refs(): RefRecord[] {
    return (this.stmt('SELECT name, kind, run_id FROM ref ORDER BY kind, name').all() as { name: string; kind: RefKind; run_id: string | null }[])
      .map((r) => ({ name: r.name, kind: r.kind, runId: r.run_id }));
  }

  refAt(name: string, at: number): RefRecord | undefined {
    const row = this.stmt('SELECT name, kind, run_id, reason FROM ref_move WHERE name = ? AND at <= ? ORDER BY seq DESC LIMIT 1')
      .get(name, at) as { name: string; kind: RefKind; run_id: string | null; reason: string } | undefined;
    if (row === undefined || row.reason === 'delete') return undefined;
    return { name: row.name, kind: row.kind, runId: row.run_id };
  }

  moveRef(name: string, kind: RefKind, expected: string | null | undefined, runId: string | null, reason: string, at: number): boolean {
    const current = this.ref(name);
    if (expected === undefined) {
      if (current !== undefined) return false;
      this.stmt('INSERT INTO ref (name, kind, run_id) VALUES (?, ?, ?)').run(name, kind, runId);
    } else {
      if (current === undefined || current.kind !== kind || current.runId !== expected) return false;
      const changed = this.stmt('UPDATE ref SET run_id = ? WHERE name = ? AND run_id IS ?').run(runId, name, expected).changes;
      if (changed !== 1) return false;
    }
    this.stmt('INSERT INTO ref_move (name, kind, run_id, at, reason) VALUES (?, ?, ?, ?, ?)').run(name, kind, runId, at, reason);
    return true;
  }

  deleteRef(name: string, at: number): void {
    const current = this.ref(name);
    if (current === undefined) throw errors.notFound(`ref ${name}`);
    this.stmt('DELETE FROM ref WHERE name = ?').run(name);
    this.stmt("INSERT INTO ref_move (name, kind, run_id, at, reason) VALUES (?, ?, NULL, ?, 'delete')").run(name, current.kind, at);
  }

  refMoves(name?: string): RefMove[] {
    const rows = (name === undefined
      ? this.stmt('SELECT * FROM ref_move ORDER BY seq').all()
      : this.stmt('SELECT * FROM ref_move WHERE name = ? ORDER BY seq').all(name)) as
      { seq: number; name: string; kind: RefKind; run_id: string | null; at: number; reason: string }[];
    return rows.map((r) => ({ seq: r.seq, name: r.name, kind: r.kind, runId: r.run_id, at: r.at, reason: r.reason }));
  }

  // -- usage and gc

  addUses(counts: ReadonlyMap<string, { uses: number; lastUsedAt: number }>): void {
    const upsert = this.stmt(`INSERT INTO run_usage (run_id, uses, last_used_at) SELECT @run, @uses, @at WHERE EXISTS (SELECT 1 FROM run WHERE id = @run)
      ON CONFLICT (run_id) DO UPDATE SET uses = uses + excluded.uses, last_used_at = max(coalesce(last_used_at, 0), excluded.last_used_at)`);
    for (const [run, c] of counts) upsert.run({ run, uses: c.uses, at: c.lastUsedAt });
  }

  usage(runId: string): RunUsage {
    const row = this.stmt('SELECT uses, last_used_at FROM run_usage WHERE run_id = ?').get(runId) as
      | { uses: number; last_used_at: number | null } | undefined;
    return { uses: row?.uses ?? 0, lastUsedAt: row?.last_used_at ?? null };
  }

  /**
   * Runs kept: the histories of every ref and of every open run's parents,
   * then (until nothing changes) the histories of runs whose datasets a kept
   * run read, so provenance never points at a deleted run.
   */
  unreachableRuns(): RunRecord[] {
    const kept = new Set<string>();
    const addHistory = (tip: string) => {
      if (kept.has(tip)) return;
      for (const r of this.stmt('SELECT ancestor FROM ancestry WHERE descendant = ?').all(tip) as { ancestor: string }[]) kept.add(r.ancestor);
    };
    for (const r of this.refs()) if (r.runId !== null) addHistory(r.runId);
    const open = this.runsByState('open');
    for (const r of open) for (const p of r.parents) addHistory(p);
    let frontier = [...kept, ...open.map((r) => r.id)];
    while (frontier.length > 0) {
      const next: string[] = [];
      for (const id of frontier) {
        for (const e of this.inputsOf(id)) {
          if (!kept.has(e.runId)) {
            addHistory(e.runId);
            next.push(e.runId);
          }
        }
      }
      frontier = next;
    }
    return (this.stmt("SELECT * FROM run WHERE state != 'open' ORDER BY begun_at").all() as RunRow[])
      .filter((r) => !kept.has(r.id)).map((r) => this.toRun(r));
  }

  deleteRuns(ids: readonly string[]): string[] {
    if (ids.length === 0) return [];
    const list = JSON.stringify(ids);
    const hashes = (this.stmt(`SELECT DISTINCT file_hash FROM entry WHERE file_hash IS NOT NULL AND run_id IN (SELECT value FROM json_each(?))`)
      .all(list) as { file_hash: string }[]).map((r) => r.file_hash);
    this.stmt('DELETE FROM run WHERE id IN (SELECT value FROM json_each(?))').run(list);
    return hashes.filter((h) => this.stmt('SELECT 1 FROM entry WHERE file_hash = ? LIMIT 1').get(h) === undefined);
  }

  referencedHashes(): Map<string, number> {
    const rows = this.stmt('SELECT file_hash, max(size) AS size FROM entry WHERE file_hash IS NOT NULL GROUP BY file_hash').all() as
      { file_hash: string; size: number }[];
    return new Map(rows.map((r) => [r.file_hash, r.size]));
  }

  selfCheck(): string[] {
    const problems: string[] = [];
    const integrity = this.db.pragma('quick_check', { simple: true });
    if (integrity !== 'ok') problems.push(`sqlite quick_check: ${String(integrity)}`);
    for (const fk of this.db.pragma('foreign_key_check') as { table: string; rowid: number; parent: string }[]) {
      problems.push(`foreign key: ${fk.table} row ${fk.rowid} names a missing ${fk.parent}`);
    }
    const noSelf = this.db.prepare(`SELECT id FROM run r WHERE state = 'committed'
      AND NOT EXISTS (SELECT 1 FROM ancestry a WHERE a.descendant = r.id AND a.ancestor = r.id)`).all() as { id: string }[];
    for (const r of noSelf) problems.push(`run ${r.id} is committed but has no ancestry`);
    const visibleOpen = this.db.prepare(`SELECT DISTINCT descendant AS id FROM ancestry a JOIN run r ON r.id = a.descendant
      WHERE r.state != 'committed'`).all() as { id: string }[];
    for (const r of visibleOpen) problems.push(`run ${r.id} is not committed but has ancestry rows (would be visible)`);
    const badRefs = this.db.prepare(`SELECT f.name, f.run_id FROM ref f JOIN run r ON r.id = f.run_id WHERE r.state != 'committed'`).all() as
      { name: string; run_id: string }[];
    for (const r of badRefs) problems.push(`ref ${r.name} points at run ${r.run_id}, which is not committed`);
    return problems;
  }
}
