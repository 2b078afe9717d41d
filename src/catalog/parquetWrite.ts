/**
 * A small Parquet writer for flat Arrow tables, straight from the typed
 * arrays (no IPC copy, no wasm crossing). Why: encoding the recompute
 * output through parquet-wasm cost ~40 % of a worker (Arrow JS -> IPC ->
 * wasm, dictionary and statistics passes, Snappy over floats that do not
 * compress); here a float column is its Arrow bytes behind a page header.
 *  - fixed-width numbers: PLAIN, one data page (v1) per column chunk;
 *  - integer and string columns with few runs (the dataId columns, status):
 *    dictionary page + RLE indices, a few bytes per row group;
 *  - other strings: PLAIN BYTE_ARRAY; booleans: PLAIN bit-packed;
 *  - nullable fields: definition levels (RLE/bit-packed hybrid), so that
 *    every part of one output has the Arrow schema's repetition (the
 *    stitcher requires one schema); a column without nulls costs one run;
 *  - uncompressed pages (floats barely compress; bench/parquet-engines.ts);
 *  - chunk statistics: null count, and min/max (type-defined order) for
 *    numbers and dictionary strings;
 *  - `ARROW:schema` (the IPC schema message, base64) so Arrow readers get
 *    the field types and metadata (unit, ucd, description) back.
 * Other Arrow types (dictionary, temporal, nested...) are not written here:
 * `parquetWritable` says why, and the caller uses another writer.
 * Spec: https://github.com/apache/parquet-format (parquet.thrift, Encodings.md).
 */
import { ByteWriter } from './byteWriter.js';
import { Table, Type, tableToIPC, type Data, type DataType, type Field, type Schema } from 'apache-arrow';
import { T, encodeStruct, type TStruct, type TValue } from './thriftCompact.js';

const MAGIC = new TextEncoder().encode('PAR1');
const PHYSICAL = { BOOLEAN: 0, INT32: 1, INT64: 2, FLOAT: 4, DOUBLE: 5, BYTE_ARRAY: 6 } as const;
const ENCODING = { PLAIN: 0, RLE: 3, RLE_DICTIONARY: 8 } as const;
const CONVERTED = { UTF8: 0, UINT_8: 11, UINT_16: 12, UINT_32: 13, UINT_64: 14, INT_8: 15, INT_16: 16, INT_32: 17, INT_64: 18 } as const;
const PAGE = { DATA: 0, DICTIONARY: 2 } as const;

interface Leaf {
  kind: 'int' | 'float' | 'bool' | 'utf8';
  physical: number;
  /** Bytes per value in the Parquet physical type (0: variable). */
  width: number;
  /** Bytes per value in Arrow (ints narrower than 32 bits are widened). */
  arrowWidth: number;
  signed: boolean;
  converted?: number;
  logical?: TStruct;
}

const intLogical = (bits: number, signed: boolean): TStruct => [{ id: 10, type: T.STRUCT, value: [{ id: 1, type: T.BYTE, value: bits }, { id: 2, type: T.BOOL, value: signed }] }];

function leafOf(type: DataType): Leaf | undefined {
  switch (type.typeId) {
    case Type.Int: {
      const { bitWidth, isSigned } = type as unknown as { bitWidth: number; isSigned: boolean };
      const wide = bitWidth === 64;
      const converted = isSigned ? ({ 8: CONVERTED.INT_8, 16: CONVERTED.INT_16 } as Record<number, number>)[bitWidth] : ({ 8: CONVERTED.UINT_8, 16: CONVERTED.UINT_16, 32: CONVERTED.UINT_32, 64: CONVERTED.UINT_64 } as Record<number, number>)[bitWidth];
      return {
        kind: 'int',
        physical: wide ? PHYSICAL.INT64 : PHYSICAL.INT32,
        width: wide ? 8 : 4,
        arrowWidth: bitWidth / 8,
        signed: isSigned,
        ...(converted !== undefined && { converted, logical: intLogical(bitWidth, isSigned) }),
      };
    }
    case Type.Float: {
      const precision = (type as unknown as { precision: number }).precision;
      if (precision === 0) return undefined; // float16
      return { kind: 'float', physical: precision === 2 ? PHYSICAL.DOUBLE : PHYSICAL.FLOAT, width: precision === 2 ? 8 : 4, arrowWidth: precision === 2 ? 8 : 4, signed: true };
    }
    case Type.Bool:
      return { kind: 'bool', physical: PHYSICAL.BOOLEAN, width: 0, arrowWidth: 0, signed: false };
    case Type.Utf8:
      return { kind: 'utf8', physical: PHYSICAL.BYTE_ARRAY, width: 0, arrowWidth: 0, signed: false, converted: CONVERTED.UTF8, logical: [{ id: 1, type: T.STRUCT, value: [] }] };
    default:
      return undefined;
  }
}

/** Why this writer cannot write `schema` (a column type it does not handle), or undefined if it can. */
export function parquetWritable(schema: Schema): string | undefined {
  const bad = schema.fields.find((f) => leafOf(f.type) === undefined);
  return bad === undefined ? undefined : `column ${bad.name}: Arrow type ${String(bad.type)} is not written by the typed-array Parquet writer`;
}

export interface ParquetWriteOptions {
  /** Rows per row group (default 262,144). */
  rowGroupRows?: number;
  /** File key/value metadata (ARROW:schema is added). */
  keyValueMetadata?: ReadonlyMap<string, string> | Readonly<Record<string, string>>;
  createdBy?: string;
}


/**
 * RLE / bit-packed hybrid of `n` values read by `at` (Encodings.md): a run
 * of 8 or more equal values is one RLE run, anything else groups of 8
 * bit-packed (the last group padded with zeros).
 */
function rleHybrid(out: ByteWriter, n: number, at: (i: number) => number, bitWidth: number): void {
  const valueBytes = (bitWidth + 7) >> 3;
  let i = 0;
  const runAt = (k: number) => {
    const v = at(k);
    let j = k + 1;
    while (j < n && at(j) === v) j++;
    return j - k;
  };
  while (i < n) {
    const run = runAt(i);
    if (run >= 8 || i + run === n) {
      out.varint(run * 2);
      const v = at(i);
      for (let b = 0; b < valueBytes; b++) out.byte((v >>> (8 * b)) & 0xff);
      i += run;
      continue;
    }
    // Bit-packed groups of 8 until a long run starts at a group boundary.
    const start = i;
    do i += 8;
    while (i < n && runAt(i) < 8);
    const groups = (i - start) >> 3;
    out.varint(groups * 2 + 1);
    let acc = 0;
    let bits = 0;
    for (let k = start; k < start + groups * 8; k++) {
      acc |= (k < n ? at(k) : 0) << bits;
      bits += bitWidth;
      while (bits >= 8) {
        out.byte(acc & 0xff);
        acc >>>= 8;
        bits -= 8;
      }
    }
    if (bits > 0) out.byte(acc & 0xff);
  }
}

/** A slice of one Arrow Data: rows [from, to). */
interface Segment {
  data: Data;
  from: number;
  to: number;
}

function validBit(d: Data, i: number): number {
  const bm = d.nullBitmap;
  if (d.nullCount === 0 || bm === undefined || bm.length === 0) return 1;
  const k = d.offset + i;
  return (bm[k >> 3]! >> (k & 7)) & 1;
}

function nullsIn(segs: readonly Segment[]): number {
  let nulls = 0;
  for (const s of segs) {
    if (s.data.nullCount === 0) continue;
    if (s.from === 0 && s.to === s.data.length) nulls += s.data.nullCount;
    else for (let i = s.from; i < s.to; i++) nulls += 1 - validBit(s.data, i);
  }
  return nulls;
}

/** PLAIN bytes of the non-null fixed-width values (a view of Arrow's buffer where nothing needs copying or widening). */
function fixedValues(segs: readonly Segment[], leaf: Leaf, nonNull: number): Uint8Array {
  const first = segs[0];
  if (segs.length === 1 && first !== undefined && first.data.nullCount === 0 && leaf.arrowWidth === leaf.width) {
    const v = first.data.values as Uint8Array;
    return new Uint8Array(v.buffer, v.byteOffset + first.from * leaf.width, (first.to - first.from) * leaf.width);
  }
  const out = new Uint8Array(nonNull * leaf.width);
  let o = 0;
  for (const s of segs) {
    const v = s.data.values as ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number };
    if (leaf.arrowWidth === leaf.width) {
      const bytes = new Uint8Array(v.buffer, v.byteOffset, s.data.length * leaf.width);
      if (s.data.nullCount === 0) {
        out.set(bytes.subarray(s.from * leaf.width, s.to * leaf.width), o);
        o += (s.to - s.from) * leaf.width;
      } else {
        for (let i = s.from; i < s.to; i++) {
          if (validBit(s.data, i) === 0) continue;
          out.set(bytes.subarray(i * leaf.width, (i + 1) * leaf.width), o);
          o += leaf.width;
        }
      }
    } else {
      // 8- and 16-bit integers are INT32 in Parquet.
      const w = new Int32Array(out.buffer, 0, nonNull);
      let k = o / 4;
      if (s.data.nullCount === 0) for (let i = s.from; i < s.to; i++) w[k++] = v[i]!;
      else for (let i = s.from; i < s.to; i++) if (validBit(s.data, i) === 1) w[k++] = v[i]!;
      o = k * 4;
    }
  }
  return out;
}

interface Encoded {
  /** Dictionary page body (PLAIN) and its entry count, if dictionary-encoded. */
  dictionary?: { body: Uint8Array; count: number };
  /** Value section of the data page (PLAIN bytes, or bit width + RLE indices). */
  values: Uint8Array;
  min?: Uint8Array;
  max?: Uint8Array;
}

/** Most runs a column may have to be dictionary-encoded (per non-null value). */
const DICTIONARY_RUN_SHARE = 1 / 16;

/**
 * An integer's identity (the dictionary's key): the word, or the (hi, lo)
 * pair for 64 bits. Not its order, which is decided below (TOP_BIT).
 * encodeInts' helpers are top-level functions, not closures made per call:
 * V8 then compiles each once per worker instead of again after every deopt.
 */
function intKey(w: Int32Array, words: number, i: number): number | bigint {
  if (words === 1) return w[i]!;
  return (BigInt(w[2 * i + 1]!) << 32n) | BigInt(w[2 * i]! >>> 0);
}

/** Where each run of equal values starts, until there are more than `limit` runs. */
function intRunStarts(w: Int32Array, words: number, count: number, limit: number): number[] {
  const starts: number[] = count > 0 ? [0] : [];
  if (words === 1) {
    for (let i = 1; i < count && starts.length <= limit; i++) if (w[i] !== w[i - 1]) starts.push(i);
  } else {
    for (let i = 1; i < count && starts.length <= limit; i++) if (w[2 * i] !== w[2 * i - 2] || w[2 * i + 1] !== w[2 * i - 1]) starts.push(i);
  }
  return starts;
}

/** The indices of the smallest and largest of a few values (the dictionary entries; the first of equals). */
function minMaxOf(w: Int32Array, leaf: Leaf, indices: readonly number[]): { lo: number; hi: number } {
  const words = leaf.width / 4;
  const flip = orderFlip(leaf);
  let lo = indices[0]!;
  let hi = lo;
  for (const i of indices) {
    if (intCompare(w, words, flip, i, lo) < 0) lo = i;
    if (intCompare(w, words, flip, i, hi) > 0) hi = i;
  }
  return { lo, hi };
}

/**
 * The order of integer values, decided here for both encodings: words
 * compare as signed int32s after `^ flip`, where flip is TOP_BIT for an
 * unsigned column (so that unsigned order becomes signed order) and 0 for a
 * signed one; a 64-bit value compares its high word so, then its low word,
 * which is always unsigned. minMax32 and minMax64 inline the same rule in
 * their loops.
 */
const TOP_BIT = -0x80000000;

function orderFlip(leaf: Leaf): number {
  return leaf.signed ? 0 : TOP_BIT;
}

/** Negative, zero or positive as value a sorts before, with or after value b. */
function intCompare(w: Int32Array, words: number, flip: number, a: number, b: number): number {
  if (words === 1) return (w[a]! ^ flip) - (w[b]! ^ flip);
  return (w[2 * a + 1]! ^ flip) - (w[2 * b + 1]! ^ flip) || (w[2 * a]! ^ TOP_BIT) - (w[2 * b]! ^ TOP_BIT);
}

/**
 * The indices of the smallest and largest value of a PLAIN column (the
 * first of equals), in one pass over the words. Unsigned words compare as
 * signed ones with their top bit flipped, so one loop serves both; the
 * current extremes stay in locals (a comparison function reloading both
 * extremes' words per value took 10 ns per 64-bit value, this 3.5-4).
 */
function plainMinMax(w: Int32Array, leaf: Leaf, count: number): { lo: number; hi: number } {
  const flip = orderFlip(leaf);
  return leaf.width === 4 ? minMax32(w, flip, count) : minMax64(w, flip, count);
}

function minMax32(w: Int32Array, flip: number, count: number): { lo: number; hi: number } {
  let lo = 0;
  let hi = 0;
  let min = w[0]! ^ flip;
  let max = min;
  for (let i = 1; i < count; i++) {
    const v = w[i]! ^ flip;
    if (v < min) {
      min = v;
      lo = i;
    }
    if (v > max) {
      max = v;
      hi = i;
    }
  }
  return { lo, hi };
}

/** 64-bit values as (high word, low word) pairs: the high word signed or not, the low word always unsigned. */
function minMax64(w: Int32Array, flip: number, count: number): { lo: number; hi: number } {
  let lo = 0;
  let hi = 0;
  let minH = w[1]! ^ flip;
  let minL = w[0]! ^ TOP_BIT;
  let maxH = minH;
  let maxL = minL;
  for (let i = 1; i < count; i++) {
    const h = w[2 * i + 1]! ^ flip;
    const l = w[2 * i]! ^ TOP_BIT;
    if (h < minH || (h === minH && l < minL)) {
      minH = h;
      minL = l;
      lo = i;
    }
    if (h > maxH || (h === maxH && l > maxL)) {
      maxH = h;
      maxL = l;
      hi = i;
    }
  }
  return { lo, hi };
}

/** Fixed-width integers: dictionary + RLE indices where there are few runs, else PLAIN; min/max either way. */
function encodeInts(plain: Uint8Array, leaf: Leaf, count: number): Encoded {
  const words = leaf.width / 4;
  const w = new Int32Array(plain.buffer, plain.byteOffset, count * words);
  const bytesOf = (i: number) => plain.slice(i * leaf.width, (i + 1) * leaf.width);
  // Runs, up to the limit (a column of distinct ids stops early).
  const limit = Math.max(1, Math.floor(count * DICTIONARY_RUN_SHARE));
  const starts = count > 0 && allSame(plain.subarray(0, count * leaf.width), leaf.width) ? [0] : intRunStarts(w, words, count, limit);
  if (count > 0 && starts.length <= limit) {
    const index = new Map<number | bigint, number>();
    const entries: number[] = [];
    const runIndex = new Array<number>(starts.length);
    for (let r = 0; r < starts.length; r++) {
      const k = intKey(w, words, starts[r]!);
      let d = index.get(k);
      if (d === undefined) {
        d = entries.length;
        index.set(k, d);
        entries.push(starts[r]!);
      }
      runIndex[r] = d;
    }
    const body = new Uint8Array(entries.length * leaf.width);
    for (let d = 0; d < entries.length; d++) body.set(plain.subarray(entries[d]! * leaf.width, (entries[d]! + 1) * leaf.width), d * leaf.width);
    const bitWidth = Math.max(1, 32 - Math.clz32(entries.length - 1));
    const out = new ByteWriter();
    out.byte(bitWidth);
    const valueBytes = (bitWidth + 7) >> 3;
    for (let r = 0; r < starts.length; r++) {
      out.varint(((r + 1 < starts.length ? starts[r + 1]! : count) - starts[r]!) * 2);
      for (let b = 0; b < valueBytes; b++) out.byte((runIndex[r]! >>> (8 * b)) & 0xff);
    }
    const { lo, hi } = minMaxOf(w, leaf, entries);
    return { dictionary: { body, count: entries.length }, values: out.view(), min: bytesOf(lo), max: bytesOf(hi) };
  }
  if (count === 0) return { values: plain };
  const { lo, hi } = plainMinMax(w, leaf, count);
  return { values: plain, min: bytesOf(lo), max: bytesOf(hi) };
}

/** Min, max and whether a NaN is there (one monomorphic loop per array type). */
function rangeOf(v: Float64Array | Float32Array): { lo: number; hi: number; nan: boolean } {
  // Math.min/max without branches, four independent chains (the loop is latency-bound); a NaN anywhere makes them NaN.
  let lo0 = Infinity, lo1 = Infinity, lo2 = Infinity, lo3 = Infinity;
  let hi0 = -Infinity, hi1 = -Infinity, hi2 = -Infinity, hi3 = -Infinity;
  const n = v.length;
  const n4 = n - (n % 4);
  for (let i = 0; i < n4; i += 4) {
    const a = v[i]!, b = v[i + 1]!, c = v[i + 2]!, d = v[i + 3]!;
    lo0 = Math.min(lo0, a);
    lo1 = Math.min(lo1, b);
    lo2 = Math.min(lo2, c);
    lo3 = Math.min(lo3, d);
    hi0 = Math.max(hi0, a);
    hi1 = Math.max(hi1, b);
    hi2 = Math.max(hi2, c);
    hi3 = Math.max(hi3, d);
  }
  for (let i = n4; i < n; i++) {
    lo0 = Math.min(lo0, v[i]!);
    hi0 = Math.max(hi0, v[i]!);
  }
  const lo = Math.min(lo0, lo1, lo2, lo3);
  return { lo, hi: Math.max(hi0, hi1, hi2, hi3), nan: lo !== lo };
}

/** Whether every `width`-byte value of `bytes` is the same: the bytes equal themselves shifted by one value (one memcmp). */
function allSame(bytes: Uint8Array, width: number): boolean {
  if (bytes.length <= width) return true;
  return Buffer.compare(bytes.subarray(width), bytes.subarray(0, bytes.length - width)) === 0;
}

/**
 * Floats: PLAIN; min/max with a zero minimum as -0 and a zero maximum as +0
 * (parquet.thrift), and none at all for a chunk holding a NaN: readers
 * order NaN differently (DuckDB above every number), and one that finds a
 * whole row group inside a filter's range from min/max alone (DuckDB)
 * would count NaN rows in it (test/parquet-write.test.ts).
 */
function encodeFloats(plain: Uint8Array, leaf: Leaf, count: number): Encoded {
  const { lo, hi, nan } = leaf.width === 8 ? rangeOf(new Float64Array(plain.buffer, plain.byteOffset, count)) : rangeOf(new Float32Array(plain.buffer, plain.byteOffset, count));
  if (nan || count === 0) return { values: plain };
  const bytes = (x: number) => {
    const b = new Uint8Array(leaf.width);
    const dv = new DataView(b.buffer);
    if (leaf.width === 8) dv.setFloat64(0, x, true);
    else dv.setFloat32(0, x, true);
    return b;
  };
  return { values: plain, min: bytes(lo === 0 ? -0 : lo), max: bytes(hi === 0 ? 0 : hi) };
}

function encodeBools(segs: readonly Segment[], nonNull: number): Encoded {
  const out = new Uint8Array((nonNull + 7) >> 3);
  let k = 0;
  let trues = 0;
  for (const s of segs) {
    const v = s.data.values as Uint8Array;
    for (let i = s.from; i < s.to; i++) {
      if (validBit(s.data, i) === 0) continue;
      const j = s.data.offset + i;
      if ((v[j >> 3]! >> (j & 7)) & 1) {
        out[k >> 3]! |= 1 << (k & 7);
        trues++;
      }
      k++;
    }
  }
  if (nonNull === 0) return { values: out };
  return { values: out, min: Uint8Array.of(trues === nonNull ? 1 : 0), max: Uint8Array.of(trues > 0 ? 1 : 0) };
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** Strings: dictionary + RLE indices where there are few runs (min/max over the dictionary), else PLAIN BYTE_ARRAY. */
interface StringRun {
  bytes: Uint8Array;
  length: number;
}

/** A segment whose every value is the same string (the dataId columns): the run it adds, else undefined. */
function constantStringSegment(s: Segment): StringRun | undefined {
  if (s.data.nullCount !== 0 || s.to <= s.from) return undefined;
  const offsets = s.data.valueOffsets as Int32Array;
  const data = s.data.values as Uint8Array;
  // Evenly spaced offsets, and the bytes equal themselves shifted by one value.
  const first = offsets[s.from]!;
  const step = offsets[s.from + 1]! - first;
  for (let i = s.from + 1; i <= s.to; i++) if (offsets[i]! - offsets[i - 1]! !== step) return undefined;
  if (!allSame(data.subarray(first, offsets[s.to]!), Math.max(1, step))) return undefined;
  return { bytes: data.subarray(first, first + step), length: s.to - s.from };
}

/** Runs of equal strings, compared in place (no view per row); stops once there are more than `limit`. */
function stringRuns(segs: readonly Segment[], limit: number): StringRun[] {
  const runs: StringRun[] = [];
  let prevData: Uint8Array | undefined;
  let prevStart = 0;
  let prevLength = -1;
  for (const s of segs) {
    const constant = constantStringSegment(s);
    const last = runs[runs.length - 1];
    if (constant !== undefined && (last === undefined || compareBytes(last.bytes, constant.bytes) === 0)) {
      if (last !== undefined) last.length += constant.length;
      else runs.push(constant);
      prevData = s.data.values as Uint8Array;
      prevStart = constant.bytes.byteOffset - prevData.byteOffset;
      prevLength = constant.bytes.length;
      continue;
    }
    const offsets = s.data.valueOffsets as Int32Array;
    const data = s.data.values as Uint8Array;
    for (let i = s.from; i < s.to; i++) {
      if (validBit(s.data, i) === 0) continue;
      const start = offsets[i]!;
      const length = offsets[i + 1]! - start;
      let equal = length === prevLength;
      for (let b = 0; equal && b < length; b++) equal = data[start + b] === prevData![prevStart + b];
      if (equal) runs[runs.length - 1]!.length++;
      else {
        runs.push({ bytes: data.subarray(start, start + length), length: 1 });
        if (runs.length > limit) return runs;
        prevData = data;
        prevStart = start;
        prevLength = length;
      }
    }
  }
  return runs;
}

/** PLAIN byte arrays: each non-null value as a 4-byte little-endian length and its bytes. */
function plainStrings(segs: readonly Segment[]): Uint8Array {
  let size = 0;
  for (const s of segs) {
    const offsets = s.data.valueOffsets as Int32Array;
    for (let i = s.from; i < s.to; i++) if (validBit(s.data, i) === 1) size += 4 + offsets[i + 1]! - offsets[i]!;
  }
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  let o = 0;
  for (const s of segs) {
    const offsets = s.data.valueOffsets as Int32Array;
    const data = s.data.values as Uint8Array;
    for (let i = s.from; i < s.to; i++) {
      if (validBit(s.data, i) === 0) continue;
      const length = offsets[i + 1]! - offsets[i]!;
      dv.setUint32(o, length, true);
      out.set(data.subarray(offsets[i]!, offsets[i + 1]!), o + 4);
      o += 4 + length;
    }
  }
  return out;
}

/** Strings: dictionary + RLE indices where there are few runs (min/max from the dictionary), else PLAIN. */
function encodeStrings(segs: readonly Segment[], nonNull: number): Encoded {
  const limit = Math.max(1, Math.floor(nonNull * DICTIONARY_RUN_SHARE));
  const runs = stringRuns(segs, limit);
  if (nonNull === 0 || runs.length > limit) return { values: plainStrings(segs) };
  const index = new Map<string, number>();
  const entries: Uint8Array[] = [];
  const runIndex = new Array<number>(runs.length);
  for (let r = 0; r < runs.length; r++) {
    const bytes = runs[r]!.bytes;
    const k = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
    let d = index.get(k);
    if (d === undefined) {
      d = entries.length;
      index.set(k, d);
      entries.push(bytes);
    }
    runIndex[r] = d;
  }
  const dict = new ByteWriter();
  for (const e of entries) {
    dict.uint32(e.length);
    dict.raw(e);
  }
  const bitWidth = Math.max(1, 32 - Math.clz32(entries.length - 1));
  const out = new ByteWriter();
  out.byte(bitWidth);
  const valueBytes = (bitWidth + 7) >> 3;
  for (let r = 0; r < runs.length; r++) {
    out.varint(runs[r]!.length * 2);
    for (let b = 0; b < valueBytes; b++) out.byte((runIndex[r]! >>> (8 * b)) & 0xff);
  }
  const sorted = [...entries].sort(compareBytes);
  return { dictionary: { body: dict.view().slice(), count: entries.length }, values: out.view(), min: sorted[0]!.slice(), max: sorted[sorted.length - 1]!.slice() };
}

const i32 = (id: number, value: number) => ({ id, type: T.I32, value });
const i64 = (id: number, value: number) => ({ id, type: T.I64, value: BigInt(value) });
const bin = (id: number, value: Uint8Array) => ({ id, type: T.BINARY, value });
const struct = (id: number, value: TStruct) => ({ id, type: T.STRUCT, value });
const list = (id: number, elemType: number, items: TValue[]) => ({ id, type: T.LIST, value: { elemType, items } });
const utf8 = (s: string) => new TextEncoder().encode(s);

function pageHeader(type: number, bodyBytes: number, inner: { id: number; type: number; value: TStruct }): Uint8Array {
  return encodeStruct([i32(1, type), i32(2, bodyBytes), i32(3, bodyBytes), inner]);
}

interface ColumnChunkOut {
  parts: Uint8Array[];
  bytes: number;
  meta: (offset: number) => TStruct;
}

function encodeColumnChunk(field: Field, leaf: Leaf, segs: readonly Segment[], rows: number): ColumnChunkOut {
  const nulls = nullsIn(segs);
  const nonNull = rows - nulls;
  const body = new ByteWriter();
  // Definition levels (v1 page: 4-byte length, then the hybrid of bit width 1).
  if (field.nullable) {
    const levels = new ByteWriter();
    if (nulls === 0) {
      // All defined: one RLE run.
      levels.varint(rows * 2);
      levels.byte(1);
    } else {
      const def = new Uint8Array(rows);
      let k = 0;
      for (const s of segs) for (let i = s.from; i < s.to; i++) def[k++] = validBit(s.data, i);
      rleHybrid(levels, rows, (i) => def[i]!, 1);
    }
    body.uint32(levels.length);
    body.raw(levels.view());
  }
  const enc: Encoded =
    leaf.kind === 'int'
      ? encodeInts(fixedValues(segs, leaf, nonNull), leaf, nonNull)
      : leaf.kind === 'float'
        ? encodeFloats(fixedValues(segs, leaf, nonNull), leaf, nonNull)
        : leaf.kind === 'bool'
          ? encodeBools(segs, nonNull)
          : encodeStrings(segs, nonNull);
  const levelsAndValues = [body.view(), enc.values];
  const dataBytes = body.length + enc.values.length;
  const dataHeader = pageHeader(PAGE.DATA, dataBytes, struct(5, [i32(1, rows), i32(2, enc.dictionary ? ENCODING.RLE_DICTIONARY : ENCODING.PLAIN), i32(3, ENCODING.RLE), i32(4, ENCODING.RLE)]));
  const parts: Uint8Array[] = [];
  let dictBytes = 0;
  if (enc.dictionary !== undefined) {
    const h = pageHeader(PAGE.DICTIONARY, enc.dictionary.body.length, struct(7, [i32(1, enc.dictionary.count), i32(2, ENCODING.PLAIN)]));
    parts.push(h, enc.dictionary.body);
    dictBytes = h.length + enc.dictionary.body.length;
  }
  parts.push(dataHeader, ...levelsAndValues);
  const bytes = dictBytes + dataHeader.length + dataBytes;
  const stats: TStruct = [i64(3, nulls), ...(enc.max !== undefined ? [bin(5, enc.max)] : []), ...(enc.min !== undefined ? [bin(6, enc.min)] : [])];
  const encodings = enc.dictionary ? [ENCODING.PLAIN, ENCODING.RLE, ENCODING.RLE_DICTIONARY] : [ENCODING.PLAIN, ENCODING.RLE];
  const meta = (offset: number): TStruct => [
    i64(2, offset),
    struct(3, [
      i32(1, leaf.physical),
      list(2, T.I32, encodings),
      list(3, T.BINARY, [utf8(field.name)]),
      i32(4, 0), // UNCOMPRESSED
      i64(5, rows),
      i64(6, bytes),
      i64(7, bytes),
      i64(9, offset + dictBytes),
      ...(enc.dictionary ? [i64(11, offset)] : []),
      struct(12, stats),
    ]),
  ];
  return { parts, bytes, meta };
}

function schemaElements(schema: Schema, leaves: readonly Leaf[]): TStruct[] {
  const root: TStruct = [bin(4, utf8('schema')), i32(5, schema.fields.length)];
  return [
    root,
    ...schema.fields.map((f, k): TStruct => {
      const leaf = leaves[k]!;
      return [
        i32(1, leaf.physical),
        i32(3, f.nullable ? 1 : 0),
        bin(4, utf8(f.name)),
        ...(leaf.converted !== undefined ? [i32(6, leaf.converted)] : []),
        ...(leaf.logical !== undefined ? [struct(10, leaf.logical)] : []),
      ];
    }),
  ];
}

/** The Arrow schema as Arrow writers store it under ARROW:schema: the IPC schema message (continuation marker included), base64. */
export function arrowSchemaMetadata(schema: Schema): string {
  // Every part of one output has one schema: encode it once (the flatbuffer build costs more than this key).
  const key = JSON.stringify([schema.fields.map((f) => [f.name, String(f.type), f.type.typeId, f.nullable, [...f.metadata]]), [...schema.metadata]]);
  let encoded = schemaCache.get(key);
  if (encoded === undefined) {
    const stream = tableToIPC(new Table(schema), 'stream');
    const length = new DataView(stream.buffer, stream.byteOffset + 4, 4).getInt32(0, true);
    encoded = Buffer.from(stream.buffer, stream.byteOffset, 8 + length).toString('base64');
    if (schemaCache.size > 64) schemaCache.clear();
    schemaCache.set(key, encoded);
  }
  return encoded;
}
const schemaCache = new Map<string, string>();

/** Segments of rows [from, to) of a table's batches, per column. */
function rowGroupSegments(table: Table, column: number, from: number, to: number): Segment[] {
  const segs: Segment[] = [];
  let base = 0;
  for (const b of table.batches) {
    const n = b.numRows;
    const lo = Math.max(from, base);
    const hi = Math.min(to, base + n);
    if (lo < hi) segs.push({ data: b.data.children[column]!, from: lo - base, to: hi - base });
    base += n;
  }
  return segs;
}

/** A complete Parquet file of `table` (flat columns of the types `parquetWritable` accepts), in one buffer. */
export function encodeParquetFile(table: Table, options: ParquetWriteOptions = {}): Uint8Array {
  const pieces = encodeParquetPieces(table, options);
  const out = new Uint8Array(pieces.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of pieces) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * The same file as pieces in order, without joining them: "PAR1" first, the
 * footer with its length and magic last, and between them page headers,
 * levels and value bytes, many of them views of the table's own buffers
 * (the caller keeps those unchanged until the pieces are written).
 */
export function encodeParquetPieces(table: Table, options: ParquetWriteOptions = {}): Uint8Array[] {
  const why = parquetWritable(table.schema);
  if (why !== undefined) throw new RangeError(why);
  const fields = table.schema.fields;
  const leaves = fields.map((f) => leafOf(f.type)!);
  const groupRows = Math.max(1, options.rowGroupRows ?? 262_144);
  // A fresh magic: pieces may be transferred to another thread.
  const parts: Uint8Array[] = [MAGIC.slice()];
  let offset = MAGIC.length;
  const rowGroups: TStruct[] = [];
  for (let from = 0; from < table.numRows; from += groupRows) {
    const to = Math.min(table.numRows, from + groupRows);
    const start = offset;
    const columns: TStruct[] = [];
    fields.forEach((f, c) => {
      const chunk = encodeColumnChunk(f, leaves[c]!, rowGroupSegments(table, c, from, to), to - from);
      columns.push(chunk.meta(offset));
      parts.push(...chunk.parts);
      offset += chunk.bytes;
    });
    rowGroups.push([list(1, T.STRUCT, columns), i64(2, offset - start), i64(3, to - from), i64(5, start), i64(6, offset - start), { id: 7, type: T.I16, value: rowGroups.length }]);
  }
  // Schema-level metadata first (as Arrow writers put it), then the caller's.
  const kv = new Map(table.schema.metadata);
  for (const [k, v] of options.keyValueMetadata instanceof Map ? options.keyValueMetadata : Object.entries(options.keyValueMetadata ?? {})) kv.set(k, v);
  kv.set('ARROW:schema', arrowSchemaMetadata(table.schema));
  const footer = encodeStruct([
    i32(1, 2),
    list(2, T.STRUCT, schemaElements(table.schema, leaves)),
    i64(3, table.numRows),
    list(4, T.STRUCT, rowGroups),
    list(5, T.STRUCT, [...kv].map(([k, v]): TStruct => [bin(1, utf8(k)), bin(2, utf8(v))])),
    bin(6, utf8(options.createdBy ?? 'skycal')),
    // TypeDefinedOrder for every column: readers may trust min_value/max_value.
    list(7, T.STRUCT, fields.map((): TStruct => [struct(1, [])])),
  ]);
  // The footer, its length and the magic in one piece (ParquetStitcher reads it from the last piece).
  const tail = new Uint8Array(footer.length + 8);
  tail.set(footer);
  new DataView(tail.buffer).setUint32(footer.length, footer.length, true);
  tail.set(MAGIC, footer.length + 4);
  parts.push(tail);
  return parts;
}
