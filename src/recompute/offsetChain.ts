/**
 * Where each job's bytes go in one output file, decided by the jobs
 * themselves: job k writes where job k-1's bytes end, as soon as job k-1
 * knows its length (after encoding, before writing). So the workers write
 * the output in parallel, and only each part's footer crosses to the main
 * thread: no bytes moved between threads, none for the main thread's
 * garbage collector (which was most of its time with two workers).
 *
 * A SharedArrayBuffer holds, per job, a state (0 open, 1 placed, 2 failed)
 * and the offset where its bytes end. Jobs are handed out in order and a
 * worker runs one at a time, so when job k waits, job k-1 is already
 * running (or done) on another thread and never waits on k: no deadlock.
 * A job that fails marks itself failed, so that its successors give up
 * instead of waiting; the main thread can cancel the whole chain.
 */
import { errors } from '../errors.js';

const OPEN = 0;
const PLACED = 1;
const FAILED = 2;
/** How long a job waits between looks at the cancel flag (ms). */
const WAIT_SLICE_MS = 250;

/**
 * Layout: Float64 ends[0..jobs] (ends[0] the start, ends[k + 1] job k's end),
 * then Int32 state[0..jobs + 1] (state[0] the cancel flag, state[k + 1] job k's).
 */
function views(chain: SharedArrayBuffer): { state: Int32Array; ends: Float64Array; jobs: number } {
  const jobs = (chain.byteLength - 16) / 12;
  return { ends: new Float64Array(chain, 0, jobs + 1), state: new Int32Array(chain, 8 * (jobs + 1), jobs + 2), jobs };
}

/** A chain for `jobs` jobs whose bytes start at byte `start` of the output. */
export function offsetChain(jobs: number, start: number): SharedArrayBuffer {
  const chain = new SharedArrayBuffer(12 * jobs + 16);
  views(chain).ends[0] = start;
  return chain;
}

/**
 * Job `k` takes `length` bytes where job k-1's end; blocks until job k-1
 * has placed itself. Throws (INTERNAL: a cancellation, not a cause) when a
 * predecessor failed or the chain was cancelled.
 */
export function placeJob(chain: SharedArrayBuffer, k: number, length: number): number {
  const { state, ends, jobs } = views(chain);
  if (!(k >= 0 && k < jobs)) throw new RangeError(`job ${k} of a chain of ${jobs}`);
  if (k > 0) {
    while (Atomics.load(state, k) === OPEN) {
      if (Atomics.load(state, 0) !== 0) break;
      Atomics.wait(state, k, OPEN, WAIT_SLICE_MS);
    }
    if (Atomics.load(state, k) !== PLACED) {
      failJob(chain, k);
      throw errors.internal(`recompute job ${k}: cancelled (an earlier job failed)`);
    }
  }
  const at = ends[k]!;
  ends[k + 1] = at + length;
  // The store publishes ends[k + 1] to whoever loads this state after it.
  Atomics.store(state, k + 1, PLACED);
  Atomics.notify(state, k + 1);
  return at;
}

/** Job `k` will not place itself: its successors stop waiting. */
export function failJob(chain: SharedArrayBuffer, k: number): void {
  const { state } = views(chain);
  if (Atomics.compareExchange(state, k + 1, OPEN, FAILED) === OPEN) Atomics.notify(state, k + 1);
}

/** Every waiting job gives up (the main thread, when the job as a whole fails). */
export function cancelChain(chain: SharedArrayBuffer): void {
  const { state } = views(chain);
  Atomics.store(state, 0, 1);
  for (let i = 1; i < state.length; i++) Atomics.notify(state, i);
}

/** Where job k's bytes end (after it placed itself). */
export function jobEnd(chain: SharedArrayBuffer, k: number): number {
  return views(chain).ends[k + 1]!;
}
