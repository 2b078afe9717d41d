/**
 * The recompute worker pool, in a module of its own that loads little
 * (piscina and parquet-wasm's glue, not Arrow, the repository or the
 * job code): the CLI opens it first, so that the workers boot while the
 * main thread loads the rest.
 */
import { TaskPool } from '../parallel/taskPool.js';
import { compiledParquetWasm } from './parquetWasm.js';
import type { JobResult, RecomputeJob } from './job.js';

export type RecomputePool = TaskPool<RecomputeJob, JobResult>;

/**
 * A pool of recompute workers, each given the parquet-wasm module compiled
 * once here, started now: they boot (Node, their modules, parquet-wasm
 * instantiated: 0.3-0.6 s) while the caller goes on.
 */
export async function openRecomputePool(workers: number): Promise<RecomputePool> {
  return new TaskPool<RecomputeJob, JobResult>({ workers, workerUrl: new URL('./recomputeWorker.js', import.meta.url), workerData: { parquetWasm: await compiledParquetWasm() } }).start();
}
