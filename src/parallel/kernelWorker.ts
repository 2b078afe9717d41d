/**
 * The pool's worker: one chunk of a column job per task. It imports only the
 * native-free kernels. Inputs and outputs are views of SharedArrayBuffers, so
 * results are written in place and only the bad-row count travels back.
 */
import { runColumnKernel, type ColumnJob } from '../../native-free-kernels/columnKernels.js';

export interface ChunkTask extends ColumnJob {
  readonly start: number;
  readonly count: number;
}

export default function runChunk(task: ChunkTask): number {
  return runColumnKernel(task, task.start, task.count);
}
