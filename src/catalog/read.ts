/**
 * Read a catalog batch by batch, whatever its format: memory stays bounded
 * by one record batch (Parquet, Arrow IPC and CSV alike). `-` reads CSV from
 * stdin.
 */
import { open } from 'node:fs/promises';
import { RecordBatch, type Schema } from 'apache-arrow';
import { errors } from '../errors.js';
import { readCsvBatches } from './csv.js';
import { STDIO, catalogFormat, checkMagic, type CatalogFormat } from './format.js';
import { openIpc } from './ipc.js';
import { openParquet, selectSchema } from './parquet.js';

export interface CatalogBatches extends AsyncIterable<RecordBatch> {
  readonly path: string;
  readonly format: CatalogFormat;
  readonly schema: Schema;
  /** Known up front for Parquet; undefined for Arrow IPC and CSV (both streamed). */
  readonly numRows: number | undefined;
}

export interface ReadOptions {
  /**
   * Read only these columns (others are never decoded), or a function that
   * picks them from the file's schema, so that a caller who must look at the
   * schema first (to find the centroid, say) still opens the file once.
   */
  columns?: readonly string[] | ((schema: Schema) => readonly string[]);
  /** Rows per batch where the format lets us choose (Parquet, CSV; for CSV the first batch also fixes the column types). */
  batchRows?: number;
  /** The format when the path's extension does not say it (e.g. a datastore file). */
  format?: CatalogFormat;
  /** What `-` reads (default process.stdin). */
  stdin?: AsyncIterable<unknown>;
}

function catalog(path: string, format: CatalogFormat, schema: Schema, numRows: number | undefined, batches: AsyncIterable<RecordBatch>): CatalogBatches {
  let opened = false;
  return {
    path,
    format,
    schema,
    numRows,
    [Symbol.asyncIterator]: () => {
      // A stream, not a table: a second pass would silently see no rows.
      if (opened) throw errors.usage(`${path}: a catalog stream can be read once; open it again with readCatalogBatches`);
      opened = true;
      return batches[Symbol.asyncIterator]();
    },
  };
}

async function openCsv(path: string, batchRows: number | undefined, stdin: AsyncIterable<unknown> = process.stdin) {
  if (path === STDIO) return readCsvBatches(stdin, 'stdin', batchRows);
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw errors.notFound(`catalog ${path}`);
    throw errors.io(path, e);
  }
  // 1 MiB reads: fewer, larger chunks for the tokenizer; the stream closes the handle.
  return readCsvBatches(handle.createReadStream({ highWaterMark: 1 << 20 }), path, batchRows);
}

/** Open a catalog (.csv, .parquet, .arrow, .arrows by extension; `-` = CSV on stdin). */
export async function readCatalogBatches(path: string, options: ReadOptions = {}): Promise<CatalogBatches> {
  const format = options.format ?? catalogFormat(path);
  await checkMagic(path, format);
  const { columns } = options;
  if (format === 'parquet') {
    const source = await openParquet(path, columns, options.batchRows);
    return catalog(path, format, source.schema, source.numRows, source.batches);
  }
  if (format === 'arrow' || format === 'arrows') {
    const source = await openIpc(await open(path, 'r'), path, columns);
    return catalog(path, format, source.schema, source.numRows, source.batches);
  }
  const csv = await openCsv(path, options.batchRows, options.stdin);
  let chosen: readonly string[] | undefined;
  try {
    chosen = typeof columns === 'function' ? columns(csv.schema) : columns;
  } catch (e) {
    csv.close(); // no batch will be read: release the file now
    throw e;
  }
  const schema = chosen === undefined ? csv.schema : selectSchema(csv.schema, chosen);
  const names = schema.fields.map((f) => f.name);
  async function* batches(): AsyncGenerator<RecordBatch> {
    for await (const b of csv.batches) yield chosen === undefined ? b : new RecordBatch(schema, b.select(names).data);
  }
  return catalog(path, format, schema, undefined, batches());
}
