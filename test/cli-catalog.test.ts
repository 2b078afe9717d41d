/** Catalog files through pix2sky, sky2pix and calibrate on the pool, and the pool benchmarks, as a user runs them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Table, makeVector, type RecordBatch } from 'apache-arrow';
import { readCatalogBatches } from '../src/catalog/read.js';
import { writeCatalog } from '../src/catalog/write.js';
import { TanSipWcs } from '../src/wcs/index.js';
import { runCli, tempDir, wcsHeaderDir } from './helpers.js';

const skycal = (args: string[], input?: string) => runCli(args, input === undefined ? {} : { stdin: input });

const hscPath = join(wcsHeaderDir, 'hsc_lsst_afw_sip3.hdr');
const wcs = TanSipWcs.fromFitsHeader(readFileSync(hscPath, 'utf8'));

async function readTable(path: string): Promise<Table> {
  const source = await readCatalogBatches(path);
  const out: RecordBatch[] = [];
  for await (const b of source) out.push(b);
  return new Table(source.schema, out);
}

/** 120 000 rows: above the in-thread threshold, so the pool's workers really run. */
function pixels(n = 120_000): Table {
  const x = Float64Array.from({ length: n }, (_, i) => (i * 13.7) % 2048);
  const y = Float64Array.from({ length: n }, (_, i) => (i === 5 ? NaN : (i * 7.1) % 4176));
  const flux = Float64Array.from({ length: n }, (_, i) => 10 + i);
  return new Table({ x: makeVector(x), y: makeVector(y), psf_instFlux: makeVector(flux) });
}

test('pix2sky reads and writes Parquet on 2 workers; values equal the library, kv metadata names the WCS, the process exits', async () => {
  const dir = tempDir();
  try {
    const t = pixels();
    const input = join(dir.path, 'src.parquet');
    await writeCatalog(input, t.schema, t.batches);
    const out = join(dir.path, 'sky.parquet');
    const r = await skycal(['pix2sky', '--wcs', hscPath, '--in', input, '--out', out, '--workers', '2', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { rows: 120_000, bad: 1, out });
    const back = await readTable(out);
    const ref = wcs.pixelToSkyArrays(t.getChild('x')!.toArray() as Float64Array, t.getChild('y')!.toArray() as Float64Array);
    assert.deepEqual(Float64Array.from(back.getChild('coord_ra')!.toArray() as Float64Array), ref.ra);
    assert.deepEqual(Float64Array.from(back.getChild('coord_dec')!.toArray() as Float64Array), ref.dec);
    assert.match(back.schema.metadata.get('skycal.wcs') ?? '', /^hsc_lsst_afw_sip3\.hdr sha256:[0-9a-f]{16}$/);
    assert.equal(back.schema.fields.find((f) => f.name === 'coord_ra')!.metadata.get('unit'), 'deg');
  } finally {
    dir.cleanup();
  }
});

test('sky2pix and calibrate take Arrow IPC file and stream catalogs', async () => {
  const dir = tempDir();
  try {
    const t = pixels(2000);
    const input = join(dir.path, 'src.arrows');
    await writeCatalog(input, t.schema, t.batches);
    const sky = join(dir.path, 'sky.arrow');
    assert.equal((await skycal(['pix2sky', '--wcs', hscPath, '--in', input, '--out', sky])).code, 0);
    const back = join(dir.path, 'back.arrows');
    const r = await skycal(['sky2pix', '--wcs', hscPath, '--in', sky, '--out', back, '--workers', '1']);
    assert.equal(r.code, 0, r.stderr);
    const b = await readTable(back);
    assert.ok(Math.abs((b.getChild('x')!.get(100) as number) - (t.getChild('x')!.get(100) as number)) < 1e-8);
    const pc = join(dir.path, 'pc.json');
    writeFileSync(pc, JSON.stringify({ photoCalibVersion: 1, calibrationMean: 2, calibrationErr: 0, isConstant: true, field: { type: 'constant', value: 2 } }));
    const cal = join(dir.path, 'cal.parquet');
    assert.equal((await skycal(['calibrate', '--photocalib', pc, '--in', input, '--out', cal])).code, 0);
    const c = await readTable(cal);
    assert.equal(c.getChild('psf_flux')!.get(7), 2 * 17);
    assert.match(c.schema.metadata.get('skycal.photoCalib') ?? '', /^pc\.json sha256:/);
  } finally {
    dir.cleanup();
  }
});

test('catalog errors: missing centroid (named), truncated Parquet, missing output folder; nothing half-written', async () => {
  const dir = tempDir();
  try {
    const noCentroid = join(dir.path, 'nc.parquet');
    const t = new Table({ ra: makeVector(new Float64Array([1, 2])) });
    await writeCatalog(noCentroid, t.schema, t.batches);
    const out = join(dir.path, 'out.parquet');
    let r = await skycal(['pix2sky', '--wcs', hscPath, '--in', noCentroid, '--out', out, '--json']);
    assert.equal(r.code, 1);
    assert.equal(JSON.parse(r.stdout).error.code, 'BAD_INPUT');
    assert.match(JSON.parse(r.stdout).error.message, /x\/y, slot_Centroid_x\/slot_Centroid_y, centroid_x\/centroid_y/);

    const good = join(dir.path, 'good.parquet');
    const p = pixels(5000);
    await writeCatalog(good, p.schema, p.batches);
    const bytes = readFileSync(good);
    const cut = join(dir.path, 'cut.parquet');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
    r = await skycal(['pix2sky', '--wcs', hscPath, '--in', cut, '--out', out]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /BAD_INPUT.*truncated Parquet/);
    r = await skycal(['pix2sky', '--wcs', hscPath, '--in', good, '--out', join(dir.path, 'nope', 'o.parquet')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /IO.*output folder .*nope does not exist/);
    assert.equal(existsSync(out), false);
    assert.deepEqual(readdirSync(dir.path).sort(), ['cut.parquet', 'good.parquet', 'nc.parquet']);
  } finally {
    dir.cleanup();
  }
});

test('bench pool and bench catalog --json print the documented shapes', async () => {
  const pool = await skycal(['bench', 'pool', '--wcs', hscPath, '--n', '20000', '--workers', '1,2', '--iterations', '1', '--json']);
  assert.equal(pool.code, 0, pool.stderr);
  const p = JSON.parse(pool.stdout);
  assert.ok(p.inThread.pointsPerSecond > 0);
  assert.deepEqual(p.results.map((r: { workers: number }) => r.workers), [1, 2]);
  assert.ok(p.results.every((r: { pointsPerSecond: number }) => r.pointsPerSecond > 0));
  const cat = await skycal(['bench', 'catalog', '--wcs', hscPath, '--n', '20000', '--workers', '1', '--iterations', '1', '--json']);
  assert.equal(cat.code, 0, cat.stderr);
  const c = JSON.parse(cat.stdout);
  assert.ok(c.readPersisted.rowsPerSecond > 0 && c.deriveOnTheFly.rowsPerSecond > 0);
});
