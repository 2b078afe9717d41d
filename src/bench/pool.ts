/**
 * The pool benchmark behind `skycal bench pool` and bench/pool.ts:
 * TAN-SIP pixel -> sky of N points over the WCS's image, in-thread (the
 * column-kernel call the pool's workers make) and on pools of each worker
 * count. Each figure is the median of several timed runs after a warm-up
 * (tinybench); pools are started before timing (a worker starts in ~37 ms).
 */
import { makeRandom } from '../random.js';
import { Bench } from 'tinybench';
import { runColumnKernel, type ColumnJob } from '../../native-free-kernels/columnKernels.js';
import { KernelPool } from '../parallel/pool.js';
import { sharedFloat64, sharedUint8 } from '../parallel/shared.js';

export interface PoolBenchResult {
  n: number;
  inThread: { pointsPerSecond: number; medianMs: number; cpuNsPerPoint: number };
  results: { workers: number; pointsPerSecond: number; medianMs: number; cpuNsPerPoint: number }[];
}

export interface PoolBenchOptions {
  iterations?: number;
  /** Pixel box the points are drawn in (default 4096 x 4096). */
  width?: number;
  height?: number;
}

/** Deterministic points in the box (a small LCG), in shared memory. */
export function benchPixels(n: number, width: number, height: number): { x: Float64Array; y: Float64Array } {
  // Measured centroids carry noise in every mantissa bit, so the bench's do too: 53 random bits
  // from two 32-bit draws (an LCG's 32 bits alone leave the low 21 bits zero, which no real
  // catalog has and which changes how Parquet compresses and decodes the columns).
  const random = makeRandom(2024);
  const next = (): number => (Math.floor(random() * 2 ** 21) * 2 ** 32 + Math.floor(random() * 2 ** 32)) / 2 ** 53;
  const x = sharedFloat64(n), y = sharedFloat64(n);
  for (let i = 0; i < n; i++) {
    x[i] = next() * width - 0.5;
    y[i] = next() * height - 0.5;
  }
  return { x, y };
}

/**
 * CPU time of the whole process (every thread) per point over one more run.
 * Why: on a shared machine wall-clock scaling says how much CPU others left
 * us; equal CPU per point in-thread and on the pool shows the pool's overhead.
 */
async function cpuNsPerPoint(n: number, fn: () => unknown): Promise<number> {
  const before = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(before);
  return ((used.user + used.system) * 1000) / n;
}

async function medianMs(iterations: number, fn: () => unknown): Promise<number> {
  const bench = new Bench({ iterations, time: 0, warmup: true, warmupIterations: 1, warmupTime: 0 } as ConstructorParameters<typeof Bench>[0]);
  bench.add('run', fn as () => Promise<void>);
  await bench.run();
  const result = bench.tasks[0]!.result as unknown as { latency?: { p50?: number }; error?: Error };
  if (!result.latency?.p50) throw new Error(`benchmark failed: ${result.error?.message ?? 'no samples'}`);
  return result.latency.p50;
}

export async function benchPool(model: Float64Array, n: number, workerCounts: readonly number[], options: PoolBenchOptions = {}): Promise<PoolBenchResult> {
  const iterations = options.iterations ?? 5;
  const { x, y } = benchPixels(n, options.width ?? 4096, options.height ?? 4096);
  const job: ColumnJob = { kernel: 'tanSipPixelToSkyDeg', model, scalars: [], inputs: [x, y], outputs: [sharedFloat64(n), sharedFloat64(n)], status: sharedUint8(n) };
  const inThreadMs = await medianMs(iterations, () => runColumnKernel(job, 0, n));
  const inThreadCpu = await cpuNsPerPoint(n, () => runColumnKernel(job, 0, n));
  const results: PoolBenchResult['results'] = [];
  for (const workers of workerCounts) {
    const pool = new KernelPool({ workers, minRowsForWorkers: 0 });
    try {
      await pool.run(job, n); // start the threads outside the timing
      const ms = await medianMs(iterations, () => pool.run(job, n));
      results.push({ workers, pointsPerSecond: n / (ms / 1000), medianMs: ms, cpuNsPerPoint: await cpuNsPerPoint(n, () => pool.run(job, n)) });
    } finally {
      await pool.close();
    }
  }
  return { n, inThread: { pointsPerSecond: n / (inThreadMs / 1000), medianMs: inThreadMs, cpuNsPerPoint: inThreadCpu }, results };
}
