import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { gnomonicProjectDeg } from '../native-free-kernels/tanSip.js';
import { STATUS_NONFINITE_INPUT, STATUS_OUTSIDE_DOMAIN } from '../native-free-kernels/status.js';
import { makeTanSipWcs } from '../src/wcs/index.js';

const project = (ra0: number, dec0: number, ra: number[], dec: number[]) => {
  const n = ra.length, xi = new Float64Array(n), eta = new Float64Array(n), status = new Uint8Array(n);
  const bad = gnomonicProjectDeg(n, ra0, dec0, Float64Array.from(ra), 1, 0, Float64Array.from(dec), 1, 0, xi, 1, 0, eta, 1, 0, status, 1, 0);
  return { xi, eta, status, bad };
};

test('gnomonicProjectDeg inverts the TAN-SIP kernel\'s deprojection: pixelToSky then the projection about CRVAL gives CD (x - x_ref) (law; pure TAN, 200 points up to 10 deg off, CRVAL anywhere; to 1e-12 of the radius + 1e-12 deg)', () => {
  fc.assert(
    fc.property(
      fc.double({ min: 0, max: 360, noNaN: true, maxExcluded: true }), fc.double({ min: -89, max: 89, noNaN: true }),
      fc.double({ min: -1e5, max: 1e5, noNaN: true }), fc.double({ min: -1e5, max: 1e5, noNaN: true }), fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }),
      (ra0, dec0, x, y, rot) => {
        const s = 1e-4; // deg per pixel
        const cd = [[-s * Math.cos(rot), s * Math.sin(rot)], [s * Math.sin(rot), s * Math.cos(rot)]];
        const wcs = makeTanSipWcs({ crpix: [0, 0], crval: [ra0, dec0], cd, sipA: [[0]], sipB: [[0]] });
        const ref = wcs.skyToPixel(ra0, dec0);
        const sky = wcs.pixelToSky(x, y);
        const { xi, eta, bad } = project(ra0, dec0, [sky.ra], [sky.dec]);
        assert.equal(bad, 0);
        const u = x - ref.x, v = y - ref.y;
        const want = [cd[0]![0]! * u + cd[0]![1]! * v, cd[1]![0]! * u + cd[1]![1]! * v];
        // Relative 1e-12, plus 1e-12 deg for the rounding of the degree inputs (360 deg carries 4e-14 deg).
        const tol = 1e-12 * Math.hypot(want[0]!, want[1]!) + 1e-12;
        assert.ok(Math.abs(xi[0]! - want[0]!) <= tol && Math.abs(eta[0]! - want[1]!) <= tol, `(${xi[0]}, ${eta[0]}) vs (${want[0]}, ${want[1]})`);
      },
    ),
    { numRuns: 200 },
  );
});

test('gnomonicProjectDeg maps the centre to (0, 0) across RA = 0/360, and gives NaN with a status bit beyond the horizon, for |dec| > 90 and for NaN', () => {
  const r = project(359.9, 10, [359.9, 0.1, 179.9, 100, 10, NaN], [10, 10, -10, -10, 91, 0]);
  assert.deepEqual([r.xi[0], r.eta[0]], [0, 0]);
  assert.ok(Math.abs(r.xi[1]! - 0.2 * Math.cos((10 * Math.PI) / 180)) < 1e-5 && r.status[1] === 0, `0.1 deg is 0.2 deg of RA east of 359.9: ${r.xi[1]}`);
  assert.deepEqual([...r.status.subarray(2)], [STATUS_OUTSIDE_DOMAIN, STATUS_OUTSIDE_DOMAIN, STATUS_OUTSIDE_DOMAIN, STATUS_NONFINITE_INPUT]);
  assert.ok([...r.xi.subarray(2), ...r.eta.subarray(2)].every(Number.isNaN));
  assert.equal(r.bad, 4);
});
