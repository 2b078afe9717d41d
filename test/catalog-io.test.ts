import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Field, RecordBatchReader, Schema, Table, Utf8, makeVector, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { DuckDBInstance } from '@duckdb/node-api';
import { readCatalogBatches } from '../src/catalog/read.js';
import { writeCatalog } from '../src/catalog/write.js';
import { raField, decField, pixelXField, pixelYField } from '../src/catalog/columns.js';
import { tempDir } from './helpers.js';

/** A small catalog with chunked columns, NaN, a string column, field and schema metadata. */
function sampleTable(rows = 1000, chunks = 3): Table {
  const fields = [pixelXField('x'), pixelYField('y'), raField(), decField(), new Field('name', new Utf8(), true)];
  const schema = new Schema(fields, new Map([['origin', 'test']]));
  const batches: RecordBatch[] = [];
  const per = Math.ceil(rows / chunks);
  for (let start = 0; start < rows; start += per) {
    const n = Math.min(per, rows - start);
    const col = (f: (i: number) => number) => makeVector(Float64Array.from({ length: n }, (_, k) => f(start + k)));
    const t = new Table({
      x: col((i) => i * 0.5 - 3),
      y: col((i) => (i % 7 === 3 ? NaN : Math.sin(i) * 2048)),
      coord_ra: col((i) => 150 + i * 1e-6),
      coord_dec: col((i) => -2 - i * 1e-7),
      name: vectorFromArray(Array.from({ length: n }, (_, k) => `src,"${start + k}"`), new Utf8()),
    });
    batches.push(...t.batches.map((b) => b));
  }
  return new Table(schema, batches.map((b) => new (b.constructor as typeof import('apache-arrow').RecordBatch)(schema, b.data)));
}

async function readAll(path: string): Promise<{ schema: Schema; table: Table }> {
  const source = await readCatalogBatches(path);
  const batches: RecordBatch[] = [];
  for await (const b of source) batches.push(b);
  return { schema: source.schema, table: new Table(source.schema, batches) };
}

function float64Bytes(t: Table, name: string): Uint8Array {
  const v = t.getChild(name)!;
  const out = new Float64Array(v.length);
  let at = 0;
  for (const d of v.data) {
    out.set((d.values as Float64Array).subarray(0, d.length), at);
    at += d.length;
  }
  return new Uint8Array(out.buffer);
}

for (const ext of ['parquet', 'arrow', 'arrows']) {
  test(`a .${ext} catalog written here reads back identically, with field and file metadata`, async () => {
    const dir = tempDir();
    try {
      const table = sampleTable();
      const path = join(dir.path, `cat.${ext}`);
      const { rows } = await writeCatalog(path, table.schema, table.batches, { metadata: { 'skycal.wcs': 'run-42' } });
      assert.equal(rows, table.numRows);
      const { schema, table: back } = await readAll(path);
      assert.equal(back.numRows, table.numRows);
      assert.deepEqual(schema.fields.map((f) => f.name), ['x', 'y', 'coord_ra', 'coord_dec', 'name']);
      for (const name of ['x', 'y', 'coord_ra', 'coord_dec']) assert.deepEqual(float64Bytes(back, name), float64Bytes(table, name), name);
      assert.deepEqual(back.getChild('name')!.toArray(), table.getChild('name')!.toArray());
      assert.equal(schema.fields[2]!.metadata.get('unit'), 'deg');
      assert.equal(schema.fields[2]!.metadata.get('ucd'), 'pos.eq.ra;meta.main');
      assert.equal(schema.metadata.get('skycal.wcs'), 'run-42');
      assert.equal(schema.metadata.get('origin'), 'test');
      assert.deepEqual(readdirSync(dir.path), [`cat.${ext}`], 'no temporary file is left');
    } finally {
      dir.cleanup();
    }
  });
}

test('a CSV catalog round-trips its values (doubles, NaN, quoted strings)', async () => {
  const dir = tempDir();
  try {
    const table = sampleTable(50, 2);
    const path = join(dir.path, 'cat.csv');
    await writeCatalog(path, table.schema, table.batches);
    const { table: back } = await readAll(path);
    for (const name of ['x', 'y', 'coord_ra']) assert.deepEqual(float64Bytes(back, name), float64Bytes(table, name));
    assert.deepEqual(back.getChild('name')!.toArray(), table.getChild('name')!.toArray());
    assert.equal(readFileSync(path, 'utf8').split('\n')[0], 'x,y,coord_ra,coord_dec,name', 'one header row');
  } finally {
    dir.cleanup();
  }
});

test('an empty catalog writes a valid file with its schema in every format', async () => {
  const dir = tempDir();
  try {
    const schema = new Schema([pixelXField('x'), pixelYField('y')]);
    for (const ext of ['parquet', 'arrow', 'arrows', 'csv']) {
      const path = join(dir.path, `e.${ext}`);
      await writeCatalog(path, schema, []);
      const { schema: back, table } = await readAll(path);
      assert.equal(table.numRows, 0, ext);
      assert.deepEqual(back.fields.map((f) => f.name), ['x', 'y'], ext);
    }
  } finally {
    dir.cleanup();
  }
});

test('DuckDB reads a Parquet catalog written here: values, key/value metadata, and field units', async () => {
  const dir = tempDir();
  const db = await DuckDBInstance.create(':memory:');
  try {
    const table = sampleTable(2000, 4);
    const path = join(dir.path, 'cat.parquet');
    await writeCatalog(path, table.schema, table.batches, { metadata: { 'skycal.wcs': 'run-7', 'skycal.photoCalib': 'run-8' } });
    const c = await db.connect();
    const q = (sql: string) => c.runAndReadAll(sql).then((r) => r.getRowObjectsJS());
    const [agg] = await q(`select count(*) as n, sum(x) as sx, count(*) filter (where isnan(y)) as nans, max(coord_ra) as ra from '${path}'`);
    let sx = 0;
    for (let i = 0; i < 2000; i++) sx += i * 0.5 - 3;
    assert.equal(agg!['n'], 2000n);
    assert.equal(agg!['sx'], sx);
    assert.equal(agg!['nans'], BigInt(Array.from({ length: 2000 }, (_, i) => i).filter((i) => i % 7 === 3).length));
    assert.equal(agg!['ra'], 150 + 1999 * 1e-6);
    const [row] = await q(`select name from '${path}' where x = 7`);
    assert.equal(row!['name'], 'src,"20"');
    const kv = new Map((await q(`select decode(key) as k, value from parquet_kv_metadata('${path}')`)).map((r) => [r['k'] as string, Buffer.from(r['value'] as Uint8Array)]));
    assert.equal(kv.get('skycal.wcs')?.toString(), 'run-7');
    assert.equal(kv.get('skycal.photoCalib')?.toString(), 'run-8');
    // Field metadata lives in the ARROW:schema entry (an IPC schema message, base64) that arrow readers decode.
    const message = Buffer.from(kv.get('ARROW:schema')!.toString(), 'base64');
    const eos = Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    const schema = RecordBatchReader.from(Buffer.concat([message, eos])).open().schema;
    const ra = schema.fields.find((f) => f.name === 'coord_ra')!;
    assert.equal(ra.metadata.get('unit'), 'deg');
    assert.equal(ra.metadata.get('ucd'), 'pos.eq.ra;meta.main');
    assert.equal(schema.fields.find((f) => f.name === 'x')!.metadata.get('unit'), 'pixel');
  } finally {
    db.closeSync();
    dir.cleanup();
  }
});

test('bad input: not Parquet/Arrow, truncated, unknown extension, missing file -> clear errors', async () => {
  const dir = tempDir();
  try {
    const text = join(dir.path, 'notes.parquet');
    writeFileSync(text, 'x,y\n1,2\n');
    await assert.rejects(readCatalogBatches(text), { code: 'BAD_INPUT', message: /not a Parquet file/ });
    const fake = join(dir.path, 'notes.arrow');
    writeFileSync(fake, 'x,y\n1,2\n');
    await assert.rejects(readCatalogBatches(fake), { code: 'BAD_INPUT', message: /not an Arrow IPC file/ });
    const fakeStream = join(dir.path, 'notes.arrows');
    writeFileSync(fakeStream, 'x,y\n1,2\n');
    await assert.rejects(readCatalogBatches(fakeStream), { code: 'BAD_INPUT', message: /not an Arrow IPC stream/ });

    const table = sampleTable(5000, 2);
    const good = join(dir.path, 'good.parquet');
    await writeCatalog(good, table.schema, table.batches);
    const bytes = readFileSync(good);
    const cut = join(dir.path, 'cut.parquet');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await assert.rejects(readCatalogBatches(cut), { code: 'BAD_INPUT', message: /truncated Parquet/ });
    // A footer that claims more metadata than the file holds: the decoder's error is wrapped.
    const lied = Buffer.from(bytes);
    lied.writeUInt32LE(bytes.length * 2, bytes.length - 8);
    const liar = join(dir.path, 'liar.parquet');
    writeFileSync(liar, lied);
    await assert.rejects(readCatalogBatches(liar), { code: 'BAD_INPUT', message: /liar\.parquet: unreadable Parquet file/ });

    await assert.rejects(readCatalogBatches(join(dir.path, 'cat.txt')), { code: 'USAGE', message: /unknown catalog format/ });
    await assert.rejects(readCatalogBatches(join(dir.path, 'absent.parquet')), { code: 'NOT_FOUND' });
  } finally {
    dir.cleanup();
  }
});

test('an output folder that does not exist is a clear error and writes nothing', async () => {
  const dir = tempDir();
  try {
    const table = sampleTable(10, 1);
    const out = join(dir.path, 'missing', 'cat.parquet');
    await assert.rejects(writeCatalog(out, table.schema, table.batches), { code: 'IO', message: /output folder .*missing does not exist/ });
    assert.equal(existsSync(join(dir.path, 'missing')), false);
  } finally {
    dir.cleanup();
  }
});

for (const ext of ['parquet', 'arrow', 'csv']) {
  test(`a stream that fails half way leaves no .${ext} file and no temporary file`, async () => {
    const dir = tempDir();
    try {
      const table = sampleTable(100, 4);
      async function* failing() {
        yield table.batches[0]!;
        yield table.batches[1]!;
        throw new Error('source went away');
      }
      const out = join(dir.path, `cat.${ext}`);
      await assert.rejects(writeCatalog(out, table.schema, failing()), /source went away/);
      assert.deepEqual(readdirSync(dir.path), []);
    } finally {
      dir.cleanup();
    }
  });
}

test('a column projection reads only the named columns, with their metadata', async () => {
  const dir = tempDir();
  try {
    const table = sampleTable(300, 3);
    for (const ext of ['parquet', 'arrows']) {
      const path = join(dir.path, `cat.${ext}`);
      await writeCatalog(path, table.schema, table.batches);
      const source = await readCatalogBatches(path, { columns: ['coord_dec', 'x'] });
      let rows = 0;
      for await (const b of source) {
        assert.deepEqual(b.schema.fields.map((f) => f.name), ['x', 'coord_dec'], ext);
        rows += b.numRows;
      }
      assert.equal(rows, 300);
      assert.equal(source.schema.fields[1]!.metadata.get('unit'), 'deg');
    }
  } finally {
    dir.cleanup();
  }
});


test('a file whose name does not say its format is read with an explicit format', async () => {
  const dir = tempDir();
  try {
    const table = sampleTable(100, 1);
    const path = join(dir.path, 'cat.parquet');
    await writeCatalog(path, table.schema, table.batches);
    const blob = join(dir.path, 'a1b2c3');
    writeFileSync(blob, readFileSync(path));
    await assert.rejects(readCatalogBatches(blob), { code: 'USAGE' });
    let rows = 0;
    for await (const b of await readCatalogBatches(blob, { format: 'parquet' })) rows += b.numRows;
    assert.equal(rows, 100);
  } finally {
    dir.cleanup();
  }
});

test('a catalog stream read twice is an error, not a silent empty second pass', async () => {
  const dir = tempDir();
  try {
    const table = sampleTable(10, 1);
    const path = join(dir.path, 'cat.arrows');
    await writeCatalog(path, table.schema, table.batches);
    const source = await readCatalogBatches(path);
    for await (const b of source) void b;
    assert.throws(() => source[Symbol.asyncIterator](), { code: 'USAGE', message: /can be read once/ });
  } finally {
    dir.cleanup();
  }
});

test('columns chosen from the schema by a function read the same as the same columns named, in every format; a throwing choice is the error', async () => {
  const dir = tempDir();
  try {
    const table = sampleTable(500, 2);
    for (const ext of ['parquet', 'arrow', 'arrows', 'csv']) {
      const path = join(dir.path, `pick.${ext}`);
      await writeCatalog(path, table.schema, table.batches);
      const read = async (columns: readonly string[] | ((s: Schema) => readonly string[])) => {
        const src = await readCatalogBatches(path, { columns });
        const batches: RecordBatch[] = [];
        for await (const b of src) batches.push(b);
        return { names: src.schema.fields.map((f) => f.name), x: new Table(batches).getChild('x')!.toArray() };
      };
      let seen: string[] = [];
      const picked = await read((schema) => {
        seen = schema.fields.map((f) => f.name);
        return ['y', 'x'];
      });
      assert.ok(seen.includes('coord_ra'), `${ext}: the function sees the whole schema`);
      assert.deepEqual(picked, await read(['y', 'x']), ext);
      await assert.rejects(readCatalogBatches(path, { columns: () => { throw new Error('no centroid here'); } }), /no centroid here/);
    }
  } finally {
    dir.cleanup();
  }
});
