/**
 * The worker entry for recompute jobs (a second piscina entry beside the
 * kernel pool's): parquet-wasm is instantiated once from the compiled
 * module the main thread posts as workerData; IPC bytes go back
 * transferred, not copied, and Parquet bytes not at all (offsetChain.ts).
 */
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import { parquetWasmFrom, type WasmModule } from './parquetWasm.js';
import { runRecomputeJob, type JobResult, type RecomputeJob } from './job.js';

const pw = parquetWasmFrom((workerData as { parquetWasm: WasmModule }).parquetWasm);

export default async function recomputeJob(job: RecomputeJob): Promise<JobResult> {
  const result = await runRecomputeJob(job, pw);
  if (result.bytes === undefined) return result;
  // IPC bytes move as they are; a view of a shared buffer is copied out first.
  const bytes = result.bytes.buffer instanceof ArrayBuffer ? result.bytes : result.bytes.slice();
  result.bytes = bytes;
  return move({ [transferableSymbol]: [bytes.buffer], [valueSymbol]: result } as never) as unknown as JobResult;
}
