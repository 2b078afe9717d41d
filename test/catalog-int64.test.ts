/**
 * 64-bit ids stay exact end to end (issue 10 item 2): LSST source ids exceed
 * 2^53, where a double merges neighbours (9007199254740993 reads as ...992).
 * Every format, the pool, the views, PhotoCalib#calibrateCatalog and
 * recompute carry Int64 columns untouched.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataType, Float64, Int64, RecordBatch, Schema, Struct, Field, Table, makeData } from 'apache-arrow';
import { TanSipWcs } from '../src/wcs/tanSipWcs.js';
import { PhotoCalib } from '../src/photocalib/photoCalib.js';
import { KernelPool } from '../src/parallel/pool.js';
import { readCatalogBatches } from '../src/catalog/read.js';
import { writeCatalog } from '../src/catalog/write.js';
import { csvToTable, tableToCsv } from '../src/catalog/csv.js';
import { calibrated, withSky, withSkyAndCalibration } from '../src/catalog/views.js';
import { makeSources, sourceId } from '../src/demo/camera.js';
import { Repository } from '../src/butler/repository.js';
import { recompute } from '../src/recompute/recompute.js';
import { photoCalibJson, wcsHeaderText } from './butler-fixtures.js';
import { tempDir, wcsHeaderDir } from './helpers.js';

/** Readers build Int_(signed, 64), not the Int64 subclass: compare by type. */
const isInt64 = (t: DataType): boolean => DataType.isInt(t) && t.bitWidth === 64 && t.isSigned;

const tmp = tempDir('skycal-int64-');
// minRowsForWorkers 0: every view below runs on the workers (the pool path), not in-thread.
const pool = new KernelPool({ workers: 2, minRowsForWorkers: 0 });
after(async () => {
  await pool.close();
  tmp.cleanup();
});

const wcs = TanSipWcs.fromFitsHeader(readFileSync(join(wcsHeaderDir, 'hsc_lsst_afw_sip3.hdr'), 'utf8'));
const calib = PhotoCalib.fromJson(JSON.parse(photoCalibJson(1000)));

/** Ids just above 2^53 (odd ones are not doubles), near 2^63 - 1, negative, and an LSST-like one. */
const IDS = [9007199254740993n, 9007199254740995n, 9223372036854775807n, -9223372036854775808n, 3449050143031263233n, 1n];

function catalog(): { schema: Schema; batch: RecordBatch } {
  const n = IDS.length;
  const schema = new Schema([new Field('id', new Int64(), false), new Field('x', new Float64(), false), new Field('y', new Float64(), false), new Field('a_instFlux', new Float64(), false)]);
  const cols = [Float64Array.from({ length: n }, (_, i) => 10 + i), Float64Array.from({ length: n }, (_, i) => 20 + 3 * i), Float64Array.from({ length: n }, (_, i) => 100 * (i + 1))];
  const batch = new RecordBatch(schema, makeData({
    type: new Struct(schema.fields),
    length: n,
    nullCount: 0,
    children: [makeData({ type: new Int64(), length: n, nullCount: 0, data: BigInt64Array.from(IDS) }), ...cols.map((c) => makeData({ type: new Float64(), length: n, nullCount: 0, data: c }))],
  }));
  return { schema, batch };
}

async function readAll(path: string): Promise<Table> {
  const batches: RecordBatch[] = [];
  for await (const b of await readCatalogBatches(path)) batches.push(b);
  return new Table(batches);
}

function idsOf(t: Table, name = 'id'): bigint[] {
  const col = t.getChild(name)!;
  assert.ok(isInt64(col.type), `${name} is ${String(col.type)}, not Int64`);
  return Array.from(col.toArray() as BigInt64Array);
}

test('CSV: an integer column is read as Int64 exactly (9007199254740993 is not rounded to ...992) and written back digit for digit', async () => {
  const text = `id,x\n${IDS.map((id, i) => `${id},${i}.5`).join('\n')}\n`;
  const path = join(tmp.path, 'in.csv');
  writeFileSync(path, text);
  const t = await readAll(path);
  assert.deepEqual(idsOf(t), IDS);
  assert.deepEqual(idsOf(csvToTable(text)), IDS);
  const out = join(tmp.path, 'out.csv');
  await writeCatalog(out, t.schema, t.batches);
  assert.equal(readFileSync(out, 'utf8'), text);
  assert.equal(tableToCsv(t), text);
});

test('CSV type rule: an integer beyond Int64 makes the column Float64; a later non-integer in an Int64 column is BAD_INPUT naming column and row', async () => {
  assert.ok(csvToTable('id\n1\n9223372036854775808\n').getChild('id')!.type instanceof Float64);
  const path = join(tmp.path, 'late.csv');
  writeFileSync(path, 'id,x\n1,1\n2,2\n3.5,3\n');
  const source = await readCatalogBatches(path, { batchRows: 2 });
  assert.ok(isInt64(source.schema.fields[0]!.type));
  await assert.rejects(async () => {
    for await (const _ of source);
  }, (e: Error & { code?: string }) => e.code === 'BAD_INPUT' && /row 4 column id: "3\.5" is not a 64-bit integer/.test(e.message));
});

for (const ext of ['parquet', 'arrow', 'arrows', 'csv']) {
  test(`.${ext}: ids above 2^53 round-trip exactly through write and read`, async () => {
    const { schema, batch } = catalog();
    const path = join(tmp.path, `ids.${ext}`);
    await writeCatalog(path, schema, [batch]);
    assert.deepEqual(idsOf(await readAll(path)), IDS);
  });
}

test('withSky, calibrated and withSkyAndCalibration on the pool pass Int64 ids through untouched (table and stream)', async () => {
  const { schema, batch } = catalog();
  const table = new Table([batch]);
  for (const view of [withSky(table, wcs, { pool }), calibrated(table, calib, { pool }), withSkyAndCalibration(table, wcs, calib, { pool })]) {
    assert.deepEqual(idsOf(await view), IDS);
  }
  const path = join(tmp.path, 'stream.parquet');
  await writeCatalog(path, schema, [batch]);
  const out = join(tmp.path, 'stream-out.arrows');
  const derived = withSkyAndCalibration(await readCatalogBatches(path), wcs, calib, { pool });
  await writeCatalog(out, derived.schema, derived);
  assert.deepEqual(idsOf(await readAll(out)), IDS);
  assert.deepEqual(idsOf(calib.calibrateCatalog(table)), IDS);
});

test('an Int64 kernel input (integer pixel positions) is converted exactly to doubles: same coordinates as Float64', async () => {
  const ints = csvToTable('x,y\n10,20\n4000,3000\n');
  assert.ok(isInt64(ints.getChild('x')!.type));
  const floats = csvToTable('x,y\n10.0,20.0\n4000.0,3000.0\n');
  const a = await withSky(ints, wcs, { pool }), b = await withSky(floats, wcs, { pool });
  assert.deepEqual(a.getChild('coord_ra')!.toArray(), b.getChild('coord_ra')!.toArray());
  assert.deepEqual(a.getChild('status')!.toArray(), Uint8Array.of(0, 0));
});

test('the demo writes unique Int64 source ids above 2^53', () => {
  const a = makeSources(20_000, 2048, 4176, 1000, 20261124001);
  const b = makeSources(10, 2048, 4176, 1000, 20261124002);
  assert.ok(a.id instanceof BigInt64Array);
  const all = new Set([...a.id, ...b.id]);
  assert.equal(all.size, 20_010, 'every id distinct, within and across catalogs');
  for (const id of all) assert.ok(id > 2n ** 53n);
  assert.equal(sourceId(20261124001, 5), a.id[5]);
});

test('recompute keeps Int64 ids of a stored catalog exact, and counts nonPositiveFlux in its summary', async () => {
  const repo = Repository.init(join(tmp.path, 'repo'));
  try {
    const run = repo.begin({ stage: 'singleFrame' });
    const dataId = 'visit=1,detector=2';
    repo.put(run.id, 'wcs', dataId, new TextEncoder().encode(wcsHeaderText(0)));
    repo.put(run.id, 'photoCalib', dataId, new TextEncoder().encode(photoCalibJson(1000)));
    const { schema, batch } = catalog();
    // Two non-positive fluxes: no magnitude, and the summary must say so.
    (batch.getChild('a_instFlux')!.data[0]!.values as Float64Array).set([-5, 0], 0);
    const src = join(tmp.path, 'src.parquet');
    await writeCatalog(src, schema, [batch]);
    repo.put(run.id, 'src', dataId, readFileSync(src));
    repo.commit(run.id);
    const out = join(tmp.path, 'recomputed.parquet');
    const summary = await recompute(repo, { out, workers: 0 });
    assert.deepEqual(idsOf(await readAll(out)), IDS);
    assert.equal(summary.badByStatus['nonPositiveFlux'], 2);
  } finally {
    repo.close();
  }
});
