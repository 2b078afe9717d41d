/**
 * The worker entry for recompute jobs (a second piscina entry beside the
 * kernel pool's): parquet-wasm is instantiated once from the compiled
 * module the main thread posts as workerData, and job bytes go back
 * transferred, not copied.
 */
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import { parquetWasmFrom, type WasmModule } from './parquetWasm.js';
import { runRecomputeJob, type JobResult, type RecomputeJob } from './job.js';

const pw = parquetWasmFrom((workerData as { parquetWasm: WasmModule }).parquetWasm);

export default async function recomputeJob(job: RecomputeJob): Promise<JobResult> {
  const result = await runRecomputeJob(job, pw);
  if (result.bytes === undefined) return result;
  const bytes = result.bytes;
  // A fresh buffer owned by the job moves as is; a view into a shared one is copied out first.
  const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
  result.bytes = own;
  return move({ [transferableSymbol]: [own.buffer], [valueSymbol]: result } as never) as unknown as JobResult;
}
