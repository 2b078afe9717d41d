/** Laws of the field and calibration kernels (native-free-kernels/boundedField.ts, photoCalib.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  STATUS_NONFINITE_INPUT,
  STATUS_NONPOSITIVE_FLUX,
  boundedFieldEvaluate,
  photoCalibCalibrate,
} from '../native-free-kernels/index.js';
import { ChebyshevField, ConstantField, PhotoCalib, ProductField, chebyshevRangeTransform } from '../src/photocalib/index.js';

const BOX = { minX: -3, minY: 5, maxX: 2047, maxY: 4175 };
const NONE = new Float64Array(0);
const NO_STATUS = new Uint8Array(0);

/** T_n(t) by the defining recurrence, independent of Clenshaw. */
function T(n: number, t: number): number {
  let a = 1, b = t;
  if (n === 0) return 1;
  for (let k = 1; k < n; k++) [a, b] = [b, 2 * t * b - a];
  return b;
}

const coefficientMatrix = (maxOrder: number) =>
  fc.integer({ min: 1, max: maxOrder }).chain((ny) =>
    fc.integer({ min: 1, max: maxOrder }).chain((nx) =>
      fc.array(fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: nx, maxLength: nx }), { minLength: ny, maxLength: ny }),
    ),
  );
const pixel = fc.record({ x: fc.double({ min: BOX.minX - 0.5, max: BOX.maxX + 0.5, noNaN: true }), y: fc.double({ min: BOX.minY - 0.5, max: BOX.maxY + 0.5, noNaN: true }) });

test('Chebyshev evaluation equals the explicit sum of a[j][i] T_i(x\') T_j(y\') (orders 0..6, 1e-12 of the coefficient scale)', () => {
  fc.assert(
    fc.property(coefficientMatrix(7), pixel, (c, p) => {
      const field = new ChebyshevField(BOX, c);
      const t = chebyshevRangeTransform(BOX);
      const u = t.scaleX * p.x + t.offsetX, v = t.scaleY * p.y + t.offsetY;
      let sum = 0, scale = 0;
      c.forEach((row, j) => row.forEach((a, i) => ((sum += a * T(i, u) * T(j, v)), (scale += Math.abs(a)))));
      assert.ok(Math.abs(field.evaluate(p.x, p.y) - sum) <= 1e-12 * Math.max(scale, 1e-300));
    }),
    { numRuns: 300 },
  );
});

test('the 4x4 fast path and the generic Clenshaw loop agree bitwise (orders <= 3; product with one factor uses the generic path)', () => {
  fc.assert(
    fc.property(coefficientMatrix(4), fc.array(pixel, { minLength: 1, maxLength: 20 }), (c, pts) => {
      const field = new ChebyshevField(BOX, c);
      // A product of [1, field] evaluates the field in multiply mode, i.e. by the generic loop.
      const generic = new ProductField([new ConstantField(1, BOX), field]);
      for (const p of pts) assert.equal(generic.evaluate(p.x, p.y), field.evaluate(p.x, p.y));
    }),
    { numRuns: 200 },
  );
});

test('a product field equals the product of its factors at every point (relative 1e-15)', () => {
  const a = new ChebyshevField(BOX, [[1, 0.1, 0.01], [0.2, 0.02, 0]]);
  const b = new ChebyshevField(BOX, [[2, -0.3], [0.1, 0.05], [0.01, 0]]);
  const k = new ConstantField(1.5, BOX);
  const prod = new ProductField([a, k, b]);
  fc.assert(
    fc.property(pixel, (p) => {
      const expect = a.evaluate(p.x, p.y) * 1.5 * b.evaluate(p.x, p.y);
      assert.ok(Math.abs(prod.evaluate(p.x, p.y) - expect) <= 1e-15 * Math.abs(expect));
    }),
  );
});

test('strided and offset inputs give the same values as contiguous ones (calibration kernel, bitwise)', () => {
  const pc = PhotoCalib.fromField(new ChebyshevField(BOX, [[1000, 20, -5, 1], [15, 3, 0, 0], [-7, 0, 0, 0], [1, 0, 0, 0]]), 12);
  const model = pc.toKernelModel();
  const n = 700; // more than one internal block
  const x = new Float64Array(n), y = new Float64Array(n), f = new Float64Array(n), e = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = (i * 37) % 2048; y[i] = (i * 91) % 4176; f[i] = 10 + i; e[i] = 1 + i / 100;
  }
  for (const legacy of [0, 1]) {
    const outs = () => [new Float64Array(n), new Float64Array(n), new Float64Array(n), new Float64Array(n)] as const;
    const [fl, fe, m, me] = outs();
    const st = new Uint8Array(n);
    photoCalibCalibrate(n, model, legacy, x, 1, 0, y, 1, 0, f, 1, 0, e, 1, 0, fl, 1, 0, fe, 1, 0, m, 1, 0, me, 1, 0, st, 1, 0);
    // Interleave inputs with stride 3 at offset 1; write outputs backwards (negative stride).
    const spread = (a: Float64Array) => { const s = new Float64Array(3 * n + 1); a.forEach((v, i) => (s[1 + 3 * i] = v)); return s; };
    const [sx, sy, sf, se] = [x, y, f, e].map(spread) as [Float64Array, Float64Array, Float64Array, Float64Array];
    const [rfl, rfe, rm, rme] = outs();
    const rst = new Uint8Array(n);
    photoCalibCalibrate(n, model, legacy, sx, 3, 1, sy, 3, 1, sf, 3, 1, se, 3, 1, rfl, -1, n - 1, rfe, -1, n - 1, rm, -1, n - 1, rme, -1, n - 1, rst, -1, n - 1);
    assert.deepEqual([...rfl].reverse(), [...fl]);
    assert.deepEqual([...rfe].reverse(), [...fe]);
    assert.deepEqual([...rm].reverse(), [...m]);
    assert.deepEqual([...rme].reverse(), [...me]);
    assert.deepEqual([...rst].reverse(), [...st]);
  }
});

test('bad points: non-finite input gives NaN everywhere and a status bit; flux <= 0 gives mag NaN, no throw', () => {
  const pc = PhotoCalib.fromField(new ChebyshevField(BOX, [[1000, 10]]), 5);
  const x = Float64Array.of(10, NaN, 10, 10, 10), y = Float64Array.of(10, 10, 10, 10, 10);
  const f = Float64Array.of(100, 100, Infinity, 0, -5), e = Float64Array.of(1, 1, 1, 1, 1);
  const fl = new Float64Array(5), fe = new Float64Array(5), m = new Float64Array(5), me = new Float64Array(5), st = new Uint8Array(5);
  const bad = photoCalibCalibrate(5, pc.toKernelModel(), 0, x, 1, 0, y, 1, 0, f, 1, 0, e, 1, 0, fl, 1, 0, fe, 1, 0, m, 1, 0, me, 1, 0, st, 1, 0);
  assert.equal(bad, 4);
  assert.deepEqual([...st], [0, STATUS_NONFINITE_INPUT, STATUS_NONFINITE_INPUT, STATUS_NONPOSITIVE_FLUX, STATUS_NONPOSITIVE_FLUX]);
  assert.ok(Number.isFinite(m[0]!) && Number.isNaN(m[1]!) && Number.isNaN(fl[1]!) && Number.isNaN(me[2]!));
  assert.ok(Number.isNaN(m[3]!) && Number.isNaN(m[4]!));
  assert.ok(fl[4]! < 0, 'a negative flux is still calibrated');
});

test('an empty instFluxErr leaves the error outputs untouched; an empty output is not written', () => {
  const model = PhotoCalib.constant(1000, 10).toKernelModel();
  const f = Float64Array.of(1, 2), fe = Float64Array.of(-1, -1), me = Float64Array.of(-2, -2), m = new Float64Array(2);
  photoCalibCalibrate(2, model, 0, NONE, 1, 0, NONE, 1, 0, f, 1, 0, NONE, 1, 0, NONE, 1, 0, fe, 1, 0, m, 1, 0, me, 1, 0, NO_STATUS, 1, 0);
  assert.deepEqual([...fe, ...me], [-1, -1, -2, -2]);
  assert.ok(Math.abs(m[0]! - 23.9) < 1e-13 * 23.9);
});

test('an unknown model version marks every point bad (never a guess); N <= 0 returns 0 and writes nothing', () => {
  const model = PhotoCalib.constant(1000).toKernelModel();
  model[0] = 99;
  const fl = new Float64Array(2), st = new Uint8Array(2);
  assert.equal(photoCalibCalibrate(2, model, 0, NONE, 1, 0, NONE, 1, 0, Float64Array.of(1, 2), 1, 0, NONE, 1, 0, fl, 1, 0, NONE, 1, 0, NONE, 1, 0, NONE, 1, 0, st, 1, 0), 2);
  assert.ok(fl.every(Number.isNaN));
  assert.equal(boundedFieldEvaluate(0, model, NONE, 1, 0, NONE, 1, 0, fl, 1, 0), 0);
});

test('boundedFieldEvaluate on a PhotoCalib model gives c(x, y), or calibrationMean when constant', () => {
  const field = new ChebyshevField(BOX, [[1000, 50], [20, 0]]);
  const out = new Float64Array(1);
  boundedFieldEvaluate(1, PhotoCalib.fromField(field).toKernelModel(), Float64Array.of(100), 1, 0, Float64Array.of(200), 1, 0, out, 1, 0);
  assert.equal(out[0], field.evaluate(100, 200));
  boundedFieldEvaluate(1, PhotoCalib.constant(7).toKernelModel(), NONE, 1, 0, NONE, 1, 0, out, 1, 0);
  assert.equal(out[0], 7);
});
