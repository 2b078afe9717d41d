/**
 * Arrow IPC catalogs: `.arrow` (the random-access file format, also Feather
 * v2) and `.arrows` (the stream format), read and written one record batch
 * at a time through a file handle.
 */
import type { FileHandle } from 'node:fs/promises';
import { DataType, RecordBatch, RecordBatchFileWriter, RecordBatchReader, RecordBatchStreamWriter, Schema, type Data, type Field } from 'apache-arrow';
import './arrowGuards.js';
import { SkycalError, errors } from '../errors.js';
import { selectSchema } from './parquet.js';

/**
 * A file handle that bounds the reads Arrow JS makes through it: a reader of
 * a well-formed file reads each byte about once, so more than a few times the
 * file's size (or a read per byte) means corrupt offsets sending it round in
 * circles (the fuzzer found such a hang).
 */
function boundedHandle(handle: FileHandle, size: number): FileHandle {
  let bytes = 0, reads = 0;
  const maxBytes = 4 * size + (1 << 20), maxReads = size + 1024;
  const read = (async (buffer: Uint8Array, offset?: number, length?: number, position?: number | null) => {
    bytes += length ?? 0;
    if (++reads > maxReads || bytes > maxBytes) throw new RangeError(`${reads} reads of ${bytes} bytes from a ${size}-byte file: its offsets go round in circles`);
    return handle.read(buffer, offset, length, position);
  }) as FileHandle['read'];
  return new Proxy(handle, {
    get: (target, key) => {
      if (key === 'read') return read;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

export interface IpcSource {
  schema: Schema;
  numRows: number | undefined;
  batches: AsyncIterable<RecordBatch>;
}

async function openReader(handle: FileHandle, path: string) {
  try {
    const reader = await RecordBatchReader.from(boundedHandle(handle, (await handle.stat()).size));
    await reader.open();
    // A stream cut inside its first message opens "successfully" with no schema.
    if ((reader.schema as Schema | undefined) === undefined) throw new Error('no schema message (truncated?)');
    checkSchemaTypes(reader.schema.fields);
    return reader;
  } catch (e) {
    await handle.close();
    throw errors.badInput(path, `unreadable Arrow IPC data: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Arrow JS decodes a corrupt schema (a mutated footer) into fields without a
 * type, which only fail later and far away (a TypeError building a derived
 * schema): refuse them at open.
 */
function checkSchemaTypes(fields: readonly Field[]): void {
  for (const f of fields) {
    if (!(f?.type instanceof DataType)) throw new Error(`corrupt schema: field ${JSON.stringify(f?.name)} has no type`);
    checkSchemaTypes(f.type.children ?? []);
  }
}

/**
 * BAD_INPUT unless every column's length and buffers agree. Why: Arrow JS
 * takes a record batch's lengths from the file and clamps its buffers to the
 * bytes present, so a mutated length (2^31 rows over 80 bytes of values)
 * would reach a reader that allocates `length` doubles. Buffers are bounded
 * by the file's size, so checking lengths against buffers bounds every
 * allocation that follows by the file's size too.
 */
export function checkBatchShape(batch: RecordBatch, path: string): void {
  const rows = batch.numRows;
  batch.schema.fields.forEach((f, j) => {
    const data = batch.data.children[j];
    if (data === undefined || data.length !== rows) throw errors.badInput(path, `corrupt Arrow IPC data: column ${f.name} has ${data?.length ?? 0} rows, its batch ${rows}`);
    checkData(data, f.name, path);
  });
}

function checkData(data: Data, name: string, path: string): void {
  const end = data.offset + data.length;
  const bad = (what: string) => errors.badInput(path, `corrupt Arrow IPC data: column ${name} claims ${data.length} rows but ${what}`);
  if (data.nullCount > 0 && (data.nullBitmap?.length ?? 0) * 8 < end) throw bad('its validity bitmap is shorter');
  const t = data.type;
  if (DataType.isBool(t)) {
    if (data.values.length * 8 < end) throw bad('its values are shorter');
  } else if (DataType.isUtf8(t) || DataType.isBinary(t) || DataType.isLargeUtf8(t) || DataType.isLargeBinary(t) || DataType.isList(t)) {
    const offsets = data.valueOffsets as ArrayLike<number | bigint> | undefined;
    if (offsets === undefined || offsets.length < end + 1) throw bad('its offsets are shorter');
    if (!DataType.isList(t) && Number(offsets[end]!) > data.values.length) throw bad('its last offset lies past its values');
  } else if (DataType.isInt(t) || DataType.isFloat(t) || DataType.isDate(t) || DataType.isTime(t) || DataType.isTimestamp(t) || DataType.isDecimal(t) || DataType.isFixedSizeBinary(t) || DataType.isDictionary(t)) {
    if (data.values.length < end * data.stride) throw bad('its values are shorter');
  }
  for (const child of data.children) if (child !== undefined && !DataType.isList(t)) checkData(child, name, path);
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
      for await (const b of reader) {
        const f = b.schema.fields;
        if (f.length !== fullSchema.fields.length || f.some((x, i) => x.name !== fullSchema.fields[i]!.name)) {
          throw errors.badInput(path, 'corrupt Arrow IPC data: a record batch has other columns than the schema');
        }
        checkBatchShape(b, path);
        yield columns === undefined ? b : new RecordBatch(schema, b.select(names).data);
      }
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
