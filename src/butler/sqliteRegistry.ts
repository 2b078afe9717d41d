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
import { existsSync, readFileSync } from 'node:fs';
import { SkycalError, errors } from '../errors.js';
import type {
  DatasetTypeRecord, EntryRecord, ExpectedOutput, NewEntry, NewRun, RefKind, RefMove, RefRecord, Registry,
  ResolveOptions, RunRecord, RunState, RunUsage,
} from './registry.js';
import {
  ENTRY_COLUMNS, MIGRATION_DESCRIPTIONS, SCHEMA_VERSION, SELF_CHECKS, WALK_VERSIONS, checkSchemaVersion, keptRunIds, mergeOrder, toEntry, toRun,
  type EntryRow, type RunRow,
} from './registryRows.js';

export { SCHEMA_VERSION };

/** Migrations in order; migration N brings the schema from N-1 to N. */
const MIGRATIONS: { version: number; description: string; sql: string }[] = [
  {
    version: 1,
    description: MIGRATION_DESCRIPTIONS[1]!,
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
  {
    version: 2,
    description: MIGRATION_DESCRIPTIONS[2]!,
    sql: `
ALTER TABLE entry ADD COLUMN format TEXT;
ALTER TABLE run ADD COLUMN lease_ms INTEGER;
UPDATE run SET lease_ms = max(lease_expires_at - begun_at, 1000) WHERE state = 'open' AND lease_expires_at IS NOT NULL;
CREATE TABLE gc_pending (file_hash TEXT PRIMARY KEY, since INTEGER NOT NULL);
`,
  },
];

/** Why a SQLite or file-system failure happened, as a SkycalError with a code a script can act on. */
export function registryError(path: string, e: unknown): SkycalError {
  if (SkycalError.isSkycalError(e)) return e;
  const code = String((e as { code?: unknown }).code ?? '');
  const message = (e as Error).message ?? String(e);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return errors.conflict(`registry is busy (another writer held it too long): ${message}`);
  }
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return errors.conflict(`already recorded: ${message}`);
  if (code.startsWith('SQLITE_CONSTRAINT')) return errors.badInput(path, `the registry refused an entry (${code}): ${message}`);
  if (code.startsWith('SQLITE_READONLY')) return errors.io(path, `the repository is read-only: ${message}`);
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') return errors.badInput(path, `not a skycal repository (the registry is not a readable SQLite database: ${message})`);
  if (code.startsWith('SQLITE_') || /^E[A-Z]+$/.test(code)) return errors.io(path, e);
  return errors.internal(e);
}

export class SqliteRegistry implements Registry {
  private db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  readOnly = false;

  /**
   * Open (or with `create`, make) the database. A database that cannot be
   * written (a read-only mount, another user's files) is opened read-only:
   * reads work, writes fail with IO naming it.
   */
  constructor(readonly path: string, options: { create?: boolean; readonly?: boolean } = {}) {
    this.db = this.connect(options.create === true, options.readonly === true);
  }

  private connect(create: boolean, readOnly: boolean): Database.Database {
    let db: Database.Database | undefined;
    try {
      db = new Database(this.path, { fileMustExist: !create, readonly: readOnly, timeout: 15000 });
      // journal_mode is set by migrate once the file is known to be skycal's: it writes to the file.
      db.pragma('busy_timeout = 15000');
      db.pragma('foreign_keys = ON');
      db.pragma('synchronous = FULL');
      db.prepare('SELECT count(*) FROM sqlite_master').get(); // opens the file (and a WAL's -shm) now, not at the first read
      this.readOnly = readOnly;
      return db;
    } catch (e) {
      db?.close();
      const code = String((e as { code?: unknown }).code ?? '');
      if (!readOnly && !create && (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code === 'SQLITE_IOERR_SHMOPEN')) {
        return this.connect(false, true);
      }
      if (readOnly && !create && code.startsWith('SQLITE_CANTOPEN') && existsSync(this.path)) {
        // A WAL database on read-only media cannot create its -shm file. No writer can be using it
        // then (a writer would have made one), so read a snapshot of the file in memory instead.
        try {
          const bytes = readFileSync(this.path);
          // Bytes 18-19 of the header say "WAL"; an in-memory copy has no WAL, so mark it a rollback-journal file.
          if (bytes.length >= 100) bytes[18] = bytes[19] = 1;
          const snapshot = new Database(bytes, { readonly: true });
          snapshot.pragma('foreign_keys = ON');
          this.readOnly = true;
          return snapshot;
        } catch (e2) {
          throw registryError(this.path, e2);
        }
      }
      throw registryError(this.path, e);
    }
  }

  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /**
   * Bring the schema to SCHEMA_VERSION. Only `create` (init, on a new file)
   * makes a schema: a database without skycal's tables — an empty or
   * truncated file, someone else's database — is refused, never adopted.
   * A current schema is checked without taking the write lock, so opening
   * works on a read-only repository and never waits behind a writer.
   */
  migrate(options: { create?: boolean } = {}): void {
    const check = (current: number) => checkSchemaVersion(this.path, current, options.create === true);
    const before = this.read(() => this.schemaVersion());
    check(before);
    if (!this.readOnly) {
      try {
        this.db.pragma('journal_mode = WAL');
      } catch (e) {
        throw registryError(this.path, e);
      }
    }
    if (before === SCHEMA_VERSION) return;
    if (this.readOnly) throw errors.io(this.path, `the repository is read-only and its schema (version ${before}) needs migrating to ${SCHEMA_VERSION}`);
    this.write(() => {
      const current = this.schemaVersion();
      check(current);
      if (current === 0) {
        const foreign = this.db.prepare("SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").pluck().get() as number;
        if (foreign > 0) throw errors.badInput(this.path, 'not a skycal repository (the database holds other tables)');
      }
      this.db.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL);`);
      for (const m of MIGRATIONS) {
        if (m.version <= current) continue;
        this.db.exec(m.sql);
        this.stmt('INSERT INTO migrations (version, description, applied_at) VALUES (?, ?, ?)').run(m.version, m.description, Date.now());
        this.stmt("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)").run(String(m.version));
      }
    });
  }

  /** 0 when the database has no skycal schema (no meta table or no version in it, or no run table). */
  schemaVersion(): number {
    try {
      const tables = new Set((this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name));
      if (!tables.has('meta') || !tables.has('run')) return 0;
      const row = this.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
      const v = row ? Number(row.value) : 0;
      return Number.isInteger(v) && v > 0 ? v : 0;
    } catch (e) {
      throw registryError(this.path, e);
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  write<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    if (this.readOnly) throw errors.io(this.path, 'the repository is read-only (opened without write access)');
    try {
      return this.db.transaction(fn).immediate();
    } catch (e) {
      throw registryError(this.path, e);
    }
  }

  /** A best-effort write: undefined (nothing written) when read-only or another writer holds the lock. */
  tryWrite<T>(fn: () => T): T | undefined {
    if (this.readOnly) return undefined;
    if (this.db.inTransaction) return fn();
    this.db.pragma('busy_timeout = 0');
    try {
      return this.db.transaction(fn).immediate();
    } catch (e) {
      const code = String((e as { code?: unknown }).code ?? '');
      if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_LOCKED')) return undefined;
      throw registryError(this.path, e);
    } finally {
      this.db.pragma('busy_timeout = 15000');
    }
  }

  read<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    try {
      return this.db.transaction(fn).deferred();
    } catch (e) {
      throw registryError(this.path, e);
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
      begun_at, committed_at, lease_expires_at, lease_ms) VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, NULL, ?, ?)`).run(
      run.id, run.stage, run.branch, run.configJson, run.configHash, run.softwareVersion, run.host, run.user,
      run.begunAt, run.leaseExpiresAt, run.leaseMs);
    run.parents.forEach((p, i) => this.stmt('INSERT INTO run_parent (run_id, position, parent_id) VALUES (?, ?, ?)').run(run.id, i, p));
    for (const x of expected) {
      this.stmt('INSERT OR IGNORE INTO expected_output (run_id, type, data_id) VALUES (?, ?, ?)').run(run.id, x.type, x.dataId);
    }
  }

  private parentsOf(id: string): string[] {
    return (this.stmt('SELECT parent_id FROM run_parent WHERE run_id = ? ORDER BY position').all(id) as { parent_id: string }[])
      .map((p) => p.parent_id);
  }

  private toRun(row: RunRow): RunRecord {
    return toRun(row, this.parentsOf(row.id));
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

  reparent(runId: string, parents: readonly string[]): void {
    if (this.run(runId)?.state !== 'open') throw errors.conflict(`run ${runId} is not open`);
    this.stmt('DELETE FROM run_parent WHERE run_id = ?').run(runId);
    parents.forEach((p, i) => this.stmt('INSERT INTO run_parent (run_id, position, parent_id) VALUES (?, ?, ?)').run(runId, i, p));
  }

  markCommitted(runId: string, at: number): void {
    const changed = this.stmt("UPDATE run SET state = 'committed', committed_at = ?, lease_expires_at = NULL WHERE id = ? AND state = 'open'")
      .run(at, runId).changes;
    if (changed !== 1) throw errors.conflict(`run ${runId} is not open`);
    const parents = this.parentsOf(runId);
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

  /** Resolution order of a merge run (registryRows.mergeOrder). */
  private mergeOrder(runId: string, parents: readonly string[]): string[] {
    const ancestorsOf = (p: string) => (this.stmt('SELECT ancestor FROM ancestry WHERE descendant = ?').all(p) as { ancestor: string }[])
      .map((r) => r.ancestor);
    return mergeOrder(runId, parents, ancestorsOf, (n) => this.parentsOf(n));
  }

  // -- entries

  addEntry(runId: string, e: NewEntry): EntryRecord {
    const info = this.stmt('INSERT INTO entry (run_id, type, data_id, kind, file_hash, size, reason, format) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(runId, e.type, e.dataId, e.kind, e.fileHash, e.size, e.reason, e.format ?? null);
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

  /** Runs that gc may delete: not kept by keptRunIds (registryRows.ts). */
  unreachableRuns(): RunRecord[] {
    const kept = keptRunIds({
      refs: () => this.refs(),
      runsByState: (state) => this.runsByState(state),
      historyOf: (tip) => (this.stmt('SELECT ancestor FROM ancestry WHERE descendant = ?').all(tip) as { ancestor: string }[]).map((r) => r.ancestor),
      inputsOf: (id) => this.inputsOf(id),
    });
    return (this.stmt("SELECT * FROM run WHERE state != 'open' ORDER BY begun_at").all() as RunRow[])
      .filter((r) => !kept.has(r.id)).map((r) => this.toRun(r));
  }

  unsharedHashes(ids: readonly string[]): string[] {
    if (ids.length === 0) return [];
    return (this.stmt(`SELECT DISTINCT e.file_hash FROM entry e WHERE e.file_hash IS NOT NULL AND e.run_id IN (SELECT value FROM json_each(@list))
      AND NOT EXISTS (SELECT 1 FROM entry o WHERE o.file_hash = e.file_hash AND o.run_id NOT IN (SELECT value FROM json_each(@list)))
      ORDER BY e.file_hash`).all({ list: JSON.stringify(ids) }) as { file_hash: string }[]).map((r) => r.file_hash);
  }

  deleteRuns(ids: readonly string[]): string[] {
    if (ids.length === 0) return [];
    const hashes = this.unsharedHashes(ids);
    this.stmt('DELETE FROM run WHERE id IN (SELECT value FROM json_each(?))').run(JSON.stringify(ids));
    return hashes;
  }

  referencedHashes(): Map<string, number> {
    const rows = this.stmt('SELECT file_hash, max(size) AS size FROM entry WHERE file_hash IS NOT NULL GROUP BY file_hash').all() as
      { file_hash: string; size: number }[];
    return new Map(rows.map((r) => [r.file_hash, r.size]));
  }

  isReferenced(hash: string): boolean {
    return this.stmt('SELECT 1 FROM entry WHERE file_hash = ? LIMIT 1').get(hash) !== undefined;
  }

  pendingRemovals(): string[] {
    return (this.stmt('SELECT file_hash FROM gc_pending ORDER BY file_hash').all() as { file_hash: string }[]).map((r) => r.file_hash);
  }

  addPendingRemovals(hashes: readonly string[], at: number): void {
    const insert = this.stmt('INSERT OR IGNORE INTO gc_pending (file_hash, since) VALUES (?, ?)');
    for (const h of hashes) insert.run(h, at);
  }

  clearPendingRemovals(hashes: readonly string[]): void {
    const del = this.stmt('DELETE FROM gc_pending WHERE file_hash = ?');
    for (const h of hashes) del.run(h);
  }

  selfCheck(): string[] {
    const problems: string[] = [];
    const integrity = this.db.pragma('quick_check', { simple: true });
    if (integrity !== 'ok') problems.push(`sqlite quick_check: ${String(integrity)}`);
    for (const fk of this.db.pragma('foreign_key_check') as { table: string; rowid: number; parent: string }[]) {
      problems.push(`foreign key: ${fk.table} row ${fk.rowid} names a missing ${fk.parent}`);
    }
    for (const check of SELF_CHECKS) {
      for (const row of this.db.prepare(check.sql).all() as Record<string, string>[]) problems.push(check.problem(row));
    }
    return problems;
  }
}
