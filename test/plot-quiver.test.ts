import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { TanSipWcs } from '../src/wcs/index.js';
import { distortionMapSvg } from '../src/plot/maps.js';
import { quiverSvg } from '../src/plot/quiver.js';
import { wrapText } from '../src/plot/svg.js';
import { arrowPoints, arrowShafts, frameRect, inside, keyOf, viewBox } from './svg-parse.js';
import { wcsHeaderDir } from './helpers.js';

const ptf = () => TanSipWcs.fromFitsHeader(readFileSync(join(wcsHeaderDir, 'ptf_p48_sip4.hdr'), 'latin1'));

test('the distortion plot\'s key lies inside the viewBox, just above the frame\'s top right corner (PTF, a tall 2048 x 4096 CCD)', () => {
  const wcs = ptf();
  const { svg } = distortionMapSvg(wcs, wcs.bbox!, { title: 'SIP distortion: ptf_p48_sip4.hdr, a long title that is wider than the frame' });
  const box = viewBox(svg), frame = frameRect(svg), key = keyOf(svg);
  assert.equal(key.label, '100 px');
  for (const p of key.points) {
    assert.ok(inside(p, box), `key vertex ${p} outside the viewBox ${JSON.stringify(box)}`);
    // Over the frame's right part, within 30 px above its top edge: next to the axes.
    assert.ok(p[0] >= frame.x && p[0] <= frame.x + frame.width + 0.5, `key x ${p[0]} not over the frame [${frame.x}, ${frame.x + frame.width}]`);
    assert.ok(p[1] < frame.y && p[1] > frame.y - 30, `key y ${p[1]} not just above the frame top ${frame.y}`);
  }
  // The label ends left of the arrow and starts inside the canvas (13 px text: under 8 px a character).
  assert.ok(key.labelRightX <= Math.min(...key.points.map((p) => p[0])));
  assert.ok(key.labelRightX - key.label.length * 8 >= 0);
  assert.ok(Math.abs(key.labelY - key.points[0]![1]) < 1);
  // The canvas hugs the frame: no wide empty band to its right (the title wraps instead).
  assert.ok(box.width - (frame.x + frame.width) <= Math.max(30, 480 - frame.x - frame.width), `canvas ${box.width} px wide for a frame ending at ${frame.x + frame.width}`);
});

test('distortion plot: every arrow ends inside the frame, and the longest spans 0.9 of the tail spacing (PTF, 130 px of distortion)', () => {
  const wcs = ptf();
  const { svg } = distortionMapSvg(wcs, wcs.bbox!, { title: 'PTF' });
  const frame = frameRect(svg);
  for (const p of arrowPoints(svg)) assert.ok(inside(p, frame), `arrow vertex ${p} outside the frame ${JSON.stringify(frame)}`);
  const shafts = arrowShafts(svg);
  const xs = [...new Set(shafts.map((s) => s.x0))].sort((a, b) => a - b);
  const spacing = xs[1]! - xs[0]!;
  const longest = Math.max(...shafts.map((s) => Math.hypot(s.x1 - s.x0, s.y1 - s.y0)));
  assert.ok(Math.abs(longest - 0.9 * spacing) < 0.3, `longest arrow ${longest} px, tails ${spacing} px apart`);
});

test('quiverSvg: every arrow vertex lies inside the frame, for any field of arrows with tails in the extent (law; 150 fields, |u|, |v| up to 1e4, with and without cells, x flipped or not)', () => {
  const arrow = fc.record({ x: fc.double({ min: 0, max: 1, noNaN: true }), y: fc.double({ min: 0, max: 1, noNaN: true }), u: fc.double({ min: -1e4, max: 1e4, noNaN: true }), v: fc.double({ min: -1e4, max: 1e4, noNaN: true }) });
  fc.assert(
    fc.property(fc.array(arrow, { minLength: 1, maxLength: 60 }), fc.boolean(), fc.option(fc.double({ min: 0.01, max: 0.5, noNaN: true }), { nil: undefined }), fc.double({ min: 0.2, max: 5, noNaN: true }), (arrows, flipX, cellSize, aspect) => {
      const svg = quiverSvg({
        x: arrows.map((a) => a.x * aspect), y: arrows.map((a) => a.y), u: arrows.map((a) => a.u), v: arrows.map((a) => a.v),
        extent: { x0: 0, x1: aspect, y0: 0, y1: 1 }, title: 't', xLabel: 'x', yLabel: 'y', unit: 'mas', flipX,
        ...(cellSize !== undefined && { cellSize }),
      });
      const frame = frameRect(svg);
      for (const p of arrowPoints(svg)) assert.ok(inside(p, frame, 0.05), `arrow vertex ${p} outside the frame ${JSON.stringify(frame)}`);
      const box = viewBox(svg);
      for (const p of keyOf(svg).points) assert.ok(inside(p, box));
    }),
    { numRuns: 150 },
  );
});

test('wrapText breaks after ", " or " · " first, never loses a character, and drops a "·" left at a line end', () => {
  assert.deepEqual(wrapText('SIP distortion (jointcal), visit 903334 det 0', 30), ['SIP distortion (jointcal),', 'visit 903334 det 0']);
  assert.deepEqual(wrapText('17 CCDs · median 54.3 mas · 1 invalid', 28), ['17 CCDs · median 54.3 mas', '1 invalid']);
  assert.deepEqual(wrapText('short', 30), ['short']);
  fc.assert(
    fc.property(fc.array(fc.constantFrom('ab', 'cde', ' ', ', ', 'xyzzyxyzzy'), { maxLength: 30 }), fc.integer({ min: 5, max: 40 }), (parts, width) => {
      const text = parts.join('');
      const lines = wrapText(text, width);
      assert.equal(lines.join('').replace(/\s/g, ''), text.replace(/\s/g, ''));
    }),
    { numRuns: 200 },
  );
});
