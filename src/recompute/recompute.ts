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
import { TaskPool } from '../parallel/taskPool.js';
import type { PhotoCalib } from '../photocalib/photoCalib.js';
import type { TanSipWcs } from '../wcs/tanSipWcs.js';
import type { CatalogFormat } from '../catalog/format.js';
import { STATUS_NAMES } from '../../native-free-kernels/status.js';
import { AtomicFile, AtomicFolder, DATASET_MANIFEST } from '../io/atomicOutput.js';
import { isIntegerKey } from './constantColumn.js';
import { runRecomputeJob, type JobOutput, type JobResult, type RecomputeJob } from './job.js';
import { compiledParquetWasm, parquetWasmFrom } from './parquetWasm.js';
import { cancelChain, offsetChain } from './offsetChain.js';

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
  keys: DataId;
  wcs: TanSipWcs;
  photoCalib: PhotoCalib;
  catalog: { path: string; format: CatalogFormat };
  supplied: { wcs: Supplied; photoCalib: Supplied; src: Supplied };
}

function resolveAll(adapter: ButlerAdapter, options: RecomputeOptions): { plans: Plan[]; skipped: RecomputeSummary['skipped'] } {
  const spec: VersionSpec = { ...(options.at !== undefined && { at: options.at }), ...(options.asOf !== undefined && { asOf: options.asOf }) };
  const found = adapter.queryDataIds('src', options.where, spec);
  const plans: Plan[] = [];
  const skipped: RecomputeSummary['skipped'] = [];
  for (const { dataId, invalid } of found) {
    try {
      if (invalid !== undefined) throw errors.invalidDataset(invalid);
      const w = adapter.getWcs(dataId, { ...spec, ...(options.wcsStage !== undefined && { stage: options.wcsStage }) });
      const p = adapter.getPhotoCalib(dataId, { ...spec, ...(options.photoCalibStage !== undefined && { stage: options.photoCalibStage }) });
      const c = adapter.getCatalog(dataId, spec);
      plans.push({
        dataId,
        keys: parseDataId(dataId),
        wcs: w.wcs,
        photoCalib: p.photoCalib,
        catalog: { path: c.path, format: c.format },
        supplied: { wcs: w.supplied, photoCalib: p.supplied, src: c.supplied },
      });
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

/** dataId columns: Int64 where every selected value is an integer, else Utf8. */
function dataIdKeys(plans: readonly Plan[]): { name: string; integer: boolean }[] {
  const keys = [...new Set(plans.flatMap((p) => Object.keys(p.keys)))].sort();
  return keys.map((name) => ({ name, integer: isIntegerKey(plans.map((p) => p.keys[name])) }));
}

export type RecomputePool = TaskPool<RecomputeJob, JobResult>;

/** A pool of recompute workers, each given the parquet-wasm module compiled once here. */
export async function openRecomputePool(workers: number): Promise<RecomputePool> {
  return new TaskPool<RecomputeJob, JobResult>({ workers, workerUrl: new URL('./worker.js', import.meta.url), workerData: { parquetWasm: await compiledParquetWasm() } });
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

interface PlannedJob {
  plan: number;
  job: RecomputeJob;
}

async function planJobs(
  plans: readonly Plan[],
  ids: { name: string; integer: boolean }[],
  targetRows: number,
): Promise<{ plan: number; job: Omit<RecomputeJob, 'output'> }[]> {
  const jobs: { plan: number; job: Omit<RecomputeJob, 'output'> }[] = [];
  for (let p = 0; p < plans.length; p++) {
    const plan = plans[p]!;
    const base = {
      dataId: plan.dataId,
      wcsModel: plan.wcs.toKernelModel(),
      photoCalibModel: plan.photoCalib.toKernelModel(),
      ids: ids.map((k) => ({ ...k, value: plan.keys[k.name] })),
    };
    const add = (catalog: RecomputeJob['catalog']) => jobs.push({ plan: p, job: { ...base, catalog } });
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

function versionsOf(plans: readonly Plan[]) {
  return plans.map((p) => ({
    dataId: p.dataId,
    wcs: { run: p.supplied.wcs.runId, stage: p.supplied.wcs.stage },
    photoCalib: { run: p.supplied.photoCalib.runId, stage: p.supplied.photoCalib.stage },
    src: { run: p.supplied.src.runId, stage: p.supplied.src.stage },
  }));
}

export async function recompute(adapter: ButlerAdapter, options: RecomputeOptions): Promise<RecomputeSummary> {
  const started = performance.now();
  const kind = recomputeOutputOf(options.out, options.partitionBy);
  if (kind === 'dataset') AtomicFolder.checkTarget(options.out.replace(/[/\\]+$/, ''));
  const { plans, skipped } = resolveAll(adapter, options);
  if (plans.length === 0) {
    const what = options.where === undefined ? '' : ` matching ${Object.entries(options.where).map(([k, v]) => `${k}=${v}`).join(',')}`;
    throw errors.notFound(`a usable src catalog${what} at ${options.at ?? 'main'} (recompute)${skipped.length ? `; ${skipped.length} skipped as invalid` : ''}`);
  }
  const ids = dataIdKeys(plans);
  const keyNames = ids.map((k) => k.name);
  const partitionBy = kind === 'dataset' ? (options.partitionBy ?? defaultPartitionKeys(plans, keyNames)) : [];
  for (const k of partitionBy) if (!keyNames.includes(k)) throw errors.usage(`--partition-by ${k}: not a dataId key (the keys are ${keyNames.join(', ')})`);
  const versions = versionsOf(plans);
  const provenance = (v: ReturnType<typeof versionsOf>) => JSON.stringify({ at: options.at ?? 'main', asOf: options.asOf ?? null, where: options.where === undefined ? null : Object.fromEntries(Object.entries(options.where).map(([k, x]) => [k, String(x)])), versions: v });
  const meta = new Map([[META_RECOMPUTE, provenance(versions)]]);
  const folder = kind === 'dataset' ? AtomicFolder.create(options.out.replace(/[/\\]+$/, '')) : undefined;
  const partOf = (plan: Plan, index: number) => join(partitionPath(plan.keys, partitionBy), `part-${String(index).padStart(5, '0')}.parquet`);
  // The single Parquet file's row groups are written by the jobs themselves (offsetChain.ts).
  // So are a .arrows or .csv file's pieces; .arrow (a footer of blocks) and stdout go through the main thread.
  const format = kind === 'catalog' ? catalogFormat(options.out) : undefined;
  const streamed = options.out !== STDIO && (format === 'arrows' || format === 'csv') ? format : undefined;
  let placed: { path: string; chain: SharedArrayBuffer } | undefined;
  const jobOutput = (plan: Plan, index: number): JobOutput =>
    kind === 'parquet'
      ? { kind: 'parquet-placed', ...placed!, index }
      : streamed !== undefined
        ? { kind: 'stream-placed', encoding: streamed, ...placed!, index, metadata: Object.fromEntries(meta) }
      : kind === 'catalog'
        ? { kind: 'ipc' }
        : { kind: 'parquet-file', path: join(folder!.path, partOf(plan, index)), drop: partitionBy, metadata: { [META_RECOMPUTE]: provenance(versions.filter((v) => v.dataId === plan.dataId)) } };

  const workers = options.jobPool?.workers ?? options.workers ?? options.pool?.workers ?? defaultWorkerCount();
  const ownPool = options.jobPool === undefined && workers > 0 ? await openRecomputePool(workers) : undefined;
  const pool = options.jobPool ?? ownPool;
  const runJob: (job: RecomputeJob) => Promise<JobResult> =
    pool !== undefined ? (job) => pool.run(job) : await (async () => {
      const pw = parquetWasmFrom(await compiledParquetWasm());
      return (job: RecomputeJob) => runRecomputeJob(job, pw);
    })();

  const badByStatus: Record<string, number> = Object.fromEntries(STATUS_NAMES.map(([, n]) => [n, 0]));
  const perDataId: RecomputedDataId[] = plans.map((p) => ({ dataId: p.dataId, rows: 0, wcsRun: p.supplied.wcs.runId, photoCalibRun: p.supplied.photoCalib.runId, srcRun: p.supplied.src.runId }));
  let rowsDone = 0;
  let jobs: PlannedJob[] = [];
  let signature: string | undefined;

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
      // On failure: jobs waiting for their place give up, and running ones settle (their rejections are handled) before the output is removed.
      if (placed !== undefined && inFlight.size > 0) cancelChain(placed.chain);
      await Promise.allSettled(inFlight.values());
    }
  }

  let file: AtomicFile | undefined;
  try {
    const planned = await planJobs(plans, ids, options.batchRows ?? JOB_ROWS);
    let stitcher: ParquetStitcher | undefined;
    if (kind === 'parquet') {
      file = await AtomicFile.create(options.out);
      const f = file;
      stitcher = new ParquetStitcher((pieces, position) => f.write(pieces, position));
      placed = { path: file.temp, chain: offsetChain(planned.length, await stitcher.begin()) };
    } else if (streamed !== undefined) {
      file = await AtomicFile.create(options.out);
      placed = { path: file.temp, chain: offsetChain(planned.length, 0) };
    }
    jobs = planned.map((j, i) => ({ plan: j.plan, job: { ...j.job, output: jobOutput(plans[j.plan]!, i) } }));
    options.onProgress?.({ dataIdsDone: 0, dataIdsTotal: plans.length, rowsDone: 0 });
    let parts: number | undefined;
    if (stitcher !== undefined) {
      for await (const { planned, result } of ordered()) {
        try {
          const before = stitcher.bytes;
          await stitcher.appendWritten(result.placed!.footer, result.placed!.at);
          await file!.wroteElsewhere(stitcher.bytes - before);
        } catch (e) {
          if (!(e instanceof RangeError)) throw e;
          throw errors.badInput(`recompute: the src catalog of ${plans[planned.plan]!.dataId}`, `does not fit the output of ${plans[0]!.dataId} (${e.message})`);
        }
      }
      await stitcher.finish(meta);
      await file!.commit();
    } else if (streamed !== undefined) {
      let end = 0;
      for await (const { result } of ordered()) {
        end = result.streamed!.at + result.streamed!.bytes;
        await file!.wroteElsewhere(result.streamed!.bytes);
      }
      if (streamed === 'arrows') await file!.write(IPC_END_OF_STREAM, end);
      await file!.commit();
    } else if (kind === 'catalog') {
      const results = ordered();
      const first = await results.next();
      const schema = tableFromIPC(first.value!.result.bytes!).schema;
      const batches = async function* (): AsyncGenerator<RecordBatch> {
        if (!first.done) yield* tableFromIPC(first.value.result.bytes!).batches;
        for await (const { result } of results) yield* tableFromIPC(result.bytes!).batches;
      };
      await writeCatalog(options.out, new Schema(schema.fields), batches(), { metadata: meta });
    } else {
      const files: { path: string; dataId: string; rows: number; bytes: number }[] = [];
      for await (const { planned, result } of ordered()) {
        files.push({ path: partOf(plans[planned.plan]!, jobs.indexOf(planned)), dataId: plans[planned.plan]!.dataId, rows: result.rows, bytes: result.fileBytes ?? 0 });
      }
      const manifest = { format: 'skycal.dataset/1', partitioning: 'hive', partitionBy, rows: rowsDone, recompute: JSON.parse(provenance(versions)), files };
      folder!.writeFile(DATASET_MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
      folder!.commit();
      parts = files.length;
    }
    const seconds = (performance.now() - started) / 1000;
    const out = kind === 'dataset' ? options.out.replace(/[/\\]+$/, '') : options.out;
    return { out, ...(parts !== undefined && { parts }), rows: rowsDone, dataIds: perDataId, skipped, badByStatus, seconds, rowsPerSecond: rowsDone / seconds };
  } catch (e) {
    await file?.abort();
    folder?.abort();
    if (ownPool !== undefined) {
      await ownPool.destroy();
    }
    throw e;
  } finally {
    await ownPool?.close();
  }
}
