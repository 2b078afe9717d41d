/**
 * Fuzzing the catalog readers (issue 10 "Fuzzing", issue 11 "every size field
 * has a bound"): mutated Parquet, Arrow IPC file, Arrow IPC stream and CSV
 * catalogs (truncations, flipped bytes, size fields overwritten with huge
 * values, inserted and deleted bytes) go through readCatalogBatches and a
 * derived view. Laws: the only errors are SkycalErrors with code BAD_INPUT;
 * each case ends within a time bound; no batch claims more rows than its file
 * could hold (so nothing downstream allocates from a forged length).
 *
 * SKYCAL_FUZZ_RUNS raises the number of cases per format for a soak
 * (the default keeps this file to a few seconds).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Float64, Int64, Field, RecordBatch, Schema, Struct, Utf8, makeData, vectorFromArray } from 'apache-arrow';
import { SkycalError } from '../src/errors.js';
import { TanSipWcs } from '../src/wcs/tanSipWcs.js';
import { KernelPool } from '../src/parallel/pool.js';
import { readCatalogBatches } from '../src/catalog/read.js';
import { writeCatalog } from '../src/catalog/write.js';
import { withSky } from '../src/catalog/views.js';
import { tempDir, wcsHeaderDir, fuzzSeed } from './helpers.js';

const RUNS = Number(process.env['SKYCAL_FUZZ_RUNS'] ?? 150);
/** A case that takes longer than this is a hang (a real case takes milliseconds). */
const CASE_LIMIT_MS = 5_000;

const tmp = tempDir('skycal-fuzz-');
const pool = new KernelPool({ workers: 0 });
after(() => tmp.cleanup());
const wcs = TanSipWcs.fromFitsHeader(readFileSync(join(wcsHeaderDir, 'hsc_lsst_afw_sip3.hdr'), 'utf8'));

async function seedFile(ext: string): Promise<Uint8Array> {
  const n = 40;
  const schema = new Schema([
    new Field('id', new Int64(), false),
    new Field('x', new Float64(), true),
    new Field('y', new Float64(), false),
    new Field('name', new Utf8(), false),
  ]);
  const x = Float64Array.from({ length: n }, (_, i) => 10 + i * 1.5);
  const valid = new Uint8Array(Math.ceil(n / 8)).fill(0xff);
  valid[0] = 0xfe; // row 0 of x is null
  const batch = new RecordBatch(schema, makeData({
    type: new Struct(schema.fields),
    length: n,
    nullCount: 0,
    children: [
      makeData({ type: new Int64(), length: n, nullCount: 0, data: BigInt64Array.from({ length: n }, (_, i) => (1n << 60n) + BigInt(i)) }),
      makeData({ type: new Float64(), length: n, nullCount: 1, nullBitmap: valid, data: x }),
      makeData({ type: new Float64(), length: n, nullCount: 0, data: Float64Array.from({ length: n }, (_, i) => 20 + i) }),
      vectorFromArray(Array.from({ length: n }, (_, i) => `src-${i}`), new Utf8()).data[0]!,
    ],
  }));
  const path = join(tmp.path, `seed.${ext}`);
  // Two batches, so that a stream has several messages to corrupt.
  await writeCatalog(path, schema, [batch, batch.slice(0, 7)]);
  return readFileSync(path);
}

type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number[]; bits: number[] }
  | { kind: 'size'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number };

const position = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), bits: fc.array(fc.integer({ min: 1, max: 255 }), { minLength: 8, maxLength: 8 }) }),
  // A length or offset field overwritten: huge, negative as int32, or off by a little.
  fc.record({ kind: fc.constant('size' as const), at: fc.nat(), value: fc.oneof(fc.constantFrom(0xffffffff, 0x7fffffff, 0x80000000, 0x40000000, 1e9), fc.nat()) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 64 }) }),
);

/**
 * Mutations land in [from, length): the whole file, or for Parquet only its
 * footer (thrift metadata: row counts, offsets, sizes). Why not Parquet page
 * data: arrow-rs panics on some corrupt pages inside parquet-wasm's async
 * reader; the read then fails with BAD_INPUT (parquet.ts catches the trap),
 * but the poisoned wasm instance keeps trapping in later microtasks, which
 * the test runner reports. Known, not fixed here: see the README.
 */
function mutate(seed: Uint8Array, ms: readonly Mutation[], from = 0): Uint8Array {
  let b = Uint8Array.from(seed);
  const place = (p: number, len: number) => (len <= from ? p % (len + 1) : from + (p % (len - from)));
  for (const m of ms) {
    const at = b.length === 0 ? 0 : (m as { at: number | number[] }).at;
    if (m.kind === 'truncate') b = b.subarray(0, (m.at % (b.length + 1)));
    else if (m.kind === 'flip') m.at.forEach((p, k) => b.length > 0 && (b[Math.min(b.length - 1, place(p, b.length - 1))]! ^= m.bits[k]!));
    else if (m.kind === 'size' && b.length >= 4) new DataView(b.buffer, b.byteOffset).setUint32(Math.min(b.length - 4, place(m.at, b.length - 4)), m.value >>> 0, true);
    else if (m.kind === 'insert') {
      const p = place(at as number, b.length);
      b = Uint8Array.from([...b.subarray(0, p), ...m.bytes, ...b.subarray(p)]);
    } else if (m.kind === 'delete') {
      const p = place(at as number, b.length);
      b = Uint8Array.from([...b.subarray(0, p), ...b.subarray(p + m.count)]);
    }
  }
  return b;
}

let caseNo = 0;
/** Read every batch and derive sky coordinates: what a user's first command does with the file. */
async function consume(path: string, size: number): Promise<void> {
  const source = await readCatalogBatches(path);
  let rows = 0;
  const counted = {
    schema: source.schema,
    async *[Symbol.asyncIterator]() {
      for await (const b of source) {
        rows += b.numRows;
        // Every row costs at least one bit of the file (a CSV row at least a newline).
        assert.ok(rows <= 8 * size + 8, `${rows} rows from a ${size}-byte file`);
        yield b;
      }
    },
  };
  const names = new Set(source.schema.fields.map((f) => f.name));
  if (names.has('x') && names.has('y')) {
    for await (const _ of withSky(counted, wcs, { pool, source: path })) void _;
  } else {
    for await (const _ of counted) void _;
  }
}

async function withinTime<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still running after ${CASE_LIMIT_MS} ms`)), CASE_LIMIT_MS);
  });
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** Cases a soak found, kept so that every run tries them (each failed before its fix). */
const FOUND: Readonly<Record<string, Mutation[][]>> = {
  // A corrupt footer decoded into a field without a type: a TypeError far away, now BAD_INPUT at open.
  arrow: [
    [{ kind: 'delete', at: 1800590, count: 34 }, { kind: 'size', at: 1781413310, value: 201326592 }, { kind: 'flip', at: [6], bits: [1, 1, 1, 1, 1, 1, 1, 1] }],
    // A record batch whose columns are not the schema's: a TypeError in the view, now BAD_INPUT (a CI run found it).
    [{ kind: 'delete', at: 6, count: 11 }, { kind: 'size', at: 1301312507, value: 0 }],
  ],
};

for (const ext of ['parquet', 'arrow', 'arrows', 'csv']) {
  test(`fuzz .${ext}: a mutated catalog reads, or fails with BAD_INPUT only; each case ends in bounded time; no batch claims more rows than the file holds`, async () => {
    const seed = await seedFile(ext);
    // Parquet: the footer starts 8 + its length bytes before the end.
    const from = ext === 'parquet' ? seed.length - 8 - new DataView(seed.buffer, seed.byteOffset).getUint32(seed.length - 8, true) : 0;
    const codes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (ms) => {
        const bytes = mutate(seed, ms, from);
        const path = join(tmp.path, `case-${caseNo++}.${ext}`);
        writeFileSync(path, bytes);
        try {
          await withinTime(consume(path, bytes.length), JSON.stringify(ms));
          codes.set('ok', (codes.get('ok') ?? 0) + 1);
        } catch (e) {
          if (!SkycalError.isSkycalError(e) || e.code !== 'BAD_INPUT') {
            throw new Error(`not a BAD_INPUT SkycalError: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, { cause: e });
          }
          codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
        }
      }),
      { numRuns: RUNS, ...fuzzSeed(), examples: (FOUND[ext] ?? []).map((ms) => [ms] as [Mutation[]]) },
    );
    // The mutations reach the decoders: some cases must fail, and (but for CSV) some survive.
    assert.ok((codes.get('BAD_INPUT') ?? 0) > 0, JSON.stringify([...codes]));
  });
}
