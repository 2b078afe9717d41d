/**
 * The registry: what runs, refs and datasets exist, and how names resolve.
 * This interface is the whole boundary: the Repository never sees SQL, so a
 * PostgreSQL registry (several hosts) can implement it as its own piece of
 * work. Times are milliseconds since the epoch; every writer method runs in
 * one transaction of its own unless called inside `write()`.
 */

export type RunState = 'open' | 'committed' | 'abandoned';
export type RefKind = 'branch' | 'tag';

export interface RunRecord {
  readonly id: string;
  readonly stage: string;
  /** The branch the run was begun on (where commit moves it). */
  readonly branch: string | null;
  /** Parents in order: first parent first. */
  readonly parents: readonly string[];
  readonly state: RunState;
  readonly configJson: string;
  readonly configHash: string;
  readonly softwareVersion: string;
  readonly host: string;
  readonly user: string;
  readonly begunAt: number;
  readonly committedAt: number | null;
  readonly leaseExpiresAt: number | null;
  /** The lease the run began with (ms): each renewal sets expiry to now + this. */
  readonly leaseMs: number | null;
}

export type NewRun = Omit<RunRecord, 'state' | 'committedAt'>;

export interface EntryRecord {
  readonly id: number;
  readonly runId: string;
  readonly stage: string;
  readonly type: string;
  /** Canonical dataId text. */
  readonly dataId: string;
  readonly kind: 'dataset' | 'failure';
  /** sha256 of the stored file (datasets only). */
  readonly fileHash: string | null;
  readonly size: number | null;
  readonly reason: string | null;
  readonly committedAt: number | null;
  /** Catalog encoding recorded at put ('parquet', 'arrow', 'arrows'); null for other classes and old entries. */
  readonly format: string | null;
}

export interface NewEntry {
  readonly type: string;
  readonly dataId: string;
  readonly kind: 'dataset' | 'failure';
  readonly fileHash: string | null;
  readonly size: number | null;
  readonly reason: string | null;
  readonly format?: string | null;
}

export interface DatasetTypeRecord {
  readonly name: string;
  readonly storageClass: string;
}

export interface RefRecord {
  readonly name: string;
  readonly kind: RefKind;
  /** null: a branch with no runs yet. */
  readonly runId: string | null;
}

export interface RefMove {
  readonly seq: number;
  readonly name: string;
  readonly kind: RefKind;
  readonly runId: string | null;
  readonly at: number;
  /** 'create' | 'commit' | 'merge' | 'move' | 'delete' | 'import' */
  readonly reason: string;
}

export interface ExpectedOutput {
  readonly type: string;
  readonly dataId: string;
}

export interface ResolveOptions {
  /** Only entries written by runs of this stage (`type@stage`). */
  readonly stage?: string;
  /** Ignore runs committed after this time. */
  readonly asOf?: number;
}

export interface RunUsage {
  readonly uses: number;
  readonly lastUsedAt: number | null;
}

export interface Registry {
  /**
   * Bring the schema to the current version. `create` (init only) makes a
   * new one; otherwise a registry without skycal's schema is refused ("not a
   * skycal repository"), and nothing is written when it is current.
   */
  migrate(options?: { create?: boolean }): void;
  schemaVersion(): number;
  /** True when this registry was opened read-only (no writes; use counts are dropped). */
  readonly readOnly: boolean;
  close(): void;
  /** Run `fn` as one write transaction (SQLite: BEGIN IMMEDIATE). */
  write<T>(fn: () => T): T;
  /** A best-effort write (use counts): undefined when read-only or the lock is held, never waits. */
  tryWrite<T>(fn: () => T): T | undefined;
  /** Run `fn` on one consistent snapshot without taking the write lock. */
  read<T>(fn: () => T): T;
  /** A monotonic clock: never returns the same or an earlier time twice within the registry. */
  nextTime(): number;

  // dataset types
  addDatasetType(t: DatasetTypeRecord): void;
  datasetType(name: string): DatasetTypeRecord | undefined;
  datasetTypes(): DatasetTypeRecord[];

  // runs
  insertRun(run: NewRun, expected: readonly ExpectedOutput[]): void;
  run(id: string): RunRecord | undefined;
  runsByState(state: RunState): RunRecord[];
  expectedOutputs(runId: string): ExpectedOutput[];
  renewLease(runId: string, until: number): void;
  setRunState(runId: string, state: RunState): void;
  /** Replace an open run's parents (rebase); CONFLICT when the run is not open. */
  reparent(runId: string, parents: readonly string[]): void;
  /**
   * Mark an open run committed (parents as recorded at insert) and record its
   * ancestry. Does not move refs; callers combine it with `moveRef` inside
   * `write()`. Throws CONFLICT when the run is not open.
   */
  markCommitted(runId: string, at: number): void;

  // entries
  addEntry(runId: string, entry: NewEntry): EntryRecord;
  entry(runId: string, type: string, dataId: string): EntryRecord | undefined;
  entryById(id: number): EntryRecord | undefined;
  runEntries(runId: string): EntryRecord[];
  /** Newest entry for (type, dataId) along the history of `tip` (see the SQLite notes). */
  resolve(tip: string, type: string, dataId: string, options?: ResolveOptions): EntryRecord | undefined;
  /** Distinct dataIds of a type along the history of `tip`. */
  dataIdsOf(tip: string, type: string, options?: ResolveOptions): string[];
  /** (type, dataId) written by runs that are ancestors of `tip` but not of `base` (base null: all). */
  entriesSince(tip: string, base: string | null): EntryRecord[];
  recordInput(runId: string, entryId: number): void;
  inputsOf(runId: string): EntryRecord[];

  // history
  /** Ancestors of tip (itself included) in resolution order, newest first. */
  history(tip: string, asOf?: number): RunRecord[];
  isAncestor(ancestor: string, descendant: string): boolean;
  /** The best common ancestor (nearest to `a` in its resolution order), or null. */
  mergeBase(a: string, b: string): string | null;
  /** Runs of `tip`'s history that are not in `base`'s history. */
  runsSince(tip: string, base: string | null): RunRecord[];

  // refs
  ref(name: string): RefRecord | undefined;
  refs(): RefRecord[];
  /** Where a ref pointed at time `at` (undefined: did not exist then). */
  refAt(name: string, at: number): RefRecord | undefined;
  /**
   * Move (or create) a ref by compare-and-swap: `expected` is the run the
   * ref must point at now (null: an empty branch; undefined: must not exist).
   * Returns false when the ref is elsewhere. Every move is recorded.
   */
  moveRef(name: string, kind: RefKind, expected: string | null | undefined, runId: string | null, reason: string, at: number): boolean;
  deleteRef(name: string, at: number): void;
  refMoves(name?: string): RefMove[];

  // usage and gc
  addUses(counts: ReadonlyMap<string, { uses: number; lastUsedAt: number }>): void;
  usage(runId: string): RunUsage;
  /** Runs (any state but open) that no ref reaches. */
  unreachableRuns(): RunRecord[];
  /** File hashes that these runs name and no other run does. */
  unsharedHashes(ids: readonly string[]): string[];
  /** Delete runs and their rows; returns file hashes no remaining entry names. */
  deleteRuns(ids: readonly string[]): string[];
  /** Every file hash any entry names. */
  referencedHashes(): Map<string, number>;
  /** Whether any entry names this file hash (re-checked under the write lock before a removal). */
  isReferenced(hash: string): boolean;
  /** Files a gc forgot and has yet to remove (an interrupted gc leaves them for verify to finish). */
  pendingRemovals(): string[];
  addPendingRemovals(hashes: readonly string[], at: number): void;
  clearPendingRemovals(hashes: readonly string[]): void;
  /** Integrity problems the registry can see on its own (foreign keys, ancestry). */
  selfCheck(): string[];
}
