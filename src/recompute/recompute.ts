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
 */
import { Field, Int64, RecordBatch, Schema, Struct, Utf8, makeData, type Data } from 'apache-arrow';
import { SkycalError } from '../errors.js';
import type { ButlerAdapter, Supplied, VersionSpec } from '../butler/adapter.js';
import { parseDataId, type DataId } from '../butler/dataId.js';
import { readCatalogBatches } from '../catalog/read.js';
import { writeCatalog } from '../catalog/write.js';
import { withSkyAndCalibration } from '../catalog/views.js';
import { KernelPool } from '../parallel/pool.js';
import type { PhotoCalib } from '../photocalib/photoCalib.js';
import type { TanSipWcs } from '../wcs/tanSipWcs.js';
import type { CatalogFormat } from '../catalog/format.js';
import { STATUS_NAMES } from '../../native-free-kernels/status.js';

export interface RecomputeOptions {
  /** Branch, tag or run id (default main), and optionally the time it is read as of. */
  at?: string;
  asOf?: string | number;
  /** Resolve `wcs@STAGE` / `photoCalib@STAGE` instead of the newest of any stage. */
  wcsStage?: string;
  photoCalibStage?: string;
  /** Only dataIds whose keys equal these values. */
  where?: DataId;
  /** .parquet, .arrow, .arrows or .csv (by extension). */
  out: string;
  /** Skip (and list) dataIds whose inputs are invalid or missing, instead of failing. */
  skipInvalid?: boolean;
  /** The pool to use; else one of `workers` threads is made and closed here. */
  pool?: KernelPool;
  workers?: number;
  /** Rows per batch read from each catalog. */
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
  rows: number;
  dataIds: RecomputedDataId[];
  skipped: { dataId: string; code: string; reason: string }[];
  /** Points with each status bit set (pixel -> sky), by name. */
  badByStatus: Record<string, number>;
  seconds: number;
  rowsPerSecond: number;
}

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
      if (invalid !== undefined) throw new SkycalError('INVALID_DATASET', invalid);
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
        throw new SkycalError(e.code, `recompute: ${dataId}: ${e.message} (use --skip-invalid to write the other dataIds)`, { cause: e });
      }
      skipped.push({ dataId, code: e.code, reason: e.message });
    }
  }
  return { plans, skipped };
}

/** dataId columns: Int64 where every selected value is an integer, else Utf8. */
function dataIdFields(plans: readonly Plan[]): Field[] {
  const keys = [...new Set(plans.flatMap((p) => Object.keys(p.keys)))].sort();
  return keys.map((k) => {
    const integer = plans.every((p) => /^-?\d{1,15}$/.test(p.keys[k] ?? ''));
    return new Field(k, integer ? new Int64() : new Utf8(), !integer, new Map([['description', `dataId key ${k}`]]));
  });
}

/**
 * A column holding one value in every row, built straight into Arrow buffers.
 * Batches mostly have the same length, so the last column made for a
 * field with the same value and length is reused: Arrow data are immutable,
 * and sharing them between batches costs nothing.
 */
const constantCache = new Map<string, { field: Field; value: string | undefined; rows: number; data: Data }>();
function constantColumn(field: Field, value: string | undefined, rows: number): Data {
  const hit = constantCache.get(field.name);
  if (hit !== undefined && hit.field === field && hit.value === value && hit.rows === rows) return hit.data;
  const data = makeConstantColumn(field, value, rows);
  constantCache.set(field.name, { field, value, rows, data });
  return data;
}

function makeConstantColumn(field: Field, value: string | undefined, rows: number): Data {
  if (field.type instanceof Int64) {
    return makeData({ type: new Int64(), length: rows, nullCount: 0, data: new BigInt64Array(rows).fill(BigInt(value!)) });
  }
  if (value === undefined) {
    return makeData({ type: new Utf8(), length: rows, nullCount: rows, nullBitmap: new Uint8Array((rows + 7) >> 3), valueOffsets: new Int32Array(rows + 1), data: new Uint8Array(0) });
  }
  const bytes = new TextEncoder().encode(value);
  const data = new Uint8Array(bytes.length * rows);
  // Fill by doubling: log2(rows) block copies instead of one small copy per row.
  if (data.length > 0) {
    data.set(bytes);
    for (let filled = bytes.length; filled < data.length; filled *= 2) data.copyWithin(filled, 0, Math.min(filled, data.length - filled));
  }
  const valueOffsets = new Int32Array(rows + 1);
  for (let i = 0; i <= rows; i++) valueOffsets[i] = i * bytes.length;
  return makeData({ type: new Utf8(), length: rows, nullCount: 0, valueOffsets, data });
}

function sameFields(a: Schema, b: Schema): boolean {
  return a.fields.length === b.fields.length && a.fields.every((f, i) => f.name === b.fields[i]!.name && String(f.type) === String(b.fields[i]!.type));
}

export async function recompute(adapter: ButlerAdapter, options: RecomputeOptions): Promise<RecomputeSummary> {
  const started = performance.now();
  const { plans, skipped } = resolveAll(adapter, options);
  if (plans.length === 0) {
    const what = options.where === undefined ? '' : ` matching ${Object.entries(options.where).map(([k, v]) => `${k}=${v}`).join(',')}`;
    throw new SkycalError('NOT_FOUND', `recompute: no usable src catalog${what} at ${options.at ?? 'main'}${skipped.length ? ` (${skipped.length} skipped as invalid)` : ''}`);
  }
  const pool = options.pool ?? new KernelPool(options.workers === undefined ? {} : { workers: options.workers });
  const idFields = dataIdFields(plans);
  const open = (plan: Plan) => readCatalogBatches(plan.catalog.path, { format: plan.catalog.format, ...(options.batchRows !== undefined && { batchRows: options.batchRows }) });
  const first = await open(plans[0]!);
  const derivedFirst = withSkyAndCalibration(first, plans[0]!.wcs, plans[0]!.photoCalib, { pool });
  const derivedFields = derivedFirst.schema.fields.filter((f) => !idFields.some((g) => g.name === f.name));
  const schema = new Schema([...idFields, ...derivedFields]);
  const known = plans.map((p) => p.dataId);
  const badByStatus: Record<string, number> = Object.fromEntries(STATUS_NAMES.map(([, n]) => [n, 0]));
  const perDataId: RecomputedDataId[] = [];
  let rowsDone = 0;

  // Catalogs are opened one at a time (each holds a file handle), so progress counts dataIds, with rows alongside.
  const report = (done: number) => options.onProgress?.({ dataIdsDone: done, dataIdsTotal: plans.length, rowsDone });

  async function* batches(): AsyncGenerator<RecordBatch> {
    for (let i = 0; i < plans.length; i++) {
      const plan = plans[i]!;
      const source = i === 0 ? first : await open(plan);
      const derived = i === 0 ? derivedFirst : withSkyAndCalibration(source, plan.wcs, plan.photoCalib, { pool, source: plan.dataId });
      const fields = derived.schema.fields.filter((f) => !idFields.some((g) => g.name === f.name));
      if (!sameFields(new Schema(fields), new Schema(derivedFields))) {
        throw new SkycalError('BAD_INPUT', `recompute: the src catalog of ${plan.dataId} has other columns than that of ${known[0]}; one output file needs one schema`);
      }
      let rows = 0;
      for await (const batch of derived) {
        const n = batch.numRows;
        const status = batch.getChild('status');
        if (status !== null) {
          for (const chunk of status.data) {
            const values = chunk.values as Uint8Array;
            for (let k = 0; k < chunk.length; k++) {
              const s = values[k]!;
              if (s !== 0) for (const [bit, name] of STATUS_NAMES) if (s & bit) badByStatus[name]!++;
            }
          }
        }
        const children = [
          ...idFields.map((f) => constantColumn(f, plan.keys[f.name], n)),
          ...derivedFields.map((f) => batch.getChild(f.name)!.data[0]!),
        ];
        yield new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children }));
        rows += n;
        rowsDone += n;
        report(i);
      }
      perDataId.push({ dataId: plan.dataId, rows, wcsRun: plan.supplied.wcs.runId, photoCalibRun: plan.supplied.photoCalib.runId, srcRun: plan.supplied.src.runId });
      report(i + 1);
    }
  }

  const versions = plans.map((p) => ({
    dataId: p.dataId,
    wcs: { run: p.supplied.wcs.runId, stage: p.supplied.wcs.stage },
    photoCalib: { run: p.supplied.photoCalib.runId, stage: p.supplied.photoCalib.stage },
    src: { run: p.supplied.src.runId, stage: p.supplied.src.stage },
  }));
  const metadata: Record<string, string> = {
    [META_RECOMPUTE]: JSON.stringify({ at: options.at ?? 'main', asOf: options.asOf ?? null, where: options.where ?? null, versions }),
  };
  try {
    const { rows } = await writeCatalog(options.out, schema, batches(), { metadata });
    const seconds = (performance.now() - started) / 1000;
    return { out: options.out, rows, dataIds: perDataId, skipped, badByStatus, seconds, rowsPerSecond: rows / seconds };
  } finally {
    if (options.pool === undefined) await pool.close();
  }
}
