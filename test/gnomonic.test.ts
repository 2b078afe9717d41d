import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { gnomonicRaw } from '../native-free-kernels/tanSip.js';
import { makeTanSipWcs } from '../src/wcs/index.js';

const DEG = Math.PI / 180;

test('gnomonicRaw inverts the TAN-SIP kernel\'s deprojection: pixelToSky then gnomonicRaw about CRVAL gives CD (x - x_ref) (law; pure TAN, 200 points up to 10 deg off, CRVAL anywhere; to 1e-12 of the radius + 1e-14 rad)', () => {
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
        const [xi, eta] = gnomonicRaw(sky.ra * DEG, sky.dec * DEG, ra0 * DEG, dec0 * DEG);
        const u = x - ref.x, v = y - ref.y;
        const want = [(cd[0]![0]! * u + cd[0]![1]! * v) * DEG, (cd[1]![0]! * u + cd[1]![1]! * v) * DEG];
        // Relative 1e-12, plus 1e-14 rad for the rounding of the degree outputs (360 deg carries 4e-14 deg).
        const tol = 1e-12 * Math.hypot(want[0]!, want[1]!) + 1e-14;
        assert.ok(Math.abs(xi - want[0]!) <= tol && Math.abs(eta - want[1]!) <= tol, `(${xi}, ${eta}) vs (${want[0]}, ${want[1]})`);
      },
    ),
    { numRuns: 200 },
  );
});

test('gnomonicRaw maps the centre to (0, 0) and gives NaN on and behind the tangent plane\'s horizon', () => {
  assert.deepEqual(gnomonicRaw(1, 0.5, 1, 0.5), [0, 0]);
  assert.ok(gnomonicRaw(1 + Math.PI, -0.5, 1, 0.5).every(Number.isNaN), 'antipode');
  assert.ok(gnomonicRaw(1 + 91 * DEG, 0, 1, 0).every(Number.isNaN), '91 deg away');
  const out: [number, number] = [7, 7];
  assert.equal(gnomonicRaw(0.1, 0.2, 0, 0, out), out, 'writes into and returns the caller\'s pair');
});
