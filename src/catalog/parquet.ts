/**
 * Parquet through parquet-wasm 0.8 (Rust arrow-rs compiled to WebAssembly),
 * streamed both ways so memory stays bounded by one batch / row group:
 *  - read: ParquetFile.fromFile(openAsBlob(path)) reads byte ranges of the
 *    file on demand; stream() yields record batches, each crossing into
 *    Arrow JS as an IPC message.
 *  - write: arrow-js batches cross as IPC into wasm record batches that
 *    transformParquetStream encodes; file key/value metadata (what DuckDB's
 *    parquet_kv_metadata() shows) is set on the writer properties, and
 *    field metadata (unit, ucd, description) travels in the ARROW:schema
 *    entry that arrow-rs, pyarrow and pandas read back.
 * parquet-wasm is loaded on first use (it compiles a 5 MB module).
 */
import { openAsBlob } from 'node:fs';
import { DataType, RecordBatch, RecordBatchReader, Schema, Table, tableToIPC } from 'apache-arrow';
import { SkycalError, errors } from '../errors.js';

type ParquetWasm = typeof import('parquet-wasm');
let loaded: Promise<ParquetWasm> | undefined;
function parquetWasm(): Promise<ParquetWasm> {
  loaded ??= import('parquet-wasm');
  return loaded;
}

/** Rows per batch when reading; large enough that per-batch costs vanish. */
export const PARQUET_READ_BATCH_ROWS = 262_144;
/** Rows per row group when writing (DuckDB parallelises by row group). */
export const PARQUET_ROW_GROUP_ROWS = 262_144;

function fromIpc(bytes: Uint8Array): RecordBatch[] {
  return RecordBatchReader.from(bytes).readAll();
}

/**
 * parquet-wasm's async reader runs arrow-rs in wasm-bindgen tasks; on some
 * corrupt page data arrow-rs panics, which in WebAssembly is a trap thrown
 * from a microtask: an uncaught exception that used to end the process, with
 * the read's promise never settling. While Parquet batches are being read, a
 * trap is caught here and fails the reads in progress (BAD_INPUT); any other
 * uncaught exception is thrown on as if this listener were not there.
 * The wasm instance may stay unusable after a trap (its Rust state was cut
 * short): later Parquet reads in the same process then fail the same way.
 */
// Typed by hand: the lib that declares WebAssembly is not in this build's lib list.
const WasmRuntimeError = (globalThis as unknown as { WebAssembly: { RuntimeError: new (...a: unknown[]) => Error } }).WebAssembly.RuntimeError;
const trapWaiters = new Set<(e: Error) => void>();
function onUncaught(e: unknown): void {
  if (e instanceof WasmRuntimeError && trapWaiters.size > 0) {
    for (const fail of [...trapWaiters]) fail(e);
    return;
  }
  process.removeListener('uncaughtException', onUncaught);
  process.nextTick(() => {
    throw e;
  });
}
function watchWasmTraps(): { trapped: Promise<never>; dispose(): void } {
  let fail!: (e: Error) => void;
  const trapped = new Promise<never>((_, reject) => (fail = reject));
  trapped.catch(() => {});
  trapWaiters.add(fail);
  if (!process.listeners('uncaughtException').includes(onUncaught)) process.on('uncaughtException', onUncaught);
  return {
    trapped,
    dispose() {
      trapWaiters.delete(fail);
      if (trapWaiters.size === 0) process.removeListener('uncaughtException', onUncaught);
    },
  };
}

export interface ParquetSource {
  schema: Schema;
  numRows: number;
  batches: AsyncIterable<RecordBatch>;
}

export async function openParquet(path: string, pick?: readonly string[] | ((schema: Schema) => readonly string[]), batchRows = PARQUET_READ_BATCH_ROWS): Promise<ParquetSource> {
  const pw = await parquetWasm();
  let file: import('parquet-wasm').ParquetFile;
  try {
    file = await pw.ParquetFile.fromFile(await openAsBlob(path));
  } catch (e) {
    throw errors.badInput(path, `unreadable Parquet file: ${e instanceof Error ? e.message : String(e)}`);
  }
  const fullSchema = RecordBatchReader.from(file.schema().intoIPCStream()).open().schema as Schema;
  const numRows = file.metadata().fileMetadata().numRows();
  let columns: readonly string[] | undefined;
  try {
    columns = typeof pick === 'function' ? pick(fullSchema) : pick;
  } catch (e) {
    file.free(); // no batch will be read: release the file now
    throw e;
  }
  const schema = columns === undefined ? fullSchema : selectSchema(fullSchema, columns);
  async function* batches(): AsyncGenerator<RecordBatch> {
    const traps = watchWasmTraps();
    try {
      const stream = await Promise.race([file.stream({ batchSize: batchRows, ...(columns ? { columns: [...columns] } : {}) }), traps.trapped]);
      const it = (stream as AsyncIterable<{ intoIPCStream(): Uint8Array; numRows: number }>)[Symbol.asyncIterator]();
      for (;;) {
        const step = await Promise.race([it.next(), traps.trapped]);
        if (step.done) break;
        for (const b of fromIpc(step.value.intoIPCStream())) {
          // Put back the file's field and schema metadata, which the IPC copy of a batch drops.
          yield new RecordBatch(schema, b.data);
        }
      }
    } catch (e) {
      if (SkycalError.isSkycalError(e)) throw e;
      throw errors.badInput(path, `corrupt Parquet data: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      traps.dispose();
      try {
        file.free();
      } catch {
        // a trapped instance may refuse even this
      }
    }
  }
  return { schema, numRows, batches: batches() };
}

/** The fields of `schema` named in `columns`, in file order (as Parquet projection returns them). */
export function selectSchema(schema: Schema, columns: readonly string[]): Schema {
  const wanted = new Set(columns);
  return new Schema(schema.fields.filter((f) => wanted.has(f.name)), schema.metadata);
}

/**
 * Encode `batches` (all of `schema`) as Parquet, calling `sink` with each
 * piece of the file in order. `metadata` becomes file key/value metadata.
 */
export async function encodeParquet(
  schema: Schema,
  batches: AsyncIterable<RecordBatch>,
  metadata: ReadonlyMap<string, string>,
  sink: (bytes: Uint8Array) => Promise<void>,
): Promise<void> {
  const pw = await parquetWasm();
  let builder = new pw.WriterPropertiesBuilder()
    .setKeyValueMetadata(new Map(metadata))
    .setMaxRowGroupSize(PARQUET_ROW_GROUP_ROWS)
    .setCompression(pw.Compression.SNAPPY)
    .setCreatedBy('skycal');
  // Measured columns (positions, fluxes) are nearly all distinct doubles: the default dictionary
  // fills up after ~131k values and falls back to plain, having cost the writer 3x the time, the
  // file ~13% in size and the reader a slow dictionary + Snappy pass (5e6 x, y: encode 1.8 s ->
  // 0.5 s, 83 -> 72 MB, read 0.36 -> 0.23 s). Other types (dataId strings, status bytes) keep it.
  for (const f of schema.fields) if (DataType.isFloat(f.type)) builder = builder.setColumnDictionaryEnabled(f.name, false);
  const properties = builder.build();
  const iterator = batches[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) {
    // No batches: transformParquetStream needs one, writeParquet writes the bare schema.
    await sink(pw.writeParquet(pw.Table.fromIPCStream(tableToIPC(new Table(schema), 'stream')), properties));
    return;
  }
  let pending: RecordBatch | undefined = first.value;
  // transformParquetStream ends its output quietly when its input errors:
  // keep the upstream error and rethrow it, so a partial file is never kept.
  let failure: { error: unknown } | undefined;
  const input = new ReadableStream({
    async pull(controller) {
      let batch: RecordBatch | undefined;
      try {
        batch = pending ?? (await iterator.next()).value;
      } catch (error) {
        failure = { error };
        controller.error(error);
        return;
      }
      pending = undefined;
      if (batch === undefined) {
        controller.close();
        return;
      }
      const wasmTable = pw.Table.fromIPCStream(tableToIPC(new Table(schema, [batch]), 'stream'));
      for (const b of wasmTable.recordBatches()) controller.enqueue(b);
      wasmTable.free();
    },
    async cancel() {
      await iterator.return?.();
    },
  });
  const output = (await pw.transformParquetStream(input, properties)) as ReadableStream<Uint8Array>;
  for await (const piece of output as unknown as AsyncIterable<Uint8Array>) {
    if (failure) break;
    await sink(piece);
  }
  if (failure) throw failure.error;
}
