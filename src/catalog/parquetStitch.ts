/**
 * Parquet files cut and joined at row-group boundaries, through the footer
 * alone (FileMetaData, Thrift compact). Why: parquet-wasm 0.8 can neither
 * read one row group without the whole file in memory (or a slow Blob
 * stream) nor append row groups encoded elsewhere. So
 *  - a reader takes a row group's bytes from the file (one positioned read)
 *    and gives them a footer of their own: a small valid Parquet file;
 *  - a writer copies the row groups of complete files encoded in parallel
 *    into one output and writes one merged footer, each column chunk's
 *    offsets shifted to where its bytes now are.
 * Page indexes and Bloom filters live outside the row groups' bytes: their
 * references are dropped (readers do without them).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { T, decodeStruct, encodeStruct, field, withField, withoutFields, type TList, type TStruct } from './thriftCompact.js';

const MAGIC = new TextEncoder().encode('PAR1');

// parquet.thrift field ids.
const FMD = { version: 1, schema: 2, numRows: 3, rowGroups: 4, kv: 5, createdBy: 6, encryption: 8 } as const;
const RG = { columns: 1, numRows: 3, fileOffset: 5, ordinal: 7 } as const;
const CC = { fileOffset: 2, metaData: 3, offsetIndexOffset: 4, offsetIndexLength: 5, columnIndexOffset: 6, columnIndexLength: 7 } as const;
const CMD = { totalCompressedSize: 7, dataPageOffset: 9, indexPageOffset: 10, dictionaryPageOffset: 11, bloomOffset: 14, bloomLength: 15 } as const;

export interface ParquetFooter {
  meta: TStruct;
  /** Byte offset of the FileMetaData. */
  footerStart: number;
  size: number;
}

export interface RowGroupSpan {
  rows: number;
  /** Byte range [start, end) of the row group's column chunks. */
  start: number;
  end: number;
}

function footerOfTail(tail: Uint8Array, size: number, where: string): { length: number } {
  const n = tail.length;
  if (n < 8 || tail[n - 4] !== 0x50 || tail[n - 3] !== 0x41 || tail[n - 2] !== 0x52 || tail[n - 1] !== 0x31) throw new RangeError(`${where}: no PAR1 footer`);
  const length = new DataView(tail.buffer, tail.byteOffset + n - 8, 4).getUint32(0, true);
  if (length + 12 > size) throw new RangeError(`${where}: footer length ${length} exceeds the file`);
  return { length };
}

function checkMeta(meta: TStruct, where: string): TStruct {
  if (field(meta, FMD.encryption) !== undefined) throw new RangeError(`${where}: encrypted Parquet is not supported`);
  return meta;
}

/** The footer of a Parquet file in memory. */
export function parquetFooterOf(bytes: Uint8Array, where = 'parquet'): ParquetFooter {
  const { length } = footerOfTail(bytes.subarray(bytes.length - 8), bytes.length, where);
  const footerStart = bytes.length - 8 - length;
  return { meta: checkMeta(decodeStruct(bytes.subarray(footerStart, bytes.length - 8)), where), footerStart, size: bytes.length };
}

/** The footer of a Parquet file on disk, reading only its tail. */
export async function readParquetFooter(path: string): Promise<ParquetFooter> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size < 12) throw new RangeError(`${path}: too short for Parquet`);
    // One read usually holds the whole footer; a second one when it does not.
    const guess = Math.min(size, 64 * 1024);
    const tail = new Uint8Array(guess);
    await handle.read(tail, 0, guess, size - guess);
    const { length } = footerOfTail(tail, size, path);
    let footer: Uint8Array;
    if (length + 8 <= guess) footer = tail.subarray(guess - 8 - length, guess - 8);
    else {
      footer = new Uint8Array(length);
      await handle.read(footer, 0, length, size - 8 - length);
    }
    return { meta: checkMeta(decodeStruct(footer), path), footerStart: size - 8 - length, size };
  } finally {
    await handle.close();
  }
}

const num = (v: unknown): number => Number(v as bigint | number);
const rowGroupsOf = (meta: TStruct): TStruct[] => ((field(meta, FMD.rowGroups)?.value as TList | undefined)?.items ?? []) as TStruct[];
const columnsOf = (rg: TStruct): TStruct[] => (field(rg, RG.columns)!.value as TList).items as TStruct[];

/** Total rows, from the footer. */
export function footerRows(meta: TStruct): number {
  return num(field(meta, FMD.numRows)?.value ?? 0n);
}

/** Where each row group's bytes are and how many rows it holds. */
export function rowGroupSpans(meta: TStruct): RowGroupSpan[] {
  return rowGroupsOf(meta).map((rg) => {
    let start = Infinity;
    let end = 0;
    for (const cc of columnsOf(rg)) {
      const md = field(cc, CC.metaData)!.value as TStruct;
      const dict = field(md, CMD.dictionaryPageOffset);
      const data = num(field(md, CMD.dataPageOffset)!.value);
      // A dictionary page, when there is one, comes first.
      const s = dict !== undefined && num(dict.value) > 0 ? Math.min(num(dict.value), data) : data;
      start = Math.min(start, s);
      end = Math.max(end, s + num(field(md, CMD.totalCompressedSize)!.value));
    }
    return { rows: num(field(rg, RG.numRows)!.value), start: start === Infinity ? 0 : start, end };
  });
}

/** A row group with every offset moved by `delta` bytes and page index / Bloom filter references dropped. */
function shiftRowGroup(rg: TStruct, delta: bigint, ordinal: number): TStruct {
  const move = (s: TStruct, id: number): TStruct => {
    const f = field(s, id);
    return f === undefined ? s : withField(s, id, T.I64, BigInt(f.value as bigint) + delta);
  };
  const columns = columnsOf(rg).map((cc) => {
    let md = field(cc, CC.metaData)!.value as TStruct;
    for (const id of [CMD.dataPageOffset, CMD.indexPageOffset, CMD.dictionaryPageOffset]) md = move(md, id);
    md = withoutFields(md, [CMD.bloomOffset, CMD.bloomLength]);
    let out = withoutFields(cc, [CC.offsetIndexOffset, CC.offsetIndexLength, CC.columnIndexOffset, CC.columnIndexLength]);
    // file_offset is deprecated and 0 in some writers; move it only where it points somewhere.
    if (num(field(out, CC.fileOffset)?.value ?? 0n) > 0) out = move(out, CC.fileOffset);
    return withField(out, CC.metaData, T.STRUCT, md);
  });
  let out = withField(rg, RG.columns, T.LIST, { elemType: T.STRUCT, items: columns });
  out = move(out, RG.fileOffset);
  return withField(out, RG.ordinal, T.I16, ordinal);
}

function fileMetaData(template: TStruct, rowGroups: TStruct[], rows: bigint, kv?: ReadonlyMap<string, string>): TStruct {
  let meta = withField(template, FMD.rowGroups, T.LIST, { elemType: T.STRUCT, items: rowGroups });
  meta = withField(meta, FMD.numRows, T.I64, rows);
  if (kv !== undefined) {
    const enc = new TextEncoder();
    const items: TStruct[] = [...kv].map(([k, v]) => [
      { id: 1, type: T.BINARY, value: enc.encode(k) },
      { id: 2, type: T.BINARY, value: enc.encode(v) },
    ]);
    meta = withField(meta, FMD.kv, T.LIST, { elemType: T.STRUCT, items });
  }
  return meta;
}

function withLengthAndMagic(footer: Uint8Array): Uint8Array {
  const out = new Uint8Array(footer.length + 8);
  out.set(footer);
  new DataView(out.buffer).setUint32(footer.length, footer.length, true);
  out.set(MAGIC, footer.length + 4);
  return out;
}

/** The key/value metadata of a footer. */
export function footerKeyValues(meta: TStruct): Map<string, string> {
  const dec = new TextDecoder();
  const items = ((field(meta, FMD.kv)?.value as TList | undefined)?.items ?? []) as TStruct[];
  return new Map(items.map((kv) => [dec.decode(field(kv, 1)!.value as Uint8Array), dec.decode((field(kv, 2)?.value as Uint8Array | undefined) ?? new Uint8Array())]));
}

/**
 * Row groups [first, last] of a file as a Parquet file of their own: the
 * byte range to read, and the footer (length and magic included) to put
 * after it, with "PAR1" before.
 */
export function rowGroupsFooter(meta: TStruct, first: number, last: number): { start: number; end: number; tail: Uint8Array } {
  const spans = rowGroupSpans(meta);
  const groups = rowGroupsOf(meta);
  // No row groups (an empty catalog): the schema alone.
  if (groups.length === 0) return { start: MAGIC.length, end: MAGIC.length, tail: withLengthAndMagic(encodeStruct(fileMetaData(meta, [], 0n))) };
  if (first < 0 || last >= groups.length || first > last) throw new RangeError(`row groups ${first}..${last} of ${groups.length}`);
  const start = spans[first]!.start;
  const end = spans[last]!.end;
  const delta = BigInt(MAGIC.length - start);
  const picked = groups.slice(first, last + 1).map((rg, i) => shiftRowGroup(rg, delta, i));
  const rows = spans.slice(first, last + 1).reduce((a, s) => a + BigInt(s.rows), 0n);
  return { start, end, tail: withLengthAndMagic(encodeStruct(fileMetaData(meta, picked, rows))) };
}

/** Read row groups [first, last] of `path` (one positioned read) as a small Parquet file in memory. */
export function readRowGroupsAsFile(path: string, range: { start: number; end: number; tail: Uint8Array }): Uint8Array {
  const n = range.end - range.start;
  const out = new Uint8Array(MAGIC.length + n + range.tail.length);
  out.set(MAGIC);
  const fd = openSync(path, 'r');
  try {
    let done = 0;
    while (done < n) {
      const got = readSync(fd, out, MAGIC.length + done, n - done, range.start + done);
      if (got === 0) throw new RangeError(`${path}: file ends before byte ${range.end}`);
      done += got;
    }
  } finally {
    closeSync(fd);
  }
  out.set(range.tail, MAGIC.length + n);
  return out;
}

/**
 * One complete Parquet part, given whole or as pieces in order (as
 * src/catalog/parquetWrite.ts encodes it: the footer and its length in the
 * last piece, so that nothing is concatenated): its footer, the bytes of
 * its FileMetaData, and the row groups' bytes [start, end) as views.
 */
export interface ParquetPart {
  meta: TStruct;
  footer: Uint8Array;
  start: number;
  end: number;
  body: Uint8Array[];
}

export function parquetPartOf(part: Uint8Array | readonly Uint8Array[]): ParquetPart {
  let pieces: readonly Uint8Array[] = part instanceof Uint8Array ? [part] : part;
  const total = pieces.reduce((a, p) => a + p.length, 0);
  let last = pieces[pieces.length - 1] ?? new Uint8Array();
  if (last.length < 8 || new DataView(last.buffer, last.byteOffset + last.length - 8, 4).getUint32(0, true) + 8 > last.length) {
    // The footer spans pieces: join them (not what our writers do).
    last = concatBytes(pieces, total);
    pieces = [last];
  }
  const { length } = footerOfTail(last.subarray(last.length - 8), total, 'part');
  const footer = last.subarray(last.length - 8 - length, last.length - 8);
  const meta = checkMeta(decodeStruct(footer), 'part');
  const spans = rowGroupSpans(meta);
  if (spans.length === 0) return { meta, footer, start: MAGIC.length, end: MAGIC.length, body: [] };
  const start = spans[0]!.start;
  const end = spans[spans.length - 1]!.end;
  if (end > total) throw new RangeError(`part: row groups end at byte ${end}, past the part's ${total}`);
  const body: Uint8Array[] = [];
  let at = 0;
  for (const p of pieces) {
    const lo = Math.max(start, at);
    const hi = Math.min(end, at + p.length);
    if (lo < hi) body.push(p.subarray(lo - at, hi - at));
    at += p.length;
  }
  return { meta, footer, start, end, body };
}

/**
 * Joins complete Parquet files of one schema into one file: their row groups
 * in the order appended, one footer. `write` puts pieces at a byte position
 * of the output (one writev). A part's row-group bytes go either through
 * `append` (copied by `write`) or, written by someone else where the output
 * ends (recompute's workers, src/recompute/offsetChain.ts), through
 * `appendWritten`, which takes only the part's footer.
 */
export class ParquetStitcher {
  private offset = 0;
  private readonly rowGroups: TStruct[] = [];
  private rows = 0n;
  private template: TStruct | undefined;
  private emptyTemplate: TStruct | undefined;
  private schemaBytes: Uint8Array | undefined;

  constructor(private readonly write: (pieces: readonly Uint8Array[], position: number) => Promise<void>) {}

  /** Where the output ends now (bytes so far). */
  get bytes(): number {
    return this.offset;
  }

  private async put(pieces: readonly Uint8Array[]): Promise<void> {
    await this.write(pieces, this.offset);
    for (const p of pieces) this.offset += p.length;
  }

  /** Write the leading magic; returns where the first row group's bytes go. */
  async begin(): Promise<number> {
    if (this.offset === 0) await this.put([MAGIC]);
    return this.offset;
  }

  /** Append the row groups of one complete Parquet file (see ParquetPart). */
  async append(part: Uint8Array | readonly Uint8Array[]): Promise<void> {
    const p = parquetPartOf(part);
    await this.begin();
    if (this.record(p.meta, p.start)) await this.put(p.body);
  }

  /**
   * Account for a part (its FileMetaData bytes) whose row groups' bytes,
   * `[start, end)` of the part, were written at `at`, which must be where the
   * output ends now.
   */
  async appendWritten(footer: Uint8Array, at: number): Promise<void> {
    await this.begin();
    if (at !== this.offset) throw new RangeError(`part written at byte ${at}, but the output ends at ${this.offset}`);
    const meta = checkMeta(decodeStruct(footer), 'part');
    const spans = rowGroupSpans(meta);
    if (this.record(meta, spans[0]?.start ?? 0)) this.offset += spans[spans.length - 1]!.end - spans[0]!.start;
  }

  /** The part's row groups, moved to start at the current end; false for a part without rows. */
  private record(meta: TStruct, start: number): boolean {
    const spans = rowGroupSpans(meta);
    // A part without rows adds nothing (and writers mark its columns optional): only its schema, if no other comes.
    if (spans.length === 0) {
      this.emptyTemplate ??= meta;
      return false;
    }
    const schema = encodeStruct([field(meta, FMD.schema)!]);
    if (this.template === undefined) {
      this.template = meta;
      this.schemaBytes = schema;
    } else if (!sameBytes(schema, this.schemaBytes!)) {
      throw new RangeError('parts of one Parquet file must have one schema');
    }
    const delta = BigInt(this.offset - start);
    rowGroupsOf(meta).forEach((rg) => this.rowGroups.push(shiftRowGroup(rg, delta, this.rowGroups.length)));
    this.rows += spans.reduce((a, s) => a + BigInt(s.rows), 0n);
    return true;
  }

  /** Write the merged footer; `kv` replaces or adds key/value metadata over the first part's. */
  async finish(kv: ReadonlyMap<string, string>): Promise<void> {
    const template = this.template ?? this.emptyTemplate;
    if (template === undefined) throw new RangeError('ParquetStitcher: no part appended');
    const merged = footerKeyValues(template);
    for (const [k, v] of kv) merged.set(k, v);
    await this.put([withLengthAndMagic(encodeStruct(fileMetaData(template, this.rowGroups, this.rows, merged)))]);
  }
}

function concatBytes(pieces: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of pieces) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
