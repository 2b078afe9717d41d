/**
 * The recompute worker pool, in a module of its own that loads little
 * (piscina and parquet-wasm's glue, not Arrow, the repository or the
 * job code): the CLI opens it first, so that the workers boot while the
 * main thread loads the rest.
 */
import { TaskPool } from '../parallel/taskPool.js';
import { compiledParquetWasm } from './parquetWasm.js';
import { bundledWorker } from '../packageFiles.js';
import type { JobResult, RecomputeJob } from './job.js';

export type RecomputePool = TaskPool<RecomputeJob, JobResult>;

/**
 * A pool of recompute workers, each given the parquet-wasm module compiled
 * once here, started now: they boot (Node, the bundled worker, parquet-wasm
 * instantiated: ~0.1 s on an idle core; 0.24 s for the tsc-built module
 * graph) while the caller goes on.
 */
export async function openRecomputePool(workers: number): Promise<RecomputePool> {
  return new TaskPool<RecomputeJob, JobResult>({ workers, workerUrl: bundledWorker('recomputeWorker'), workerData: { parquetWasm: await compiledParquetWasm() } }).start();
}
