import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plotBytes, svgToPng } from '../src/plot/png.js';

test('svgToPng renders an SVG to a PNG of the scaled size', () => {
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="40" height="30" fill="red"/></svg>';
  const png = svgToPng(svg, 2);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(png.buffer, png.byteOffset);
  assert.equal(view.getUint32(16), 80); // IHDR width
  assert.equal(view.getUint32(20), 60); // IHDR height
});

test('plotBytes picks PNG or SVG by the output extension', () => {
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="3"></svg>';
  assert.equal(plotBytes(svg, 'a.PNG')[0], 0x89);
  assert.equal(new TextDecoder().decode(plotBytes(svg, 'a.svg')), svg);
});
