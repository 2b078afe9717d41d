/**
 * `skycal demo`: the whole story on synthetic but realistic data, with the
 * embedded SQLite registry (nothing to set up).
 *
 *  1. a camera of a few visits x several CCDs (seeded; src/demo/camera.ts)
 *  2. singleFrame: a per-CCD WCS (tens of mas off, part of the distortion
 *     missed), a constant calibration, and the source catalogs
 *  3. jointcal: declares a better WCS and a Chebyshev calibration for every
 *     CCD, produces them for all but one CCD, which it marks as failed
 *  4. recompute at the tip: coordinates and fluxes derived on the fly; the
 *     failed CCD is reported invalid, never silently given singleFrame's WCS
 *  5. diff singleFrame against jointcal; distortion, calibration and shift plots
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Field, Float64, Int64, RecordBatch, Schema, Struct, makeData } from 'apache-arrow';
import { errors } from '../errors.js';
import { Repository } from '../butler/repository.js';
import { formatDataId } from '../butler/dataId.js';
import { writeCatalog } from '../catalog/write.js';
import { KernelPool } from '../parallel/pool.js';
import { ChebyshevField } from '../photocalib/chebyshevField.js';
import { PhotoCalib } from '../photocalib/photoCalib.js';
import { makeTanSipWcs } from '../wcs/tanSipWcs.js';
import type { TanSipWcs } from '../wcs/tanSipWcs.js';
import { distortionMapSvg, photoCalibMapSvg } from '../plot/maps.js';
import { plotBytes } from '../plot/png.js';
import { writeFileAtomic } from '../io/atomicFile.js';
import { median } from '../stats.js';
import { angularSeparationMas } from '../../native-free-kernels/separation.js';
import { recompute, type RecomputeSummary } from '../recompute/recompute.js';
import { diffWcsVersions, type DataIdDiff } from '../compare/diffVersions.js';
import { diffPlotSvg } from '../compare/diffPlot.js';
import { DEFAULT_CAMERA, makeCamera, makeGaussian, makeRandom, makeSources, perturbWcs, type CameraConfig, type CcdTruth, type WcsParams } from './camera.js';

/** A file in DIR that marks it as the demo's own, so that a re-run may clear it. */
const MARKER = '.skycal-demo';
const INSTRUMENT = 'DemoCam';
const FLUX = 'base_PsfFlux';

export interface DemoOptions {
  /** Sources per CCD (default 20,000). */
  sourcesPerCcd?: number;
  /** Visits (default 3) and CCDs (columns x rows, default 3 x 2). */
  visits?: number;
  workers?: number;
  /** Output format of the recomputed catalog. */
  format?: 'parquet' | 'arrow';
  log?: (line: string) => void;
}

export interface DemoSummary {
  dir: string;
  repository: string;
  instrument: string;
  visits: number[];
  detectors: number[];
  sourcesPerCcd: number;
  runs: { singleFrame: string; jointcal: string };
  failed: { dataId: string; type: string; reason: string }[];
  recompute: RecomputeSummary;
  diff: { dataId: string; positions: string; medianMas: number | null; p95Mas: number | null; maxMas: number | null; invalid?: string }[];
  /** Residuals of the derived coordinates against the truth (mas), before and after jointcal. */
  accuracy: { singleFrameMedianMas: number; jointcalMedianMas: number };
  plots: { distortion: string; photoCalib: string; diff: string };
}

function prepareDir(dir: string): void {
  if (existsSync(dir)) {
    const entries = readdirSync(dir);
    if (entries.length > 0 && !entries.includes(MARKER)) {
      throw errors.usage(`demo: ${dir} exists and is not empty, and is not an earlier demo folder; choose another DIR`);
    }
    for (const e of entries) rmSync(join(dir, e), { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, MARKER), 'made by skycal demo; the demo clears this folder when it runs again\n');
}

/** The demo's WCS of a CCD from its parameters (exported so that tests rebuild the camera's truth). */
export function wcsOf(p: WcsParams, width: number, height: number): TanSipWcs {
  const wcs = makeTanSipWcs({ crpix: p.crpix, crval: p.crval, cd: p.cd, sipA: p.sipA, sipB: p.sipB, bbox: { minX: 0, minY: 0, maxX: width - 1, maxY: height - 1 } });
  // AP/BP seeds the exact inverse (and is what other tools read).
  return wcs.fitInverse({ order: 4 }).wcs;
}

/** A source catalog as Parquet bytes: pixel positions and instrumental fluxes only. */
async function catalogBytes(dir: string, name: string, ccd: CcdTruth, n: number, config: CameraConfig, seed: number): Promise<Uint8Array> {
  const s = makeSources(n, config.ccdWidth, config.ccdHeight, ccd.calib.calibrationMean, seed);
  const field = (name: string, unit: string, ucd: string, description: string) =>
    new Field(name, new Float64(), false, new Map([['unit', unit], ['ucd', ucd], ['description', description]]));
  const schema = new Schema([
    new Field('id', new Int64(), false, new Map([['ucd', 'meta.id;meta.main'], ['description', 'source id (64-bit, unique across the demo)']])),
    field('x', 'pixel', 'pos.cartesian.x;instr.det', 'centroid column (0-based, 0 = centre of the first pixel)'),
    field('y', 'pixel', 'pos.cartesian.y;instr.det', 'centroid row (0-based)'),
    field(`${FLUX}_instFlux`, 'count', 'phot.count', 'PSF flux, instrumental'),
    field(`${FLUX}_instFluxErr`, 'count', 'stat.error;phot.count', 'PSF flux error, instrumental'),
  ]);
  const columns = [s.x, s.y, s.instFlux, s.instFluxErr];
  const batch = new RecordBatch(schema, makeData({
    type: new Struct(schema.fields),
    length: n,
    nullCount: 0,
    children: [
      makeData({ type: new Int64(), length: n, nullCount: 0, data: s.id }),
      ...columns.map((c) => makeData({ type: new Float64(), length: n, nullCount: 0, data: c })),
    ],
  }));
  const path = join(dir, `${name}.parquet`);
  await writeCatalog(path, schema, [batch]);
  const bytes = readFileSync(path);
  rmSync(path);
  return bytes;
}

/**
 * Sky residuals (mas) of a derived WCS against the true one at `n` seeded
 * random pixels: the Vincenty separation that `diff` measures with.
 */
function residualsMas(truth: TanSipWcs, derived: TanSipWcs, width: number, height: number, seed: number, n = 2000): Float64Array {
  const random = makeRandom(seed);
  const x = Float64Array.from({ length: n }, () => random() * (width - 1));
  const y = Float64Array.from({ length: n }, () => random() * (height - 1));
  const a = truth.pixelToSkyArrays(x, y);
  const b = derived.pixelToSkyArrays(x, y);
  const sep = new Float64Array(n);
  angularSeparationMas(n, a.ra, 1, 0, a.dec, 1, 0, b.ra, 1, 0, b.dec, 1, 0, sep, 1, 0);
  return sep;
}

export async function runDemo(dirIn: string, options: DemoOptions = {}): Promise<DemoSummary> {
  const log = options.log ?? (() => {});
  const dir = resolve(dirIn);
  const config: CameraConfig = {
    ...DEFAULT_CAMERA,
    sourcesPerCcd: options.sourcesPerCcd ?? DEFAULT_CAMERA.sourcesPerCcd,
    visits: DEFAULT_CAMERA.visits.slice(0, options.visits ?? DEFAULT_CAMERA.visits.length),
  };
  if (config.visits.length === 0) throw errors.usage('demo: at least one visit is needed');
  prepareDir(dir);
  const repoPath = join(dir, 'repo');
  const repo = Repository.init(repoPath);
  const pool = new KernelPool(options.workers === undefined ? {} : { workers: options.workers });
  try {
    const camera = makeCamera(config);
    const gauss = makeGaussian(makeRandom(config.seed + 1));
    const idOf = (c: CcdTruth) => formatDataId({ instrument: INSTRUMENT, visit: String(c.visit), detector: String(c.detector) });
    const bbox = { minX: 0, minY: 0, maxX: config.ccdWidth - 1, maxY: config.ccdHeight - 1 };
    const truth = new Map(camera.map((c) => [idOf(c), wcsOf(c.wcs, config.ccdWidth, config.ccdHeight)]));
    // The CCD that jointcal fails on: too few matched stars (an edge CCD of the middle visit).
    const failing = camera[Math.min(camera.length - 1, config.ccdColumns * config.ccdRows * Math.floor(config.visits.length / 2) + config.ccdColumns - 1)]!;
    const failingId = idOf(failing);

    // --- singleFrame: per-CCD fits, each ~40 mas off (shifts are in arcsec), 3% of the distortion missed; constant calibrations.
    log(`1. singleFrame: ${camera.length} CCDs (${config.visits.length} visits x ${config.ccdColumns * config.ccdRows} detectors), ${config.sourcesPerCcd.toLocaleString('en-US')} sources each`);
    const sf = repo.begin({ stage: 'singleFrame', config: { astrometry: 'per-CCD TAN-SIP order 3', photometry: 'constant zero point', seed: config.seed } });
    const singleFrameWcs = new Map<string, TanSipWcs>();
    for (const [i, c] of camera.entries()) {
      const id = idOf(c);
      const wcs = wcsOf(perturbWcs(c.wcs, [0.04 * gauss(), 0.04 * gauss()], 3e-6 * gauss(), 0.97), config.ccdWidth, config.ccdHeight);
      singleFrameWcs.set(id, wcs);
      repo.put(sf.id, 'wcs', id, new TextEncoder().encode(wcs.toFitsHeader()));
      const constant = PhotoCalib.constant(c.calib.calibrationMean, c.calib.calibrationErr * 2, bbox);
      repo.put(sf.id, 'photoCalib', id, new TextEncoder().encode(JSON.stringify(constant.toJson())));
      repo.put(sf.id, 'src', id, await catalogBytes(dir, `src-${i}`, c, config.sourcesPerCcd, config, config.seed * 1000 + i));
    }
    repo.commit(sf.id);
    log(`   committed run ${sf.id}`);

    // --- jointcal: fits all CCDs together; declares every output, fails one CCD.
    const expect = camera.flatMap((c) => [{ type: 'wcs', dataId: idOf(c) }, { type: 'photoCalib', dataId: idOf(c) }]);
    const jc = repo.begin({ stage: 'jointcal', config: { astrometry: 'joint TAN-SIP order 3 + visit polynomials', photometry: 'Chebyshev 2x2 per CCD' }, expect });
    const jointcalWcs = new Map<string, TanSipWcs>();
    for (const c of camera) {
      const id = idOf(c);
      if (id === failingId) continue;
      const wcs = wcsOf(perturbWcs(c.wcs, [0.002 * gauss(), 0.002 * gauss()], 1e-7 * gauss(), 1), config.ccdWidth, config.ccdHeight);
      jointcalWcs.set(id, wcs);
      repo.put(jc.id, 'wcs', id, new TextEncoder().encode(wcs.toFitsHeader()));
      const field = c.calib.field as { coefficients: number[][] };
      const cheb = new ChebyshevField(bbox, field.coefficients);
      const calib = PhotoCalib.fromField(cheb, c.calib.calibrationErr);
      repo.put(jc.id, 'photoCalib', id, new TextEncoder().encode(JSON.stringify(calib.toJson())));
    }
    const reason = 'jointcal: 9 matched reference stars on this CCD, at least 30 needed';
    repo.fail(jc.id, 'wcs', failingId, reason);
    // Its photoCalib is declared but never produced: commit records that as a failure too.
    repo.commit(jc.id);
    log(`2. jointcal: improved ${jointcalWcs.size} CCDs, failed on ${failingId}; committed run ${jc.id}`);

    // --- recompute at the tip, on the fly.
    const ext = options.format === 'arrow' ? 'arrow' : 'parquet';
    const out = join(dir, `recomputed.${ext}`);
    const recomputed = await recompute(repo, { out, pool, skipInvalid: true });
    log(`3. recompute at main: ${recomputed.rows.toLocaleString('en-US')} rows from ${recomputed.dataIds.length} CCDs -> ${out} (${Math.round(recomputed.rowsPerSecond).toLocaleString('en-US')} rows/s)`);
    for (const s of recomputed.skipped) log(`   invalid, not recomputed: ${s.dataId}: ${s.reason}`);

    // --- diff singleFrame vs jointcal.
    // The plot shows the focal plane of the visit with the failed CCD, which it draws hatched.
    const plotVisit = String(failing.visit);
    const diff = await diffWcsVersions(repo, { from: { stage: 'singleFrame' }, to: { stage: 'jointcal' } });
    const plotDiff = join(dir, 'diff-singleFrame-jointcal.svg');
    writeFileAtomic(plotDiff, plotBytes(diffPlotSvg(diff.filter((d) => d.dataId.includes(`visit=${plotVisit}`)), `singleFrame`, `jointcal, visit ${plotVisit}`), plotDiff));
    const valid = diff.filter((d) => d.positions !== 'invalid').map((d) => d.medianMas).sort((a, b) => a - b);
    log(`4. diff @singleFrame -> @jointcal: median shift per CCD ${valid[0]?.toFixed(1)} to ${valid[valid.length - 1]?.toFixed(1)} mas; ${diff.length - valid.length} CCD(s) invalid`);

    // --- plots of one CCD.
    const shown = camera[0]!;
    const shownWcs = jointcalWcs.get(idOf(shown)) ?? truth.get(idOf(shown))!;
    const plotDistortion = join(dir, 'distortion.svg');
    const title = `visit ${shown.visit} det ${shown.detector}`;
    writeFileAtomic(plotDistortion, distortionMapSvg(shownWcs, bbox, { title: `SIP distortion (jointcal), ${title}` }).svg);
    const plotCalib = join(dir, 'photocalib.svg');
    const shownCalib = PhotoCalib.fromField(new ChebyshevField(bbox, (shown.calib.field as { coefficients: number[][] }).coefficients));
    writeFileAtomic(plotCalib, photoCalibMapSvg(shownCalib, bbox, { title: `jointcal c(x, y) / mean, ${title}` }).svg);

    // --- how much better jointcal is, against the truth the camera was made from.
    // The median over CCDs of each CCD's median residual (the one median of stats.ts).
    const residual = (versions: Map<string, TanSipWcs>) =>
      median([...versions].map(([id, w], k) => median(residualsMas(truth.get(id)!, w, config.ccdWidth, config.ccdHeight, k + 7))));
    const accuracy = { singleFrameMedianMas: residual(singleFrameWcs), jointcalMedianMas: residual(jointcalWcs) };

    const failed = [
      { dataId: failingId, type: 'wcs', reason },
      { dataId: failingId, type: 'photoCalib', reason: 'expected output not produced' },
    ];
    return {
      dir,
      repository: repoPath,
      instrument: INSTRUMENT,
      visits: config.visits,
      detectors: [...new Set(camera.map((c) => c.detector))],
      sourcesPerCcd: config.sourcesPerCcd,
      runs: { singleFrame: sf.id, jointcal: jc.id },
      failed,
      recompute: recomputed,
      diff: diff.map((d: DataIdDiff) => ({
        dataId: d.dataId,
        positions: d.positions,
        medianMas: Number.isFinite(d.medianMas) ? d.medianMas : null,
        p95Mas: Number.isFinite(d.p95Mas) ? d.p95Mas : null,
        maxMas: Number.isFinite(d.maxMas) ? d.maxMas : null,
        ...(d.invalid !== undefined && { invalid: d.invalid }),
      })),
      accuracy,
      plots: { distortion: plotDistortion, photoCalib: plotCalib, diff: plotDiff },
    };
  } finally {
    await pool.close();
    repo.close();
  }
}
