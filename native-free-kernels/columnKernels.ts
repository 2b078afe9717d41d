/**
 * The kernels that run over whole columns, by name: the one table that both
 * the main thread and the pool's workers dispatch through, so that a chunk
 * computed in a worker runs exactly the code it would run in-thread (bit for
 * bit). Adding a kernel to the pool is one entry here.
 *
 * A job names a kernel, its packed model, a few scalars, its input and output
 * columns (Float64Array, stride 1, all the same length) and a status column;
 * a chunk is the row range [start, start + count).
 */
import { affineTransform } from './affine.js';
import { photoCalibCalibrate } from './photoCalib.js';
import { tanSipPixelToSkyDeg, tanSipSkyToPixelApproxDeg, tanSipSkyToPixelDeg } from './tanSip.js';

export interface ColumnJob {
  readonly kernel: string;
  readonly model: Float64Array;
  readonly scalars: readonly number[];
  readonly inputs: readonly Float64Array[];
  readonly outputs: readonly Float64Array[];
  readonly status: Uint8Array;
}

/** Runs rows [start, start + count) of a job; returns the number of bad rows. */
export type ColumnKernel = (job: ColumnJob, start: number, count: number) => number;

/** Kernel name -> how many input and output columns it takes, and the call. */
export const COLUMN_KERNELS: Readonly<Record<string, { inputs: number; outputs: number; run: ColumnKernel }>> = {
  /** (x, y) pixels -> (coord_ra, coord_dec) deg; model = TanSipWcs#toKernelModel(). */
  tanSipPixelToSkyDeg: {
    inputs: 2,
    outputs: 2,
    run: (j, s, n) =>
      tanSipPixelToSkyDeg(n, j.model, j.inputs[0]!, 1, s, j.inputs[1]!, 1, s, j.outputs[0]!, 1, s, j.outputs[1]!, 1, s, j.status, 1, s),
  },
  /** (coord_ra, coord_dec) -> (x, y), exact (Newton); scalars [maxIter, tolerancePx]. */
  tanSipSkyToPixelDeg: {
    inputs: 2,
    outputs: 2,
    run: (j, s, n) =>
      tanSipSkyToPixelDeg(n, j.model, j.scalars[0]!, j.scalars[1]!, j.inputs[0]!, 1, s, j.inputs[1]!, 1, s, j.outputs[0]!, 1, s, j.outputs[1]!, 1, s, j.status, 1, s),
  },
  /** (coord_ra, coord_dec) -> (x, y) by the AP/BP polynomial. */
  tanSipSkyToPixelApproxDeg: {
    inputs: 2,
    outputs: 2,
    run: (j, s, n) =>
      tanSipSkyToPixelApproxDeg(n, j.model, j.inputs[0]!, 1, s, j.inputs[1]!, 1, s, j.outputs[0]!, 1, s, j.outputs[1]!, 1, s, j.status, 1, s),
  },
  /**
   * (x, y, instFlux, instFluxErr) -> (flux, fluxErr, mag, magErr); scalars [legacyErrors];
   * model = PhotoCalib#toKernelModel(). Empty columns are absent (see photoCalib.ts).
   */
  photoCalibCalibrate: {
    inputs: 4,
    outputs: 4,
    run: (j, s, n) => {
      const [x, y, f, e] = j.inputs as [Float64Array, Float64Array, Float64Array, Float64Array];
      const [fl, fe, m, me] = j.outputs as [Float64Array, Float64Array, Float64Array, Float64Array];
      // An absent (empty) column keeps offset 0 so the kernel sees it as empty.
      const at = (a: ArrayLike<number>): number => (a.length === 0 ? 0 : s);
      return photoCalibCalibrate(
        n, j.model, j.scalars[0]!,
        x, 1, at(x), y, 1, at(y), f, 1, s, e, 1, at(e),
        fl, 1, s, fe, 1, at(fe), m, 1, s, me, 1, at(me), j.status, 1, at(j.status),
      );
    },
  },
  /** (x, y) -> (u, v), model [m0..m5]; used by tests. */
  affine: {
    inputs: 2,
    outputs: 2,
    run: (j, s, n) =>
      affineTransform(n, j.model, j.inputs[0]!, 1, s, j.inputs[1]!, 1, s, j.outputs[0]!, 1, s, j.outputs[1]!, 1, s, j.status, 1, s),
  },
};

/** Dispatch one chunk. An unknown kernel is a configuration error (a throw), never a per-point one. */
export function runColumnKernel(job: ColumnJob, start: number, count: number): number {
  const entry = COLUMN_KERNELS[job.kernel];
  if (entry === undefined) throw new RangeError(`unknown column kernel: ${job.kernel}`);
  return entry.run(job, start, count);
}
