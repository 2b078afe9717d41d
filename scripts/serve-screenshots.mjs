// Screenshots of `skycal serve` for the README: node scripts/serve-screenshots.mjs REPO OUTDIR
// (after `npm run build`; needs Debian's chromium). Each page at 1280 px wide, as a person sees it.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from '../dist/src/serve/server.js';

const [repo, out = 'docs'] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
const server = await startServer({ root: repo, port: 0 });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const summary = await (await fetch(`${server.url}api/history`)).json();
const failed = summary.runs.flatMap((r) => r.failures)[0];
const shots = [
  ['serve-history', '#/history', 900],
  ['serve-dataid', `#/dataid?dataId=${encodeURIComponent(failed.dataId)}`, 640],
  ['serve-compare', '#/compare', 1240],
  ['serve-sources', '#/sources', 820],
];
for (const [name, hash, height] of shots) {
  const page = await browser.newPage({ viewport: { width: 1280, height }, deviceScaleFactor: 1 });
  await page.goto(`${server.url}${hash}`);
  await page.waitForSelector('section.page[data-ready="true"]');
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(out, `${name}.png`) });
  await page.close();
  console.log(join(out, `${name}.png`));
}
await browser.close();
await server.close();
