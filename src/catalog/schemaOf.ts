/**
 * A binary catalog's Arrow schema from its bytes in memory, synchronously:
 * what the repository's `put --type src` checks before it stores a catalog
 * (the repository's writes are synchronous). The format is sniffed by
 * format.ts, the one sniffer; the schema is the one readCatalogBatches will
 * read the file with (parquet-wasm's for Parquet, Arrow JS's for IPC).
 */
import { createRequire } from 'node:module';
import { RecordBatchReader, type Schema } from 'apache-arrow';
import { errors } from '../errors.js';
import './arrowGuards.js';
import { sniffCatalogBytes, type CatalogFormat } from './format.js';

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
