/**
 * Compare two versions of the WCS of every dataId in a selection: the
 * separation on the sky between the positions each version gives to the
 * same pixels (the dataId's `src` sources, or a grid over the image when
 * there is no catalog), summarised per dataId in milliarcseconds.
 */
import { SkycalError, errors } from '../errors.js';
import type { ButlerAdapter, VersionSpec } from '../butler/adapter.js';
import type { DataId } from '../butler/dataId.js';
import { readCatalogBatches } from '../catalog/read.js';
import { findCentroid } from '../catalog/columns.js';
import type { TanSipWcs } from '../wcs/tanSipWcs.js';
import type { CatalogFormat } from '../catalog/format.js';
import { pixelGrid, skyOutline, wcsShift, type SkyOutline, type WcsShift } from './wcsDiff.js';
import type { Summary } from '../stats.js';

export interface DiffOptions {
  from: VersionSpec;
  to: VersionSpec;
  where?: DataId;
  /** Points per axis of the grid used when a dataId has no catalog. */
  gridPerAxis?: number;
  /** At most this many sources per dataId are compared (evenly strided); default all. */
  maxPointsPerDataId?: number;
}

export interface DataIdDiff {
  dataId: string;
  /** 'src' when measured at the catalog's sources, 'grid' otherwise; 'invalid' when a side could not be read. */
  positions: 'src' | 'grid' | 'invalid';
  fromRun?: string;
  toRun?: string;
  /** Why a side could not be read (a failure marker, or nothing there). */
  invalid?: string;
  points: number;
  medianMas: number;
  p95Mas: number;
  maxMas: number;
  /** The shift itself, for plots (absent for invalid dataIds). */
  shift?: WcsShift;
  /** The image's outline on the sky, for plots: `to`'s WCS, else `from`'s (so an invalid side still has one); absent when neither WCS gives an image size. */
  outline?: SkyOutline;
}

/** Describe a version spec for messages: "main", "@jointcal", "v1 as of 2026-...". */
export function describeSpec(spec: VersionSpec): string {
  const parts = [spec.at ?? 'main'];
  if (spec.stage !== undefined) parts[0] = spec.at === undefined ? `@${spec.stage}` : `${spec.at}@${spec.stage}`;
  if (spec.asOf !== undefined) parts.push(`as of ${String(spec.asOf)}`);
  return parts.join(' ');
}

/** Where a dataId's `src` catalog is at `spec` (without its stage), or undefined when there is none to use. */
function catalogOf(adapter: ButlerAdapter, dataId: string, spec: VersionSpec): { path: string; format: CatalogFormat } | undefined {
  try {
    return adapter.getCatalog(dataId, withoutStage(spec));
  } catch (e) {
    if (SkycalError.isSkycalError(e) && (e.code === 'NOT_FOUND' || e.code === 'INVALID_DATASET')) return undefined;
    throw e;
  }
}

/** The catalog's centroids, every `n / maxPoints`-th row where there are more than maxPoints. */
async function sourcePositions(found: { path: string; format: CatalogFormat }, dataId: string, maxPoints: number | undefined): Promise<{ x: Float64Array; y: Float64Array }> {
  let cx = '', cy = '';
  const catalog = await readCatalogBatches(found.path, {
    format: found.format,
    columns: (schema) => ([cx, cy] = findCentroid(schema, undefined, dataId)),
  });
  const xs: Float64Array[] = [];
  const ys: Float64Array[] = [];
  let n = 0;
  for await (const batch of catalog) {
    xs.push(Float64Array.from(batch.getChild(cx)!.toArray() as ArrayLike<number>));
    ys.push(Float64Array.from(batch.getChild(cy)!.toArray() as ArrayLike<number>));
    n += batch.numRows;
  }
  const step = maxPoints !== undefined && n > maxPoints ? n / maxPoints : 1;
  const m = Math.floor(n / step);
  const x = new Float64Array(m);
  const y = new Float64Array(m);
  const allX = concat(xs, n);
  const allY = concat(ys, n);
  for (let i = 0; i < m; i++) {
    const k = Math.floor(i * step);
    x[i] = allX[k]!;
    y[i] = allY[k]!;
  }
  return { x, y };
}

function concat(parts: Float64Array[], n: number): Float64Array {
  const out = new Float64Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function readWcs(adapter: ButlerAdapter, dataId: string, spec: VersionSpec): { wcs: TanSipWcs; run: string } {
  const { wcs, supplied } = adapter.getWcs(dataId, spec);
  return { wcs, run: supplied.runId };
}

const unreadable = (e: unknown): boolean => SkycalError.isSkycalError(e) && ['INVALID_DATASET', 'NOT_FOUND'].includes(e.code);

function tryReadWcs(adapter: ButlerAdapter, dataId: string, spec: VersionSpec): TanSipWcs | undefined {
  try {
    return readWcs(adapter, dataId, spec).wcs;
  } catch (e) {
    if (unreadable(e)) return undefined;
    throw e;
  }
}

const outlineOf = (wcs: TanSipWcs | undefined): SkyOutline | undefined => (wcs?.bbox ? skyOutline(wcs, wcs.bbox) : undefined);

/** The same version without a stage: `@jointcal` picks the WCS, while the catalog and dataIds come from the ref. */
function withoutStage(spec: VersionSpec): VersionSpec {
  const { stage: _stage, ...rest } = spec;
  return rest;
}

/** One dataId's two sides, resolved: both WCSs and the catalog, or why one side cannot be read. */
type Sides =
  | { dataId: string; from: { wcs: TanSipWcs; run: string }; to: { wcs: TanSipWcs; run: string }; catalog: { path: string; format: CatalogFormat } | undefined }
  | { dataId: string; invalid: string; outline: SkyOutline | undefined };

function resolveSides(adapter: ButlerAdapter, dataId: string, options: DiffOptions): Sides {
  try {
    const from = readWcs(adapter, dataId, options.from);
    const to = readWcs(adapter, dataId, options.to);
    return { dataId, from, to, catalog: catalogOf(adapter, dataId, options.to) };
  } catch (e) {
    if (!unreadable(e)) throw e;
    return { dataId, invalid: (e as Error).message, outline: outlineOf(tryReadWcs(adapter, dataId, options.to) ?? tryReadWcs(adapter, dataId, options.from)) };
  }
}

/**
 * Every dataId's two sides are resolved first, from one snapshot of the
 * registry (a commit landing meanwhile changes none of them); then the
 * catalogs are read and the shifts computed.
 */
export async function diffWcsVersions(adapter: ButlerAdapter, options: DiffOptions): Promise<DataIdDiff[]> {
  const resolved = adapter.snapshot(() => {
    // The union of dataIds with a WCS on either side, so that one missing on a side is reported, not dropped.
    const ids = new Set<string>();
    for (const spec of [options.from, options.to]) {
      for (const { dataId } of adapter.queryDataIds('wcs', options.where, spec)) ids.add(dataId);
    }
    return [...ids].sort().map((dataId) => resolveSides(adapter, dataId, options));
  });
  const out: DataIdDiff[] = [];
  for (const sides of resolved) {
    const { dataId } = sides;
    if ('invalid' in sides) {
      out.push({ dataId, positions: 'invalid', invalid: sides.invalid, points: 0, medianMas: NaN, p95Mas: NaN, maxMas: NaN, ...(sides.outline && { outline: sides.outline }) });
      continue;
    }
    const { from, to } = sides;
    let positions: 'src' | 'grid' = 'src';
    let xy: { x: Float64Array; y: Float64Array };
    if (sides.catalog !== undefined) xy = await sourcePositions(sides.catalog, dataId, options.maxPointsPerDataId);
    else {
      const bbox = to.wcs.bbox ?? from.wcs.bbox;
      if (bbox === undefined) throw errors.badInput('diff', `${dataId} has no src catalog and its WCS gives no image size`);
      const n = options.gridPerAxis ?? 32;
      xy = pixelGrid(bbox, n, n);
      positions = 'grid';
    }
    const shift = wcsShift(from.wcs, to.wcs, xy.x, xy.y);
    const s: Summary = shift.summary;
    const outline = outlineOf(to.wcs.bbox ? to.wcs : from.wcs);
    out.push({ dataId, positions, fromRun: from.run, toRun: to.run, points: s.count, medianMas: s.median, p95Mas: s.p95, maxMas: s.max, shift, ...(outline && { outline }) });
  }
  return out;
}
