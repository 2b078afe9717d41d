/**
 * The offset chain (src/recompute/offsetChain.ts): jobs placing their bytes
 * in one output from several threads at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { cancelChain, failJob, jobEnd, offsetChain, placeJob } from '../src/recompute/offsetChain.js';
import { errorCodeOf, fuzzSeed } from './helpers.js';

const chainUrl = new URL('../src/recompute/offsetChain.js', import.meta.url).href;

/** A thread that places jobs `ks` (in order) with the given lengths, each after `delayMs[k]`; answers each job's offset or error code. */
function placer(chain: SharedArrayBuffer, ks: number[], lengths: number[], delayMs: number[]): Promise<Record<number, number | string>> {
  const source = `
    const { workerData, parentPort } = require('node:worker_threads');
    import(workerData.chainUrl).then(({ placeJob }) => {
      const out = {};
      for (const k of workerData.ks) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.delayMs[k]);
        try { out[k] = placeJob(workerData.chain, k, workerData.lengths[k]); } catch (e) { out[k] = e.code ?? String(e); }
      }
      parentPort.postMessage(out);
    });`;
  const w = new Worker(source, { eval: true, workerData: { chain, ks, lengths, delayMs, chainUrl } });
  return new Promise((resolve, reject) => {
    w.once('message', (m) => void w.terminate().then(() => resolve(m as Record<number, number | string>)));
    w.once('error', reject);
  });
}

test('offset chain: job k is placed at start + the lengths of jobs 0..k-1, whichever thread finishes encoding first (property over lengths, 1-4 threads and delays)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.nat({ max: 1 << 20 }), { minLength: 1, maxLength: 12 }),
      fc.integer({ min: 1, max: 4 }),
      fc.nat({ max: 1000 }),
      fc.array(fc.nat({ max: 5 }), { minLength: 12, maxLength: 12 }),
      async (lengths, threads, start, delayMs) => {
        const chain = offsetChain(lengths.length, start);
        // Jobs handed out round-robin, as in-order dispatch to `threads` workers would.
        const byThread = Array.from({ length: threads }, (_, t) => lengths.map((_, k) => k).filter((k) => k % threads === t));
        const placed = Object.assign({}, ...(await Promise.all(byThread.map((ks) => placer(chain, ks, lengths, delayMs)))));
        let at = start;
        lengths.forEach((n, k) => {
          assert.equal(placed[k], at, `job ${k}`);
          at += n;
          assert.equal(jobEnd(chain, k), at);
        });
      },
    ),
    { numRuns: 25, ...fuzzSeed() },
  );
});

test('offset chain: a failed job cancels its successors (INTERNAL) but not its predecessors; a placed job is not un-placed by a late failJob', async () => {
  const chain = offsetChain(4, 4);
  assert.equal(placeJob(chain, 0, 10), 4);
  failJob(chain, 0); // too late: job 0 has placed itself
  assert.equal(placeJob(chain, 1, 5), 14);
  failJob(chain, 2);
  assert.equal(errorCodeOf(() => placeJob(chain, 3, 1)), 'INTERNAL');
  assert.throws(() => placeJob(chain, 4, 1), RangeError);
});

test('offset chain: a job waiting for its place gives up when the chain is cancelled (no hang)', async () => {
  const chain = offsetChain(2, 0);
  const waiting = placer(chain, [1], [0, 7], [0, 0]); // job 0 never places itself
  await new Promise((r) => setTimeout(r, 100));
  const t0 = Date.now();
  cancelChain(chain);
  assert.deepEqual(await waiting, { 1: 'INTERNAL' });
  assert.ok(Date.now() - t0 < 5000, 'the waiter woke up');
});
