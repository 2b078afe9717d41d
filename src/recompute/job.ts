/**
 * One recompute job: a few consecutive row groups of one dataId's catalog,
 * read, derived and encoded by one thread (a worker, or the main thread
 * with --workers 0: the same function either way). The main thread plans
 * the jobs and assembles what they return; a job's memory is its rows.
 *
 * Derivation goes through the catalog views in-thread (a pool of 0
 * workers), so every value comes from the same column kernel table as the
 * library's own path, bit for bit.
 */
import { mkdirSync, closeSync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataType, Dictionary, Field, Int64, RecordBatch, Schema, Struct, Table, Utf8, makeData, tableFromIPC, tableToIPC } from 'apache-arrow';
import { SkycalError, errors, type ErrorCode } from '../errors.js';
import { readCatalogBatches } from '../catalog/read.js';
import { parquetPartOf, readRowGroupsAsFile } from '../catalog/parquetStitch.js';
import { ipcStreamMessages } from '../catalog/ipcMessages.js';
import { tableToCsv } from '../catalog/csv.js';
import { writeAllSync } from '../io/atomicOutput.js';
import { PARQUET_ROW_GROUP_ROWS } from '../catalog/parquet.js';
import { encodeParquetPieces, parquetWritable } from '../catalog/parquetWrite.js';
import { withSkyAndCalibration } from '../catalog/views.js';
import type { CatalogFormat } from '../catalog/format.js';
import { KernelPool } from '../parallel/pool.js';
import { STATUS_NAMES } from '../../native-free-kernels/status.js';
import { constantColumn } from './constantColumn.js';
import { failJob, placeJob } from './offsetChain.js';
import type { ParquetWasm } from './parquetWasm.js';

export interface IdColumn {
  name: string;
  integer: boolean;
  value: string | undefined;
}

export type JobOutput =
  /**
   * The job's row groups written by the job into the one output file `path`
   * where job `index - 1`'s end (offsetChain.ts); only the part's footer comes back.
   */
  | { kind: 'parquet-placed'; path: string; chain: SharedArrayBuffer; index: number }
  /**
   * The job's rows as a piece of one .arrows or .csv file, written by the job
   * where job `index - 1`'s end; job 0 writes the head too (the schema
   * message with `metadata`, or the header row). Nothing but counts comes back.
   */
  | { kind: 'stream-placed'; encoding: 'arrows' | 'csv'; path: string; chain: SharedArrayBuffer; index: number; metadata: Readonly<Record<string, string>> }
  /** A Parquet part file written (and fsynced) by the job, without the `drop` columns (Hive partition keys). */
  | { kind: 'parquet-file'; path: string; drop: readonly string[]; metadata: Readonly<Record<string, string>> }
  /** An Arrow IPC stream in memory (for .arrow, .arrows and .csv outputs). */
  | { kind: 'ipc' };

export interface RecomputeJob {
  dataId: string;
  catalog: {
    path: string;
    format: CatalogFormat;
    /** Parquet: the byte range of the job's row groups and the footer that makes them a file. */
    rowGroups?: { start: number; end: number; tail: Uint8Array };
  };
  wcsModel: Float64Array;
  photoCalibModel: Float64Array;
  ids: readonly IdColumn[];
  output: JobOutput;
}

export interface JobResult {
  rows: number;
  /** Points with each status bit set, in STATUS_NAMES order. */
  bad: number[];
  /** Column names and types of the whole output (before any partition columns are dropped). */
  signature: string;
  /** Where a 'stream-placed' job's bytes went, and how many. */
  streamed?: { at: number; bytes: number };
  /** The part's FileMetaData bytes and where its row groups were written (kind 'parquet-placed'). */
  placed?: { footer: Uint8Array; at: number };
  /** IPC bytes (kind 'ipc'). */
  bytes?: Uint8Array;
  /** Bytes written (kind 'parquet-file'). */
  fileBytes?: number;
  /** A failure in the job, as a code and message (errors do not keep their code across threads). */
  error?: { code: ErrorCode; message: string };
}

const inThread = new KernelPool({ workers: 0 });
const model = (m: Float64Array) => ({ toKernelModel: () => m });

function idField(c: IdColumn): Field {
  return new Field(c.name, c.integer ? new Int64() : new Utf8(), !c.integer, new Map([['description', `dataId key ${c.name}`]]));
}

export function signatureOf(schema: Schema): string {
  return schema.fields.map((f) => `${f.name}:${String(f.type)}`).join(',');
}

async function readSource(job: RecomputeJob, pw: ParquetWasm): Promise<Table> {
  const { path, format, rowGroups } = job.catalog;
  const where = `${job.dataId}: catalog ${path}`;
  if (format === 'parquet') {
    if (rowGroups === undefined) throw new RangeError('a Parquet job names its row groups');
    let bytes: Uint8Array;
    try {
      bytes = readRowGroupsAsFile(path, rowGroups);
    } catch (e) {
      throw errors.io(path, e);
    }
    try {
      const wasmTable = pw.readParquet(bytes, { batchSize: 1 << 30 });
      return tableFromIPC(wasmTable.intoIPCStream());
    } catch (e) {
      throw errors.badInput(where, `corrupt Parquet data: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  // Arrow IPC catalogs are read whole (a job is the whole catalog).
  const batches: RecordBatch[] = [];
  const source = await readCatalogBatches(path, { format });
  for await (const b of source) batches.push(b);
  return batches.length === 0 ? new Table(source.schema) : new Table(batches);
}

const STATUS_BITS = Int32Array.from(STATUS_NAMES, ([bit]) => bit);

/** Points per status bit. Plain loops, no closures: V8 compiles this once per worker, not again after each deopt. */
function countBad(table: Table): number[] {
  const bad = new Array<number>(STATUS_BITS.length).fill(0);
  const status = table.getChild('status');
  if (status === null) return bad;
  // A histogram of the status bytes, then the bits of each value seen.
  const histogram = new Float64Array(256);
  for (const chunk of status.data) addToHistogram(histogram, chunk.values as Uint8Array, chunk.length);
  for (let s = 1; s < 256; s++) {
    const n = histogram[s]!;
    if (n === 0) continue;
    for (let i = 0; i < STATUS_BITS.length; i++) if ((s & STATUS_BITS[i]!) !== 0) bad[i]! += n;
  }
  return bad;
}

function addToHistogram(histogram: Float64Array, values: Uint8Array, length: number): void {
  for (let k = 0; k < length; k++) histogram[values[k]!]++;
}

/**
 * parquet-wasm's writer, for catalogs with column types the typed-array
 * writer does not handle (dictionary, temporal, nested...). Dictionary
 * encoding off: for the near-constant columns it cost more encode time than
 * the floats together (bench/parquet-engines.ts).
 */
function writerProperties(pw: ParquetWasm, metadata: Readonly<Record<string, string>>) {
  let b = new pw.WriterPropertiesBuilder()
    .setMaxRowGroupSize(PARQUET_ROW_GROUP_ROWS)
    .setCompression(pw.Compression.SNAPPY)
    .setDictionaryEnabled(false)
    .setStatisticsEnabled(pw.EnabledStatistics.Chunk)
    .setCreatedBy('skycal');
  if (Object.keys(metadata).length > 0) b = b.setKeyValueMetadata(new Map(Object.entries(metadata)));
  return b.build();
}

/**
 * A part's Parquet bytes: the typed-array writer (src/catalog/parquetWrite.ts:
 * uncompressed PLAIN floats, dictionary + RLE for the dataId columns and
 * status, chunk statistics) where it handles every column type, which is the
 * case for every output of the demo and of LSST-like catalogs; else
 * parquet-wasm. The choice depends on the schema alone, so every part of one
 * output is written the same way (the stitcher requires one schema).
 */
function encodeParquet(pw: ParquetWasm, table: Table, metadata: Readonly<Record<string, string>>): Uint8Array[] {
  if (parquetWritable(table.schema) === undefined) return encodeParquetPieces(table, { rowGroupRows: PARQUET_ROW_GROUP_ROWS, keyValueMetadata: metadata });
  const wasmTable = pw.Table.fromIPCStream(tableToIPC(table, 'stream'));
  return [pw.writeParquet(wasmTable, writerProperties(pw, metadata))];
}

function writeDurably(path: string, pieces: readonly Uint8Array[]): number {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'wx');
  try {
    const total = writeAllSync(fd, pieces);
    fsyncSync(fd);
    return total;
  } finally {
    closeSync(fd);
  }
}

type Placed = { path: string; chain: SharedArrayBuffer; index: number };

/** `pieces` written into the shared output where the previous job's end (the main thread fsyncs the file at commit). */
function writeAt(output: Placed, pieces: readonly Uint8Array[]): { at: number; bytes: number } {
  const bytes = pieces.reduce((a, p) => a + p.length, 0);
  const at = placeJob(output.chain, output.index, bytes);
  const fd = openSync(output.path, 'r+');
  try {
    writeAllSync(fd, pieces, at);
  } finally {
    closeSync(fd);
  }
  return { at, bytes };
}

/** A part's row groups, placed; its footer goes back. */
function writePlaced(output: Placed, pieces: readonly Uint8Array[]): { footer: Uint8Array; at: number } {
  const part = parquetPartOf(pieces);
  const { at } = writeAt(output, part.body);
  // A copy: posting a view would clone its whole buffer (the part's bytes).
  return { footer: part.footer.slice(), at };
}

/**
 * The table with the file's metadata (the recompute's alone, as writeCatalog
 * gives the main-thread path) and its dictionary columns numbered 0, 1, ...
 * in column order: every job's dictionary batches then name the ids of job
 * 0's schema message, whatever ids the catalog it read had.
 */
function withCanonicalDictionaryIds(table: Table, metadata: Readonly<Record<string, string>>): Table {
  let next = 0;
  const fields = table.schema.fields.map((f) =>
    DataType.isDictionary(f.type) ? f.clone({ type: new Dictionary(f.type.dictionary, f.type.indices, next++, f.type.isOrdered) }) : f,
  );
  const schema = new Schema(fields, new Map(Object.entries(metadata)));
  const batches = table.batches.map((b) => {
    const children = b.data.children.map((c, i) => (fields[i]!.type === c.type ? c : c.clone(fields[i]!.type)));
    return new RecordBatch(schema, makeData({ type: new Struct(fields), length: b.numRows, nullCount: 0, children }));
  });
  return new Table(schema, batches);
}

/**
 * The job's piece of a .arrows or .csv file: its record batches (and their
 * dictionaries: a stream may replace them batch by batch) or rows, with the
 * schema message or header row in front for job 0 only; the end-of-stream
 * marker is the main thread's.
 */
function streamPiece(output: { encoding: 'arrows' | 'csv'; index: number; metadata: Readonly<Record<string, string>> }, table: Table): Uint8Array[] {
  const head = output.index === 0;
  if (output.encoding === 'csv') return [new TextEncoder().encode(tableToCsv(table, { header: head }))];
  const bytes = tableToIPC(withCanonicalDictionaryIds(table, output.metadata), 'stream');
  return ipcStreamMessages(bytes)
    .filter((m) => head || m.type !== 'schema')
    .map((m) => bytes.subarray(m.start, m.end));
}

async function run(job: RecomputeJob, pw: ParquetWasm): Promise<JobResult> {
  const source = await readSource(job, pw);
  const derived = await withSkyAndCalibration(source, model(job.wcsModel), model(job.photoCalibModel), { pool: inThread, source: job.dataId });
  const idFields = job.ids.map(idField);
  const derivedFields = derived.schema.fields.filter((f) => !idFields.some((g) => g.name === f.name));
  const schema = new Schema([...idFields, ...derivedFields]);
  const rows = derived.numRows;
  const table = withIds(derived, schema, job, idFields);
  const result: JobResult = { rows, bad: countBad(table), signature: signatureOf(schema) };
  if (job.output.kind === 'parquet-placed') result.placed = writePlaced(job.output, encodeParquet(pw, table, {}));
  else if (job.output.kind === 'stream-placed') result.streamed = writeAt(job.output, streamPiece(job.output, table));
  else if (job.output.kind === 'ipc') result.bytes = tableToIPC(table, 'stream');
  else {
    const drop = new Set(job.output.drop);
    const kept = table.select(schema.fields.filter((f) => !drop.has(f.name)).map((f) => f.name));
    result.fileBytes = writeDurably(job.output.path, encodeParquet(pw, kept, job.output.metadata));
  }
  return result;
}

/** A derived table of several batches (an IPC catalog) with the dataId columns in front, batch by batch. */
function withIds(derived: Table, schema: Schema, job: RecomputeJob, idFields: Field[]): Table {
  const batches = derived.batches.map((b) => {
    const children = [...job.ids.map((c, i) => constantColumn(idFields[i]!, c.value, b.numRows)), ...schema.fields.slice(idFields.length).map((f) => b.getChild(f.name)!.data[0]!)];
    return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: b.numRows, nullCount: 0, children }));
  });
  return batches.length === 0 ? new Table(schema) : new Table(schema, batches);
}

/** Run a job; failures come back as `error` (a SkycalError's code survives the thread boundary that way). */
export async function runRecomputeJob(job: RecomputeJob, pw: ParquetWasm): Promise<JobResult> {
  try {
    return await run(job, pw);
  } catch (e) {
    // Its successors in the output stop waiting for it (a no-op once it placed itself).
    if (job.output.kind === 'parquet-placed' || job.output.kind === 'stream-placed') failJob(job.output.chain, job.output.index);
    const error = SkycalError.isSkycalError(e) ? { code: e.code, message: e.message } : { code: 'IO' as const, message: `${job.dataId}: ${e instanceof Error ? e.message : String(e)}` };
    return { rows: 0, bad: [], signature: '', error };
  }
}
