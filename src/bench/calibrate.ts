/**
 * The calibration benchmark behind `skycal bench calibrate` and
 * bench/calibrate.ts: flux, fluxErr, mag and magErr of N rows with a 4x4
 * Chebyshev field on a 2048 x 4176 bbox (an LSST CCD), single-threaded, in
 * process, timed by tinybench. bench/numpy_calibrate.py does the same in numpy.
 */
import { Bench } from 'tinybench';
import { photoCalibCalibrate } from '../../native-free-kernels/photoCalib.js';
import { ChebyshevField } from '../photocalib/chebyshevField.js';
import { PhotoCalib } from '../photocalib/photoCalib.js';

export const BENCH_BBOX = { minX: 0, minY: 0, maxX: 2047, maxY: 4175 };
/** A vignetting-like 4x4 field (coefficients [y][x], nJy/count). */
export const BENCH_COEFFICIENTS = [
  [1000, 12, -8, 1.5],
  [9, 3, 0.8, -0.2],
  [-15, 0.6, 0.3, 0.05],
  [2, -0.4, 0.1, 0.02],
];

export interface CalibrateBenchResult {
  n: number;
  rowsPerSecond: number;
  medianMs: number;
  samples: number;
}

/** Deterministic inputs (a small LCG, so numpy can be given the very same rows through a file). */
export function benchInputs(n: number): { x: Float64Array; y: Float64Array; instFlux: Float64Array; instFluxErr: Float64Array } {
  let s = 12345;
  const next = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  const x = new Float64Array(n), y = new Float64Array(n), instFlux = new Float64Array(n), instFluxErr = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = next() * 2048 - 0.5;
    y[i] = next() * 4176 - 0.5;
    instFlux[i] = 10 ** (1 + 4 * next());
    instFluxErr[i] = Math.sqrt(instFlux[i]! + 100);
  }
  return { x, y, instFlux, instFluxErr };
}

export async function benchCalibrate(n: number, options: { timeMs?: number } = {}): Promise<CalibrateBenchResult> {
  const pc = PhotoCalib.fromField(new ChebyshevField(BENCH_BBOX, BENCH_COEFFICIENTS), 5);
  const model = pc.toKernelModel();
  const { x, y, instFlux, instFluxErr } = benchInputs(n);
  const flux = new Float64Array(n), fluxErr = new Float64Array(n), mag = new Float64Array(n), magErr = new Float64Array(n);
  const status = new Uint8Array(n);
  const timeMs = options.timeMs ?? 1000;
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(200, timeMs / 4) });
  bench.add('calibrate', () => {
    photoCalibCalibrate(n, model, 0, x, 1, 0, y, 1, 0, instFlux, 1, 0, instFluxErr, 1, 0,
      flux, 1, 0, fluxErr, 1, 0, mag, 1, 0, magErr, 1, 0, status, 1, 0);
  });
  await bench.run();
  const result = bench.tasks[0]!.result as unknown as { latency?: { p50?: number; samplesCount?: number }; error?: Error };
  if (!result.latency?.p50) throw new Error(`benchmark failed: ${result.error?.message ?? 'no samples'}`);
  const medianMs = result.latency.p50;
  return { n, rowsPerSecond: n / (medianMs / 1000), medianMs, samples: result.latency.samplesCount ?? 0 };
}
