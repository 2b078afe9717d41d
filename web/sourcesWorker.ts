/**
 * The Sources page's worker: reads a stored catalog (Parquet, hyparquet) and
 * derives coord_ra/coord_dec from the stored WCS header and calibrated fluxes
 * from the stored PhotoCalib, with the same compiled kernel modules (and the
 * same kernel dispatch table) that Node runs.
 */
/// <reference lib="webworker" />
import type * as Hyparquet from 'hyparquet/src/index.js';
import { TanSipWcs } from '../src/wcs/tanSipWcs.js';
import { runColumnKernel } from '../native-free-kernels/columnKernels.js';

export interface SourcesRequest {
  readonly wcsUrl: string;
  readonly srcUrl: string;
  /** The PhotoCalib packed for the kernel (little-endian Float64); absent when the calibration is invalid. */
  readonly photoCalibModelUrl: string | null;
}

export interface SourcesResult {
  readonly n: number;
  /** Int64 columns (ids) stay exact as BigInt64Array; every other column is Float64. */
  readonly columns: Record<string, Float64Array | BigInt64Array>;
  readonly fluxFamily: string | null;
  readonly ms: { fetch: number; parquet: number; wcs: number; calibrate: number };
}

const HYPARQUET = new URL('../node_modules/hyparquet/src/index.js', import.meta.url).href;

async function bytesOf(url: string): Promise<ArrayBuffer> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

async function derive(req: SourcesRequest): Promise<SourcesResult> {
  const t0 = performance.now();
  const [header, catalog, model] = await Promise.all([
    bytesOf(req.wcsUrl), bytesOf(req.srcUrl), req.photoCalibModelUrl ? bytesOf(req.photoCalibModelUrl) : Promise.resolve(null),
  ]);
  const t1 = performance.now();
  const hp = (await import(HYPARQUET)) as typeof Hyparquet;
  const meta = hp.parquetMetadata(catalog);
  const n = Number(meta.num_rows);
  const fields = meta.schema.slice(1);
  const names = fields.map((f) => f.name);
  // 64-bit ids (LSST source ids exceed 2^53) are kept exact; everything else is read as doubles.
  const columns: Record<string, Float64Array | BigInt64Array> = Object.fromEntries(fields.map((f) => [f.name, f.type === 'INT64' ? new BigInt64Array(n) : new Float64Array(n)]));
  await hp.parquetRead({
    file: catalog, columns: names,
    onChunk: (c) => {
      const col = columns[c.columnName]!;
      if (col instanceof BigInt64Array) col.set(Array.from(c.columnData as ArrayLike<bigint | number>, (v) => BigInt(v)), c.rowStart);
      else col.set(c.columnData as ArrayLike<number>, c.rowStart);
    },
  });
  const t2 = performance.now();
  // A kernel input is Float64: an Int64 column converts to the nearest double (the library's rule, catalog/columnTypes.ts).
  const asDoubles = (c: Float64Array | BigInt64Array | undefined): Float64Array | undefined => (c instanceof BigInt64Array ? Float64Array.from(c, Number) : c);
  const x = asDoubles(columns['x']), y = asDoubles(columns['y']);
  if (x === undefined || y === undefined) throw new Error('the catalog has no x, y columns');
  const wcs = TanSipWcs.fromFitsHeader(new TextDecoder('latin1').decode(header));
  const ra = new Float64Array(n), dec = new Float64Array(n), status = new Uint8Array(n);
  runColumnKernel({ kernel: 'tanSipPixelToSkyDeg', model: wcs.toKernelModel(), scalars: [], inputs: [x, y], outputs: [ra, dec], status }, 0, n);
  columns['coord_ra'] = ra;
  columns['coord_dec'] = dec;
  const t3 = performance.now();
  const family = names.find((c) => c.endsWith('_instFlux'))?.slice(0, -'_instFlux'.length) ?? null;
  if (model !== null && family !== null) {
    const flux = new Float64Array(n), fluxErr = new Float64Array(n), mag = new Float64Array(n), magErr = new Float64Array(n);
    const err = columns[`${family}_instFluxErr`];
    runColumnKernel({
      kernel: 'photoCalibCalibrate', model: new Float64Array(model), scalars: [0],
      inputs: [x, y, asDoubles(columns[`${family}_instFlux`])!, asDoubles(err) ?? new Float64Array(0)],
      outputs: [flux, err ? fluxErr : new Float64Array(0), mag, err ? magErr : new Float64Array(0)], status: new Uint8Array(0),
    }, 0, n);
    Object.assign(columns, { [`${family}_flux`]: flux, [`${family}_mag`]: mag }, err ? { [`${family}_fluxErr`]: fluxErr, [`${family}_magErr`]: magErr } : {});
  }
  const t4 = performance.now();
  return { n, columns, fluxFamily: family, ms: { fetch: t1 - t0, parquet: t2 - t1, wcs: t3 - t2, calibrate: t4 - t3 } };
}

self.onmessage = (e: MessageEvent<SourcesRequest>) => {
  derive(e.data).then(
    (result) => (self as unknown as Worker).postMessage({ ok: true, result }, Object.values(result.columns).map((c) => c.buffer)),
    (err: unknown) => (self as unknown as Worker).postMessage({ ok: false, message: err instanceof Error ? err.message : String(err) }),
  );
};
