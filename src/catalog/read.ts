/**
 * Read a catalog batch by batch, whatever its format: memory stays bounded
 * by one record batch for Parquet and Arrow IPC (CSV, a text format, is read
 * whole). `-` reads CSV from stdin.
 */
import { open } from 'node:fs/promises';
import type { RecordBatch, Schema } from 'apache-arrow';
import { SkycalError, errors } from '../errors.js';
import { INPUT_LIMITS, readFileBounded, readStreamBounded } from '../io/readBounded.js';
import { csvToTable } from './csv.js';
import { STDIO, catalogFormat, checkMagic, type CatalogFormat } from './format.js';
import { openIpc } from './ipc.js';
import { openParquet, selectSchema } from './parquet.js';

export interface CatalogBatches extends AsyncIterable<RecordBatch> {
  readonly path: string;
  readonly format: CatalogFormat;
  readonly schema: Schema;
  /** Known up front for Parquet and CSV; undefined for Arrow IPC. */
  readonly numRows: number | undefined;
}

export interface ReadOptions {
  /**
   * Read only these columns (others are never decoded), or a function that
   * picks them from the file's schema, so that a caller who must look at the
   * schema first (to find the centroid, say) still opens the file once.
   */
  columns?: readonly string[] | ((schema: Schema) => readonly string[]);
  /** Rows per batch where the format lets us choose (Parquet). */
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
      if (opened) throw new SkycalError('USAGE', `${path}: a catalog stream can be read once; open it again with readCatalogBatches`);
      opened = true;
      return batches[Symbol.asyncIterator]();
    },
  };
}

/** CSV text, bounded (INPUT_LIMITS.csv), from stdin or a file. */
async function readCsvText(path: string, stdin: AsyncIterable<unknown> = process.stdin): Promise<string> {
  const bound = { label: 'catalog', maxBytes: INPUT_LIMITS.csv, maxStreamBytes: INPUT_LIMITS.csv };
  if (path === STDIO) return (await readStreamBounded(stdin, 'stdin', bound)).toString('utf8');
  try {
    return readFileBounded(path, bound).toString('utf8');
  } catch (e) {
    if (SkycalError.isSkycalError(e) && e.code === 'NOT_FOUND') throw errors.notFound(`catalog ${path}`);
    throw e;
  }
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
  const table = csvToTable(await readCsvText(path, options.stdin), path === STDIO ? 'stdin' : path);
  const chosen = typeof columns === 'function' ? columns(table.schema) : columns;
  const schema = chosen === undefined ? table.schema : selectSchema(table.schema, chosen);
  const selected = columns === undefined ? table : table.select(schema.fields.map((f) => f.name));
  async function* batches(): AsyncGenerator<RecordBatch> {
    yield* selected.batches;
  }
  return catalog(path, format, schema, table.numRows, batches());
}
