/**
 * The versioned dataset repository (DESIGN.md §5): a folder with a registry
 * (`registry.sqlite`, or the PostgreSQL database `registry.json` names) and a
 * content-addressed datastore (`store/`). Runs are
 * commits: `begin` opens one (invisible to readers), `put`/`fail` add to it,
 * `commit` publishes it in one registry transaction and moves its branch by
 * compare-and-swap on the tip it began from.
 *
 * Crash consistency follows from two rules: files are renamed into store/
 * only inside the registry transaction that names them (so an unnamed file is
 * always a crash leftover), and a run becomes visible only through the single
 * transaction that writes its ancestry rows and moves the branch.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SkycalError, errors } from '../errors.js';
import type { ButlerAdapter, Supplied, VersionSpec } from './adapter.js';
import { canonicalDataId, dataIdMatches, parseDataId, parseWhere, type DataIdInput } from './dataId.js';
import { Datastore } from './datastore.js';
import { canonicalJson, sha256Hex } from './hash.js';
import type { EntryRecord, ExpectedOutput, Registry, RunRecord } from './registry.js';
import { SqliteRegistry } from './sqliteRegistry.js';
import { PgRegistry } from './pgRegistry.js';
import { REGISTRY_CONFIG, SQLITE_REGISTRY, checkPostgresUrl, registryLocation } from './registryUrl.js';
import { COMPOSITE_COMPONENTS, catalogFormatOfStored, storageClass, type StorageClassName } from './storageClasses.js';
import { markMissingOutputs, newRunId, runOrigin } from './runOrigin.js';
import { sniffCatalogBytes } from '../catalog/format.js';
import { TanSipWcs } from '../wcs/index.js';
import { PhotoCalib } from '../photocalib/index.js';
import { checkRefName, checkStageName, checkTypeName, parseTypeSpec } from './typeSpec.js';

export const BUILTIN_TYPES: readonly { name: string; storageClass: StorageClassName }[] = [
  { name: 'wcs', storageClass: 'TanSipWcs' },
  { name: 'photoCalib', storageClass: 'PhotoCalib' },
  { name: 'src', storageClass: 'ArrowTable' },
  { name: 'calexp', storageClass: 'Exposure' },
];

export const DEFAULT_BRANCH = 'main';
const DEFAULT_LEASE_S = 3600;
/** The longest lease a run may take (7 days): a lease is a promise to renew, not a lock forever. */
export const MAX_LEASE_S = 7 * 24 * 3600;
const USAGE_FLUSH_EVERY = 1000;

export interface BeginOptions {
  readonly stage: string;
  readonly branch?: string;
  readonly config?: unknown;
  readonly expect?: readonly { type: string; dataId: DataIdInput | string }[];
  readonly leaseSeconds?: number;
}

/** BAD_INPUT unless `s` is a finite lease in (0, MAX_LEASE_S] seconds. */
export function checkLeaseSeconds(s: number): number {
  if (typeof s !== 'number' || !Number.isFinite(s) || !(s > 0) || s > MAX_LEASE_S) {
    throw errors.badInput('lease', `expected seconds in (0, ${MAX_LEASE_S}] (7 days), got ${String(s)}`);
  }
  return s;
}

export interface ResolvedDataset {
  readonly entry: EntryRecord;
  readonly supplied: Supplied;
}

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** A file init writes; `ifAbsent`: a file of that name already there is kept (a user's README.txt). Returns whether it wrote. */
function writeInitFile(path: string, text: string, ifAbsent = false): boolean {
  try {
    writeFileSync(path, text, { flag: 'wx' });
    return true;
  } catch (e) {
    if (ifAbsent && (e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw errors.io(path, e);
  }
}

/**
 * Take back what a failed Repository.init made, so that running it again
 * works: the PostgreSQL schema (init had found none), or registry.sqlite and
 * its journal; the store and tmp folders (init refuses a folder that holds
 * them); the files it wrote; the root if init made it.
 */
function undoInit(root: string, made: { root: boolean; files: string[] }, pg: PgRegistry | undefined, repo: Repository | undefined): void {
  try {
    pg?.dropCreated();
  } catch {
    // The server is gone: the error being thrown names it, and a retry meets CONFLICT naming the schema.
  }
  try {
    if (repo !== undefined) repo.close();
    else pg?.close();
  } catch {
    // a registry that failed while opening
  }
  for (const name of [SQLITE_REGISTRY, `${SQLITE_REGISTRY}-wal`, `${SQLITE_REGISTRY}-shm`, `${SQLITE_REGISTRY}-journal`, 'store', 'tmp', ...made.files]) {
    rmSync(join(root, name), { recursive: true, force: true });
  }
  if (made.root) rmSync(root, { recursive: true, force: true });
}

/**
 * ISO 8601 (a real calendar date: 2026-02-30 is refused, not read as March 2)
 * or epoch milliseconds -> milliseconds; BAD_INPUT otherwise.
 */
export function parseTime(t: string | number): number {
  const bad = () => errors.badInput('time', `expected ISO 8601 (2026-11-20T12:00:00Z), got ${JSON.stringify(t)}`);
  if (typeof t === 'number') {
    if (!Number.isFinite(t)) throw bad();
    return t;
  }
  const m = ISO_TIME.exec(t);
  if (m === null) throw bad();
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [h, mi, sec] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  const daysIn = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysIn || h > 23 || mi > 59 || sec > 59) throw bad();
  const ms = Date.parse(t);
  if (!Number.isFinite(ms)) throw bad();
  return ms;
}

export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export class Repository implements ButlerAdapter {
  readonly registry: Registry;
  readonly store: Datastore;
  private readonly pendingUses = new Map<string, { uses: number; lastUsedAt: number }>();
  private pendingCount = 0;

  private constructor(readonly root: string, registry: Registry) {
    this.registry = registry;
    this.store = new Datastore(root);
  }

  /**
   * Create a repository in an empty (or missing) folder, with the built-in
   * types and an empty `main`. `registry`: a postgresql:// URL (no password)
   * whose database holds no skycal schema yet; without it, REPO/registry.sqlite.
   */
  static init(root: string, options: { registry?: string } = {}): Repository {
    const url = options.registry === undefined ? undefined : checkPostgresUrl(options.registry);
    if (existsSync(join(root, SQLITE_REGISTRY)) || existsSync(join(root, REGISTRY_CONFIG))) throw errors.conflict(`${root}: already a repository`);
    if (existsSync(root) && readdirSync(root).some((n) => n === 'store' || n === 'tmp')) {
      throw errors.conflict(`${root}: holds a store/ or tmp/ folder but no registry; refusing to adopt it`);
    }
    const registry = url === undefined ? undefined : new PgRegistry(url);
    const made = { root: !existsSync(root), files: [] as string[] };
    try {
      if (registry !== undefined && registry.read(() => registry.schemaVersion()) !== 0) {
        throw errors.conflict(`${url}: the database already holds a skycal repository's registry; give each repository a database of its own`);
      }
      mkdirSync(root, { recursive: true });
    } catch (e) {
      registry?.close();
      throw e;
    }
    let repo: Repository | undefined;
    try {
      repo = new Repository(root, registry ?? new SqliteRegistry(join(root, SQLITE_REGISTRY), { create: true }));
      repo.registry.migrate({ create: true });
      repo.store.init();
      const r = repo;
      r.registry.write(() => {
        for (const t of BUILTIN_TYPES) r.addTypeWithComponents(t.name, t.storageClass);
        r.registry.moveRef('main', 'branch', undefined, null, 'create', r.registry.nextTime());
      });
      if (writeInitFile(join(root, 'README.txt'), 'A skycal repository. Use `skycal log`, `skycal get`, ... on this folder.\n', true)) made.files.push('README.txt');
      // Written last: a folder with registry.json is a repository only once its registry holds the schema.
      if (url !== undefined && writeInitFile(join(root, REGISTRY_CONFIG), `${JSON.stringify({ registry: url }, null, 2)}\n`)) made.files.push(REGISTRY_CONFIG);
      return repo;
    } catch (e) {
      // Nothing half-made: running the same init again must not meet "already a repository".
      undoInit(root, made, registry, repo);
      throw e;
    }
  }

  /** Open an existing repository; a registry without skycal's schema is refused ("not a skycal repository"). */
  static open(root: string, options: { readonly?: boolean } = {}): Repository {
    const where = registryLocation(root);
    const registry = where.kind === 'sqlite'
      ? new SqliteRegistry(where.path, { readonly: options.readonly })
      : new PgRegistry(where.url, { readonly: options.readonly });
    try {
      registry.migrate();
    } catch (e) {
      registry.close();
      throw e;
    }
    return new Repository(root, registry);
  }

  close(): void {
    try {
      this.flushUses({ bestEffort: true });
    } finally {
      this.registry.close();
    }
  }

  // -- dataset types

  registerDatasetType(name: string, storageClassName: string): void {
    checkTypeName(name);
    if (name.includes('.')) throw errors.badInput('dataset type', `${name}: dots are reserved for components`);
    const sc = storageClass(storageClassName);
    this.registry.write(() => {
      const existing = this.registry.datasetType(name);
      if (existing) {
        if (existing.storageClass === sc.name) return;
        throw errors.conflict(`dataset type ${name} already exists with storage class ${existing.storageClass}`);
      }
      this.addTypeWithComponents(name, sc.name);
    });
  }

  private addTypeWithComponents(name: string, sc: StorageClassName): void {
    this.registry.addDatasetType({ name, storageClass: sc });
    for (const [comp, compClass] of Object.entries(COMPOSITE_COMPONENTS[sc] ?? {})) {
      this.registry.addDatasetType({ name: `${name}.${comp}`, storageClass: compClass });
    }
  }

  private typeOrThrow(name: string): { name: string; storageClass: StorageClassName; components: string[] } {
    return this.memo(`type ${name}`, () => this.typeOrThrowNow(name));
  }

  private typeOrThrowNow(name: string): { name: string; storageClass: StorageClassName; components: string[] } {
    const t = this.registry.datasetType(name);
    if (t === undefined) throw errors.notFound(`dataset type ${name} (known: ${this.registry.datasetTypes().map((x) => x.name).join(', ')})`);
    const comps = Object.keys(COMPOSITE_COMPONENTS[t.storageClass as StorageClassName] ?? {}).map((c) => `${name}.${c}`);
    return { name: t.name, storageClass: t.storageClass as StorageClassName, components: comps };
  }

  // -- refs

  /** The run a REF names now or at `asOf` (null: an empty branch). NOT_FOUND when it names nothing. */
  resolveRef(ref: string, asOf?: number): string | null {
    const r = asOf === undefined ? this.registry.ref(ref) : this.registry.refAt(ref, asOf);
    if (r !== undefined) {
      if (r.runId !== null && this.registry.run(r.runId) === undefined) throw errors.notFound(`run ${r.runId} that ${ref} named (garbage-collected)`);
      return r.runId;
    }
    const run = this.registry.run(ref);
    if (run !== undefined && run.state === 'committed' && (asOf === undefined || run.committedAt! <= asOf)) return run.id;
    if (run !== undefined && run.state !== 'committed') throw errors.notFound(`ref ${ref} (run ${ref} is ${run.state}, not committed)`);
    throw errors.notFound(asOf === undefined ? `ref ${ref}` : `ref ${ref} as of ${iso(asOf)}`);
  }

  createBranch(name: string, from = 'main', options: { force?: boolean } = {}): string | null {
    checkRefName(name);
    return this.registry.write(() => {
      const target = this.resolveRef(from);
      const now = this.registry.nextTime();
      const current = this.registry.ref(name);
      if (current?.kind === 'tag') throw errors.conflict(`${name} is a tag; tags are immutable`);
      if (current !== undefined && !options.force) throw errors.conflict(`branch ${name} already exists (at ${current.runId ?? 'no run'}); use --force to move it`);
      const moved = current === undefined
        ? this.registry.moveRef(name, 'branch', undefined, target, 'create', now)
        : this.registry.moveRef(name, 'branch', current.runId, target, 'move', now);
      if (!moved) throw errors.conflict(`branch ${name} moved concurrently`);
      return target;
    });
  }

  deleteBranch(name: string, options: { force?: boolean } = {}): void {
    this.registry.write(() => {
      const r = this.registry.ref(name);
      if (r === undefined) throw errors.notFound(`branch ${name}`);
      if (r.kind === 'tag') throw errors.conflict(`${name} is a tag; tags are immutable and cannot be deleted`);
      if (name === DEFAULT_BRANCH && !options.force) {
        throw errors.conflict(`${name} is the default branch (readers and begin use it); use --force to delete it anyway`);
      }
      this.registry.deleteRef(name, this.registry.nextTime());
    });
  }

  createTag(name: string, ref: string): string {
    checkRefName(name);
    return this.registry.write(() => {
      const target = this.resolveRef(ref);
      if (target === null) throw errors.badInput('tag', `${ref} has no runs to tag`);
      const existing = this.registry.ref(name);
      if (existing !== undefined) {
        throw errors.conflict(`${existing.kind} ${name} already exists (at ${existing.runId}); tags are immutable`);
      }
      this.registry.moveRef(name, 'tag', undefined, target, 'create', this.registry.nextTime());
      return target;
    });
  }

  // -- runs

  begin(options: BeginOptions): RunRecord {
    const stage = checkStageName(options.stage);
    const branch = options.branch ?? 'main';
    const lease = checkLeaseSeconds(options.leaseSeconds ?? DEFAULT_LEASE_S);
    const configJson = canonicalJson(options.config ?? {});
    const expected: ExpectedOutput[] = [];
    for (const x of options.expect ?? []) {
      const t = this.typeOrThrow(x.type);
      const dataId = canonicalDataId(x.dataId);
      for (const type of t.components.length > 0 ? t.components : [t.name]) expected.push({ type, dataId });
    }
    return this.registry.write(() => {
      const ref = this.registry.ref(branch);
      if (ref === undefined) throw errors.notFound(`branch ${branch}`);
      if (ref.kind !== 'branch') throw errors.badInput('begin', `${branch} is a tag; runs are begun on branches`);
      const now = this.registry.nextTime();
      const id = newRunId();
      this.registry.insertRun({
        id, stage, branch, parents: ref.runId === null ? [] : [ref.runId], configJson, configHash: sha256Hex(configJson),
        ...runOrigin(), begunAt: now, leaseExpiresAt: now + lease * 1000, leaseMs: lease * 1000,
      }, expected);
      return this.registry.run(id)!;
    });
  }

  private openRunOrThrow(runId: string): RunRecord {
    const run = this.registry.run(runId);
    if (run === undefined) throw errors.notFound(`run ${runId}`);
    if (run.state !== 'open') throw errors.conflict(`run ${runId} is ${run.state}; only open runs take puts, failures and commits`);
    return run;
  }

  /**
   * Validate and store one dataset in an open run. Nothing is visible (or
   * left behind) when it fails. A retry of a put that landed (same run,
   * type, dataId and bytes) succeeds without writing; different bytes are a
   * CONFLICT.
   */
  put(runId: string, typeName: string, dataIdIn: DataIdInput | string, bytes: Uint8Array, source = 'input'): EntryRecord {
    const t = this.typeOrThrow(typeName);
    const dataId = canonicalDataId(dataIdIn);
    const already = (hash: string) => {
      const have = this.registry.entry(runId, t.name, dataId);
      if (have === undefined) return undefined;
      if (have.kind === 'dataset' && have.fileHash === hash) return have; // a retried put that landed
      throw errors.conflict(`run ${runId} already has ${t.name} ${dataId}` +
        (have.kind === 'dataset' ? ` with different content (sha256 ${have.fileHash})` : ' as a failure marker'));
    };
    const stored = storageClass(t.storageClass).normalise(bytes, source);
    const format = t.storageClass === 'ArrowTable' ? sniffCatalogBytes(stored) ?? null : null;
    const hash = sha256Hex(stored);
    const landed = this.registry.read(() => (this.registry.run(runId)?.state === 'open' ? already(hash) : undefined));
    if (landed !== undefined) return landed;
    this.openRunOrThrow(runId);
    let staged = this.store.stage(stored);
    try {
      return this.registry.write(() => {
        const run = this.openRunOrThrow(runId);
        const again = already(staged.hash);
        if (again !== undefined) {
          this.store.discard(staged);
          return again;
        }
        // The content may have been removed (gc, verify) since stage() saw it; write it again.
        // Under the write lock nothing else removes it before this transaction commits.
        if (staged.tempPath === undefined && !this.store.has(staged.hash)) staged = this.store.stageAs(staged.hash, stored);
        this.store.place(staged);
        const entry = this.registry.addEntry(run.id, { type: t.name, dataId, kind: 'dataset', fileHash: staged.hash, size: staged.size, reason: null, format });
        this.renewLease(run);
        return entry;
      });
    } catch (e) {
      this.store.discard(staged);
      throw e;
    }
  }

  /** Record that this run failed to produce (type, dataId). A composite fails in every component. */
  fail(runId: string, typeName: string, dataIdIn: DataIdInput | string, reason: string): EntryRecord[] {
    const t = this.typeOrThrow(typeName);
    const dataId = canonicalDataId(dataIdIn);
    if (reason.trim() === '') throw errors.badInput('fail', 'a reason is required');
    return this.registry.write(() => {
      const run = this.openRunOrThrow(runId);
      const out: EntryRecord[] = [];
      for (const type of t.components.length > 0 ? t.components : [t.name]) {
        if (this.registry.entry(runId, type, dataId)) throw errors.conflict(`run ${runId} already has ${type} ${dataId}`);
        out.push(this.registry.addEntry(run.id, { type, dataId, kind: 'failure', fileHash: null, size: null, reason }));
      }
      this.renewLease(run);
      return out;
    });
  }

  /** Renewing sets the expiry to now + the lease the run began with (it never grows). */
  private renewLease(run: RunRecord): void {
    this.registry.renewLease(run.id, Date.now() + (run.leaseMs ?? DEFAULT_LEASE_S * 1000));
  }

  /**
   * Publish a run: one transaction marks missing outputs, commits the run and
   * moves its branch from the tip the run began on. If the branch moved, the
   * whole transaction rolls back (CONFLICT) and the run stays open.
   */
  commit(runId: string): RunRecord {
    return this.registry.write(() => {
      const run = this.openRunOrThrow(runId);
      const base = run.parents[0] ?? null;
      const branch = run.branch ?? 'main';
      const now = this.registry.nextTime();
      markMissingOutputs(this.registry, runId);
      this.registry.markCommitted(runId, now);
      if (!this.registry.moveRef(branch, 'branch', base, runId, 'commit', now)) {
        const current = this.registry.ref(branch);
        throw errors.conflict(
          `branch ${branch} ${current === undefined ? 'was deleted' : `moved to ${current.runId}`} since run ${runId} began on ${base ?? 'an empty branch'}; ` +
          `run ${runId} is still open and lost nothing: publish it with \`merge --into ${branch} ${runId}\``);
      }
      return this.registry.run(runId)!;
    });
  }

  abort(runId: string): RunRecord {
    return this.registry.write(() => {
      this.openRunOrThrow(runId);
      this.registry.setRunState(runId, 'abandoned');
      return this.registry.run(runId)!;
    });
  }

  /** Open runs, with whether their lease expired, their declared outputs and what they hold so far. */
  status(now = Date.now()) {
    const open = this.registry.runsByState('open').map((run) => {
      const entries = this.registry.runEntries(run.id);
      return {
        ...this.describeRun(run),
        stale: run.leaseExpiresAt !== null && run.leaseExpiresAt < now,
        leaseExpiresAt: iso(run.leaseExpiresAt),
        expected: this.registry.expectedOutputs(run.id).map((x) => ({
          type: x.type, dataId: x.dataId, state: entries.find((e) => e.type === x.type && e.dataId === x.dataId)?.kind ?? 'missing',
        })),
        datasets: entries.filter((e) => e.kind === 'dataset').length,
        failures: entries.filter((e) => e.kind === 'failure').length,
      };
    });
    return { open, refs: this.registry.refs() };
  }

  /** Abandon a stale run (or, without an id, every stale run). A live run needs `force`. */
  recover(runId?: string, options: { force?: boolean; now?: number } = {}): string[] {
    const now = options.now ?? Date.now();
    return this.registry.write(() => {
      const candidates = runId === undefined ? this.registry.runsByState('open') : [this.openRunOrThrow(runId)];
      const out: string[] = [];
      for (const run of candidates) {
        const stale = run.leaseExpiresAt !== null && run.leaseExpiresAt < now;
        if (!stale && !options.force) {
          if (runId !== undefined) throw errors.conflict(`run ${run.id} is not stale (lease until ${iso(run.leaseExpiresAt)}); use --force to abandon it anyway`);
          continue;
        }
        this.registry.setRunState(run.id, 'abandoned');
        out.push(run.id);
      }
      return out;
    });
  }

  describeRun(run: RunRecord) {
    return {
      id: run.id, stage: run.stage, parents: run.parents, state: run.state, branch: run.branch,
      begunAt: iso(run.begunAt), committedAt: iso(run.committedAt), configHash: run.configHash,
      config: JSON.parse(run.configJson) as unknown, softwareVersion: run.softwareVersion, host: run.host, user: run.user,
    };
  }

  // -- resolution

  private tipFor(spec: VersionSpec): { tip: string | null; asOf: number | undefined; at: string } {
    const asOf = spec.asOf === undefined ? undefined : parseTime(spec.asOf);
    const at = spec.at ?? 'main';
    return { tip: this.memo(`ref ${at} ${asOf ?? ''}`, () => this.resolveRef(at, asOf)), asOf, at };
  }

  /**
   * Resolve one dataset: the newest dataset or failure marker along the
   * history of the ref. A failure marker is INVALID_DATASET, never a fallback.
   */
  resolve(typeSpec: string, dataIdIn: DataIdInput | string, spec: VersionSpec = {}): ResolvedDataset {
    const parsed = parseTypeSpec(typeSpec);
    const stage = spec.stage ?? parsed.stage;
    const t = this.typeOrThrow(parsed.type);
    if (t.components.length > 0) throw errors.badInput('get', `${t.name} is a composite; use getComposite or one of ${t.components.join(', ')}`);
    const dataId = canonicalDataId(dataIdIn);
    const { tip, asOf, at } = this.tipFor(spec);
    const where = `${t.name}${stage ? `@${stage}` : ''} ${dataId} at ${at}${asOf !== undefined ? ` as of ${iso(asOf)}` : ''}`;
    const entry = tip === null ? undefined : this.registry.resolve(tip, t.name, dataId, { stage, asOf });
    if (entry === undefined) throw errors.notFound(where);
    if (entry.kind === 'failure') {
      throw errors.invalidDataset(`invalid: ${t.name} ${dataId} failed in run ${entry.runId} (${entry.stage}): ${entry.reason}`);
    }
    this.countUse(entry.runId);
    if (spec.forRun !== undefined) {
      const forRun = spec.forRun;
      this.registry.write(() => {
        this.openRunOrThrow(forRun);
        this.registry.recordInput(forRun, entry.id);
      });
    }
    return { entry, supplied: supplied(entry) };
  }

  /** A dataset's bytes, checked against their sha256 (a corrupt file is IO naming it). */
  get(typeSpec: string, dataId: DataIdInput | string, spec: VersionSpec = {}): { bytes: Uint8Array } & ResolvedDataset {
    const r = this.resolve(typeSpec, dataId, spec);
    return { ...r, bytes: this.store.read(r.entry.fileHash!) };
  }

  /** A composite's components, each resolved on its own; a failed component is INVALID_DATASET, a missing optional one is absent. */
  getComposite(typeSpec: string, dataId: DataIdInput | string, spec: VersionSpec = {}, required: readonly string[] = ['image']) {
    const parsed = parseTypeSpec(typeSpec);
    const t = this.typeOrThrow(parsed.type);
    if (t.components.length === 0) throw errors.badInput('get', `${t.name} is not a composite`);
    const components: Record<string, { bytes: Uint8Array } & ResolvedDataset> = {};
    for (const type of t.components) {
      const comp = type.slice(t.name.length + 1);
      try {
        components[comp] = this.get(parsed.stage ? `${type}@${parsed.stage}` : type, dataId, spec);
      } catch (e) {
        if (SkycalError.isSkycalError(e) && e.code === 'NOT_FOUND' && !required.includes(comp)) continue;
        throw e;
      }
    }
    return { type: t.name, storageClass: t.storageClass, components };
  }

  /** Ancestors of a ref, newest first (resolution order). */
  log(spec: VersionSpec = {}) {
    const { tip, asOf } = this.tipFor(spec);
    if (tip === null) return [];
    return this.registry.history(tip, asOf).map((run) => {
      const entries = this.registry.runEntries(run.id);
      return {
        ...this.describeRun(run),
        datasets: entries.filter((e) => e.kind === 'dataset').length,
        failures: entries.filter((e) => e.kind === 'failure').map((e) => ({ type: e.type, dataId: e.dataId, reason: e.reason })),
        inputs: this.registry.inputsOf(run.id).map(supplied),
        usage: usageOf(this.registry.usage(run.id)),
      };
    });
  }

  /** The dataset and, transitively, the datasets its run read, back to their sources. */
  provenance(typeSpec: string, dataId: DataIdInput | string, spec: VersionSpec = {}) {
    const start = this.resolve(typeSpec, dataId, { ...spec, forRun: undefined });
    const steps: { dataset: Supplied; run: ReturnType<Repository['describeRun']>; inputs: Supplied[] }[] = [];
    const seen = new Set<string>();
    const queue: EntryRecord[] = [start.entry];
    while (queue.length > 0) {
      const e = queue.shift()!;
      if (seen.has(e.runId)) continue;
      seen.add(e.runId);
      const inputs = this.registry.inputsOf(e.runId);
      steps.push({ dataset: supplied(e), run: this.describeRun(this.registry.run(e.runId)!), inputs: inputs.map(supplied) });
      queue.push(...inputs);
    }
    return steps;
  }

  // -- usage

  /** Uses are counted in memory and written in batches (and at close): a read costs no write transaction. */
  private countUse(runId: string): void {
    const u = this.pendingUses.get(runId) ?? { uses: 0, lastUsedAt: 0 };
    u.uses++;
    u.lastUsedAt = Date.now();
    this.pendingUses.set(runId, u);
    // Not inside a snapshot: its read-only transaction cannot take the write.
    if (++this.pendingCount >= USAGE_FLUSH_EVERY && this.snapshots === 0) this.flushUses({ bestEffort: true });
  }

  private snapshots = 0;
  /** Within a snapshot, what every lookup asks again (a type, a ref's tip) is asked once: the answers cannot change. */
  private snapshotMemo: Map<string, unknown> | undefined;

  snapshot<T>(fn: () => T): T {
    if (this.snapshots++ === 0) this.snapshotMemo = new Map();
    try {
      return this.registry.read(fn);
    } finally {
      if (--this.snapshots === 0) {
        this.snapshotMemo = undefined;
        if (this.pendingCount >= USAGE_FLUSH_EVERY) this.flushUses({ bestEffort: true });
      }
    }
  }

  private memo<T>(key: string, compute: () => T): T {
    const m = this.snapshotMemo;
    if (m === undefined) return compute();
    if (!m.has(key)) m.set(key, compute());
    return m.get(key) as T;
  }

  /**
   * Write the counted uses. Best effort (at close, and for reads): a read-only
   * repository or a writer holding the lock drops the counts rather than make
   * a read fail or wait.
   */
  flushUses(options: { bestEffort?: boolean } = {}): void {
    if (this.pendingUses.size === 0) return;
    const batch = new Map(this.pendingUses);
    this.pendingUses.clear();
    this.pendingCount = 0;
    if (options.bestEffort) this.registry.tryWrite(() => this.registry.addUses(batch));
    else this.registry.write(() => this.registry.addUses(batch));
  }

  // -- ButlerAdapter

  getWcs(dataId: DataIdInput | string, at: VersionSpec = {}) {
    const r = this.get('wcs', dataId, at);
    const headerText = new TextDecoder('latin1').decode(r.bytes);
    return { headerText, wcs: TanSipWcs.fromFitsHeader(headerText), supplied: r.supplied };
  }

  getPhotoCalib(dataId: DataIdInput | string, at: VersionSpec = {}) {
    const r = this.get('photoCalib', dataId, at);
    const json = JSON.parse(new TextDecoder().decode(r.bytes)) as unknown;
    return { json, photoCalib: PhotoCalib.fromJson(json), supplied: r.supplied };
  }

  /** Where a catalog is and its format, as recorded at put (older entries: sniffed from its first and last bytes). */
  getCatalog(dataId: DataIdInput | string, at: VersionSpec = {}) {
    const r = this.resolve('src', dataId, at);
    const path = this.store.pathOf(r.entry.fileHash!);
    return { path, format: catalogFormatOfStored(r.entry.format, () => this.store.headTail(r.entry.fileHash!, 8, 8)), supplied: r.supplied };
  }

  runIdAt(at: VersionSpec = {}): string | null {
    return this.tipFor(at).tip;
  }

  queryDataIds(typeSpec: string, where: DataIdInput | string | undefined, at: VersionSpec = {}) {
    const parsed = parseTypeSpec(typeSpec);
    const stage = at.stage ?? parsed.stage;
    const t = this.typeOrThrow(parsed.type);
    const filter = parseWhere(where);
    const { tip, asOf } = this.tipFor(at);
    if (tip === null) return [];
    const out: { dataId: string; supplied: Supplied | undefined; invalid?: string }[] = [];
    for (const dataId of this.registry.dataIdsOf(tip, t.name, { stage, asOf })) {
      if (!dataIdMatches(parseDataId(dataId), filter)) continue;
      const e = this.registry.resolve(tip, t.name, dataId, { stage, asOf })!;
      if (e.kind === 'failure') out.push({ dataId, supplied: undefined, invalid: `failed in run ${e.runId} (${e.stage}): ${e.reason}` });
      else out.push({ dataId, supplied: supplied(e) });
    }
    return out;
  }
}

/** Use counts with ISO 8601 times, like every other time skycal prints. */
function usageOf(u: { uses: number; lastUsedAt: number | null }) {
  return { uses: u.uses, lastUsedAt: iso(u.lastUsedAt) };
}

function supplied(e: EntryRecord): Supplied {
  return { type: e.type, dataId: e.dataId, runId: e.runId, stage: e.stage, committedAt: iso(e.committedAt) ?? '' };
}
