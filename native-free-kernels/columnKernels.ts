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
