/** Arrow tables of every column type the typed-array Parquet writer takes, for its tests. */
import { Bool, Field, Float32, Float64, Int8, Int16, Int32, Int64, RecordBatch, Schema, Struct, Table, Uint8, Uint16, Uint32, Uint64, Utf8, makeData, vectorFromArray, type DataType, type Vector } from 'apache-arrow';
import { makeRandom } from '../src/random.js';

/** The project's seeded generator (src/random.ts). */
const random = makeRandom;

/** Every column type the writer takes, with the values that are hard for it: extremes, NaN, -0, empty and non-ASCII strings. */
export const TYPES: { name: string; type: () => DataType; value: (r: () => number) => unknown }[] = [
  { name: 'f64', type: () => new Float64(), value: (r) => [NaN, -0, 0, Infinity, -Infinity, 5e-324, -1.7976931348623157e308][Math.floor(r() * 12)] ?? (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20) },
  { name: 'f32', type: () => new Float32(), value: (r) => Math.fround([NaN, -0, Infinity][Math.floor(r() * 8)] ?? (r() - 0.5) * 1e6) },
  { name: 'i64', type: () => new Int64(), value: (r) => [-(2n ** 63n), 2n ** 63n - 1n, -1n, 0n][Math.floor(r() * 8)] ?? BigInt(Math.floor((r() - 0.5) * 2 ** 53)) * 1023n },
  { name: 'u64', type: () => new Uint64(), value: (r) => [2n ** 64n - 1n, 2n ** 63n, 0n][Math.floor(r() * 6)] ?? BigInt(Math.floor(r() * 2 ** 53)) },
  { name: 'i32', type: () => new Int32(), value: (r) => [-(2 ** 31), 2 ** 31 - 1][Math.floor(r() * 6)] ?? Math.floor((r() - 0.5) * 2 ** 32) },
  { name: 'u32', type: () => new Uint32(), value: (r) => [2 ** 32 - 1, 2 ** 31][Math.floor(r() * 6)] ?? Math.floor(r() * 2 ** 32) },
  { name: 'i16', type: () => new Int16(), value: (r) => Math.floor((r() - 0.5) * 2 ** 16) },
  { name: 'u16', type: () => new Uint16(), value: (r) => Math.floor(r() * 2 ** 16) },
  { name: 'i8', type: () => new Int8(), value: (r) => Math.floor((r() - 0.5) * 256) },
  { name: 'u8', type: () => new Uint8(), value: (r) => Math.floor(r() * 256) },
  { name: 'bool', type: () => new Bool(), value: (r) => r() < 0.5 },
  { name: 'utf8', type: () => new Utf8(), value: (r) => ['', 'DemoCam', 'é ✓ 🌌', 'a'.repeat(300)][Math.floor(r() * 8)] ?? Math.floor(r() * 1e6).toString(36) },
];

export interface Spec {
  rows: number;
  /** Where the table is cut into batches (slices of one Arrow Data, so offsets are not 0). */
  cuts: number[];
  rowGroupRows: number;
  seed: number;
  /** Per column: nullable, share of nulls, run length (1: all distinct; long runs: dictionary pages), distinct values per run pattern. */
  columns: { nullable: boolean; nullShare: number; runLength: number }[];
}

export function build(spec: Spec): { table: Table; expected: Map<string, unknown[]> } {
  const r = random(spec.seed);
  const fields: Field[] = [];
  const vectors: Vector[] = [];
  const expected = new Map<string, unknown[]>();
  TYPES.forEach((t, k) => {
    const c = spec.columns[k]!;
    const values: unknown[] = [];
    let current = t.value(r);
    for (let i = 0; i < spec.rows; i++) {
      if (i % c.runLength === 0) current = t.value(r);
      values.push(c.nullable && r() < c.nullShare ? null : current);
    }
    const field = new Field(t.name, t.type(), c.nullable, new Map([['unit', k % 2 ? 'deg' : ''], ['description', `column ${t.name} ✓`]]));
    fields.push(field);
    vectors.push(vectorFromArray(values, field.type));
    expected.set(t.name, values);
  });
  const schema = new Schema(fields, new Map([['schema-level', 'kept']]));
  const bounds = [0, ...[...new Set(spec.cuts.map((c) => Math.min(c, spec.rows)))].sort((a, b) => a - b), spec.rows];
  const batches: RecordBatch[] = [];
  for (let b = 0; b + 1 < bounds.length; b++) {
    const [from, to] = [bounds[b]!, bounds[b + 1]!];
    if (from === to) continue;
    const children = vectors.map((v) => v.data[0]!.slice(from, to - from));
    batches.push(new RecordBatch(schema, makeData({ type: new Struct(fields), length: to - from, nullCount: 0, children })));
  }
  return { table: batches.length === 0 ? new Table(schema) : new Table(schema, batches), expected };
}

