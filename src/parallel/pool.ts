/**
 * A piscina pool that runs column kernels (native-free-kernels/columnKernels.ts)
 * over SharedArrayBuffer columns. Work is cut into large chunks that piscina
 * hands to workers as they free up (dynamic: a slow chunk does not hold the
 * others back); a worker round trip costs 70-125 us, so chunks are tens of
 * milliseconds of work. Small jobs run in-thread, where a worker would cost
 * more than it saves. Results are identical to in-thread results bit for bit:
 * every row is computed by the same kernel code, whichever thread runs it.
 */
import { availableParallelism } from 'node:os';
import { runColumnKernel, COLUMN_KERNELS, type ColumnJob } from '../../native-free-kernels/columnKernels.js';
import { errors } from '../errors.js';
import { isShared } from './shared.js';
import { TaskPool } from './taskPool.js';
import { bundledWorker } from '../packageFiles.js';
import type { ChunkTask } from './kernelWorker.js';

export interface PoolOptions {
  /** Worker threads; 0 runs everything in-thread. Default: os.availableParallelism(). */
  workers?: number;
  /** Jobs with fewer rows run in-thread. Default 50 000 (~5 ms of pixel->sky). */
  minRowsForWorkers?: number;
  /** Rows per chunk; default splits a job in ~4 chunks per worker, 32 Ki to 1 Mi rows. */
  chunkRows?: number;
  /** The worker module (tests point this at a broken one). */
  workerUrl?: URL;
}

export interface RunOptions {
  /** Called as chunks finish, with the rows done so far. */
  onProgress?: (rowsDone: number) => void;
  chunkRows?: number;
}

// ~3 ms of pixel->sky: a 70-125 us round trip costs a few percent at most.
const MIN_CHUNK = 32_768;
const MAX_CHUNK = 1 << 20;

/** Checks a job's shape once, outside any loop. */
function checkJob(job: ColumnJob, rows: number): void {
  const entry = COLUMN_KERNELS[job.kernel];
  if (entry === undefined) throw errors.usage(`unknown column kernel ${JSON.stringify(job.kernel)}`);
  if (job.inputs.length !== entry.inputs || job.outputs.length !== entry.outputs) {
    throw errors.usage(`kernel ${job.kernel} takes ${entry.inputs} inputs and ${entry.outputs} outputs`);
  }
  for (const a of [...job.inputs, ...job.outputs, job.status]) {
    // An empty column means "absent" (an optional input such as instFluxErr).
    if (a.length !== 0 && a.length < rows) throw errors.usage(`kernel ${job.kernel}: a column has ${a.length} rows, expected ${rows}`);
  }
}

export function defaultWorkerCount(): number {
  return availableParallelism();
}

export class KernelPool {
  readonly workers: number;
  private readonly minRowsForWorkers: number;
  private readonly chunkRows: number | undefined;
  private readonly workerUrl: URL;
  /** The threads (piscina's lifecycle and failure handling are TaskPool's), made on first use. */
  private tasks: TaskPool<ChunkTask, number> | undefined;

  constructor(options: PoolOptions = {}) {
    const workers = options.workers ?? defaultWorkerCount();
    if (!Number.isInteger(workers) || workers < 0) throw errors.usage(`--workers: expected an integer >= 0, got ${workers}`);
    this.workers = workers;
    this.minRowsForWorkers = options.minRowsForWorkers ?? 50_000;
    this.chunkRows = options.chunkRows;
    this.workerUrl = options.workerUrl ?? bundledWorker('kernelWorker');
  }

  /** Threads start on first use and stay (minThreads = maxThreads, one chunk per worker at a time) until close(). */
  private taskPool(): TaskPool<ChunkTask, number> {
    this.tasks ??= new TaskPool<ChunkTask, number>({ workers: this.workers, workerUrl: this.workerUrl });
    return this.tasks;
  }

  /** Whether a job of `rows` rows goes to the workers (else it runs in-thread and needs no shared memory). */
  usesWorkers(rows: number): boolean {
    return this.workers > 0 && rows >= this.minRowsForWorkers;
  }

  /**
   * Run `job` over rows [0, rows). With workers, every column must live in a
   * SharedArrayBuffer. Returns the number of bad rows.
   */
  async run(job: ColumnJob, rows: number, options: RunOptions = {}): Promise<number> {
    checkJob(job, rows);
    if (!this.usesWorkers(rows)) {
      const bad = runColumnKernel(job, 0, rows);
      options.onProgress?.(rows);
      return bad;
    }
    for (const a of [...job.inputs, ...job.outputs, job.status]) {
      if (a.length !== 0 && !isShared(a)) throw errors.usage(`kernel ${job.kernel}: pool columns must be SharedArrayBuffer views`);
    }
    const chunk = Math.max(1, options.chunkRows ?? this.chunkRows ?? Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, Math.ceil(rows / (4 * this.workers)))));
    const pool = this.taskPool();
    const plain = { kernel: job.kernel, model: job.model, scalars: [...job.scalars], inputs: job.inputs, outputs: job.outputs, status: job.status };
    let done = 0;
    const tasks: Promise<number>[] = [];
    for (let start = 0; start < rows; start += chunk) {
      const count = Math.min(chunk, rows - start);
      const task: ChunkTask = { ...plain, start, count };
      tasks.push(
        pool.run(task).then((bad: number) => {
          done += count;
          options.onProgress?.(done);
          return bad;
        }),
      );
    }
    try {
      const bads = await Promise.all(tasks);
      return bads.reduce((a, b) => a + b, 0);
    } catch (e) {
      // Settle every chunk before tearing down, so no rejection is left unhandled.
      await Promise.allSettled(tasks);
      await this.destroy();
      throw e; // already an IO error naming the worker's failure (TaskPool)
    }
  }

  /** Stop the threads (waits for running chunks). Safe to call twice. */
  async close(): Promise<void> {
    const t = this.tasks;
    this.tasks = undefined;
    if (t !== undefined) await t.close();
  }

  /** Stop the threads now, abandoning queued chunks. */
  async destroy(): Promise<void> {
    const t = this.tasks;
    this.tasks = undefined;
    if (t !== undefined) await t.destroy();
  }
}
