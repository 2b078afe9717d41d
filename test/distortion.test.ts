import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TanSipWcs, makeTanSipWcs } from '../src/wcs/index.js';
import { sipDistortionGrid } from '../src/wcs/distortion.js';
import { quiverSvg } from '../src/plot/quiver.js';
import { wcsHeaderDir } from './helpers.js';

test('the SIP distortion equals pixel minus the linear WCS position (law; to 1e-6 px on the PTF header)', () => {
  const wcs = TanSipWcs.fromFitsHeader(readFileSync(join(wcsHeaderDir, 'ptf_p48_sip4.hdr'), 'latin1'));
  const linear = makeTanSipWcs({ crpix: [wcs.crpix.x, wcs.crpix.y], crval: [wcs.crval.ra, wcs.crval.dec], cd: wcs.cd, sipA: [[0]], sipB: [[0]] });
  const grid = sipDistortionGrid(wcs, wcs.bbox!, 4, 8);
  assert.ok(grid.maxPx > 10, `PTF has tens of pixels of distortion, got ${grid.maxPx}`);
  for (let k = 0; k < grid.x.length; k++) {
    const sky = wcs.pixelToSky(grid.x[k]!, grid.y[k]!);
    const p = linear.skyToPixel(sky.ra, sky.dec);
    assert.ok(Math.abs(p.x - grid.x[k]! - grid.dx[k]!) < 1e-6, `x at ${k}`);
    assert.ok(Math.abs(p.y - grid.y[k]! - grid.dy[k]!) < 1e-6, `y at ${k}`);
  }
});

test('a WCS without SIP has zero distortion, and the quiver plot still draws a key', () => {
  const wcs = makeTanSipWcs({ crpix: [10, 10], crval: [10, 10], cd: [[-1e-4, 0], [0, 1e-4]], sipA: [[0]], sipB: [[0]] });
  const grid = sipDistortionGrid(wcs, { minX: 0, minY: 0, maxX: 99, maxY: 99 }, 3, 3);
  assert.equal(grid.maxPx, 0);
  const svg = quiverSvg({ x: grid.x, y: grid.y, u: grid.dx, v: grid.dy, extent: { x0: 0, x1: 100, y0: 0, y1: 100 }, title: 't', xLabel: 'x', yLabel: 'y', unit: 'px' });
  assert.match(svg, /^<svg/);
  assert.match(svg, /1 px</);
});
