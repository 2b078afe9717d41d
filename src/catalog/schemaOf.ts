/**
 * A binary catalog's Arrow schema from its bytes in memory, synchronously:
 * what the repository's `put --type src` checks before it stores a catalog
 * (the repository's writes are synchronous). The format is sniffed by
 * format.ts, the one sniffer; the schema is the one readCatalogBatches will
 * read the file with (parquet-wasm's for Parquet, Arrow JS's for IPC).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { RecordBatchReader, Table, tableToIPC, type Schema } from 'apache-arrow';
import { Footer } from 'apache-arrow/ipc/metadata/file';
import { errors } from '../errors.js';
import './arrowGuards.js';
import { endsOfBytes, sniffCatalogBytes, sniffCatalogEnds, type CatalogFormat } from './format.js';

type ParquetWasm = typeof import('parquet-wasm');
let parquetWasmSync: ParquetWasm | undefined;
function parquetWasm(): ParquetWasm {
  // The Node build of parquet-wasm is CommonJS and instantiates its module synchronously.
  parquetWasmSync ??= createRequire(import.meta.url)('parquet-wasm') as ParquetWasm;
  return parquetWasmSync;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The format and schema of a Parquet, Arrow IPC file or Arrow IPC stream in memory; BAD_INPUT for anything else. */
export function catalogSchemaOfBytes(bytes: Uint8Array, source: string): { format: Exclude<CatalogFormat, 'csv'>; schema: Schema } {
  const format = sniffCatalogBytes(bytes);
  if (format === undefined) throw errors.badInput(source, 'not a Parquet file (PAR1), an Arrow file (ARROW1) or an Arrow IPC stream');
  if (format === 'parquet') {
    let ipc: Uint8Array;
    try {
      ipc = parquetWasm().readSchema(bytes).intoIPCStream();
    } catch (e) {
      throw errors.badInput(source, `unreadable Parquet file: ${message(e)}`);
    }
    return { format, schema: readIpcSchema(ipc, source) };
  }
  return { format, schema: readIpcSchema(bytes, source) };
}

function readIpcSchema(bytes: Uint8Array, source: string): Schema {
  try {
    const reader = RecordBatchReader.from(bytes);
    reader.open();
    if ((reader.schema as Schema | undefined) === undefined) throw new Error('no schema message (truncated?)');
    return reader.schema as Schema;
  } catch (e) {
    throw errors.badInput(source, `unreadable Arrow IPC data: ${message(e)}`);
  }
}

/** The most bytes a schema may take (a Parquet footer or an IPC schema message): far above any real catalog's. */
const MAX_SCHEMA_BYTES = 64 * 1024 * 1024;
const ARROW_STREAM_EOS = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

/**
 * A few bytes of a catalog file that carry its whole schema, for
 * catalogSchemaOfBytes: a Parquet file's footer (framed as `PAR1 footer len
 * PAR1`), an Arrow IPC stream's schema message followed by an end-of-stream
 * marker, or an Arrow IPC file's footer schema re-framed as such a stream. Reads only those bytes, so a large catalog is checked
 * without being read (a bundle's import). BAD_INPUT when the lengths do not fit the file.
 */
export function schemaBytesOfFile(path: string, source: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const read = (position: number, length: number): Buffer => {
      if (position < 0 || length < 0 || position + length > size) throw errors.badInput(source, `truncated catalog (needs bytes ${position}..${position + length} of ${size})`);
      const b = Buffer.alloc(length);
      let off = 0;
      while (off < length) {
        const n = readSync(fd, b, off, length - off, position + off);
        if (n === 0) throw errors.badInput(source, 'truncated catalog');
        off += n;
      }
      return b;
    };
    const ends = endsOfBytes(read(0, Math.min(8, size)));
    const format = sniffCatalogEnds({ head: ends.head, tail: read(Math.max(0, size - 6), Math.min(6, size)), size });
    if (format === undefined) throw errors.badInput(source, 'not a Parquet file (PAR1), an Arrow file (ARROW1) or an Arrow IPC stream');
    if (format === 'parquet') {
      const footerLength = read(size - 8, 4).readUInt32LE(0);
      if (footerLength > MAX_SCHEMA_BYTES || footerLength + 12 > size) throw errors.badInput(source, `Parquet footer length ${footerLength} does not fit the file (${size} bytes)`);
      return Buffer.concat([Buffer.from('PAR1'), read(size - 8 - footerLength, footerLength + 8)]);
    }
    if (format === 'arrow') {
      // The file's footer (before its int32 length and the closing ARROW1) holds the schema;
      // Arrow JS writes no schema message at the start of a file. Re-framed as a stream of no batches.
      const footerLength = read(size - 10, 4).readInt32LE(0);
      if (footerLength <= 0 || footerLength > MAX_SCHEMA_BYTES || footerLength + 18 > size) throw errors.badInput(source, `Arrow file footer length ${footerLength} does not fit the file (${size} bytes)`);
      let schema: Schema;
      try {
        schema = Footer.decode(read(size - 10 - footerLength, footerLength)).schema;
      } catch (e) {
        throw errors.badInput(source, `unreadable Arrow IPC file footer: ${message(e)}`);
      }
      return tableToIPC(new Table(schema), 'stream');
    }
    const start = 0;
    const prefix = read(start, 8);
    if (prefix.readUInt32LE(0) !== 0xffffffff) throw errors.badInput(source, 'Arrow IPC data without a schema message at the start');
    const metadataLength = prefix.readInt32LE(4);
    if (metadataLength <= 0 || metadataLength > MAX_SCHEMA_BYTES) throw errors.badInput(source, `Arrow schema message length ${metadataLength} is out of range`);
    return Buffer.concat([read(start, 8 + metadataLength), ARROW_STREAM_EOS]);
  } finally {
    closeSync(fd);
  }
}
