import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeVector, Table, type RecordBatch } from 'apache-arrow';
import { deriveStream, deriveTable, type ColumnDerivation } from '../src/catalog/derive.js';
import { float64Field, statusField } from '../src/catalog/columns.js';
import { withSky, calibrated } from '../src/catalog/views.js';
import { KernelPool } from '../src/parallel/pool.js';
import { STATUS_NONFINITE_INPUT } from '../native-free-kernels/status.js';

const pool = new KernelPool({ workers: 2, minRowsForWorkers: 0, chunkRows: 300 });
after(() => pool.close());

const AFFINE: ColumnDerivation = {
  kernel: 'affine',
  model: new Float64Array([100, 1e-3, 2e-4, -20, -3e-4, 1.5e-3]),
  inputs: ['x', 'y'],
  outputs: [float64Field('u', 'deg', 'pos', 'u'), float64Field('v', 'deg', 'pos', 'v')],
  status: statusField('status', 'affine'),
};

function columns(n: number, from = 0): { x: Float64Array; y: Float64Array; flux: Float64Array } {
  const x = Float64Array.from({ length: n }, (_, k) => ((from + k) * 7.3) % 4000);
  const y = Float64Array.from({ length: n }, (_, k) => ((from + k) % 13 === 5 ? NaN : (from + k) * 0.61));
  const flux = Float64Array.from({ length: n }, (_, k) => from + k);
  return { x, y, flux };
}

/** The same rows as one batch, or cut into batches at `cuts`. */
function table(n: number, cuts: number[] = []): Table {
  const bounds = [0, ...cuts, n];
  const batches: RecordBatch[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const c = columns(bounds[i + 1]! - bounds[i]!, bounds[i]!);
    batches.push(...new Table({ x: makeVector(c.x), y: makeVector(c.y), psf_instFlux: makeVector(c.flux) }).batches);
  }
  return new Table(batches);
}

function bytes(t: Table, name: string): number[] {
  const v = t.getChild(name)!;
  return [...new Uint8Array(Float64Array.from({ length: v.length }, (_, i) => v.get(i) as number).buffer)];
}

test('chunked Arrow columns give the same answer as one concatenated column', async () => {
  const one = await deriveTable(table(2000), [AFFINE], { pool });
  const chunked = await deriveTable(table(2000, [1, 333, 1000, 1999]), [AFFINE], { pool });
  assert.equal(chunked.batches.length, 5, 'the output keeps the input batching');
  for (const name of ['u', 'v']) assert.deepEqual(bytes(chunked, name), bytes(one, name));
  assert.deepEqual(chunked.getChild('status')!.toArray(), one.getChild('status')!.toArray());
});

test('a batch stream gives the same answer as the whole table', async () => {
  const t = table(1500, [500, 1000]);
  const whole = await deriveTable(t, [AFFINE], { pool });
  const stream = deriveStream({ schema: t.schema, async *[Symbol.asyncIterator]() { yield* t.batches; } }, [AFFINE], { pool });
  const out: RecordBatch[] = [];
  for await (const b of stream) out.push(b);
  const streamed = new Table(stream.schema, out);
  for (const name of ['u', 'v']) assert.deepEqual(bytes(streamed, name), bytes(whole, name));
  assert.deepEqual(stream.schema.fields.map((f) => f.name), ['x', 'y', 'psf_instFlux', 'u', 'v', 'status']);
});

test('NaN positions give NaN and a status bit; the rest of the batch is intact', async () => {
  const t = table(40);
  const out = await deriveTable(t, [AFFINE], { pool });
  for (let i = 0; i < 40; i++) {
    const bad = i % 13 === 5;
    assert.equal(out.getChild('status')!.get(i), bad ? STATUS_NONFINITE_INPUT : 0, `row ${i}`);
    assert.equal(Number.isNaN(out.getChild('u')!.get(i)), bad, `row ${i}`);
    if (!bad) assert.equal(out.getChild('u')!.get(i), 100 + 1e-3 * t.getChild('x')!.get(i) + 2e-4 * t.getChild('y')!.get(i));
  }
  assert.deepEqual(bytes(out, 'x'), bytes(t, 'x'), 'input columns pass through untouched');
});

test('a derived column replaces an input column of the same name', async () => {
  const t = new Table({ x: makeVector(new Float64Array([1, 2])), y: makeVector(new Float64Array([3, 4])), u: makeVector(new Float64Array([9, 9])) });
  const out = await deriveTable(t, [AFFINE], { pool, metadata: { 'skycal.wcs': 'r1' } });
  assert.deepEqual(out.schema.fields.map((f) => f.name), ['x', 'y', 'u', 'v', 'status']);
  assert.equal(out.getChild('u')!.get(0), 100 + 1e-3 + 6e-4);
  assert.equal(out.schema.metadata.get('skycal.wcs'), 'r1');
});

test('a catalog without centroid columns is refused, and the error names the columns looked for', () => {
  const t = new Table({ ra: makeVector(new Float64Array([1])), psf_instFlux: makeVector(new Float64Array([1])) });
  const wcs = { toKernelModel: () => new Float64Array(8) };
  assert.throws(() => withSky(t, wcs), { code: 'BAD_INPUT', message: /x\/y, slot_Centroid_x\/slot_Centroid_y, centroid_x\/centroid_y.*has ra, psf_instFlux/ });
  assert.throws(() => withSky(t, wcs, { centroid: 'base_SdssCentroid' }), { code: 'BAD_INPUT', message: /base_SdssCentroid_x\/base_SdssCentroid_y/ });
  assert.throws(() => calibrated(t, wcs), { code: 'BAD_INPUT', message: /no centroid columns/ });
});

test('a stream derived in-thread (inputs read from Arrow without a copy) equals the pool, and every yielded batch keeps its values', async () => {
  const t = table(1500, [500, 1000]);
  const source = () => ({ schema: t.schema, async *[Symbol.asyncIterator]() { yield* t.batches; } });
  const inThread = new KernelPool({ workers: 2, minRowsForWorkers: 1e9 });
  try {
    const collect = async (p: KernelPool): Promise<Table> => {
      const s = deriveStream(source(), [AFFINE], { pool: p });
      const out: RecordBatch[] = [];
      for await (const b of s) out.push(b);
      return new Table(s.schema, out);
    };
    const a = await collect(inThread);
    const b = await collect(pool);
    for (const name of ['u', 'v', 'x', 'y']) assert.deepEqual(bytes(a, name), bytes(b, name));
    assert.deepEqual(bytes(a, 'x'), bytes(t, 'x'), 'input columns pass through untouched');
    assert.deepEqual(a.getChild('status')!.toArray(), b.getChild('status')!.toArray());
  } finally {
    await inThread.close();
  }
});
