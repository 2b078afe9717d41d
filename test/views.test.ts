import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { makeVector, Table, type RecordBatch } from 'apache-arrow';
import { TanSipWcs } from '../src/wcs/tanSipWcs.js';
import { PhotoCalib } from '../src/photocalib/photoCalib.js';
import { KernelPool } from '../src/parallel/pool.js';
import { sharedFloat64, sharedUint8 } from '../src/parallel/shared.js';
import { runColumnKernel } from '../native-free-kernels/columnKernels.js';
import { withSky, withPixels, calibrated, withSkyAndCalibration, META_WCS } from '../src/catalog/views.js';
import { wcsHeaderDir } from './helpers.js';

const pool = new KernelPool({ workers: 2, minRowsForWorkers: 0 });
after(() => pool.close());

const wcs = TanSipWcs.fromFitsHeader(readFileSync(join(wcsHeaderDir, 'hsc_lsst_afw_sip3.hdr'), 'utf8'));
const photoCalib = PhotoCalib.fromJson({
  photoCalibVersion: 1, calibrationMean: 1000, calibrationErr: 10, isConstant: false,
  field: { type: 'chebyshev', bbox: { minX: 0, minY: 0, maxX: 2047, maxY: 4175 }, coefficients: [[1000, 2.5], [1.5, 0]] },
});

test('pixel -> sky on the pool equals the in-thread kernel bit for bit, for any chunking', async () => {
  const model = wcs.toKernelModel();
  const coord = fc.oneof(fc.double({ min: -500, max: 4500, noNaN: true }), fc.constant(NaN), fc.double());
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(coord, coord), { minLength: 1, maxLength: 400 }), fc.integer({ min: 1, max: 100 }), async (pts, chunkRows) => {
      const n = pts.length;
      const x = sharedFloat64(n), y = sharedFloat64(n);
      pts.forEach(([a, b], i) => { x[i] = a; y[i] = b; });
      const make = () => ({ kernel: 'tanSipPixelToSkyDeg', model, scalars: [], inputs: [x, y], outputs: [sharedFloat64(n), sharedFloat64(n)], status: sharedUint8(n) });
      const p = make(), t = make();
      assert.equal(await pool.run(p, n, { chunkRows }), runColumnKernel(t, 0, n));
      for (let k = 0; k < 2; k++) assert.deepEqual(new Uint8Array(p.outputs[k]!.buffer), new Uint8Array(t.outputs[k]!.buffer));
      assert.deepEqual(p.status, t.status);
    }),
    { numRuns: 25 },
  );
});

function catalog(n: number, batches: number): Table {
  const per = Math.ceil(n / batches);
  const out: RecordBatch[] = [];
  for (let s = 0; s < n; s += per) {
    const m = Math.min(per, n - s);
    const f = (g: (i: number) => number) => makeVector(Float64Array.from({ length: m }, (_, k) => g(s + k)));
    out.push(...new Table({
      slot_Centroid_x: f((i) => (i * 37.1) % 2048),
      slot_Centroid_y: f((i) => (i % 11 === 4 ? NaN : (i * 91.7) % 4176)),
      psf_instFlux: f((i) => (i % 17 === 0 ? -5 : 100 + i)),
      psf_instFluxErr: f((i) => 3 + (i % 5)),
      ap_instFlux: f((i) => 50 + i),
    }).batches);
  }
  return new Table(out);
}

test('withSky on the pool equals TanSipWcs#pixelToSkyArrays, with the detected slot_Centroid columns', async () => {
  const t = catalog(3000, 3);
  const out = await withSky(t, wcs, { pool, wcsVersion: 'run-1' });
  const x = Float64Array.from(t.getChild('slot_Centroid_x')!.toArray() as Float64Array);
  const y = Float64Array.from(t.getChild('slot_Centroid_y')!.toArray() as Float64Array);
  const ref = wcs.pixelToSkyArrays(x, y);
  assert.deepEqual(Float64Array.from(out.getChild('coord_ra')!.toArray() as Float64Array), ref.ra);
  assert.deepEqual(Float64Array.from(out.getChild('coord_dec')!.toArray() as Float64Array), ref.dec);
  assert.deepEqual(Uint8Array.from(out.getChild('status')!.toArray() as Uint8Array), ref.status);
  assert.equal(out.schema.fields.find((f) => f.name === 'coord_dec')!.metadata.get('ucd'), 'pos.eq.dec;meta.main');
  assert.equal(out.schema.metadata.get(META_WCS), 'run-1');
});

test('withPixels inverts withSky to a small fraction of a pixel', async () => {
  const t = new Table({ x: makeVector(Float64Array.from([0, 100.25, 2047, 1000])), y: makeVector(Float64Array.from([0, 3000.5, 4175, 17])) });
  const sky = await withSky(t, wcs, { pool });
  const back = await withPixels(new Table({ coord_ra: sky.getChild('coord_ra')!, coord_dec: sky.getChild('coord_dec')! }), wcs, { pool });
  for (let i = 0; i < 4; i++) {
    assert.ok(Math.abs((back.getChild('x')!.get(i) as number) - (t.getChild('x')!.get(i) as number)) < 1e-6);
    assert.ok(Math.abs((back.getChild('y')!.get(i) as number) - (t.getChild('y')!.get(i) as number)) < 1e-6);
  }
});

test('calibrated on the pool equals PhotoCalib#calibrateCatalog bit for bit, every flux family', async () => {
  const t = catalog(2500, 4);
  const opts = { xColumn: 'slot_Centroid_x', yColumn: 'slot_Centroid_y' };
  for (const legacyErrors of [false, true]) {
    const ours = await calibrated(t, photoCalib, { pool, legacyErrors });
    const ref = photoCalib.calibrateCatalog(t, undefined, { ...opts, legacyErrors });
    for (const name of ['psf_flux', 'psf_fluxErr', 'psf_mag', 'psf_magErr', 'ap_flux', 'ap_mag']) {
      assert.deepEqual(Float64Array.from(ours.getChild(name)!.toArray() as Float64Array), Float64Array.from(ref.getChild(name)!.toArray() as Float64Array), name);
    }
    assert.deepEqual(Uint8Array.from(ours.getChild('status')!.toArray() as Uint8Array), Uint8Array.from(ref.getChild('status')!.toArray() as Uint8Array), 'status');
    assert.equal(ours.getChild('ap_fluxErr'), null, 'no error columns without instFluxErr');
    assert.deepEqual(ours.schema.fields.map((f) => f.name), ref.schema.fields.map((f) => f.name), 'the same columns in the same order');
  }
});

test('sky and calibration together, as one view', async () => {
  const t = catalog(100, 1);
  const out = await withSkyAndCalibration(t, wcs, photoCalib, { pool, wcsVersion: 'w', photoCalibVersion: 'p' });
  assert.deepEqual(out.schema.fields.map((f) => f.name).slice(5), ['coord_ra', 'coord_dec', 'psf_flux', 'psf_fluxErr', 'psf_mag', 'psf_magErr', 'ap_flux', 'ap_mag', 'status']);
  assert.equal(out.schema.metadata.get('skycal.photoCalib'), 'p');
});
