import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runDemo, wcsOf, type DemoSummary } from '../src/demo/demo.js';
import { DEFAULT_CAMERA, makeCamera, makeRandom } from '../src/demo/camera.js';
import { Repository } from '../src/butler/repository.js';
import { formatDataId } from '../src/butler/dataId.js';
import { diffWcsVersions } from '../src/compare/diffVersions.js';
import { diffPlotSvg } from '../src/compare/diffPlot.js';
import { svgToPng } from '../src/plot/png.js';
import { median } from '../src/stats.js';
import { angularSeparationMas } from '../native-free-kernels/separation.js';
import { arrowPoints, frameRect, inPolygon, inside, keyOf, regionLabels, regions, viewBox } from './svg-parse.js';
import { tempDir } from './helpers.js';

// One small demo (1 visit x 6 CCDs, 300 sources each; jointcal fails detector 2).
let dir: { path: string; cleanup: () => void };
let demo: DemoSummary;
const VISITS = 1;

before(async () => {
  dir = tempDir('skycal-demo-plots-');
  demo = await runDemo(join(dir.path, 'demo'), { sourcesPerCcd: 300, visits: VISITS, workers: 1 });
});

after(() => dir.cleanup());

test('diff plot of the failed CCD\'s visit: one outline per CCD labelled with its detector, the failed one hatched and labelled "invalid"', async () => {
  const failedId = demo.failed[0]!.dataId;
  const visit = /visit=(\d+)/.exec(failedId)![1]!;
  const repo = Repository.open(demo.repository);
  let svg: string;
  try {
    const rows = (await diffWcsVersions(repo, { from: { stage: 'singleFrame' }, to: { stage: 'jointcal' } })).filter((r) => r.dataId.includes(`visit=${visit}`));
    assert.equal(rows.length, 6);
    svg = diffPlotSvg(rows, 'singleFrame', `jointcal, visit ${visit}`);
  } finally {
    repo.close();
  }
  const outlines = regions(svg);
  assert.equal(outlines.length, 6, 'one outline per CCD');
  assert.deepEqual(outlines.map((o) => o.invalid).filter(Boolean).length, 1, 'exactly one invalid CCD');
  const invalid = outlines.find((o) => o.invalid)!;
  assert.equal(invalid.fill, 'url(#hatch)');
  assert.match(svg, /<pattern id="hatch"[^>]*>.*<line /, 'a hatch pattern of lines');
  const labels = regionLabels(svg);
  assert.deepEqual(labels.map((l) => l.lines[0]).sort(), ['det 0', 'det 1', 'det 2', 'det 3', 'det 4', 'det 5']);
  const failedDet = /detector=(\d+)/.exec(failedId)![1]!;
  const failedLabel = labels.find((l) => l.lines[0] === `det ${failedDet}`)!;
  assert.deepEqual(failedLabel.lines, [`det ${failedDet}`, 'invalid']);
  assert.ok(inPolygon([failedLabel.x, failedLabel.y], invalid.points), 'the "invalid" label sits on the hatched CCD');
  for (const l of labels) {
    const holders = outlines.filter((o) => inPolygon([l.x, l.y], o.points));
    assert.equal(holders.length, 1, `label ${l.lines[0]} lies on exactly one CCD`);
  }
  // Labels do not overlap: their centres are further apart than a label is wide (13 px bold, 5 characters).
  for (const a of labels) for (const b of labels) if (a !== b) assert.ok(Math.hypot(a.x - b.x, a.y - b.y) > 60, `${a.lines[0]} and ${b.lines[0]} overlap`);
  const frame = frameRect(svg);
  for (const p of arrowPoints(svg)) assert.ok(inside(p, frame), `arrow vertex ${p} outside the frame`);
  for (const p of keyOf(svg).points) assert.ok(inside(p, viewBox(svg)));
  assert.ok(svgToPng(svg, 1).length > 1000, 'renders to PNG');
});

test('the demo\'s accuracy equals the stats.ts median of the Vincenty separations (the kernel diff uses) at its 2,000 seeded points per CCD', () => {
  // The camera's truth, rebuilt as the demo builds it; the derived WCSs as the repository stores them.
  const config = { ...DEFAULT_CAMERA, visits: DEFAULT_CAMERA.visits.slice(0, VISITS) };
  const camera = makeCamera(config);
  const failed = demo.failed[0]!.dataId;
  const repo = Repository.open(demo.repository);
  const perStage = (stage: string) => {
    const medians: number[] = [];
    let k = 0;
    for (const c of camera) {
      const id = formatDataId({ instrument: demo.instrument, visit: String(c.visit), detector: String(c.detector) });
      if (stage === 'jointcal' && id === failed) continue;
      const truth = wcsOf(c.wcs, config.ccdWidth, config.ccdHeight);
      const derived = repo.getWcs(id, { stage }).wcs;
      const random = makeRandom(k + 7);
      k++;
      const n = 2000;
      const x = Float64Array.from({ length: n }, () => random() * (config.ccdWidth - 1));
      const y = Float64Array.from({ length: n }, () => random() * (config.ccdHeight - 1));
      const a = truth.pixelToSkyArrays(x, y), b = derived.pixelToSkyArrays(x, y);
      const sep = new Float64Array(n);
      angularSeparationMas(n, a.ra, 1, 0, a.dec, 1, 0, b.ra, 1, 0, b.dec, 1, 0, sep, 1, 0);
      medians.push(median(sep));
    }
    return median(medians);
  };
  try {
    const singleFrame = perStage('singleFrame'), jointcal = perStage('jointcal');
    // Exactly: the stored headers give back the demo's WCSs bit for bit, and the points are the same.
    assert.equal(demo.accuracy.singleFrameMedianMas, singleFrame);
    assert.equal(demo.accuracy.jointcalMedianMas, jointcal);
    assert.ok(jointcal < singleFrame / 5);
  } finally {
    repo.close();
  }
});
