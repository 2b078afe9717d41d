/** Laws of the TAN-SIP model over random realistic models (fast-check). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TanSipWcs } from '../src/wcs/index.js';
import { tanSipPixelToSkyDeg, tanSipSkyToPixelApproxDeg, tanSipSkyToPixelDeg } from '../native-free-kernels/index.js';
import { tanSipModel } from './wcs-arbitraries.js';

const RUNS = Number(process.env['SKYCAL_PROPERTY_RUNS'] ?? 60);

test('round trip: skyToPixel(pixelToSky(p)) = p within 1e-9 px over the image + 10% margin (random TAN-SIP, orders 0-5, poles, RA 0/360, CRPIX off chip, flips, distortion <= 30 px)', () => {
  fc.assert(
    fc.property(tanSipModel(30), fc.boolean(), (m, withInverse) => {
      let wcs = TanSipWcs.fromFitsHeader(m.header);
      if (withInverse && wcs.hasSip) wcs = wcs.fitInverse({ order: Math.min(m.order + 1, 5), bbox: m.bbox }).wcs;
      const r = wcs.roundTripResidual(m.bbox, { margin: 0.1, gridPerAxis: 13 });
      assert.equal(r.bad, 0);
      assert.ok(r.maxResidualPx <= 1e-9, `round trip ${r.maxResidualPx} px`);
    }),
    { numRuns: RUNS },
  );
});

test('header round trip: fromFitsHeader(toFitsHeader(w)) reproduces the model bit for bit, and writing again gives the same text', () => {
  fc.assert(
    fc.property(tanSipModel(30), fc.boolean(), (m, withInverse) => {
      let wcs = TanSipWcs.fromFitsHeader(m.header);
      if (withInverse && wcs.hasSip) wcs = wcs.fitInverse({ order: 3, bbox: m.bbox }).wcs;
      const text = wcs.toFitsHeader();
      const back = TanSipWcs.fromFitsHeader(text);
      assert.ok(back.equals(wcs));
      assert.deepEqual(back.toKernelModel(), wcs.toKernelModel());
      assert.equal(back.toFitsHeader(), text);
      if (wcs.hasSip) assert.match(text, /CTYPE1  = 'RA---TAN-SIP'/);
    }),
    { numRuns: RUNS },
  );
});

function sameBits(a: Float64Array, b: Float64Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

test('strided, offset and negative-stride kernel calls equal the contiguous call bit for bit; inputs are never modified', () => {
  fc.assert(
    fc.property(tanSipModel(30), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 5 }), fc.integer(), (m, n, stride, offset, seed) => {
      const wcs = TanSipWcs.fromFitsHeader(m.header);
      const model = wcs.toKernelModel();
      const modelCopy = model.slice();
      let s = seed >>> 0;
      const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
      const x = Float64Array.from({ length: n }, () => m.bbox.maxX * rand());
      const y = Float64Array.from({ length: n }, () => m.bbox.maxY * rand());
      x[0] = NaN; // a bad point is part of the law too
      // Contiguous reference.
      const ra = new Float64Array(n), dec = new Float64Array(n), st = new Uint8Array(n);
      const bad = tanSipPixelToSkyDeg(n, model, x, 1, 0, y, 1, 0, ra, 1, 0, dec, 1, 0, st, 1, 0);
      const px = new Float64Array(n), py = new Float64Array(n), pst = new Uint8Array(n);
      const bad2 = tanSipSkyToPixelDeg(n, model, 50, 1e-10, ra, 1, 0, dec, 1, 0, px, 1, 0, py, 1, 0, pst, 1, 0);
      const ax = new Float64Array(n), ay = new Float64Array(n), ast = new Uint8Array(n);
      const bad3 = tanSipSkyToPixelApproxDeg(n, model, ra, 1, 0, dec, 1, 0, ax, 1, 0, ay, 1, 0, ast, 1, 0);
      // Interleaved inputs/outputs with stride and offset.
      const len = offset + n * stride;
      const spread = (a: Float64Array) => {
        const out = new Float64Array(len).fill(-7);
        a.forEach((v, i) => (out[offset + i * stride] = v));
        return out;
      };
      const gather = (a: Float64Array | Uint8Array, st_: number, off: number) => Float64Array.from({ length: n }, (_, i) => a[off + i * st_]!);
      const X = spread(x), Y = spread(y), Xc = X.slice(), Yc = Y.slice();
      const RA = new Float64Array(len), DEC = new Float64Array(len), ST = new Uint8Array(len);
      assert.equal(tanSipPixelToSkyDeg(n, model, X, stride, offset, Y, stride, offset, RA, stride, offset, DEC, stride, offset, ST, stride, offset), bad);
      assert.ok(sameBits(gather(RA, stride, offset), ra) && sameBits(gather(DEC, stride, offset), dec));
      assert.ok(sameBits(gather(ST, stride, offset), Float64Array.from(st)));
      assert.ok(sameBits(X, Xc) && sameBits(Y, Yc), 'pixel inputs unchanged');
      const RAc = RA.slice(), DECc = DEC.slice();
      const PX = new Float64Array(len), PY = new Float64Array(len), PST = new Uint8Array(len);
      assert.equal(tanSipSkyToPixelDeg(n, model, 50, 1e-10, RA, stride, offset, DEC, stride, offset, PX, stride, offset, PY, stride, offset, PST, stride, offset), bad2);
      assert.ok(sameBits(gather(PX, stride, offset), px) && sameBits(gather(PY, stride, offset), py));
      // Negative stride: outputs written back to front.
      const NX = new Float64Array(n), NY = new Float64Array(n), NST = new Uint8Array(n);
      assert.equal(tanSipSkyToPixelApproxDeg(n, model, RA, stride, offset, DEC, stride, offset, NX, -1, n - 1, NY, -1, n - 1, NST, -1, n - 1), bad3);
      assert.ok(sameBits(NX.slice().reverse(), ax) && sameBits(NY.slice().reverse(), ay));
      assert.ok(sameBits(RA, RAc) && sameBits(DEC, DECc), 'sky inputs unchanged');
      assert.ok(sameBits(model, modelCopy), 'model unchanged');
      assert.ok(Number.isNaN(ra[0]) && st[0] !== 0 && Number.isNaN(px[0]) && pst[0] !== 0, 'NaN point flagged');
    }),
    { numRuns: RUNS },
  );
});

test('TanSipWcs array methods never modify their inputs (plain arrays and Float64Arrays)', () => {
  fc.assert(
    fc.property(tanSipModel(30), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 20 }), (m, fr) => {
      const wcs = TanSipWcs.fromFitsHeader(m.header);
      const x = Float64Array.from(fr, (f) => f * m.bbox.maxX), y = Float64Array.from(fr, (f) => (1 - f) * m.bbox.maxY);
      const xc = x.slice(), yc = y.slice();
      const sky = wcs.pixelToSkyArrays(x, y);
      const rc = sky.ra.slice(), dc = sky.dec.slice();
      wcs.skyToPixelArrays(sky.ra, sky.dec);
      wcs.skyToPixelArrays(Array.from(sky.ra), Array.from(sky.dec), { approx: true });
      assert.ok(sameBits(x, xc) && sameBits(y, yc) && sameBits(sky.ra, rc) && sameBits(sky.dec, dc));
      assert.ok(Object.isFrozen(wcs));
    }),
    { numRuns: Math.ceil(RUNS / 3) },
  );
});
