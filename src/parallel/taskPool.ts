/**
 * The one piscina pool: minThreads = maxThreads, an idle timeout, one task
 * per worker at a time; a worker that dies or fails to load makes an IO
 * error ("worker pool: ..."). KernelPool runs its column chunks on one, and
 * recompute its whole jobs (read, derive and encode a few row groups).
 */
import { Piscina } from 'piscina';
import { errors } from '../errors.js';

export interface TaskPoolOptions {
  workers: number;
  /** The worker module (its default export runs one task). */
  workerUrl: URL;
  /** Posted once to every worker (e.g. a compiled WebAssembly.Module). */
  workerData?: unknown;
}

export class TaskPool<In, Out> {
  readonly workers: number;
  private piscina: Piscina | undefined;
  private failure: Error | undefined;

  constructor(private readonly options: TaskPoolOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) throw errors.usage(`TaskPool: expected workers >= 1, got ${options.workers}`);
    this.workers = options.workers;
  }

  private ensure(): Piscina {
    if (this.piscina === undefined) {
      this.piscina = new Piscina({
        filename: this.options.workerUrl.href,
        minThreads: this.workers,
        maxThreads: this.workers,
        idleTimeout: 30_000,
        concurrentTasksPerWorker: 1,
        workerData: this.options.workerData,
      });
      this.piscina.on('error', (e: unknown) => {
        this.failure = e instanceof Error ? e : new Error(String(e));
      });
    }
    return this.piscina;
  }

  /**
   * Start the workers now: each loads the worker module as it starts, so a
   * caller with other work to do first (the CLI loading the job's modules
   * and planning) overlaps their boot with it. Otherwise they start at the
   * first task.
   */
  start(): this {
    this.ensure();
    return this;
  }

  /** Worker threads running (0 before the first task or start(), and after close). */
  get threads(): number {
    return this.piscina?.threads.length ?? 0;
  }

  async run(task: In): Promise<Out> {
    // A worker that failed to start (its module did not load, it ran out of memory while booting) is not
    // replaced, and piscina queues later tasks forever: with nothing else pending the process would exit 0
    // mid-job. Such a failure ends the pool.
    if (this.failure !== undefined) throw errors.io('worker pool', this.failure);
    try {
      return (await this.ensure().run(task)) as Out;
    } catch (e) {
      const reason = this.failure ?? e;
      throw errors.io('worker pool', reason);
    }
  }

  async close(): Promise<void> {
    const p = this.piscina;
    this.piscina = undefined;
    if (p !== undefined) await p.close();
  }

  /** Stop the threads now, abandoning queued tasks. */
  async destroy(): Promise<void> {
    const p = this.piscina;
    this.piscina = undefined;
    if (p !== undefined) await p.destroy();
  }
}
