/**
 * Arrow IPC catalogs: `.arrow` (the random-access file format, also Feather
 * v2) and `.arrows` (the stream format), read and written one record batch
 * at a time through a file handle.
 */
import type { FileHandle } from 'node:fs/promises';
import { RecordBatch, RecordBatchFileWriter, RecordBatchReader, RecordBatchStreamWriter, Schema } from 'apache-arrow';
import { SkycalError, errors } from '../errors.js';
import { selectSchema } from './parquet.js';

export interface IpcSource {
  schema: Schema;
  numRows: number | undefined;
  batches: AsyncIterable<RecordBatch>;
}

async function openReader(handle: FileHandle, path: string) {
  try {
    const reader = await RecordBatchReader.from(handle);
    await reader.open();
    return reader;
  } catch (e) {
    await handle.close();
    throw errors.badInput(path, `unreadable Arrow IPC data: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Reads from an open handle; the handle is closed when iteration ends. */
export async function openIpc(handle: FileHandle, path: string, pick?: readonly string[] | ((schema: Schema) => readonly string[])): Promise<IpcSource> {
  const reader = await openReader(handle, path);
  const fullSchema = reader.schema;
  let columns: readonly string[] | undefined;
  try {
    columns = typeof pick === 'function' ? pick(fullSchema) : pick;
  } catch (e) {
    await handle.close(); // no batch will be read: release the file now
    throw e;
  }
  const schema = columns === undefined ? fullSchema : selectSchema(fullSchema, columns);
  const names = schema.fields.map((f) => f.name);
  // The file format knows its batch count but not its row count without reading every batch header.
  async function* batches(): AsyncGenerator<RecordBatch> {
    try {
      for await (const b of reader) yield columns === undefined ? b : new RecordBatch(schema, b.select(names).data);
    } catch (e) {
      if (SkycalError.isSkycalError(e)) throw e;
      throw errors.badInput(path, `corrupt Arrow IPC data: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      await handle.close();
    }
  }
  return { schema, numRows: undefined, batches: batches() };
}

/** Encode batches as an IPC file (`stream` false) or stream, calling `sink` with each piece in order. */
export async function encodeIpc(
  schema: Schema,
  batches: AsyncIterable<RecordBatch>,
  stream: boolean,
  sink: (bytes: Uint8Array) => Promise<void>,
): Promise<void> {
  const writer = stream ? new RecordBatchStreamWriter() : new RecordBatchFileWriter();
  writer.reset(undefined, schema);
  // The writer queues bytes; this loop hands them to the sink while batches keep coming.
  const consumer = (async () => {
    for await (const bytes of writer) await sink(bytes);
  })();
  try {
    for await (const batch of batches) writer.write(batch);
    writer.finish();
  } catch (e) {
    writer.abort(e);
    await consumer.catch(() => {});
    throw e;
  }
  await consumer;
}
