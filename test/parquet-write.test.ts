import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { Field, Float64, Schema, Table, vectorFromArray, type Vector } from 'apache-arrow';
import { TYPES, build, type Spec } from './parquet-write-tables.js';
import { encodeParquetFile, encodeParquetPieces, parquetWritable } from '../src/catalog/parquetWrite.js';
import { readCatalogBatches } from '../src/catalog/read.js';
import { ParquetStitcher, parquetFooterOf, footerKeyValues } from '../src/catalog/parquetStitch.js';
import { tempDir } from './helpers.js';

let dir: { path: string; cleanup: () => void };
let db: DuckDBInstance;
let duck: DuckDBConnection;
before(async () => {
  dir = tempDir('skycal-parquet-write-');
  db = await DuckDBInstance.create(':memory:');
  duck = await db.connect();
});
after(() => {
  db.closeSync();
  dir.cleanup();
});

const specArb: fc.Arbitrary<Spec> = fc.record({
  rows: fc.integer({ min: 0, max: 1200 }),
  cuts: fc.array(fc.integer({ min: 0, max: 1200 }), { maxLength: 3 }),
  rowGroupRows: fc.integer({ min: 1, max: 900 }),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
  columns: fc.array(
    fc.record({ nullable: fc.boolean(), nullShare: fc.constantFrom(0, 0.05, 0.5, 0.97, 1), runLength: fc.constantFrom(1, 3, 40, 5000) }),
    { minLength: TYPES.length, maxLength: TYPES.length },
  ),
});

async function readOurs(path: string): Promise<Table> {
  const batches = [];
  const source = await readCatalogBatches(path, { format: 'parquet' });
  for await (const b of source) batches.push(b);
  return batches.length === 0 ? new Table(source.schema) : new Table(batches);
}

const same = (a: unknown, b: unknown) => Object.is(a, b);

let n = 0;
test('parquetWrite round trip through our reader (parquet-wasm): every column type, nulls, empty tables, many row groups and sliced batches; values bit for bit, Arrow types, nullability and field metadata kept (property over tables)', async () => {
  await fc.assert(
    fc.asyncProperty(specArb, async (spec) => {
      const { table, expected } = build(spec);
      assert.equal(parquetWritable(table.schema), undefined);
      const path = join(dir.path, `rt-${n++}.parquet`);
      const bytes = encodeParquetFile(table, { rowGroupRows: spec.rowGroupRows, keyValueMetadata: { 'skycal.recompute': '{"x":1}' } });
      writeFileSync(path, bytes);
      const { meta } = parquetFooterOf(bytes);
      assert.equal(footerKeyValues(meta).get('skycal.recompute'), '{"x":1}');
      const back = await readOurs(path);
      assert.equal(back.numRows, spec.rows);
      back.schema.fields.forEach((f, k) => {
        const want = table.schema.fields[k]!;
        assert.equal(f.name, want.name);
        assert.equal(String(f.type), String(want.type), `${f.name}: type`);
        assert.equal(f.nullable, want.nullable, `${f.name}: nullable`);
        assert.deepEqual(Object.fromEntries(f.metadata), Object.fromEntries(want.metadata), `${f.name}: field metadata`);
      });
      assert.equal(back.schema.metadata.get('schema-level'), 'kept');
      for (const [name, values] of expected) {
        const got = [...(back.getChild(name) as Vector)];
        for (let i = 0; i < values.length; i++) if (!same(got[i], values[i])) assert.fail(`${name}[${i}] = ${String(got[i])}, expected ${String(values[i])}`);
      }
    }),
    { numRuns: 25, includeErrorInReport: true, examples: [[{ rows: 0, cuts: [], rowGroupRows: 1, seed: 3, columns: TYPES.map((_, k) => ({ nullable: k % 2 === 0, nullShare: 0, runLength: 1 })) }]] },
  );
});

test('parquetWrite output read by DuckDB: the same values row for row, the unsigned and narrow integer types as DuckDB names them, and its statistics-based row-group skipping gives the counts of a full scan (property over tables)', async () => {
  await fc.assert(
    fc.asyncProperty(specArb, async (spec) => {
      const { table, expected } = build(spec);
      const path = join(dir.path, `duck-${n++}.parquet`);
      writeFileSync(path, encodeParquetFile(table, { rowGroupRows: spec.rowGroupRows }));
      const types = (await duck.runAndReadAll(`DESCRIBE SELECT * FROM '${path}'`)).getRowsJS().map((r) => String(r[1]));
      assert.deepEqual(types, ['DOUBLE', 'FLOAT', 'BIGINT', 'UBIGINT', 'INTEGER', 'UINTEGER', 'SMALLINT', 'USMALLINT', 'TINYINT', 'UTINYINT', 'BOOLEAN', 'VARCHAR']);
      const rows = (await duck.runAndReadAll(`SELECT * FROM '${path}'`)).getRowsJS();
      assert.equal(rows.length, spec.rows);
      TYPES.forEach((t, k) => {
        const want = expected.get(t.name)!;
        for (let i = 0; i < want.length; i++) if (!same(rows[i]![k], want[i])) assert.fail(`DuckDB ${t.name}[${i}] = ${String(rows[i]![k])}, expected ${String(want[i])}`);
      });
      // Filters pushed into the scan skip row groups by their min/max; the same predicate as an aggregate FILTER is evaluated on every row. Wrong statistics make them differ.
      for (const t of TYPES) {
        const pivot = expected.get(t.name)!.find((v) => v !== null && !(typeof v === 'number' && Number.isNaN(v)));
        if (pivot === undefined) continue;
        const literal = typeof pivot === 'string' ? `'${pivot.replace(/'/g, "''")}'` : typeof pivot === 'number' && t.name.startsWith('f') ? `CAST('${String(pivot)}' AS DOUBLE)` : String(pivot);
        for (const op of ['>=', '<', '=']) {
          const predicate = `"${t.name}" ${op} ${literal}`;
          const pushed = (await duck.runAndReadAll(`SELECT count(*) FROM '${path}' WHERE ${predicate}`)).getRowsJS()[0]![0];
          const scanned = (await duck.runAndReadAll(`SELECT count(*) FILTER (WHERE ${predicate}) FROM '${path}'`)).getRowsJS()[0]![0];
          assert.equal(pushed, scanned, `${path}: ${predicate}: with row-group skipping vs a full scan`);
        }
      }
    }),
    { numRuns: 10, includeErrorInReport: true },
  );
});

/** A python3 with pyarrow: SKYCAL_PYTHON, else python3 on PATH. */
function pyarrowPython(): string | undefined {
  for (const py of [process.env.SKYCAL_PYTHON, 'python3'].filter((p): p is string => !!p)) {
    if (spawnSync(py, ['-c', 'import pyarrow'], { encoding: 'utf8' }).status === 0) return py;
  }
  return undefined;
}

test('parquetWrite output read by pyarrow: same values bit for bit, Arrow types (Int64 stays int64, Uint8 uint8) and field metadata', async (t) => {
  const py = pyarrowPython();
  if (py === undefined) {
    t.skip('no python3 with pyarrow (set SKYCAL_PYTHON to one, e.g. the bench venv)');
    return;
  }
  const spec: Spec = { rows: 777, cuts: [100, 400], rowGroupRows: 300, seed: 42, columns: TYPES.map((_, k) => ({ nullable: k % 3 !== 0, nullShare: k % 2 ? 0.1 : 0, runLength: k % 4 === 1 ? 40 : 1 })) };
  const { table, expected } = build(spec);
  const path = join(dir.path, 'py.parquet');
  writeFileSync(path, encodeParquetFile(table, { rowGroupRows: spec.rowGroupRows }));
  const script = `
import json, sys, math, pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])
out = {"types": {f.name: str(f.type) for f in t.schema}, "nullable": {f.name: f.nullable for f in t.schema},
       "meta": {f.name: {k.decode(): v.decode() for k, v in (f.metadata or {}).items()} for f in t.schema}, "values": {}}
for f in t.schema:
    vals = t.column(f.name).to_pylist()
    if str(f.type) in ("double", "float"):
        vals = [None if v is None else (v.hex() if not math.isnan(v) else "nan") for v in vals]
    elif str(f.type) in ("int64", "uint64"):
        vals = [None if v is None else str(v) for v in vals]
    out["values"][f.name] = vals
print(json.dumps(out))`;
  const p = spawnSync(py, ['-c', script, path], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(p.status, 0, p.stderr);
  const got = JSON.parse(p.stdout) as { types: Record<string, string>; nullable: Record<string, boolean>; meta: Record<string, Record<string, string>>; values: Record<string, unknown[]> };
  const pyType: Record<string, string> = { f64: 'double', f32: 'float', i64: 'int64', u64: 'uint64', i32: 'int32', u32: 'uint32', i16: 'int16', u16: 'uint16', i8: 'int8', u8: 'uint8', bool: 'bool', utf8: 'string' };
  const hex = (v: number) => {
    // Python's float.hex of the same double, to compare bits in text.
    if (v === 0) return Object.is(v, -0) ? '-0x0.0p+0' : '0x0.0p+0';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
    const b = new DataView(new ArrayBuffer(8));
    b.setFloat64(0, v);
    const hi = b.getUint32(0);
    const exp = (hi >>> 20) & 0x7ff;
    const mant = ((BigInt(hi & 0xfffff) << 32n) | BigInt(b.getUint32(4))).toString(16).padStart(13, '0');
    const sign = v < 0 ? '-' : '';
    return exp === 0 ? `${sign}0x0.${mant}p-1022` : `${sign}0x1.${mant}p${exp - 1023 >= 0 ? '+' : ''}${exp - 1023}`;
  };
  for (const f of table.schema.fields) {
    assert.equal(got.types[f.name], pyType[f.name], `${f.name}: pyarrow type`);
    assert.equal(got.nullable[f.name], f.nullable, `${f.name}: nullable`);
    assert.deepEqual(got.meta[f.name], Object.fromEntries(f.metadata), `${f.name}: metadata`);
    const want = expected.get(f.name)!.map((v) => (v === null ? null : typeof v === 'bigint' ? String(v) : typeof v === 'number' && f.name.startsWith('f') ? (Number.isNaN(v) ? 'nan' : hex(v)) : v));
    assert.deepEqual(got.values[f.name], want, `${f.name}: values`);
  }
});

test('parts written by parquetWrite and joined by the stitcher (as recompute does) read back as one table: values, types, field metadata, the merged key/value metadata', async () => {
  const columns = TYPES.map((_, k) => ({ nullable: k % 2 === 1, nullShare: 0.1, runLength: k % 3 === 0 ? 5000 : 1 }));
  const parts = [build({ rows: 500, cuts: [123], rowGroupRows: 200, seed: 7, columns }), build({ rows: 0, cuts: [], rowGroupRows: 200, seed: 8, columns }), build({ rows: 301, cuts: [], rowGroupRows: 1000, seed: 9, columns })];
  const chunks: Uint8Array[] = [];
  const stitcher = new ParquetStitcher(async (pieces) => void chunks.push(...pieces.map((b) => b.slice())));
  // Whole files and pieces (as recompute jobs return them).
  for (const [k, p] of parts.entries()) await stitcher.append(k === 0 ? encodeParquetFile(p.table, { rowGroupRows: 200 }) : encodeParquetPieces(p.table, { rowGroupRows: 200 }));
  await stitcher.finish(new Map([['skycal.recompute', '[1]']]));
  const path = join(dir.path, 'stitched.parquet');
  writeFileSync(path, Buffer.concat(chunks));
  assert.equal(footerKeyValues(parquetFooterOf(new Uint8Array(Buffer.concat(chunks))).meta).get('skycal.recompute'), '[1]');
  const back = await readOurs(path);
  assert.equal(back.numRows, 801);
  for (const f of parts[0]!.table.schema.fields) {
    const g = back.schema.fields.find((x) => x.name === f.name)!;
    assert.equal(String(g.type), String(f.type));
    assert.deepEqual(Object.fromEntries(g.metadata), Object.fromEntries(f.metadata));
    const want = parts.flatMap((p) => p.expected.get(f.name)!);
    const got = [...(back.getChild(f.name) as Vector)];
    for (let i = 0; i < want.length; i++) if (!same(got[i], want[i])) assert.fail(`${f.name}[${i}] = ${String(got[i])}, expected ${String(want[i])}`);
  }
  const rows = (await duck.runAndReadAll(`SELECT count(*), count(DISTINCT i64) FROM '${path}'`)).getRowsJS()[0]!;
  assert.equal(rows[0], 801n);
});

test('parquetWritable names the first column type it does not write (the recompute falls back to parquet-wasm for it)', () => {
  const schema = new Schema([new Field('x', new Float64()), new Field('d', vectorFromArray(['a', 'b']).type)]);
  assert.match(parquetWritable(schema) ?? '', /column d: Arrow type Dictionary/);
  assert.throws(() => encodeParquetFile(new Table(schema)), /column d/);
});

test('integer statistics: each row group\'s min and max, as DuckDB reads them from the footer, are the exact extremes of its values, for signed and unsigned 32- and 64-bit columns over their whole range, PLAIN and dictionary-encoded (property over columns of runs, edge words included)', async () => {
  // Words whose sign and top bits make signed and unsigned orders differ.
  const edges64 = [0n, 1n, -1n, 2n ** 31n, -(2n ** 31n), 2n ** 32n - 1n, 2n ** 32n, -(2n ** 32n), 2n ** 63n - 1n, -(2n ** 63n)];
  const i64 = fc.oneof(fc.constantFrom(...edges64), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }));
  const i32 = fc.oneof(fc.constantFrom(0, 1, -1, 2 ** 31 - 1, -(2 ** 31)), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));
  await fc.assert(
    // Runs of 1-40 equal values: a row group with few runs is dictionary-encoded (min/max over its entries), one with many is PLAIN.
    fc.asyncProperty(fc.array(fc.tuple(i64, i32, fc.integer({ min: 1, max: 40 })), { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 120 }), async (runs, rowGroupRows) => {
      const rows = runs.flatMap(([a, b, length]) => Array.from({ length }, () => [a, b] as const));
      const columns = {
        i64: BigInt64Array.from(rows, ([v]) => v),
        u64: BigUint64Array.from(rows, ([v]) => BigInt.asUintN(64, v)),
        i32: Int32Array.from(rows, ([, v]) => v),
        u32: Uint32Array.from(rows, ([, v]) => v >>> 0),
      };
      const table = new Table(Object.fromEntries(Object.entries(columns).map(([k, v]) => [k, vectorFromArray(v)])));
      const path = join(dir.path, `stats-${n++}.parquet`);
      writeFileSync(path, encodeParquetFile(table, { rowGroupRows }));
      const stats = (await duck.runAndReadAll(`SELECT path_in_schema, row_group_id, stats_min_value, stats_max_value FROM parquet_metadata('${path}')`)).getRowsJS();
      assert.equal(stats.length, 4 * Math.ceil(rows.length / rowGroupRows));
      for (const [column, group, min, max] of stats) {
        const values = Array.from(columns[String(column) as keyof typeof columns] as Iterable<bigint | number>, BigInt).slice(Number(group) * rowGroupRows, (Number(group) + 1) * rowGroupRows);
        const where = `${String(column)}, row group ${String(group)}`;
        assert.equal(String(min), String(values.reduce((a, b) => (b < a ? b : a))), `${where}: min`);
        assert.equal(String(max), String(values.reduce((a, b) => (b > a ? b : a))), `${where}: max`);
      }
    }),
    { numRuns: 40 },
  );
});
