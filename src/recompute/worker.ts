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
  const views = result.pieces ?? (result.bytes !== undefined ? [result.bytes] : []);
  if (views.length === 0) return result;
  // The job's buffers move as they are (Parquet pieces are views of its Arrow columns, written unchanged); a shared one is copied out.
  const buffers = new Set<ArrayBuffer>();
  const own = views.map((v) => {
    if (v.buffer instanceof ArrayBuffer) {
      buffers.add(v.buffer);
      return v;
    }
    const copy = v.slice();
    buffers.add(copy.buffer);
    return copy;
  });
  if (result.pieces !== undefined) result.pieces = own;
  else result.bytes = own[0]!;
  return move({ [transferableSymbol]: [...buffers], [valueSymbol]: result } as never) as unknown as JobResult;
}
