/**
 * What the web view's pages show, as plain JSON-able values read from a
 * repository through its public API: the run graph, which run supplies a
 * dataId at each ref and stage, the WCS comparison of two versions over the
 * focal plane, and where a dataId's stored files are (by content hash) for
 * the page to read and derive from itself. Nothing here writes.
 */
import { SkycalError, errors } from '../errors.js';
import type { Repository } from '../butler/repository.js';
import type { VersionSpec } from '../butler/adapter.js';
import { canonicalDataId, parseDataId, type DataId } from '../butler/dataId.js';
import { sniffCatalogBytes } from '../catalog/format.js';
import { diffWcsVersions, describeSpec } from '../compare/diffVersions.js';
import { ccdOutlineSky, skyCentre, toTangentPlane } from '../compare/focalPlane.js';
import { distortionMapSvg, photoCalibMapSvg } from '../plot/maps.js';
import type { TanSipWcs } from '../wcs/tanSipWcs.js';
import { PhotoCalib } from '../photocalib/photoCalib.js';

interface AsOf {
  readonly asOf?: string | undefined;
}

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

/** Refs as they stood at `asOf` (now when absent); a ref created later is left out. */
function refsAt(repo: Repository, asOf: string | undefined) {
  const now = repo.registry.refs();
  if (asOf === undefined) return now;
  const t = Date.parse(asOf);
  return now.flatMap((r) => {
    const then = repo.registry.refAt(r.name, t);
    return then === undefined ? [] : [then];
  });
}

export function summaryView(repo: Repository) {
  const refs = repo.registry.refs();
  const moves = repo.registry.refMoves();
  return {
    root: repo.root,
    refs,
    types: repo.registry.datasetTypes(),
    // The slider's range: from the first ref move to the last.
    firstTime: iso(moves[0]?.at),
    lastTime: iso(moves[moves.length - 1]?.at),
  };
}

/** The run graph of every ref (or of one), newest first, with what each run wrote and failed. */
export function historyView(repo: Repository, options: { at?: string | undefined } & AsOf = {}) {
  const refs = options.at === undefined ? refsAt(repo, options.asOf) : [{ name: options.at, kind: 'branch' as const, runId: repo.resolveRef(options.at, options.asOf === undefined ? undefined : Date.parse(options.asOf)) }];
  const runs = new Map<string, ReturnType<Repository['log']>[number]>();
  for (const ref of refs) {
    if (ref.runId === null) continue;
    const spec: VersionSpec = { at: ref.runId, ...(options.asOf !== undefined && { asOf: options.asOf }) };
    for (const run of repo.log(spec)) runs.set(run.id, run);
  }
  const refsByRun = new Map<string, { name: string; kind: string }[]>();
  for (const r of refs) if (r.runId !== null) refsByRun.set(r.runId, [...(refsByRun.get(r.runId) ?? []), { name: r.name, kind: r.kind }]);
  const ordered = [...runs.values()].sort((a, b) => (b.committedAt ?? '').localeCompare(a.committedAt ?? '') || a.id.localeCompare(b.id));
  return {
    asOf: options.asOf ?? null,
    refs,
    runs: ordered.map((run) => {
      const byType = new Map<string, number>();
      for (const e of repo.registry.runEntries(run.id)) if (e.kind === 'dataset') byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
      return {
        id: run.id, stage: run.stage, parents: run.parents, branch: run.branch, begunAt: run.begunAt, committedAt: run.committedAt,
        configHash: run.configHash, config: run.config, softwareVersion: run.softwareVersion, host: run.host, user: run.user,
        refs: refsByRun.get(run.id) ?? [],
        datasets: [...byType].map(([type, count]) => ({ type, count })),
        failures: run.failures,
      };
    }),
  };
}

/** Every dataId that has a wcs, photoCalib or src dataset at some ref. */
export function dataIdsView(repo: Repository, options: AsOf = {}) {
  const ids = new Set<string>();
  for (const ref of refsAt(repo, options.asOf)) {
    if (ref.runId === null) continue;
    for (const type of ['wcs', 'photoCalib', 'src']) {
      for (const d of repo.queryDataIds(type, undefined, { at: ref.runId, ...(options.asOf !== undefined && { asOf: options.asOf }) })) ids.add(d.dataId);
    }
  }
  return { dataIds: [...ids].sort() };
}

type Cell =
  | { state: 'ok'; runId: string; stage: string; committedAt: string | null; fileHash: string | null; size: number | null }
  | { state: 'invalid'; message: string }
  | { state: 'none'; message: string };

function cell(repo: Repository, type: string, dataId: string, spec: VersionSpec): Cell {
  try {
    const { entry } = repo.resolve(type, dataId, spec);
    return { state: 'ok', runId: entry.runId, stage: entry.stage, committedAt: iso(entry.committedAt), fileHash: entry.fileHash, size: entry.size };
  } catch (e) {
    if (!SkycalError.isSkycalError(e)) throw e;
    if (e.code === 'INVALID_DATASET') return { state: 'invalid', message: e.message };
    if (e.code === 'NOT_FOUND') return { state: 'none', message: e.message };
    throw e;
  }
}

/** For one dataId: which run supplies each (non-composite) type at each ref, and at each stage of each ref. */
export function dataIdView(repo: Repository, dataIdText: string, options: AsOf = {}) {
  const dataId = canonicalDataId(dataIdText);
  const types = repo.registry.datasetTypes().filter((t) => t.storageClass !== 'Exposure').map((t) => t.name);
  const refs = refsAt(repo, options.asOf).filter((r) => r.runId !== null);
  const asOf = options.asOf !== undefined ? { asOf: options.asOf } : {};
  const stages = new Set<string>();
  for (const r of refs) for (const run of repo.registry.history(r.runId!, options.asOf === undefined ? undefined : Date.parse(options.asOf))) stages.add(run.stage);
  const rows: { ref: string; kind: string; stage: string | null; cells: Record<string, Cell> }[] = [];
  for (const r of refs) {
    for (const stage of [null, ...[...stages].filter((s) => s !== 'merge').sort()]) {
      const spec: VersionSpec = { at: r.name, ...asOf, ...(stage !== null && { stage }) };
      rows.push({ ref: r.name, kind: r.kind, stage, cells: Object.fromEntries(types.map((t) => [t, cell(repo, t, dataId, spec)])) });
    }
  }
  return { dataId, asOf: options.asOf ?? null, types, rows };
}

/** A WCS of the dataId to draw its outline with: the first of the specs that has one, else the ref's newest. */
function outlineWcs(repo: Repository, dataId: string, specs: readonly VersionSpec[]): TanSipWcs | undefined {
  for (const spec of [...specs, ...specs.map(({ stage: _s, ...rest }) => rest)]) {
    try {
      return repo.getWcs(dataId, spec).wcs;
    } catch (e) {
      if (!SkycalError.isSkycalError(e) || !['INVALID_DATASET', 'NOT_FOUND'].includes(e.code)) throw e;
    }
  }
  return undefined;
}

const num = (v: number): number | null => (Number.isFinite(v) ? v : null);

/**
 * The shift from one WCS version to another over the focal plane: per CCD
 * its outline on the tangent plane at the field centre and its separation
 * statistics, and the mean shift on a grid of cells (the arrows).
 */
export async function compareView(repo: Repository, from: VersionSpec, to: VersionSpec, where: DataId | undefined, cellsAlongLongerSide = 22) {
  const diff = await diffWcsVersions(repo, { from, to, ...(where !== undefined && { where }), maxPointsPerDataId: 4000 });
  const outlines = diff.map((d) => {
    const wcs = outlineWcs(repo, d.dataId, [to, from]);
    const bbox = wcs?.bbox;
    return wcs === undefined || bbox === undefined ? undefined : ccdOutlineSky(wcs, bbox, 6);
  });
  const allRa = outlines.flatMap((o) => (o ? [...o.ra] : []));
  const allDec = outlines.flatMap((o) => (o ? [...o.dec] : []));
  const centre = skyCentre(allRa, allDec);
  const ccds = diff.map((d, k) => {
    const o = outlines[k];
    const tp = o ? toTangentPlane(centre.ra, centre.dec, o.ra, o.dec) : undefined;
    const id = parseDataId(d.dataId);
    return {
      dataId: d.dataId,
      label: id['detector'] !== undefined ? `det ${id['detector']}` : d.dataId,
      positions: d.positions, points: d.points,
      medianMas: num(d.medianMas), p95Mas: num(d.p95Mas), maxMas: num(d.maxMas),
      fromRun: d.fromRun ?? null, toRun: d.toRun ?? null, invalid: d.invalid ?? null,
      outline: tp ? { xi: [...tp.xi], eta: [...tp.eta] } : null,
    };
  });
  // Arrows: the mean east/north shift of the sources in each cell of a square grid on the tangent plane.
  const xis = ccds.flatMap((c) => c.outline?.xi ?? []), etas = ccds.flatMap((c) => c.outline?.eta ?? []);
  const x0 = Math.min(...xis), x1 = Math.max(...xis), y0 = Math.min(...etas), y1 = Math.max(...etas);
  const cell = Math.max(x1 - x0, y1 - y0) / cellsAlongLongerSide;
  const nx = Math.max(1, Math.ceil((x1 - x0) / cell)), ny = Math.max(1, Math.ceil((y1 - y0) / cell));
  const sum = new Float64Array(nx * ny * 3);
  for (const d of diff) {
    if (d.shift === undefined) continue;
    const { xi, eta } = toTangentPlane(centre.ra, centre.dec, d.shift.ra, d.shift.dec);
    for (let i = 0; i < xi.length; i++) {
      const e = d.shift.eastMas[i]!, n = d.shift.northMas[i]!;
      if (!Number.isFinite(e) || !Number.isFinite(n)) continue;
      const cx = Math.min(nx - 1, Math.floor((xi[i]! - x0) / cell)), cy = Math.min(ny - 1, Math.floor((eta[i]! - y0) / cell));
      if (!(cx >= 0 && cy >= 0)) continue;
      const k = (cy * nx + cx) * 3;
      sum[k]! += 1; sum[k + 1]! += e; sum[k + 2]! += n;
    }
  }
  const arrows: { xi: number; eta: number; eastMas: number; northMas: number }[] = [];
  for (let cy = 0; cy < ny; cy++) {
    for (let cx = 0; cx < nx; cx++) {
      const k = (cy * nx + cx) * 3;
      if (sum[k]! < 3) continue;
      arrows.push({ xi: x0 + (cx + 0.5) * cell, eta: y0 + (cy + 0.5) * cell, eastMas: sum[k + 1]! / sum[k]!, northMas: sum[k + 2]! / sum[k]! });
    }
  }
  return { from: describeSpec(from), to: describeSpec(to), where: where ?? null, centre, extent: { x0, x1, y0, y1 }, ccds, arrows };
}

/** The distortion map (SIP, arrows) or the calibration map (c / mean, heat map) of one detector, as SVG. */
export function mapSvg(repo: Repository, kind: 'distortion' | 'photocalib', dataIdText: string, spec: VersionSpec): string {
  const dataId = canonicalDataId(dataIdText);
  const id = parseDataId(dataId);
  const short = id['visit'] !== undefined && id['detector'] !== undefined ? `visit ${id['visit']} det ${id['detector']}` : dataId;
  if (kind === 'distortion') {
    const { wcs, supplied } = repo.getWcs(dataId, spec);
    if (wcs.bbox === undefined) throw errors.badInput('distortion map', `the WCS of ${dataId} gives no image size`);
    return distortionMapSvg(wcs, wcs.bbox, { title: `SIP distortion, ${short} (${supplied.stage})`, cells: 20 }).svg;
  }
  const { photoCalib, supplied } = repo.getPhotoCalib(dataId, spec);
  const bbox = photoCalib.field.bbox ?? repo.getWcs(dataId, spec).wcs.bbox;
  if (bbox === undefined) throw errors.badInput('calibration map', `neither the calibration nor the WCS of ${dataId} gives a box`);
  return photoCalibMapSvg(photoCalib, bbox, { title: `c / mean, ${short.replace(/^visit \S+ /, "")} (${supplied.stage})`, cells: 160 }).svg;
}

/** Where the files the Sources page derives from are: the dataId's wcs, photoCalib and src at a version. */
export function sourcesView(repo: Repository, dataIdText: string, spec: VersionSpec) {
  const dataId = canonicalDataId(dataIdText);
  const wcs = cell(repo, 'wcs', dataId, spec);
  const photoCalib = cell(repo, 'photoCalib', dataId, spec);
  // The catalog is the ref's (a stage picks calibrations, as in diff).
  const { stage: _stage, ...refOnly } = spec;
  const src = cell(repo, 'src', dataId, refOnly);
  return { dataId, version: describeSpec(spec), wcs, photoCalib, src };
}

/** A stored file by content hash, only when some registry entry names it (never a path). */
export function datasetFile(repo: Repository, hash: string): { bytes: Uint8Array; contentType: string } {
  if (!/^[0-9a-f]{64}$/.test(hash) || !repo.registry.referencedHashes().has(hash)) throw errors.notFound(`dataset ${hash}`);
  const bytes = repo.store.read(hash);
  return { bytes, contentType: contentTypeOf(bytes) };
}

const latin1 = new TextDecoder('latin1');

/** What the stored bytes are, from their own magic (storage classes normalise what they store). */
export function contentTypeOf(bytes: Uint8Array): string {
  const format = sniffCatalogBytes(bytes);
  if (format === 'parquet') return 'application/vnd.apache.parquet';
  if (format === 'arrow') return 'application/vnd.apache.arrow.file';
  if (format === 'arrows') return 'application/vnd.apache.arrow.stream';
  const head = latin1.decode(bytes.subarray(0, 80));
  if (head.startsWith('{')) return 'application/json';
  if (head.startsWith('SIMPLE  =')) return 'application/fits';
  return 'text/plain; charset=us-ascii';
}

/** A stored PhotoCalib packed for the kernels (little-endian Float64), which the page runs itself. */
export function photoCalibKernelModel(repo: Repository, hash: string): Uint8Array {
  const { bytes, contentType } = datasetFile(repo, hash);
  if (contentType !== 'application/json') throw errors.badInput('photoCalib model', `dataset ${hash} is not a PhotoCalib`);
  const model = PhotoCalib.fromJson(JSON.parse(new TextDecoder().decode(bytes))).toKernelModel();
  return new Uint8Array(model.buffer, model.byteOffset, model.byteLength);
}
