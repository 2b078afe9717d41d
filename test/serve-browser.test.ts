/**
 * `skycal serve` in a real headless Chromium (Debian's, through playwright-core) on the demo repository:
 * the History page shows both runs and the failed detector with its reason; the Compare page outlines
 * every CCD and marks the invalid one; the Sources page derives coord_ra/coord_dec (and fluxes) in a Web
 * Worker with the native-free kernels bit for bit as Node does. Each page's screenshot is checked non-blank.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startServer, type RunningServer } from '../src/serve/server.js';
import { Repository } from '../src/butler/repository.js';
import { readCatalogBatches } from '../src/catalog/read.js';
import { mergeInto } from '../src/butler/merge.js';
import { withSkyAndCalibration } from '../src/catalog/views.js';
import { pixelStats, smallDemo } from './serve-fixtures.js';
import { tempDir } from './helpers.js';

const CHROMIUM = process.env['SKYCAL_CHROMIUM'] ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  process.stderr.write(`\n!!! serve-browser tests SKIPPED: no Chromium at ${CHROMIUM} (apt-get install -y chromium; .ci/run does) !!!\n\n`);
}
const SOURCES = 10_000;


let tmp: ReturnType<typeof tempDir>;
let demo: Awaited<ReturnType<typeof smallDemo>>;
let server: RunningServer;
let browser: Browser;

before(async () => {
  if (!haveChromium) return;
  tmp = tempDir('skycal-serve-browser-');
  const { chromium } = await import('playwright-core');
  // The browser starts while the demo repository is built.
  const launching = chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  demo = await smallDemo(tmp.path, SOURCES);
  server = await startServer({ root: demo.repo, port: 0 });
  browser = await launching;
});

after(async () => {
  await browser?.close();
  await server?.close();
  tmp?.cleanup();
});

async function open(hash: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  await page.goto(`${server.url}${hash}`);
  await page.waitForSelector('section.page[data-ready="true"]', { timeout: 10_000 });
  assert.deepEqual(problems.filter((p) => !/Failed to load resource/.test(p)), [], 'no errors in the page');
  return page;
}

async function screenshot(page: Page, name: string): Promise<void> {
  const png = await page.screenshot({ fullPage: true });
  const path = join(tmp.path, `${name}.png`);
  writeFileSync(path, png);
  const stats = pixelStats(png);
  assert.ok(stats.variance > 50 && stats.colours > 50, `${name}.png is not blank (variance ${stats.variance.toFixed(1)}, ${stats.colours} colours)`);
}

test('History shows both runs, the graph, and the failed detector in red with its reason', { skip: !haveChromium }, async () => {
  const page = await open('#/history');
  const text = await page.locator('#page-history').innerText();
  assert.match(text, new RegExp(demo.runs.singleFrame));
  assert.match(text, new RegExp(demo.runs.jointcal));
  const failed = demo.failed[0]!;
  const failures = page.locator('.run.failed .failures li');
  assert.equal(await failures.count(), 2, 'wcs failed with a reason; photoCalib was never produced');
  const first = await failures.allInnerTexts();
  assert.ok(first.some((t) => t.includes(failed.dataId) && t.includes(failed.reason) && t.includes('wcs')), first.join('\n'));
  assert.ok(first.some((t) => t.includes('photoCalib') && t.includes('expected output not produced')));
  assert.equal(await page.locator('svg.graph circle.node').count(), 2);
  assert.equal(await page.locator('svg.graph circle.node.failed').count(), 1);
  assert.equal(await page.locator('.ref.branch').first().innerText(), 'main');
  await screenshot(page, 'history');
  // As of the moment singleFrame committed, jointcal did not exist yet.
  const repo = Repository.open(demo.repo);
  const sfTime = repo.log({}).find((r) => r.id === demo.runs.singleFrame)!.committedAt!;
  repo.close();
  await page.goto(`${server.url}#/history?asOf=${sfTime}`);
  await page.waitForSelector(`section.page[data-ready="true"] >> text=${sfTime.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}`);
  assert.equal(await page.locator('.run').count(), 1);
  assert.doesNotMatch(await page.locator('#page-history').innerText(), new RegExp(demo.runs.jointcal));
  await page.close();
});

test('the dataId page says which run supplies each type at each stage, and why the failed one is invalid', { skip: !haveChromium }, async () => {
  const failed = demo.failed[0]!;
  const page = await open(`#/dataid?dataId=${encodeURIComponent(failed.dataId)}`);
  const text = await page.locator('table.supply').innerText();
  assert.match(text, new RegExp(`invalid: failed in run ${demo.runs.jointcal} \\(jointcal\\): ${failed.reason}`));
  assert.match(text, /@singleFrame/);
  assert.ok((await page.locator('table.supply td.ok').count()) >= 3, 'singleFrame still supplies wcs, photoCalib and src by name');
  await screenshot(page, 'dataid');
  await page.close();
});

test('Compare outlines one CCD per detector of the visit, labels each, and hatches the invalid one', { skip: !haveChromium }, async () => {
  const failed = demo.failed[0]!;
  const page = await open('#/compare');
  await page.waitForSelector('svg.focal-plane');
  await page.waitForSelector('.maps img, .maps .map-missing');
  const visit = /visit=(\d+)/.exec(failed.dataId)![1];
  const expected = demo.diff.filter((d) => d.dataId.includes(`visit=${visit}`));
  assert.equal(await page.locator('svg.focal-plane polygon.ccd').count(), expected.length);
  assert.equal(await page.locator('svg.focal-plane text.ccd-label').count(), expected.length);
  const invalid = page.locator('svg.focal-plane polygon.ccd.invalid');
  assert.equal(await invalid.count(), 1);
  assert.equal(await invalid.getAttribute('data-dataid'), failed.dataId);
  assert.equal(await invalid.evaluate((e) => (globalThis as unknown as { getComputedStyle(e: unknown): { fill: string } }).getComputedStyle(e).fill), 'url("#hatch")');
  assert.ok((await page.locator('svg.focal-plane line.arrow').count()) > 20, 'shift arrows');
  // The table: one row per CCD, sortable by median.
  assert.equal(await page.locator('#compare-table tbody tr').count(), expected.length);
  await page.locator('#compare-table th[data-key="medianMas"]').click();
  const medians = (await page.locator('#compare-table tbody tr td:nth-child(2)').allInnerTexts()).filter((t) => t !== '—').map(Number);
  assert.deepEqual(medians, [...medians].sort((a, b) => b - a), 'sorted by median, largest first');
  assert.equal(await page.locator('.maps img.map').count(), 2, 'distortion and calibration maps of one detector');
  await screenshot(page, 'compare');
  await page.close();
});

test('Sources: coord_ra/coord_dec and fluxes computed in the browser equal Node\'s bit for bit (10,000 sources)', { skip: !haveChromium }, async () => {
  const dataId = demo.diff.find((d) => d.invalid === undefined)!.dataId;
  const page = await open(`#/sources?dataId=${encodeURIComponent(dataId)}`);
  await page.waitForSelector('#page-sources[data-state="done"]', { timeout: 10_000 });
  type Got = { n: number; columns: Record<string, string> };
  const got = await page.evaluate(() => (globalThis as unknown as { skycalSources: Got }).skycalSources);
  assert.equal(got.n, SOURCES);
  // Node: the library's derived view over the same stored catalog, WCS and calibration.
  const repo = Repository.open(demo.repo);
  const { path, format } = repo.getCatalog(dataId);
  const view = withSkyAndCalibration(await readCatalogBatches(path, { format }), repo.getWcs(dataId).wcs, repo.getPhotoCalib(dataId).photoCalib, { workers: 1 });
  const node: Record<string, number[]> = {};
  for await (const batch of view) {
    for (const f of batch.schema.fields) (node[f.name] ??= []).push(...(batch.getChild(f.name)!.toArray() as Float64Array));
  }
  repo.close();
  for (const column of ['coord_ra', 'coord_dec', 'base_PsfFlux_flux', 'base_PsfFlux_fluxErr', 'base_PsfFlux_magErr']) {
    const browserBits = Buffer.from(got.columns[column]!, 'base64');
    const nodeBits = Buffer.from(Float64Array.from(node[column]!).buffer);
    assert.equal(browserBits.length, SOURCES * 8, column);
    assert.ok(browserBits.equals(nodeBits), `${column}: browser and Node differ in ${ulpDiffs(browserBits, nodeBits).count} of ${SOURCES} values`);
  }
  // mag = ln(flux) * (-2.5 / ln 10) + 31.4: Math.log is not the same function in every V8. Measured here, Chromium 156's
  // and Node 20's (V8 11.3) Math.log differ in the last bit for ~1.5% of arguments (sin, cos, atan2 likewise for some),
  // so the magnitudes are held to 2 ulp (1 ulp of ln, then a multiply and an add that
  // round) and the count is reported; every other column above is bit for bit.
  const mag = ulpDiffs(Buffer.from(got.columns['base_PsfFlux_mag']!, 'base64'), Buffer.from(Float64Array.from(node['base_PsfFlux_mag']!).buffer));
  assert.ok(mag.maxUlp <= 2, `base_PsfFlux_mag: at most 2 ulp apart, got ${mag.maxUlp}`);
  if (mag.count > 0) process.stderr.write(`serve-browser: base_PsfFlux_mag differs by <= ${mag.maxUlp} ulp in ${mag.count} of ${SOURCES} values (Math.log of this Chromium vs Node)\n`);
  assert.ok(Number.isFinite(new Float64Array(Buffer.from(got.columns['coord_ra']!, 'base64').buffer.slice(0))[0]!));
  assert.equal(await page.locator('.sources-table tbody tr').count(), 25);
  await screenshot(page, 'sources');
  await page.close();
});

test('History draws a merge with both parents in two lanes, and branch and tag badges (the repository changed while served)', { skip: !haveChromium }, async () => {
  // Another writer adds a branch from singleFrame, a run on it, a merge into main and a tag, while the server runs.
  const repo = Repository.open(demo.repo);
  repo.createBranch('tract-b', demo.runs.singleFrame);
  const side = repo.begin({ stage: 'fgcm', branch: 'tract-b', config: { photometry: 'fgcm' } });
  repo.commit(side.id);
  const merged = mergeInto(repo, 'main', 'tract-b');
  repo.createTag('v1', 'main');
  repo.close();
  const page = await open('#/history');
  assert.equal(await page.locator('svg.graph circle.node').count(), 4);
  assert.equal(await page.locator('svg.graph path.edge').count(), 4, 'merge -> jointcal, merge -> fgcm, both -> singleFrame');
  const xs = new Set(await page.locator('svg.graph circle.node').evaluateAll((cs) => cs.map((c) => c.getAttribute('cx'))));
  assert.equal(xs.size, 2, 'two lanes');
  const text = await page.locator('#page-history').innerText();
  assert.match(text, new RegExp(`merge of ${demo.runs.jointcal} \\+ ${side.id}|merge of ${side.id} \\+ ${demo.runs.jointcal}`));
  assert.ok(JSON.stringify(merged).includes(side.id) || text.includes(side.id));
  assert.deepEqual(await page.locator('.ref.tag').allInnerTexts(), ['tag v1']);
  assert.ok((await page.locator('.ref.branch').allInnerTexts()).includes('tract-b'));
  await screenshot(page, 'history-merge');
  await page.close();
});

/** Values that differ, and the largest difference in units in the last place (same-sign doubles: the distance of their bit patterns). */
function ulpDiffs(a: Buffer, b: Buffer): { count: number; maxUlp: number } {
  let count = 0, maxUlp = 0;
  for (let i = 0; i + 8 <= Math.min(a.length, b.length); i += 8) {
    const x = a.readBigInt64LE(i), y = b.readBigInt64LE(i);
    if (x === y) continue;
    count++;
    const d = x > y ? x - y : y - x;
    maxUlp = Math.max(maxUlp, (x < 0n) !== (y < 0n) ? Infinity : Number(d));
  }
  return { count, maxUlp };
}
