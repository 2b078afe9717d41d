import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { angularSeparationMas } from '../native-free-kernels/separation.js';

function sep(ra1: number, dec1: number, ra2: number, dec2: number): number {
  const out = new Float64Array(1);
  angularSeparationMas(1, Float64Array.of(ra1), 1, 0, Float64Array.of(dec1), 1, 0, Float64Array.of(ra2), 1, 0, Float64Array.of(dec2), 1, 0, out, 1, 0);
  return out[0]!;
}

test('a shift along a meridian equals the Dec difference (to 1e-6 mas up to 1 deg)', () => {
  fc.assert(
    fc.property(fc.double({ min: 0, max: 360, noNaN: true }), fc.double({ min: -80, max: 80, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true }), (ra, dec, d) => {
      return Math.abs(sep(ra, dec, ra, dec + d) - Math.abs(d) * 3.6e6) < 1e-6;
    }),
  );
});

test('along the equator the separation is the RA difference across RA = 0/360', () => {
  assert.ok(Math.abs(sep(359.9999, 0, 0.0001, 0) - 0.0002 * 3.6e6) < 1e-6);
  assert.ok(Math.abs(sep(10, 0, 190, 0) - 180 * 3.6e6) < 1e-3);
});

test('1 mas east at Dec 60 is an RA step of 2 mas (cos Dec law, to 1e-6 mas: RA near 100 deg is quantised at 5e-8 mas)', () => {
  assert.ok(Math.abs(sep(100, 60, 100 + 2 / 3.6e6, 60) - 1) < 1e-6);
});

test('NaN inputs give NaN and are counted; strides and offsets are honoured', () => {
  const ra1 = Float64Array.of(-1, 10, -1, NaN);
  const dec1 = Float64Array.of(-1, 0, -1, 0);
  const ra2 = Float64Array.of(10, 10);
  const dec2 = Float64Array.of(1 / 3600, 0);
  const out = new Float64Array(4).fill(-7);
  const bad = angularSeparationMas(2, ra1, 2, 1, dec1, 2, 1, ra2, 1, 0, dec2, 1, 0, out, 2, 0);
  assert.equal(bad, 1);
  assert.ok(Math.abs(out[0]! - 1000) < 1e-9);
  assert.equal(out[1], -7);
  assert.ok(Number.isNaN(out[2]!));
});
