import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import fc from 'fast-check';
import { niceTicks } from '../src/plot/svg.js';
import { encodePngRgba } from '../src/plot/pngEncode.js';
import { heatmapSvg } from '../src/plot/heatmap.js';
import { svgToPng } from '../src/plot/png.js';

test('niceTicks lie inside [lo, hi], are evenly spaced by 1, 2 or 5 x 10^k, and number 2..15', () => {
  fc.assert(
    fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: 1e-6, max: 1e6, noNaN: true }), (lo, span) => {
      fc.pre(span > Math.abs(lo) * 1e-9); // ranges narrower than that are padded by heatmapSvg first
      const t = niceTicks(lo, lo + span, 6);
      const step = t[1]! - t[0]!;
      // Ticks are multiples k·step rounded to doubles, each within half an ulp of its value: far from 0
      // (lo = -1193, span 3e-6) that rounding, not niceTicks, limits how nice and even they can look.
      const ulp = Number.EPSILON * Math.max(Math.abs(lo), Math.abs(lo + span));
      assert.ok(t.length >= 2 && t.length <= 15, `${t.length} ticks`);
      assert.ok(Math.abs(t[t.length - 1]! - t[0]! - step * (t.length - 1)) <= 1e-6 * step + (t.length + 1) * ulp, 'even spacing');
      const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-12);
      assert.ok([1, 2, 5, 10].some((m) => Math.abs(mantissa - m) < 1e-6 + (10 * ulp) / step), `step ${step}`);
      for (const v of t) assert.ok(v >= lo - span * 1e-9 && v <= lo + span * (1 + 1e-9));
    }),
    // A counterexample CI met once (seed -469183444): the tolerance did not allow for the ticks' own rounding.
    { examples: [[-1193.2482909999999, 0.000002999999992425728]] },
  );
});

test('encodePngRgba writes a PNG whose IDAT inflates back to the filtered rows', () => {
  const rgba = Uint8Array.from({ length: 3 * 2 * 4 }, (_, i) => (i * 37) % 256);
  const png = encodePngRgba(rgba, 3, 2);
  const view = new DataView(png.buffer, png.byteOffset);
  assert.deepEqual([view.getUint32(16), view.getUint32(20)], [3, 2]);
  const idatLength = view.getUint32(33);
  const raw = inflateSync(png.subarray(41, 41 + idatLength));
  assert.deepEqual([...raw], [0, ...rgba.subarray(0, 12), 0, ...rgba.subarray(12)]);
});

test('a heat map SVG renders with resvg (valid SVG, embedded raster accepted)', () => {
  const values = Float64Array.from({ length: 20 * 10 }, (_, k) => Math.sin(k / 17));
  const svg = heatmapSvg({ values, nx: 20, ny: 10, extent: { x0: -0.5, x1: 19.5, y0: -0.5, y1: 9.5 }, title: 'T <&>', xLabel: 'x', yLabel: 'y', colorbarLabel: 'v' });
  assert.ok(svg.includes('T &lt;&amp;&gt;'));
  assert.equal(svgToPng(svg, 1)[1], 0x50);
});
