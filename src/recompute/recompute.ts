/**
 * Batch recomputation: for every `src` catalog that matches a selection,
 * resolve that dataId's `wcs` and `photoCalib` at the same version, derive
 * sky coordinates and calibrated fluxes on the worker pool batch by batch,
 * and stream everything into one output file whose key/value metadata names
 * the runs that supplied each input.
 *
 * Every dataId is resolved before a byte is written, so an invalid one
 * (a failure marker, or nothing at all) fails the job up front, naming it,
 * unless the caller asks to skip such dataIds; then they are listed.
 *
 * The work runs in the workers (src/recompute/job.ts): the main thread
 * plans jobs of a few row groups each (from the catalogs' footers alone),
 * keeps at most two per worker in flight, and assembles their results in
 * order: one Parquet file whose row groups the jobs write themselves where
 * the previous job's end (offsetChain.ts; the main thread writes the footer
 * from theirs), IPC batches into the .arrow /
 * .arrows / .csv writer, or part files the workers wrote into a partitioned
 * dataset. Memory is bounded by workers x job rows, whatever the catalogs.
 */
import { Schema, tableFromIPC, type RecordBatch } from 'apache-arrow';
import { join } from 'node:path';
import { SkycalError, errors } from '../errors.js';
import type { ButlerAdapter, Supplied, VersionSpec } from '../butler/adapter.js';
import { parseDataId, type DataId, type DataIdInput } from '../butler/dataId.js';
import { writeCatalog } from '../catalog/write.js';
import { STDIO, catalogFormat } from '../catalog/format.js';
import { IPC_END_OF_STREAM } from '../catalog/ipcMessages.js';
import { ParquetStitcher, readParquetFooter, rowGroupSpans, rowGroupsFooter } from '../catalog/parquetStitch.js';
import { defaultWorkerCount, type KernelPool } from '../parallel/pool.js';
import type { PhotoCalib } from '../photocalib/photoCalib.js';
import type { TanSipWcs } from '../wcs/tanSipWcs.js';
import type { CatalogFormat } from '../catalog/format.js';
import { STATUS_NAMES } from '../../native-free-kernels/status.js';
import { AtomicFile, AtomicFolder, DATASET_MANIFEST } from '../io/atomicOutput.js';
import { isIntegerKey } from './constantColumn.js';
import { runRecomputeJob, type JobOutput, type JobResult, type RecomputeJob } from './job.js';
import { compareDataIds } from './shards.js';
import { compiledParquetWasm, parquetWasmFrom } from './parquetWasm.js';
import { openRecomputePool, type RecomputePool } from './pool.js';
import { cancelChain, offsetChain } from './offsetChain.js';

export { openRecomputePool, type RecomputePool };

export interface RecomputeOptions {
  /** Branch, tag or run id (default main), and optionally the time it is read as of. */
  at?: string;
  asOf?: string | number;
  /** Resolve `wcs@STAGE` / `photoCalib@STAGE` instead of the newest of any stage. */
  wcsStage?: string;
  photoCalibStage?: string;
  /** Only dataIds whose keys equal these values. */
  where?: DataIdInput;
  /**
   * .parquet, .arrow, .arrows or .csv (by extension), or a folder (a name
   * ending in `/`) for a Hive-partitioned Parquet dataset.
   */
  out: string;
  /** Partition the Parquet dataset by these dataId keys (implies a folder output). */
  partitionBy?: readonly string[];
  /** Skip (and list) dataIds whose inputs are invalid or missing, instead of failing. */
  skipInvalid?: boolean;
  /** Worker threads (0: in-thread); default the pool's count, else the number of cores. */
  workers?: number;
  /** Only its worker count is used (kept for callers that pass their kernel pool). */
  pool?: KernelPool;
  /** A recompute pool to reuse across calls (openRecomputePool); else one is made and closed here. */
  jobPool?: RecomputePool;
  /** Rows per job: consecutive row groups of a catalog are grouped up to this (default 131,072; a worker's memory is ~1 KB per job row). */
  batchRows?: number;
  onProgress?: (p: RecomputeProgress) => void;
}

export interface RecomputeProgress {
  dataIdsDone: number;
  dataIdsTotal: number;
  rowsDone: number;
}

export interface RecomputedDataId {
  dataId: string;
  rows: number;
  wcsRun: string;
  photoCalibRun: string;
  srcRun: string;
}

export interface RecomputeSummary {
  out: string;
  /** Part files written (a partitioned dataset only). */
  parts?: number;
  rows: number;
  dataIds: RecomputedDataId[];
  skipped: { dataId: string; code: string; reason: string }[];
  /** Points with each status bit set (pixel -> sky), by name. */
  badByStatus: Record<string, number>;
  seconds: number;
  rowsPerSecond: number;
  /**
   * CPU seconds of this whole process over the job (user + system, every
   * thread: the main thread, the workers, V8's compiler and GC threads);
   * cpuSeconds / seconds is the number of cores the job kept busy.
   */
  cpuSeconds: number;
}

/** Start timing a job: the wall seconds and the process's CPU seconds since, with the rows per second. */
export function startJobClock(): (rows: number) => Pick<RecomputeSummary, 'seconds' | 'rowsPerSecond' | 'cpuSeconds'> {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  return (rows) => {
    const seconds = (performance.now() - wall) / 1000;
    const used = process.cpuUsage(cpu);
    return { seconds, rowsPerSecond: rows / seconds, cpuSeconds: (used.user + used.system) / 1e6 };
  };
}

/**
 * Rows per job, and so per output row group. Why not larger: a worker's
 * peak memory is ~1 KB per job row (the decoded input, the derived table,
 * its IPC copy, wasm's copy and the encoded bytes), and two jobs per worker
 * are in flight; 2^17 rows keep that near 128 MiB per worker while a row
 * group stays as large as DuckDB's own (122,880 rows).
 */
export const JOB_ROWS = 131_072;

/** Metadata key holding the JSON list of the versions each dataId was derived from. */
export const META_RECOMPUTE = 'skycal.recompute';

interface Plan {
  dataId: string;
  /** The dataId's place in the whole selection (canonical order): its part files' names, the same in a shard. */
  ordinal: number;
  keys: DataId;
  wcs: TanSipWcs;
  photoCalib: PhotoCalib;
  catalog: { path: string; format: CatalogFormat };
  supplied: { wcs: Supplied; photoCalib: Supplied; src: Supplied };
}

/** What a recompute reads (and records as its provenance): the version, the stages, the selection. */
export type RecomputePin = Pick<RecomputeOptions, 'at' | 'asOf' | 'wcsStage' | 'photoCalibStage' | 'where'>;

function specOf(pin: RecomputePin): VersionSpec {
  return { ...(pin.at !== undefined && { at: pin.at }), ...(pin.asOf !== undefined && { asOf: pin.asOf }) };
}

/** Resolve one dataId's WCS, calibration and catalog at the pin (INVALID_DATASET or NOT_FOUND when it cannot be). */
function resolveOne(adapter: ButlerAdapter, pin: RecomputePin, dataId: string, ordinal: number): Plan {
  const spec = specOf(pin);
  const w = adapter.getWcs(dataId, { ...spec, ...(pin.wcsStage !== undefined && { stage: pin.wcsStage }) });
  const p = adapter.getPhotoCalib(dataId, { ...spec, ...(pin.photoCalibStage !== undefined && { stage: pin.photoCalibStage }) });
  const c = adapter.getCatalog(dataId, spec);
  return {
    dataId,
    ordinal,
    keys: parseDataId(dataId),
    wcs: w.wcs,
    photoCalib: p.photoCalib,
    catalog: { path: c.path, format: c.format },
    supplied: { wcs: w.supplied, photoCalib: p.supplied, src: c.supplied },
  };
}

/** Every selected dataId resolved from one snapshot of the registry: a commit landing meanwhile changes none of them. */
function resolveAll(adapter: ButlerAdapter, options: RecomputeOptions): { plans: Plan[]; skipped: RecomputeSummary['skipped'] } {
  return adapter.snapshot(() => resolveAllIn(adapter, options));
}

function resolveAllIn(adapter: ButlerAdapter, options: RecomputeOptions): { plans: Plan[]; skipped: RecomputeSummary['skipped'] } {
  // Canonical order here, not the registry's: a PostgreSQL collation may sort otherwise, and shards and part names rely on it.
  const found = adapter.queryDataIds('src', options.where, specOf(options)).sort((a, b) => compareDataIds(a.dataId, b.dataId));
  const plans: Plan[] = [];
  const skipped: RecomputeSummary['skipped'] = [];
  for (const { dataId, invalid } of found) {
    try {
      if (invalid !== undefined) throw errors.invalidDataset(invalid);
      plans.push(resolveOne(adapter, options, dataId, plans.length));
    } catch (e) {
      if (!SkycalError.isSkycalError(e) || !['INVALID_DATASET', 'NOT_FOUND'].includes(e.code)) throw e;
      if (!options.skipInvalid) {
        throw errors.within(`recompute: ${dataId}`, e, 'use --skip-invalid to write the other dataIds');
      }
      skipped.push({ dataId, code: e.code, reason: e.message });
    }
  }
  return { plans, skipped };
}

/** A dataId column of the output: Int64 where every selected value is an integer, else Utf8. */
export interface IdKey {
  name: string;
  integer: boolean;
}

function dataIdKeys(plans: readonly Plan[]): IdKey[] {
  const keys = [...new Set(plans.flatMap((p) => Object.keys(p.keys)))].sort();
  return keys.map((name) => ({ name, integer: isIntegerKey(plans.map((p) => p.keys[name])) }));
}

type OutputPlan = { kind: 'parquet' } | { kind: 'dataset'; partitionBy: readonly string[] } | { kind: 'catalog' };

/** Which output `out` (and `--partition-by`) names; a folder is a partitioned Parquet dataset. */
export function recomputeOutputOf(out: string, partitionBy?: readonly string[]): OutputPlan['kind'] {
  if (partitionBy !== undefined || /[/\\]$/.test(out)) return 'dataset';
  return catalogFormat(out) === 'parquet' ? 'parquet' : 'catalog';
}

/** Default partition keys: visit, then detector, then any other key whose value differs between dataIds. */
function defaultPartitionKeys(plans: readonly Plan[], keys: readonly string[]): string[] {
  const varying = keys.filter((k) => new Set(plans.map((p) => p.keys[k])).size > 1);
  const first = ['visit', 'detector'].filter((k) => varying.includes(k));
  return [...first, ...varying.filter((k) => !first.includes(k))];
}

/** `key=value` path segments, the value escaped as Hive does (%XX for anything unsafe in a path). */
function partitionPath(keys: DataId, partitionBy: readonly string[]): string {
  const esc = (v: string) => v.replace(/[^A-Za-z0-9._+-]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  return partitionBy.map((k) => `${k}=${keys[k] === undefined ? '__HIVE_DEFAULT_PARTITION__' : esc(keys[k]!)}`).join('/');
}

/**
 * A part file's path in the dataset: the partition folders, then the
 * dataId's place in the selection and the job's place in its catalog. It
 * depends on nothing else, so a shard names its parts as the single-process
 * job does, and no two shards (which hold different dataIds) collide.
 */
function partPath(plan: Plan, partitionBy: readonly string[], job: number): string {
  return join(partitionPath(plan.keys, partitionBy), `part-${String(plan.ordinal).padStart(5, '0')}-${String(job).padStart(4, '0')}.parquet`);
}

interface PlannedJob {
  plan: number;
  /** The job's place among its catalog's jobs. */
  part: number;
  job: RecomputeJob;
}

async function planJobs(plans: readonly Plan[], ids: readonly IdKey[], targetRows: number): Promise<{ plan: number; part: number; job: Omit<RecomputeJob, 'output'> }[]> {
  const jobs: { plan: number; part: number; job: Omit<RecomputeJob, 'output'> }[] = [];
  for (let p = 0; p < plans.length; p++) {
    const plan = plans[p]!;
    const base = {
      dataId: plan.dataId,
      wcsModel: plan.wcs.toKernelModel(),
      photoCalibModel: plan.photoCalib.toKernelModel(),
      ids: ids.map((k) => ({ ...k, value: plan.keys[k.name] })),
    };
    let part = 0;
    const add = (catalog: RecomputeJob['catalog']) => {
      jobs.push({ plan: p, part, job: { ...base, catalog } });
      part++;
    };
    if (plan.catalog.format !== 'parquet') {
      add({ path: plan.catalog.path, format: plan.catalog.format });
      continue;
    }
    let meta;
    try {
      meta = (await readParquetFooter(plan.catalog.path)).meta;
    } catch (e) {
      throw errors.badInput(`${plan.dataId}: catalog ${plan.catalog.path}`, `unreadable Parquet footer: ${e instanceof Error ? e.message : String(e)}`);
    }
    const spans = rowGroupSpans(meta);
    if (spans.length === 0) add({ path: plan.catalog.path, format: 'parquet', rowGroups: rowGroupsFooter(meta, 0, -1) });
    // Consecutive row groups up to targetRows make one job.
    for (let first = 0; first < spans.length; ) {
      let last = first;
      let rows = spans[first]!.rows;
      while (last + 1 < spans.length && rows + spans[last + 1]!.rows <= targetRows) rows += spans[++last]!.rows;
      add({ path: plan.catalog.path, format: 'parquet', rowGroups: rowGroupsFooter(meta, first, last) });
      first = last + 1;
    }
  }
  return jobs;
}

/** The runs (and stages) that supplied one dataId's inputs: what `skycal.recompute` lists. */
export interface DataIdVersions {
  dataId: string;
  wcs: { run: string; stage: string };
  photoCalib: { run: string; stage: string };
  src: { run: string; stage: string };
}

export function versionsOf(plans: readonly Plan[]): DataIdVersions[] {
  return plans.map((p) => ({
    dataId: p.dataId,
    wcs: { run: p.supplied.wcs.runId, stage: p.supplied.wcs.stage },
    photoCalib: { run: p.supplied.photoCalib.runId, stage: p.supplied.photoCalib.stage },
    src: { run: p.supplied.src.runId, stage: p.supplied.src.stage },
  }));
}

/** The `skycal.recompute` document: the version asked for, the selection, and the runs that supplied each dataId. */
export function provenanceOf(pin: RecomputePin, versions: readonly DataIdVersions[]) {
  return {
    at: pin.at ?? 'main',
    asOf: pin.asOf ?? null,
    where: pin.where === undefined ? null : Object.fromEntries(Object.entries(pin.where).map(([k, x]) => [k, String(x)])),
    versions,
  };
}

/** One part file of a dataset, as the manifest lists it. */
export interface DatasetFile {
  path: string;
  dataId: string;
  rows: number;
  bytes: number;
}

/** A dataset's manifest (DATASET_MANIFEST); a sharded one adds what the shards were. */
export function datasetManifest(partitionBy: readonly string[], rows: number, provenance: ReturnType<typeof provenanceOf>, files: readonly DatasetFile[]) {
  return { format: 'skycal.dataset/1', partitioning: 'hive', partitionBy, rows, recompute: provenance, files };
}

/** The resolved selection of a recompute: every usable dataId, in canonical order, and the output's dataId columns. */
export interface Selection {
  plans: Plan[];
  skipped: RecomputeSummary['skipped'];
  ids: IdKey[];
  /** The dataset's partition keys (empty for a single file). */
  partitionBy: string[];
}

export function resolveSelection(adapter: ButlerAdapter, options: RecomputeOptions): Selection {
  const kind = recomputeOutputOf(options.out, options.partitionBy);
  const { plans, skipped } = resolveAll(adapter, options);
  if (plans.length === 0) {
    const what = options.where === undefined ? '' : ` matching ${Object.entries(options.where).map(([k, v]) => `${k}=${v}`).join(',')}`;
    throw errors.notFound(`a usable src catalog${what} at ${options.at ?? 'main'} (recompute)${skipped.length ? `; ${skipped.length} skipped as invalid` : ''}`);
  }
  const ids = dataIdKeys(plans);
  const keyNames = ids.map((k) => k.name);
  const partitionBy = kind === 'dataset' ? [...(options.partitionBy ?? defaultPartitionKeys(plans, keyNames))] : [];
  for (const k of partitionBy) if (!keyNames.includes(k)) throw errors.usage(`--partition-by ${k}: not a dataId key (the keys are ${keyNames.join(', ')})`);
  return { plans, skipped, ids, partitionBy };
}

/** What a planned dataId needs beyond its resolution: its place in the selection. */
export interface PlannedDataId {
  dataId: string;
  ordinal: number;
}

/** Resolve the given dataIds at the pin (a shard's share of a plan); a dataId that is not usable fails, naming it. */
export function resolveDataIds(adapter: ButlerAdapter, pin: RecomputePin, dataIds: readonly PlannedDataId[]): Plan[] {
  return adapter.snapshot(() =>
    dataIds.map(({ dataId, ordinal }) => {
      try {
        return resolveOne(adapter, pin, dataId, ordinal);
      } catch (e) {
        if (!SkycalError.isSkycalError(e)) throw e;
        throw errors.within(`recompute: ${dataId}`, e);
      }
    }),
  );
}


/** How the jobs run: the pool, job size and progress of RecomputeOptions. */
type ExecOptions = Pick<RecomputeOptions, 'workers' | 'pool' | 'jobPool' | 'batchRows' | 'onProgress'>;

interface Execution {
  rows: number;
  perDataId: RecomputedDataId[];
  badByStatus: Record<string, number>;
  /** The output's columns (undefined when there was no job). */
  signature: string | undefined;
}

/** How one output takes the jobs' results. */
interface OutputSink {
  /** Called once the jobs are planned, before any runs (e.g. to open the output). */
  prepare?: (jobs: number) => Promise<void>;
  /** Job `index` (the `part`-th of its catalog) writes this. */
  jobOutput: (plan: Plan, part: number, index: number) => JobOutput;
  /** The results, in plan order. */
  consume: (results: AsyncGenerator<{ planned: PlannedJob; result: JobResult }>) => Promise<void>;
  /** On failure, while jobs are still in flight (e.g. to release jobs waiting on one another). */
  cancel?: () => void;
}

/**
 * Run every job of `plans` on the pool (or in-thread) and hand their
 * results, in plan order, to the sink; at most two jobs per worker are in
 * flight (the memory bound). A pool made here is destroyed on failure.
 */
async function execute(plans: readonly Plan[], ids: readonly IdKey[], options: ExecOptions, sink: OutputSink): Promise<Execution> {
  const workers = options.jobPool?.workers ?? options.workers ?? options.pool?.workers ?? defaultWorkerCount();
  const ownPool = options.jobPool === undefined && workers > 0 ? await openRecomputePool(workers) : undefined;
  const pool = options.jobPool ?? ownPool;
  const badByStatus: Record<string, number> = Object.fromEntries(STATUS_NAMES.map(([, n]) => [n, 0]));
  const perDataId: RecomputedDataId[] = plans.map((p) => ({ dataId: p.dataId, rows: 0, wcsRun: p.supplied.wcs.runId, photoCalibRun: p.supplied.photoCalib.runId, srcRun: p.supplied.src.runId }));
  let rowsDone = 0;
  let jobs: PlannedJob[] = [];
  let signature: string | undefined;
  try {
    const runJob: (job: RecomputeJob) => Promise<JobResult> =
      pool !== undefined ? (job) => pool.run(job) : await (async () => {
        const pw = parquetWasmFrom(await compiledParquetWasm());
        return (job: RecomputeJob) => runRecomputeJob(job, pw);
      })();

    /** Job results in plan order, with at most two jobs per worker in flight (the memory bound). */
    async function* ordered(): AsyncGenerator<{ planned: PlannedJob; result: JobResult }> {
      const inFlight = new Map<number, Promise<JobResult>>();
      const limit = Math.max(1, 2 * (pool?.workers ?? 0));
      let next = 0;
      try {
        const refill = () => {
          while (next < jobs.length && inFlight.size < limit) {
            const p = runJob(jobs[next]!.job);
            p.catch(() => {});
            inFlight.set(next++, p);
          }
        };
        for (let i = 0; i < jobs.length; i++) {
          refill();
          const result = await inFlight.get(i)!;
          inFlight.delete(i);
          // The next job goes out before this result is written, so that no worker waits on the write (memory: one result more).
          if (pool !== undefined) refill();
          const planned = jobs[i]!;
          const plan = plans[planned.plan]!;
          if (result.error !== undefined) throw errors.fromJson(result.error);
          if (signature === undefined) signature = result.signature;
          else if (result.signature !== signature) {
            throw errors.badInput(`recompute: the src catalog of ${plan.dataId}`, `other columns than that of ${plans[0]!.dataId}; one output needs one schema`);
          }
          yield { planned, result };
          result.bad.forEach((n, k) => (badByStatus[STATUS_NAMES[k]![1]]! += n));
          perDataId[planned.plan]!.rows += result.rows;
          rowsDone += result.rows;
          const last = i + 1 === jobs.length || jobs[i + 1]!.plan !== planned.plan;
          options.onProgress?.({ dataIdsDone: planned.plan + (last ? 1 : 0), dataIdsTotal: plans.length, rowsDone });
        }
      } finally {
        // On failure: let running jobs settle (their rejections are handled) before the output is removed.
        if (inFlight.size > 0) sink.cancel?.();
        await Promise.allSettled(inFlight.values());
      }
    }

    const planned = await planJobs(plans, ids, options.batchRows ?? JOB_ROWS);
    await sink.prepare?.(planned.length);
    jobs = planned.map((j, i) => ({ plan: j.plan, part: j.part, job: { ...j.job, output: sink.jobOutput(plans[j.plan]!, j.part, i) } }));
    options.onProgress?.({ dataIdsDone: 0, dataIdsTotal: plans.length, rowsDone: 0 });
    await sink.consume(ordered());
    return { rows: rowsDone, perDataId, badByStatus, signature };
  } catch (e) {
    await ownPool?.destroy();
    throw e;
  } finally {
    await ownPool?.close();
  }
}

/** Where a dataset's parts go and what they carry: the folder being built, the layout and the provenance's pin. */
export interface PartsLayout {
  ids: readonly IdKey[];
  partitionBy: readonly string[];
  pin: RecomputePin;
}

/**
 * Write the part files of `plans` into `folder` (a folder being built:
 * an AtomicFolder's path), each carrying `skycal.recompute` for its own
 * dataId; the files in plan order, as the manifest lists them.
 */
export async function writeDatasetParts(plans: readonly Plan[], layout: PartsLayout, folder: string, options: ExecOptions): Promise<Execution & { files: DatasetFile[] }> {
  const meta = new Map(versionsOf(plans).map((v) => [v.dataId, JSON.stringify(provenanceOf(layout.pin, [v]))]));
  const jobOutput = (plan: Plan, part: number): JobOutput => ({ kind: 'parquet-file', path: join(folder, partPath(plan, layout.partitionBy, part)), drop: layout.partitionBy, metadata: { [META_RECOMPUTE]: meta.get(plan.dataId)! } });
  const files: DatasetFile[] = [];
  // A shard with no dataIds (more shards than dataIds) writes nothing and starts no workers.
  if (plans.length === 0) return { rows: 0, perDataId: [], badByStatus: Object.fromEntries(STATUS_NAMES.map(([, n]) => [n, 0])), signature: undefined, files };
  const run = await execute(plans, layout.ids, options, {
    jobOutput,
    consume: async (results) => {
      for await (const { planned, result } of results) {
        const plan = plans[planned.plan]!;
        files.push({ path: partPath(plan, layout.partitionBy, planned.part), dataId: plan.dataId, rows: result.rows, bytes: result.fileBytes ?? 0 });
      }
    },
  });
  return { ...run, files };
}

export async function recompute(adapter: ButlerAdapter, options: RecomputeOptions): Promise<RecomputeSummary> {
  const clock = startJobClock();
  const kind = recomputeOutputOf(options.out, options.partitionBy);
  const target = options.out.replace(/[/\\]+$/, '');
  if (kind === 'dataset') AtomicFolder.checkTarget(target);
  const { plans, skipped, ids, partitionBy } = resolveSelection(adapter, options);
  const provenance = provenanceOf(options, versionsOf(plans));
  const summary = (run: Execution, parts?: number): RecomputeSummary => ({
    out: kind === 'dataset' ? target : options.out, ...(parts !== undefined && { parts }), rows: run.rows, dataIds: run.perDataId, skipped, badByStatus: run.badByStatus, ...clock(run.rows),
  });

  if (kind === 'dataset') {
    const folder = AtomicFolder.create(target);
    try {
      const run = await writeDatasetParts(plans, { ids, partitionBy, pin: options }, folder.path, options);
      folder.writeFile(DATASET_MANIFEST, `${JSON.stringify(datasetManifest(partitionBy, run.rows, provenance, run.files), null, 2)}\n`);
      folder.commit();
      return summary(run, run.files.length);
    } catch (e) {
      folder.abort();
      throw e;
    }
  }

  const meta = new Map([[META_RECOMPUTE, JSON.stringify(provenance)]]);
  let file: AtomicFile | undefined;
  try {
    if (kind === 'parquet') {
      let stitcher: ParquetStitcher | undefined;
      // The single Parquet file's row groups are written by the jobs themselves (offsetChain.ts).
      let placed: { path: string; chain: SharedArrayBuffer } | undefined;
      const run = await execute(plans, ids, options, {
        prepare: async (jobs) => {
          file = await AtomicFile.create(options.out);
          const f = file;
          stitcher = new ParquetStitcher((pieces, position) => f.write(pieces, position));
          placed = { path: file.temp, chain: offsetChain(jobs, await stitcher.begin()) };
        },
        jobOutput: (_plan, _part, index) => ({ kind: 'parquet-placed', ...placed!, index }),
        // Jobs waiting for their place give up.
        cancel: () => placed !== undefined && cancelChain(placed.chain),
        consume: async (results) => {
          for await (const { planned, result } of results) {
            try {
              const before = stitcher!.bytes;
              await stitcher!.appendWritten(result.placed!.footer, result.placed!.at);
              await file!.wroteElsewhere(stitcher!.bytes - before);
            } catch (e) {
              if (!(e instanceof RangeError)) throw e;
              throw errors.badInput(`recompute: the src catalog of ${plans[planned.plan]!.dataId}`, `does not fit the output of ${plans[0]!.dataId} (${e.message})`);
            }
          }
          await stitcher!.finish(meta);
          await file!.commit();
        },
      });
      return summary(run);
    }
    // So are a .arrows or .csv file's pieces; .arrow (a footer of blocks) and stdout go through the main thread.
    const format = catalogFormat(options.out);
    const streamed = options.out !== STDIO && (format === 'arrows' || format === 'csv') ? format : undefined;
    if (streamed !== undefined) {
      let placed: { path: string; chain: SharedArrayBuffer } | undefined;
      const run = await execute(plans, ids, options, {
        prepare: async (jobs) => {
          file = await AtomicFile.create(options.out);
          placed = { path: file.temp, chain: offsetChain(jobs, 0) };
        },
        jobOutput: (_plan, _part, index) => ({ kind: 'stream-placed', encoding: streamed, ...placed!, index, metadata: Object.fromEntries(meta) }),
        cancel: () => placed !== undefined && cancelChain(placed.chain),
        consume: async (results) => {
          let end = 0;
          for await (const { result } of results) {
            end = result.streamed!.at + result.streamed!.bytes;
            await file!.wroteElsewhere(result.streamed!.bytes);
          }
          if (streamed === 'arrows') await file!.write(IPC_END_OF_STREAM, end);
          await file!.commit();
        },
      });
      return summary(run);
    }
    const run = await execute(plans, ids, options, {
      jobOutput: () => ({ kind: 'ipc' }),
      consume: async (results) => {
        const first = await results.next();
        const schema = tableFromIPC(first.value!.result.bytes!).schema;
        const batches = async function* (): AsyncGenerator<RecordBatch> {
          if (!first.done) yield* tableFromIPC(first.value.result.bytes!).batches;
          for await (const { result } of results) yield* tableFromIPC(result.bytes!).batches;
        };
        await writeCatalog(options.out, new Schema(schema.fields), batches(), { metadata: meta });
      },
    });
    return summary(run);
  } catch (e) {
    await file?.abort();
    throw e;
  }
}
