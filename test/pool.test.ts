import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { KernelPool } from '../src/parallel/pool.js';
import { TaskPool } from '../src/parallel/taskPool.js';
import { sharedFloat64, sharedUint8 } from '../src/parallel/shared.js';
import { runColumnKernel } from '../native-free-kernels/columnKernels.js';
import { STATUS_NONFINITE_INPUT } from '../native-free-kernels/status.js';
import { repoRoot } from './helpers.js';

// One small pool for every property run (pools are costly to start).
const pool = new KernelPool({ workers: 2, minRowsForWorkers: 0 });
after(() => pool.close());

const MODEL = new Float64Array([10.5, 0.25, -1e-3, -3, 2e-3, 0.75]);

function job(x: Float64Array, y: Float64Array) {
  const n = x.length;
  return { kernel: 'affine', model: MODEL, scalars: [], inputs: [x, y], outputs: [sharedFloat64(n), sharedFloat64(n)], status: sharedUint8(n) };
}

function sharedOf(values: number[]): Float64Array {
  const a = sharedFloat64(values.length);
  a.set(values);
  return a;
}

test('pool results equal in-thread results bit for bit for any chunking', async () => {
  const value = fc.oneof(fc.double({ noNaN: false }), fc.double({ min: -5000, max: 5000 }));
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(value, value), { minLength: 1, maxLength: 300 }), fc.integer({ min: 1, max: 64 }), async (pts, chunkRows) => {
      const x = sharedOf(pts.map((p) => p[0]));
      const y = sharedOf(pts.map((p) => p[1]));
      const inPool = job(x, y);
      const inThread = job(x, y);
      const badPool = await pool.run(inPool, pts.length, { chunkRows });
      const badThread = runColumnKernel(inThread, 0, pts.length);
      assert.equal(badPool, badThread);
      for (let k = 0; k < 2; k++) {
        // Compare the bytes, so that NaN payloads and -0 count too.
        assert.deepEqual(new Uint8Array(inPool.outputs[k]!.buffer), new Uint8Array(inThread.outputs[k]!.buffer));
      }
      assert.deepEqual(inPool.status, inThread.status);
    }),
    { numRuns: 40 },
  );
});

test('a one-worker pool gives the same bytes as a two-worker pool', async () => {
  const one = new KernelPool({ workers: 1, minRowsForWorkers: 0 });
  try {
    const n = 10_000;
    // (TypedArray#map would allocate a non-shared copy.)
    const x = sharedFloat64(n);
    const y = sharedFloat64(n);
    for (let i = 0; i < n; i++) {
      x[i] = i * 0.37;
      y[i] = Math.sin(i) * 4000;
    }
    const a = job(x, y);
    const b = job(x, y);
    await one.run(a, n, { chunkRows: 777 });
    await pool.run(b, n, { chunkRows: 1234 });
    assert.deepEqual(new Uint8Array(a.outputs[0]!.buffer), new Uint8Array(b.outputs[0]!.buffer));
  } finally {
    await one.close();
  }
});

test('NaN positions give NaN and a status bit; the other rows are computed', async () => {
  const x = sharedOf([1, NaN, 3, Infinity]);
  const y = sharedOf([1, 2, NaN, 4]);
  const j = job(x, y);
  const bad = await pool.run(j, 4, { chunkRows: 1 });
  assert.equal(bad, 3);
  assert.deepEqual([...j.status], [0, STATUS_NONFINITE_INPUT, STATUS_NONFINITE_INPUT, STATUS_NONFINITE_INPUT]);
  assert.equal(j.outputs[0]![0], 10.5 + 0.25 - 1e-3);
  assert.ok(Number.isNaN(j.outputs[0]![1]!) && Number.isNaN(j.outputs[1]![2]!));
});

test('pool columns that are not shared memory are refused', async () => {
  const j = { ...job(sharedOf([1]), sharedOf([2])), inputs: [new Float64Array(1), new Float64Array(1)] };
  await assert.rejects(pool.run(j, 1), /SharedArrayBuffer/);
});

test('a worker that fails to load surfaces as a clear error', async () => {
  const broken = new KernelPool({ workers: 1, minRowsForWorkers: 0, workerUrl: pathToFileURL(join(repoRoot, 'test', 'fixtures', 'broken-worker.mjs')) });
  const j = job(sharedOf([1, 2]), sharedOf([3, 4]));
  await assert.rejects(broken.run(j, 2), (e: Error & { code?: string }) => e.code === 'IO' && /worker pool: .*broken worker for tests/.test(e.message));
  await broken.close();
});

test('a started pool whose workers failed to load before its first task rejects that task (it hung, and the process exited 0 mid-job)', async () => {
  const broken = new TaskPool({ workers: 1, workerUrl: pathToFileURL(join(repoRoot, 'test', 'fixtures', 'broken-worker.mjs')) }).start();
  // Long enough for the worker to fail while no task is queued (it fails within ~50 ms).
  for (let i = 0; i < 200 && broken.threads > 0; i++) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 100));
  // A timer keeps the loop alive, so a hang fails the test instead of ending the file early.
  const hang = setTimeout(() => assert.fail('the task neither ran nor was rejected'), 10_000);
  try {
    await assert.rejects(broken.run({}), (e: Error & { code?: string }) => e.code === 'IO' && /worker pool: .*broken worker for tests/.test(e.message));
  } finally {
    clearTimeout(hang);
    await broken.close();
  }
});

test('a worker that throws surfaces as a clear error', async () => {
  const throwing = new KernelPool({ workers: 1, minRowsForWorkers: 0, workerUrl: pathToFileURL(join(repoRoot, 'test', 'fixtures', 'throwing-worker.mjs')) });
  const j = job(sharedOf([1, 2]), sharedOf([3, 4]));
  await assert.rejects(throwing.run(j, 2), (e: Error & { code?: string }) => e.code === 'IO' && /kernel exploded/.test(e.message));
  await throwing.close();
});

test('the worker module imports only the native-free kernels', () => {
  const text = readFileSync(join(repoRoot, 'src', 'parallel', 'kernelWorker.ts'), 'utf8');
  const specifiers = [...text.matchAll(/^\s*import\b[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
  assert.ok(specifiers.length > 0);
  assert.deepEqual(specifiers.filter((s) => !s.startsWith('../../native-free-kernels/')), []);
});
