/** PhotoCalib and BoundedField: laws, persistence, catalogs, images and bad input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import ndarray from 'ndarray';
import { Float32, Table, makeVector, vectorFromArray } from 'apache-arrow';
import { SkycalError } from '../src/errors.js';
import {
  ChebyshevField,
  ConstantField,
  PhotoCalib,
  ProductField,
  fieldFromJson,
} from '../src/photocalib/index.js';

const BOX = { minX: 0, minY: 0, maxX: 2047, maxY: 4175 };
const CHEB = new ChebyshevField(BOX, [[1000, 2.5, -8], [1.5, 0.3, 0], [-6, 0, 0]]);

function throwsBadInput(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => SkycalError.isSkycalError(e) && e.code === 'BAD_INPUT' && pattern.test(e.message));
}

/** The average of a field over midpoints of an n x n subdivision of the widened box (midpoint rule: error ~ 1/n^2). */
function gridAverage(field: { evaluateArrays(x: ArrayLike<number>, y: ArrayLike<number>): Float64Array }, box: { minX: number; minY: number; maxX: number; maxY: number }, n: number): number {
  const w = box.maxX - box.minX + 1, h = box.maxY - box.minY + 1;
  const xs = new Float64Array(n * n), ys = new Float64Array(n * n);
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) {
    xs[j * n + i] = box.minX - 0.5 + (w * (i + 0.5)) / n;
    ys[j * n + i] = box.minY - 0.5 + (h * (j + 0.5)) / n;
  }
  return field.evaluateArrays(xs, ys).reduce((a, b) => a + b, 0) / (n * n);
}

test('mean() equals the average of c over a fine 600x600 grid (midpoint rule, 1e-5 relative)', () => {
  const box = { minX: -2, minY: -3, maxX: 5, maxY: 7 };
  const field = new ChebyshevField(box, [[7, 1, 13], [31, 2, 0], [0, 3, 11]]);
  assert.ok(Math.abs(gridAverage(field, box, 600) - field.mean()) <= 1e-5 * Math.abs(field.mean()));
});

test('a product field\'s closed-form mean equals the grid average of the product of its factors (600x600, 1e-5 relative)', () => {
  const box = { minX: 0, minY: 0, maxX: 9, maxY: 19 };
  const a = new ChebyshevField(box, [[1, 0.5, 0.2], [0.3, 0.1, 0]]);
  const b = new ChebyshevField(box, [[2, -0.4], [0.2, 0.3]]);
  const prod = new ProductField([a, new ConstantField(3, box), b]);
  assert.ok(Math.abs(gridAverage(prod, box, 600) - prod.mean()) <= 1e-5 * Math.abs(prod.mean()));
  assert.ok(Math.abs(prod.integrate() - prod.mean() * 200) <= 1e-12 * Math.abs(prod.integrate()));
});

test('magnitudeToInstFlux(instFluxToMagnitude(f)) = f to 1e-12 relative over 1e-3..1e9 counts, at any position', () => {
  const pc = PhotoCalib.fromField(CHEB, 3);
  fc.assert(
    fc.property(fc.double({ min: -3, max: 9, noNaN: true }), fc.double({ min: 0, max: 2047, noNaN: true }), fc.double({ min: 0, max: 4175, noNaN: true }), (lg, x, y) => {
      const f = 10 ** lg;
      const p = { x, y };
      const back = pc.magnitudeToInstFlux(pc.instFluxToMagnitude(f, p), p);
      assert.ok(Math.abs(back - f) <= 1e-12 * f, `${f} -> ${back}`);
      assert.ok(Math.abs(pc.nanojanskyToInstFlux(pc.instFluxToNanojansky(f, p), p) - f) <= 1e-15 * f * 4);
    }),
    { numRuns: 300 },
  );
});

test('JSON round trip is exact for constant, Chebyshev and product calibrations (deepEqual, bitwise evaluation)', () => {
  const prod = new ProductField([CHEB, new ChebyshevField(BOX, [[1, 1e-3], [2e-3, 0]])]);
  for (const pc of [PhotoCalib.constant(1234.5678901234567, 0.1), PhotoCalib.fromField(CHEB, 7.25), PhotoCalib.fromField(prod, 1 / 3)]) {
    const text = JSON.stringify(pc.toJson());
    const back = PhotoCalib.fromJson(text);
    assert.deepEqual(back.toJson(), pc.toJson());
    assert.deepEqual(back.toKernelModel(), pc.toKernelModel());
    assert.equal(back.getLocalCalibration(123.25, 987.5), pc.getLocalCalibration(123.25, 987.5));
  }
});

test('the DESIGN.md §3 example reads, with c(x, y) from the field and calibrationMean as stored', () => {
  const pc = PhotoCalib.fromJson({
    photoCalibVersion: 1, calibrationMean: 1000, calibrationErr: 10, isConstant: false,
    field: { type: 'chebyshev', bbox: { minX: 0, minY: 0, maxX: 2047, maxY: 4175 }, coefficients: [[1000, 2.5], [1.5, 0]] },
  });
  assert.equal(pc.calibrationMean, 1000);
  assert.equal(pc.getLocalCalibration(1023.5, 2087.5), 1000); // the box centre maps to (0, 0)
  assert.ok(Math.abs(pc.getLocalCalibration(2047.5, 2087.5) - 1002.5) < 1e-12);
});

test('bad input: negative calibrationMean or calibrationErr, unknown JSON version, non-finite coefficients', () => {
  throwsBadInput(() => PhotoCalib.constant(-1), /calibrationMean must not be negative/);
  throwsBadInput(() => PhotoCalib.constant(1, -0.5), /calibrationErr must not be negative/);
  throwsBadInput(() => PhotoCalib.fromJson({ photoCalibVersion: 2, calibrationMean: 1, calibrationErr: 0, isConstant: true, field: { type: 'constant', value: 1 } }), /unknown photoCalibVersion 2/);
  throwsBadInput(() => PhotoCalib.fromJson('{"calibrationMean": 1}'), /unknown photoCalibVersion undefined/);
  throwsBadInput(() => new ChebyshevField(BOX, [[1, NaN]]), /coefficient \[0\]\[1\]/);
  throwsBadInput(() => new ChebyshevField(BOX, [[1, Infinity]]), /finite/);
  throwsBadInput(() => new ChebyshevField(BOX, [[1, 2], [3]]), /row 1/);
  throwsBadInput(() => new ChebyshevField({ minX: 0, minY: 0, maxX: -1, maxY: 5 }, [[1]]), /empty box/);
  throwsBadInput(() => fieldFromJson({ type: 'spline' }), /unknown field type "spline"/);
  throwsBadInput(() => PhotoCalib.fromFluxMag0(0), /FLUXMAG0 must be positive/);
  throwsBadInput(() => PhotoCalib.fromFitsHeader('EXPTIME =                 30.0'), /no FLUXMAG0/);
});

test('bad input: product factors with different bboxes, and an empty product', () => {
  const other = new ChebyshevField({ ...BOX, maxX: 2000 }, [[1]]);
  throwsBadInput(() => new ProductField([CHEB, other]), /different bboxes \(0,0\)\.\.\(2047,4175\) and \(0,0\)\.\.\(2000,4175\)/);
  throwsBadInput(() => new ProductField([]), /at least one factor/);
  throwsBadInput(() => fieldFromJson({ type: 'product', factors: [] }), /at least one factor/);
});

test('zero or negative instFlux gives mag NaN without throwing (flux still calibrated)', () => {
  const pc = PhotoCalib.fromField(CHEB, 1);
  for (const f of [0, -1, -1e6]) {
    assert.ok(Number.isNaN(pc.instFluxToMagnitude(f, { x: 5, y: 5 })));
    assert.ok(Number.isNaN(pc.instFluxToMagnitudeWithError(f, 1, { x: 5, y: 5 }).value));
    assert.equal(pc.instFluxToNanojansky(f, { x: 5, y: 5 }), f * CHEB.evaluate(5, 5));
  }
});

function catalog(n: number) {
  const x = new Float64Array(n), y = new Float64Array(n), f = new Float64Array(n), e = new Float64Array(n), g = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = (i * 131) % 2048; y[i] = (i * 71) % 4176; f[i] = i % 17 === 0 ? -3 : 5 + i; e[i] = 0.5 + i / 50; g[i] = 100 + i;
  }
  return { x, y, a_instFlux: f, a_instFluxErr: e, b_instFlux: g, id: Float64Array.from({ length: n }, (_, i) => i) };
}

test('calibrateCatalog adds flux/mag for every _instFlux and errors only where _instFluxErr exists, with units; input untouched', () => {
  const cols = catalog(50);
  const table = new Table(Object.fromEntries(Object.entries(cols).map(([k, v]) => [k, makeVector(v)])));
  const before = JSON.stringify(table.schema.fields.map((f) => f.name));
  const pc = PhotoCalib.fromField(CHEB, 4);
  const out = pc.calibrateCatalog(table);
  assert.equal(JSON.stringify(table.schema.fields.map((f) => f.name)), before);
  assert.deepEqual(out.schema.fields.map((f) => f.name), [...Object.keys(cols), 'a_flux', 'a_fluxErr', 'a_mag', 'a_magErr', 'b_flux', 'b_mag', 'status']);
  assert.equal(out.schema.fields.find((f) => f.name === 'a_flux')!.metadata.get('unit'), 'nJy');
  assert.equal(out.schema.fields.find((f) => f.name === 'b_mag')!.metadata.get('unit'), 'mag(AB)');
  for (let i = 0; i < 50; i++) {
    const p = { x: cols.x[i]!, y: cols.y[i]! };
    const m = pc.instFluxToMagnitudeWithError(cols.a_instFlux[i]!, cols.a_instFluxErr[i]!, p);
    assert.equal(out.getChild('a_flux')!.get(i), pc.instFluxToNanojansky(cols.a_instFlux[i]!, p));
    assert.deepEqual([out.getChild('a_mag')!.get(i), out.getChild('a_magErr')!.get(i)], [m.value, m.error]);
  }
  const legacy = pc.calibrateCatalog(table, ['a'], { legacyErrors: true });
  assert.deepEqual(legacy.schema.fields.map((f) => f.name).slice(-5), ['a_flux', 'a_fluxErr', 'a_mag', 'a_magErr', 'status']);
  assert.equal(legacy.getChild('a_fluxErr')!.get(3), pc.instFluxToNanojanskyWithError(cols.a_instFlux[3]!, cols.a_instFluxErr[3]!, { x: cols.x[3]!, y: cols.y[3]! }, { legacyErrors: true }).error);
});

test('a chunked Arrow table (several record batches, Float32 input) gives the same columns as one chunk', () => {
  const cols = catalog(1000);
  const whole = new Table(Object.fromEntries(Object.entries(cols).map(([k, v]) => [k, makeVector(v)])));
  const pieces = [0, 1, 333, 334, 999, 1000].slice(0, -1).map((s, k, arr) => whole.slice(s, [1, 333, 334, 999, 1000][k]));
  const chunked = pieces.slice(1).reduce((t, p) => t.concat(p), pieces[0]!);
  assert.ok(chunked.batches.length > 1);
  const pc = PhotoCalib.fromField(CHEB, 4);
  const a = pc.calibrateCatalog(whole), b = pc.calibrateCatalog(chunked);
  for (const name of ['a_flux', 'a_mag', 'a_fluxErr', 'a_magErr', 'b_flux', 'b_mag']) {
    assert.deepEqual(Float64Array.from(b.getChild(name)!.toArray()), Float64Array.from(a.getChild(name)!.toArray()), name);
  }
  // Float32 instFlux is widened, not rejected.
  const f32 = new Table({ x: makeVector(cols.x), y: makeVector(cols.y), a_instFlux: vectorFromArray([...cols.a_instFlux], new Float32()) });
  assert.equal(pc.calibrateCatalog(f32).getChild('a_flux')!.get(5), pc.instFluxToNanojansky(Math.fround(cols.a_instFlux[5]!), { x: cols.x[5]!, y: cols.y[5]! }));
});

test('calibrateCatalog: a fields name with no _instFlux column is an error naming the column; missing centroids too', () => {
  const table = new Table({ x: makeVector(Float64Array.of(1)), y: makeVector(Float64Array.of(1)), a_instFlux: makeVector(Float64Array.of(1)) });
  const pc = PhotoCalib.fromField(CHEB);
  throwsBadInput(() => pc.calibrateCatalog(table, ['base_PsfFlux']), /no column base_PsfFlux_instFlux/);
  throwsBadInput(() => pc.calibrateCatalog(table, undefined, { xColumn: 'slot_Centroid_x' }), /no centroid column slot_Centroid_x/);
  // A constant calibration needs no centroid.
  const noXY = new Table({ a_instFlux: makeVector(Float64Array.of(1)) });
  assert.equal(PhotoCalib.constant(1000).calibrateCatalog(noXY).getChild('a_flux')!.get(0), 1000);
});

test('calibrateImage: image x c and variance x c^2 over the overlap only; inputs untouched', () => {
  const box = { minX: 10, minY: 20, maxX: 14, maxY: 23 };
  const field = new ChebyshevField(box, [[2, 0.5], [0.25, 0]]);
  const pc = PhotoCalib.fromField(field);
  const rows = 6, cols = 8, x0 = 8, y0 = 19;
  const img = ndarray(Float32Array.from({ length: rows * cols }, (_, i) => i + 1), [rows, cols]);
  const vari = ndarray(new Float64Array(rows * cols).fill(4), [rows, cols]);
  const out = pc.calibrateImage(img, vari, { x: x0, y: y0 });
  assert.ok(out.image.data instanceof Float32Array);
  for (let j = 0; j < rows; j++) for (let i = 0; i < cols; i++) {
    const px = x0 + i, py = y0 + j;
    const inside = px >= 10 && px <= 14 && py >= 20 && py <= 23;
    const c = inside ? field.evaluate(px, py) : 1;
    assert.equal(out.image.get(j, i), Math.fround(img.get(j, i) * c), `image ${i},${j}`);
    assert.equal(out.variance!.get(j, i), 4 * c * c, `variance ${i},${j}`);
  }
  assert.equal(img.get(2, 3), 2 * cols + 4);
});

test('evaluateGrid returns an ndarray [y][x] on the step grid equal to point evaluation', () => {
  const g = CHEB.evaluateGrid({ minX: 0, minY: 0, maxX: 2047, maxY: 4175 }, 512);
  assert.deepEqual(g.shape, [9, 4]);
  assert.equal(g.get(8, 3), CHEB.evaluate(1536, 4096));
});

test('ChebyshevField.fit recovers the coefficients of exact data (grid and scattered, triangular and full, 1e-9 abs)', () => {
  const box = { minX: 0, minY: 0, maxX: 63, maxY: 47 };
  const truth = new ChebyshevField(box, [[10, 1, 0.5], [2, 0.25, 0], [0.3, 0, 0]]);
  const fitted = ChebyshevField.fit(truth.evaluateGrid(), 2, 2, { triangular: true });
  fitted.coefficients.forEach((row, j) => row.forEach((a, i) => assert.ok(Math.abs(a - truth.coefficients[j]![i]!) < 1e-9, `${j},${i}`)));
  const full = new ChebyshevField(box, [[1, 2], [3, 4]]);
  const xs = Array.from({ length: 40 }, (_, k) => (k * 7) % 64), ys = Array.from({ length: 40 }, (_, k) => (k * 11) % 48);
  const fit2 = ChebyshevField.fit({ x: xs, y: ys, z: xs.map((x, k) => full.evaluate(x, ys[k]!)) }, 1, 1, { triangular: false, bbox: box });
  fit2.coefficients.forEach((row, j) => row.forEach((a, i) => assert.ok(Math.abs(a - full.coefficients[j]![i]!) < 1e-9)));
  throwsBadInput(() => ChebyshevField.fit({ x: [1, 2], y: [1, 2], z: [1, 2] }, 3, 3), /cannot fix/);
});

test('scaled(k) multiplies every value by k (Chebyshev coefficients exactly, product via its first factor)', () => {
  const s = CHEB.scaled(2);
  assert.deepEqual(s.coefficients, CHEB.coefficients.map((r) => r.map((a) => a * 2)));
  const prod = new ProductField([CHEB, new ConstantField(3, BOX)]);
  assert.ok(Math.abs(prod.scaled(0.5).evaluate(100, 100) - 0.5 * prod.evaluate(100, 100)) <= 1e-15 * prod.evaluate(100, 100));
});
