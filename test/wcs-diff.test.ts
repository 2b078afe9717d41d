import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeTanSipWcs } from '../src/wcs/index.js';
import { pixelGrid, wcsShift } from '../src/compare/wcsDiff.js';

const base = { crpix: [1000, 2000] as [number, number], cd: [[-0.168 / 3600, 0], [0, 0.168 / 3600]] as [[number, number], [number, number]], sipA: [[0]], sipB: [[0]] };

test('a known shift of the tangent point by 25 mas north is reported as 25 mas (to 0.01 mas) everywhere', () => {
  const from = makeTanSipWcs({ ...base, crval: [150.1, 2.2] });
  const to = makeTanSipWcs({ ...base, crval: [150.1, 2.2 + 25 / 3.6e6] });
  const { x, y } = pixelGrid({ minX: 0, minY: 0, maxX: 2047, maxY: 4175 }, 8, 16);
  const s = wcsShift(from, to, x, y);
  assert.ok(Math.abs(s.summary.median - 25) < 0.01, `median ${s.summary.median}`);
  assert.ok(Math.abs(s.summary.max - 25) < 0.01, `max ${s.summary.max}`);
  for (let i = 0; i < x.length; i++) {
    assert.ok(Math.abs(s.northMas[i]! - 25) < 0.01);
    assert.ok(Math.abs(s.eastMas[i]!) < 0.01);
  }
});

test('an east shift across RA = 0/360 keeps its sign and size (40 mas east at Dec 60)', () => {
  const from = makeTanSipWcs({ ...base, crval: [359.99999, 60] });
  const to = makeTanSipWcs({ ...base, crval: [359.99999 + 40 / 3.6e6 / Math.cos(Math.PI / 3), 60] });
  const s = wcsShift(from, to, Float64Array.of(1000), Float64Array.of(2000));
  assert.ok(Math.abs(s.eastMas[0]! - 40) < 0.01, `east ${s.eastMas[0]}`);
  assert.ok(Math.abs(s.separationMas[0]! - 40) < 0.01);
});

test('NaN positions give NaN separations, counted and left out of the summary', () => {
  const w = makeTanSipWcs({ ...base, crval: [10, 10] });
  const s = wcsShift(w, w, Float64Array.of(1, NaN, 3), Float64Array.of(1, 2, 3));
  assert.equal(s.summary.nanCount, 1);
  assert.equal(s.summary.max, 0);
});
