import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { DuckDBInstance } from '@duckdb/node-api';
import { RecordBatchReader, Table } from 'apache-arrow';
import { runDemo, type DemoSummary } from '../src/demo/index.js';
import { Repository } from '../src/butler/repository.js';
import { readCatalogBatches } from '../src/catalog/read.js';
import { recompute, META_RECOMPUTE } from '../src/recompute/recompute.js';
import { diffWcsVersions } from '../src/compare/diffVersions.js';
import { makeTanSipWcs } from '../src/wcs/index.js';
import { PhotoCalib } from '../src/photocalib/photoCalib.js';
import { cliPath, runCli, tempDir } from './helpers.js';

// One small demo repository (2 visits x 6 CCDs, 1500 sources each, one CCD failed by jointcal) for every test here.
let dir: { path: string; cleanup: () => void };
let demo: DemoSummary;

before(async () => {
  dir = tempDir('skycal-recompute-');
  demo = await runDemo(join(dir.path, 'demo'), { sourcesPerCcd: 1500, visits: 2, workers: 2 });
});

after(() => dir.cleanup());

/** The CLI in-process (runCli); the interrupt test below spawns the bin, since signals are its point. */
const cli = async (...args: string[]) => {
  const r = await runCli(args);
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
};

async function readAll(path: string): Promise<Table> {
  const batches = [];
  for await (const b of await readCatalogBatches(path)) batches.push(b);
  return new Table(batches);
}

test('the demo --json summary names the failed detector, and recompute skipped exactly it', async () => {
  const failed = demo.failed.map((f) => f.dataId);
  assert.ok(failed.length >= 1);
  assert.match(failed[0]!, /detector=\d+/);
  assert.deepEqual(demo.recompute.skipped.map((s) => s.dataId), [failed[0]]);
  assert.match(demo.recompute.skipped[0]!.reason, /failed in run .* \(jointcal\)/);
  assert.equal(demo.recompute.rows, 11 * 1500);
  assert.ok(demo.accuracy.jointcalMedianMas < demo.accuracy.singleFrameMedianMas / 5, JSON.stringify(demo.accuracy));
  const r = (await cli('demo', join(dir.path, 'demo-cli'), '--sources', '200', '--visits', '1', '--workers', '0', '--json'));
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as DemoSummary;
  assert.equal(summary.failed[0]!.type, 'wcs');
  assert.deepEqual(summary.recompute.skipped.map((s) => s.dataId), [summary.failed[0]!.dataId]);
  assert.equal(summary.recompute.rows, 5 * 200);
});

test('recompute: every derived value equals the library computed in-thread, bit for bit', async () => {
  const repo = Repository.open(demo.repository);
  try {
    const out = join(dir.path, 'all.arrow');
    const summary = await recompute(repo, { out, skipInvalid: true, workers: 2 });
    assert.equal(summary.rows, 11 * 1500);
    const table = await readAll(out);
    const visit = table.getChild('visit')!.toArray() as BigInt64Array;
    const detector = table.getChild('detector')!.toArray() as BigInt64Array;
    let checked = 0;
    for (const d of summary.dataIds) {
      const keys = Object.fromEntries(d.dataId.split(',').map((kv) => kv.split('=') as [string, string]));
      const { wcs } = repo.getWcs(d.dataId);
      const { photoCalib } = repo.getPhotoCalib(d.dataId);
      const rows: number[] = [];
      for (let i = 0; i < table.numRows; i++) if (String(visit[i]) === keys['visit'] && String(detector[i]) === keys['detector']) rows.push(i);
      assert.equal(rows.length, 1500);
      const x = Float64Array.from(rows, (i) => table.getChild('x')!.get(i) as number);
      const y = Float64Array.from(rows, (i) => table.getChild('y')!.get(i) as number);
      const sky = wcs.pixelToSkyArrays(x, y);
      for (let k = 0; k < rows.length; k++) {
        assert.ok(Object.is(table.getChild('coord_ra')!.get(rows[k]!), sky.ra[k]), `${d.dataId} row ${k} ra`);
        assert.ok(Object.is(table.getChild('coord_dec')!.get(rows[k]!), sky.dec[k]), `${d.dataId} row ${k} dec`);
        const inst = table.getChild('base_PsfFlux_instFlux')!.get(rows[k]!) as number;
        const flux = photoCalib.instFluxToNanojansky(inst, { x: x[k]!, y: y[k]! });
        assert.ok(Object.is(table.getChild('base_PsfFlux_flux')!.get(rows[k]!), flux), `${d.dataId} row ${k} flux`);
        checked++;
      }
    }
    assert.equal(checked, 11 * 1500);
  } finally {
    repo.close();
  }
});

test('recompute CLI: an invalid dataId fails by default naming it; --skip-invalid writes the rest and lists it', async () => {
  const out = join(dir.path, 'cli.parquet');
  const failing = demo.failed[0]!.dataId;
  const r = (await cli('recompute', demo.repository, '--out', out, '--json', '--workers', '1'));
  assert.equal(r.status, 1);
  const err = JSON.parse(r.stdout).error;
  assert.equal(err.code, 'INVALID_DATASET');
  assert.ok(err.message.includes(failing), err.message);
  assert.equal(existsSync(out), false, 'nothing written when a dataId is invalid');
  const ok = (await cli('recompute', demo.repository, '--out', out, '--json', '--workers', '1', '--skip-invalid'));
  assert.equal(ok.status, 0, ok.stderr);
  const summary = JSON.parse(ok.stdout);
  assert.deepEqual(summary.skipped.map((s: { dataId: string }) => s.dataId), [failing]);
  assert.equal(summary.rows, 11 * 1500);
  assert.equal(typeof summary.rowsPerSecond, 'number');
  // The process's CPU over the job: some, and no more than every core for the whole job (+ accounting slack).
  assert.ok(summary.cpuSeconds > 0 && summary.cpuSeconds <= summary.seconds * availableParallelism() + 0.05, `cpuSeconds ${summary.cpuSeconds} over ${summary.seconds} s`);
  // --where selects; a version as of before jointcal gives singleFrame's WCS for every CCD, failed one included.
  const sel = (await cli('recompute', demo.repository, '--where', 'visit=903334', '--out', join(dir.path, 'v.csv'), '--json', '--workers', '0'));
  assert.equal(sel.status, 0, sel.stderr);
  assert.equal(JSON.parse(sel.stdout).dataIds.length, 6);
  const sf = (await cli('recompute', demo.repository, '--at', demo.runs.singleFrame, '--out', join(dir.path, 'sf.csv'), '--json', '--workers', '0'));
  assert.equal(sf.status, 0, sf.stderr);
  const sfSummary = JSON.parse(sf.stdout);
  assert.equal(sfSummary.dataIds.length, 12);
  assert.ok(sfSummary.dataIds.every((d: { wcsRun: string }) => d.wcsRun === demo.runs.singleFrame));
  // Bad input: a missing repository, an unknown ref, a bad --where.
  assert.equal(JSON.parse((await cli('recompute', join(dir.path, 'nope'), '--out', out, '--json')).stdout).error.code, 'NOT_FOUND');
  assert.equal((await cli('recompute', demo.repository, '--where', 'visit', '--out', out)).status, 2);
});

test('recompute Parquet output read by DuckDB: rows, columns, units and key/value metadata naming the runs', async () => {
  const repo = Repository.open(demo.repository);
  const out = join(dir.path, 'duck.parquet');
  try {
    await recompute(repo, { out, skipInvalid: true, workers: 1 });
  } finally {
    repo.close();
  }
  const db = await DuckDBInstance.create(':memory:');
  try {
    const c = await db.connect();
    const q = (sql: string) => c.runAndReadAll(sql).then((r) => r.getRowObjectsJS());
    const [agg] = await q(`select count(*) as n, count(distinct detector) as dets, min(coord_dec) as d0, max(coord_dec) as d1, count(*) filter (where base_PsfFlux_mag > 10 and base_PsfFlux_mag < 30) as mags from '${out}'`);
    assert.equal(agg!['n'], 16500n);
    assert.equal(agg!['dets'], 6n);
    assert.ok((agg!['d0'] as number) > 1.8 && (agg!['d1'] as number) < 2.6);
    assert.ok((agg!['mags'] as bigint) > 15000n);
    const cols = (await q(`select name from parquet_schema('${out}')`)).map((r) => r['name']);
    for (const name of ['visit', 'detector', 'instrument', 'x', 'y', 'coord_ra', 'coord_dec', 'status', 'base_PsfFlux_flux', 'base_PsfFlux_fluxErr', 'base_PsfFlux_mag', 'base_PsfFlux_magErr']) {
      assert.ok(cols.includes(name), `column ${name}`);
    }
    const kv = new Map((await q(`select decode(key) as k, value from parquet_kv_metadata('${out}')`)).map((r) => [r['k'] as string, Buffer.from(r['value'] as Uint8Array)]));
    const versions = JSON.parse(kv.get(META_RECOMPUTE)!.toString());
    assert.equal(versions.versions.length, 11);
    assert.ok(versions.versions.every((v: { wcs: { stage: string }; src: { run: string } }) => v.wcs.stage === 'jointcal' && v.src.run === demo.runs.singleFrame));
    const message = Buffer.from(kv.get('ARROW:schema')!.toString(), 'base64');
    const schema = RecordBatchReader.from(Buffer.concat([message, Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])])).open().schema;
    assert.equal(schema.fields.find((f) => f.name === 'coord_ra')!.metadata.get('unit'), 'deg');
    assert.equal(schema.fields.find((f) => f.name === 'base_PsfFlux_flux')!.metadata.get('unit'), 'nJy');
  } finally {
    db.closeSync();
  }
});

test('an interrupted recompute leaves no file under the output name (SIGINT: nothing at all)', async () => {
  const outDir = join(dir.path, 'interrupt');
  const { mkdirSync } = await import('node:fs');
  for (const signal of ['SIGINT', 'SIGKILL'] as const) {
    mkdirSync(outDir, { recursive: true });
    const out = join(outDir, `${signal}.parquet`);
    const child = spawn(process.execPath, [cliPath, 'recompute', demo.repository, '--out', out, '--skip-invalid', '--workers', '1'], { stdio: 'ignore' });
    // Wait until the temporary output exists, then interrupt.
    const t0 = Date.now();
    while (!readdirSync(outDir).some((f) => f.endsWith('.tmp')) && Date.now() - t0 < 20000 && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 2));
    }
    child.kill(signal);
    await new Promise((r) => child.once('exit', r));
    assert.equal(existsSync(out), false, `${signal}: no file under the output name`);
    if (signal === 'SIGINT') assert.deepEqual(readdirSync(outDir).filter((f) => f.includes('SIGINT')), [], 'SIGINT removes the temporary file');
  }
});

test('diff on two versions that differ by a known 30 mas shift north reports 30 mas', async () => {
  const d = tempDir();
  const repo = Repository.init(join(d.path, 'repo'));
  try {
    const cd = [[-0.2 / 3600, 0], [0, 0.2 / 3600]];
    const bbox = { minX: 0, minY: 0, maxX: 1023, maxY: 1023 };
    const put = (stage: string, dec: number) => {
      const run = repo.begin({ stage });
      for (const det of ['1', '2']) {
        const wcs = makeTanSipWcs({ crpix: [512, 512], crval: [30, dec], cd, bbox, sipA: [[0, 0, 1e-6], [0, 0, 0], [0, 0, 0]], sipB: [[0, 0, 0], [0, 0, 0], [2e-6, 0, 0]] });
        repo.put(run.id, 'wcs', { visit: '1', detector: det }, new TextEncoder().encode(wcs.toFitsHeader()));
      }
      repo.commit(run.id);
      return run.id;
    };
    put('singleFrame', -10);
    put('jointcal', -10 + 30 / 3.6e6);
    const rows = await diffWcsVersions(repo, { from: { stage: 'singleFrame' }, to: { stage: 'jointcal' } });
    assert.equal(rows.length, 2);
    for (const r of rows) {
      assert.equal(r.positions, 'grid');
      assert.ok(Math.abs(r.medianMas - 30) < 0.05, `median ${r.medianMas}`);
      assert.ok(Math.abs(r.maxMas - 30) < 0.05, `max ${r.maxMas}`);
    }
    repo.close();
    const plot = join(d.path, 'shift.svg');
    const r = (await cli('diff', join(d.path, 'repo'), '--type', 'wcs', '--from', '@singleFrame', '--to', '@jointcal', '--plot', plot, '--json'));
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.unit, 'mas');
    assert.ok(doc.dataIds.every((x: { medianMas: number }) => Math.abs(x.medianMas - 30) < 0.05));
    assert.ok(existsSync(plot));
    const text = (await cli('diff', join(d.path, 'repo'), '--from', 'main', '--to', '@singleFrame'));
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /30\.0/);
    assert.equal((await cli('diff', join(d.path, 'repo'), '--from', '@', '--to', 'main')).status, 2);
  } finally {
    d.cleanup();
  }
});

test('diff at src positions on the demo repository: the failed detector is reported invalid, the rest measured at sources', async () => {
  const repo = Repository.open(demo.repository);
  try {
    const rows = await diffWcsVersions(repo, { from: { stage: 'singleFrame' }, to: { at: 'main' } });
    const invalid = rows.filter((r) => r.positions === 'invalid');
    assert.deepEqual(invalid.map((r) => r.dataId), [demo.failed[0]!.dataId]);
    const measured = rows.filter((r) => r.positions === 'src');
    assert.equal(measured.length, 11);
    assert.ok(measured.every((r) => r.points === 1500 && r.medianMas > 1 && r.medianMas < 500));
  } finally {
    repo.close();
  }
});

test('the PhotoCalib recompute used for each dataId is the file jointcal stored: same run, same JSON as the bytes in store/, same fluxes', async () => {
  const repo = Repository.open(demo.repository);
  try {
    const summary = await recompute(repo, { out: join(dir.path, 'pc.arrow'), skipInvalid: true, workers: 0 });
    assert.equal(summary.dataIds.length, 11);
    for (const d of summary.dataIds) {
      // The run recompute names is jointcal's, and the file that run stored, read straight from store/ by its
      // sha256 (not through the adapter recompute reads with), parses to the calibration the adapter handed over.
      assert.equal(d.photoCalibRun, demo.runs.jointcal, d.dataId);
      const stored = repo.get('photoCalib@jointcal', d.dataId);
      assert.equal(stored.supplied.runId, d.photoCalibRun);
      const hash = stored.entry.fileHash!;
      const fromStore = PhotoCalib.fromJson(JSON.parse(readFileSync(join(demo.repository, 'store', hash.slice(0, 2), hash), 'utf8')));
      const { photoCalib } = repo.getPhotoCalib(d.dataId);
      assert.deepEqual(photoCalib.toJson(), fromStore.toJson(), d.dataId);
      assert.equal(fromStore.isConstant, false, 'jointcal stored a varying calibration');
      assert.equal(photoCalib.instFluxToNanojansky(1000, { x: 100, y: 200 }), fromStore.instFluxToNanojansky(1000, { x: 100, y: 200 }));
    }
  } finally {
    repo.close();
  }
});
