/**
 * A magnitude that is NaN because its flux is <= 0 carries the status bit
 * nonPositiveFlux (16), and is counted (issue 10 item 3): in the calibrated
 * view (in-thread and on the pool), withSkyAndCalibration's one status
 * column, PhotoCalib#calibrateCatalog, and the view's count by bit. magErr is
 * NaN where mag is (flux 0 once gave magErr Infinity with no status).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Table, makeVector, type RecordBatch } from 'apache-arrow';
import { STATUS_NONFINITE_INPUT, STATUS_NONPOSITIVE_FLUX } from '../native-free-kernels/status.js';
import { TanSipWcs } from '../src/wcs/tanSipWcs.js';
import { PhotoCalib } from '../src/photocalib/photoCalib.js';
import { KernelPool } from '../src/parallel/pool.js';
import { calibrated, withSkyAndCalibration } from '../src/catalog/views.js';
import { wcsHeaderDir } from './helpers.js';

const onWorkers = new KernelPool({ workers: 2, minRowsForWorkers: 0 });
const inThread = new KernelPool({ workers: 0 });
after(() => onWorkers.close());

const wcs = TanSipWcs.fromFitsHeader(readFileSync(join(wcsHeaderDir, 'hsc_lsst_afw_sip3.hdr'), 'utf8'));
const calib = PhotoCalib.fromJson({
  photoCalibVersion: 1, calibrationMean: 1000, calibrationErr: 10, isConstant: false,
  field: { type: 'chebyshev', bbox: { minX: 0, minY: 0, maxX: 2047, maxY: 4175 }, coefficients: [[1000, 2.5], [1.5, 0]] },
});

/** Two flux families; `a` has errors, `b` has none. */
function catalog(a: number[], b: number[]): Table {
  const n = a.length;
  return new Table({
    x: makeVector(Float64Array.from({ length: n }, (_, i) => 100 + i)),
    y: makeVector(Float64Array.from({ length: n }, (_, i) => 200 + i)),
    a_instFlux: makeVector(Float64Array.from(a)),
    a_instFluxErr: makeVector(Float64Array.from({ length: n }, () => 3)),
    b_instFlux: makeVector(Float64Array.from(b)),
  });
}

const expectedBits = (a: number, b: number): number => {
  const one = (f: number) => (Number.isNaN(f) ? STATUS_NONFINITE_INPUT : f <= 0 ? STATUS_NONPOSITIVE_FLUX : 0);
  return one(a) | one(b);
};

const flux = fc.oneof(fc.double({ min: -1e4, max: 1e6, noNaN: true }), fc.constantFrom(0, -0, -1, NaN));

test('law: status = OR over flux families of (NaN flux -> nonFiniteInput, flux <= 0 -> nonPositiveFlux); mag and magErr NaN exactly there; pool == in-thread == calibrateCatalog', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(flux, flux), { minLength: 1, maxLength: 60 }), async (rows) => {
      const t = catalog(rows.map((r) => r[0]), rows.map((r) => r[1]));
      const pooled = await calibrated(t, calib, { pool: onWorkers });
      const thread = await calibrated(t, calib, { pool: inThread });
      const lib = calib.calibrateCatalog(t);
      const status = pooled.getChild('status')!.toArray() as Uint8Array;
      rows.forEach(([a, b], i) => {
        assert.equal(status[i], expectedBits(a, b), `row ${i}: a=${a} b=${b}`);
        const aBad = !(a > 0);
        assert.equal(Number.isNaN(pooled.getChild('a_mag')!.get(i)), aBad);
        assert.equal(Number.isNaN(pooled.getChild('a_magErr')!.get(i)), aBad, 'magErr NaN where mag is, never Infinity');
      });
      for (const name of ['a_flux', 'a_fluxErr', 'a_mag', 'a_magErr', 'b_flux', 'b_mag', 'status']) {
        const p = pooled.getChild(name)!.toArray(), q = thread.getChild(name)!.toArray(), r = lib.getChild(name)!.toArray();
        assert.deepEqual(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), new Uint8Array(q.buffer, q.byteOffset, q.byteLength), name);
        assert.deepEqual(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), new Uint8Array(r.buffer, r.byteOffset, r.byteLength), name);
      }
    }),
    { numRuns: 40 },
  );
});

test('flux 0: mag and magErr are NaN with nonPositiveFlux, not magErr Infinity with status 0', async () => {
  const t = catalog([0, -5, 100], [1, 1, 1]);
  const out = calib.calibrateCatalog(t);
  assert.deepEqual(Array.from(out.getChild('status')!.toArray() as Uint8Array), [STATUS_NONPOSITIVE_FLUX, STATUS_NONPOSITIVE_FLUX, 0]);
  assert.ok(Number.isNaN(out.getChild('a_magErr')!.get(0)));
  assert.ok(Number.isFinite(out.getChild('a_fluxErr')!.get(0)), 'the flux error still exists');
  assert.ok(Number.isFinite(out.getChild('a_magErr')!.get(2)));
});

test('a streamed view counts rows by status bit over its one status column (sky and calibration together)', async () => {
  const t = catalog([100, -1, 0, NaN, 5], [1, 1, -2, 1, 1]);
  const view = withSkyAndCalibration({ schema: t.schema, [Symbol.asyncIterator]: () => (async function* () { yield* t.batches; })() }, wcs, calib, { pool: onWorkers });
  const batches: RecordBatch[] = [];
  for await (const b of view) batches.push(b);
  const status = Array.from(new Table(batches).getChild('status')!.toArray() as Uint8Array);
  assert.deepEqual(status, [0, STATUS_NONPOSITIVE_FLUX, STATUS_NONPOSITIVE_FLUX, STATUS_NONFINITE_INPUT, 0]);
  assert.equal(view.badByStatus['nonPositiveFlux'], 2);
  assert.equal(view.badByStatus['nonFiniteInput'], 1);
});
