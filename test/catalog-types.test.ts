/**
 * Non-numeric columns never become numbers (issue 11 item 2): every column a
 * kernel reads has its Arrow type checked once per batch (catalog/columnTypes.ts).
 * Integers and floats convert; text, booleans, decimals, dates, timestamps,
 * blobs and dictionary strings are BAD_INPUT naming the column and its type,
 * on read and at `put --type src`. A CSV cell that is not a number is NaN
 * with the nonFiniteInput bit, never the bytes of its text.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Dictionary, Float64, Int32, Table, Utf8, makeVector, tableToIPC, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { TanSipWcs } from '../src/wcs/tanSipWcs.js';
import { PhotoCalib } from '../src/photocalib/photoCalib.js';
import { KernelPool } from '../src/parallel/pool.js';
import { readCatalogBatches } from '../src/catalog/read.js';
import { calibrated, withSky } from '../src/catalog/views.js';
import { checkCatalogSchema } from '../src/catalog/columnTypes.js';
import { csvToTable } from '../src/catalog/csv.js';
import { Repository } from '../src/butler/repository.js';
import { main } from '../src/cli/main.js';
import { photoCalibJson } from './butler-fixtures.js';
import { tempDir, wcsHeaderDir } from './helpers.js';

const tmp = tempDir('skycal-types-');
const pool = new KernelPool({ workers: 2, minRowsForWorkers: 0 });
const wcs = TanSipWcs.fromFitsHeader(readFileSync(join(wcsHeaderDir, 'hsc_lsst_afw_sip3.hdr'), 'utf8'));
const calib = PhotoCalib.fromJson(JSON.parse(photoCalibJson(1000)));
let db: DuckDBInstance;

before(async () => {
  db = await DuckDBInstance.create(':memory:');
});
after(async () => {
  await pool.close();
  db.closeSync();
  tmp.cleanup();
});

/** A Parquet file written by DuckDB with `x` of the given SQL type and y DOUBLE. */
async function duckParquet(name: string, xSql: string): Promise<string> {
  const path = join(tmp.path, `${name}.parquet`);
  const c = await db.connect();
  await c.run(`copy (select ${xSql} as x, (i * 1.0)::double as y, 100.0::double as a_instFlux from range(3) t(i)) to '${path}' (format parquet)`);
  c.closeSync();
  return path;
}

async function readAll(path: string): Promise<Table> {
  const batches: RecordBatch[] = [];
  for await (const b of await readCatalogBatches(path)) batches.push(b);
  return new Table(batches);
}

const badInput = (column: string, type: RegExp) => (e: Error & { code?: string }) =>
  e.code === 'BAD_INPUT' && e.message.includes(`column ${column} is `) && type.test(e.message);

const REFUSED: [string, string, RegExp][] = [
  ['varchar', `('1' || i)::varchar`, /Utf8/],
  ['boolean', `(i > 0)::boolean`, /Bool/],
  ['decimal', `(10.125 + i)::decimal(10,3)`, /Decimal/],
  ['date', `(date '2026-01-01' + i::int)`, /Date/],
  ['timestamp', `(timestamp '2026-01-01 00:00:00' + i * interval 1 second)`, /Timestamp/],
  ['blob', `('\\x31'::blob)`, /Binary/],
];

for (const [name, sql, type] of REFUSED) {
  test(`a DuckDB Parquet ${name.toUpperCase()} centroid column is BAD_INPUT naming the column and its type, in the view and at put --type src`, async () => {
    const path = await duckParquet(name, sql);
    await assert.rejects(async () => {
      const view = withSky(await readCatalogBatches(path), wcs, { pool, source: path });
      for await (const _ of view);
    }, badInput('x', type));
    const repo = Repository.init(join(tmp.path, `repo-${name}`));
    try {
      const run = repo.begin({ stage: 's' });
      assert.throws(() => repo.put(run.id, 'src', 'visit=1', readFileSync(path), path), badInput('x', type));
    } finally {
      repo.close();
    }
  });
}

test('a dictionary-encoded string column (Arrow IPC) is BAD_INPUT, never its dictionary indices', async () => {
  const dict = vectorFromArray(['10', '30', '10'], new Dictionary(new Utf8(), new Int32()));
  const table = new Table({ x: dict, y: makeVector(Float64Array.of(20, 40, 20)) });
  const path = join(tmp.path, 'dict.arrow');
  writeFileSync(path, tableToIPC(table, 'file'));
  await assert.rejects(async () => {
    for await (const _ of withSky(await readCatalogBatches(path), wcs, { pool })) void _;
  }, badInput('x', /Dictionary/));
  await assert.rejects(() => withSky(table, wcs, { pool }), badInput('x', /Dictionary/));
  assert.throws(() => calib.calibrateCatalog(new Table({ x: makeVector(Float64Array.of(1)), y: makeVector(Float64Array.of(1)), a_instFlux: vectorFromArray(['1'], new Utf8()) })), badInput('a_instFlux', /Utf8/));
});

test('DuckDB integer and float columns (TINYINT .. BIGINT, UINTEGER, FLOAT) convert exactly: the coordinates of DOUBLE', async () => {
  const ref = await withSky(await readAll(await duckParquet('double', '(100 + i * 7)::double')), wcs, { pool });
  for (const sql of ['tinyint', 'smallint', 'integer', 'bigint', 'uinteger', 'ubigint', 'float']) {
    const t = await withSky(await readAll(await duckParquet(sql, `(100 + i * 7)::${sql}`)), wcs, { pool });
    assert.deepEqual(t.getChild('coord_ra')!.toArray(), ref.getChild('coord_ra')!.toArray(), sql);
    assert.deepEqual(t.getChild('status')!.toArray(), Uint8Array.of(0, 0, 0), sql);
  }
});

test('checkCatalogSchema: a named need must exist and be numeric; conventional columns (centroids, instFlux) are checked where present; others are free', async () => {
  const t = new Table({ x: makeVector(Float64Array.of(1)), name: vectorFromArray(['a'], new Utf8()) });
  assert.doesNotThrow(() => checkCatalogSchema(t.schema));
  assert.throws(() => checkCatalogSchema(t.schema, { needs: ['y'] }), (e: Error & { code?: string }) => e.code === 'BAD_INPUT' && /missing column\(s\) y/.test(e.message));
  assert.throws(() => checkCatalogSchema(t.schema, { needs: ['name'] }), badInput('name', /Utf8/));
  const f = new Table({ x: makeVector(Float64Array.of(1)), b_instFlux: vectorFromArray([true]) });
  assert.throws(() => checkCatalogSchema(f.schema, { source: 'cat.parquet' }), (e: Error) => /^cat\.parquet: column b_instFlux is Bool/.test(e.message));
});

/**
 * The CLI's main() in this process with --in and --out files; returns its
 * stderr (the summary line) and the output text. stdout is left alone: the
 * test runner reports through it.
 */
async function cli(args: string[], input: string): Promise<{ code: number; err: string; out: string }> {
  const name = Math.random().toString(36).slice(2);
  const inPath = join(tmp.path, `in-${name}.csv`), outPath = join(tmp.path, `out-${name}.csv`);
  writeFileSync(inPath, input);
  let err = '';
  const writeErr = process.stderr.write;
  process.stderr.write = ((c: string | Uint8Array) => ((err += String(c)), true)) as typeof process.stderr.write;
  try {
    const code = await main([...args, '--in', inPath, '--out', outPath]);
    return { code, err, out: code === 0 ? readFileSync(outPath, 'utf8') : '' };
  } finally {
    process.stderr.write = writeErr;
  }
}

test('CSV cells that are not numbers (abc, n/a, 0x10, "1,000", "10,5") give NaN and nonFiniteInput, and the other rows exactly their own coordinates', async () => {
  const good = await cli(['pix2sky', '--wcs', 'builtin:hsc', '--workers', '0'], 'x,y\n10,20\n30,40\n');
  const goodRows = good.out.trim().split('\n').slice(1);
  for (const cell of ['abc', 'n/a', '0x10', '"1,000"', '"10,5"']) {
    // The example: before, `abc` made the whole column bytes, and (10, 20) got the coordinates of (49, 20).
    const r = await cli(['pix2sky', '--wcs', 'builtin:hsc', '--workers', '0'], `x,y\n10,20\n30,40\n${cell},50\n`);
    assert.equal(r.code, 0, r.err);
    const rows = r.out.trim().split('\n').slice(1);
    assert.deepEqual(rows.slice(0, 2), goodRows, cell);
    assert.deepEqual(rows[2]!.split(',').slice(-3), ['NaN', 'NaN', '1'], cell);
    assert.match(r.err, /1 of 3 rows could not be transformed/);
  }
  // Mostly text: the column is text, and a kernel refuses it by name.
  const text = await cli(['pix2sky', '--wcs', 'builtin:hsc', '--workers', '0'], 'x,y\nabc,1\nn/a,2\n5,3\n');
  assert.notEqual(text.code, 0);
  assert.match(text.err, /column x is Utf8, not a number/);
});

test('calibrate: an n/a flux is NaN with nonFiniteInput, never the 49000 of its bytes; the summary counts it', async () => {
  const calibPath = join(tmp.path, 'calib.json');
  writeFileSync(calibPath, photoCalibJson(1000));
  const r = await cli(['calibrate', '--photocalib', calibPath, '--workers', '0'], 'x,y,a_instFlux\n1,1,100\n2,2,n/a\n');
  assert.equal(r.code, 0, r.err);
  const t = csvToTable(r.out);
  assert.equal(t.getChild('a_flux')!.get(0), 100_000);
  assert.ok(Number.isNaN(t.getChild('a_flux')!.get(1)));
  assert.deepEqual(Array.from(t.getChild('status')!.toArray() as BigInt64Array, Number), [0, 1]);
  assert.match(r.err, /bad points: nonFiniteInput 1/);
});
