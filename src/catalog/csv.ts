/**
 * CSV catalogs (a header row, comma-separated, RFC 4180 quoting) as Arrow
 * record batches, streamed: the tokenizer is csv-parse; the type rules are
 * ours, and memory is bounded by one batch (stdin included).
 *
 * Type rules (decided once, from the header and the FIRST BATCH of rows,
 * `batchRows`, default 65 536, because every later batch must share the
 * schema):
 *  - A *number* is a decimal literal (`12`, `-1.5`, `.5`, `3e-7`, spaces
 *    around allowed) or `nan`, `inf`, `infinity` in any case with a sign.
 *    Not numbers: `abc`, `n/a`, `0x10`, `1,000`, `10,5`, `1_000`.
 *  - A column is numeric when at least half of its non-empty cells in the
 *    first batch are numbers (or it has no non-empty cell there); else Utf8.
 *  - A numeric column is Int64 when every number in its first batch is an
 *    integer literal within [-2^63, 2^63): read exactly (BigInt), so an id
 *    like 9007199254740993 (> 2^53) is never rounded. Otherwise Float64.
 *  - In a numeric column an empty cell or one that is not a number is null:
 *    a kernel reads it as NaN and flags it nonFiniteInput (status bit 1). It
 *    is never reinterpreted (bytes of text were once read as coordinates).
 *  - In an Int64 column, a later number that is not such an integer (`1.5`,
 *    `1e3`, 2^63) is BAD_INPUT naming the column and row: rounding it or
 *    dropping it would be a silent wrong number.
 *  - Utf8 cells are kept as written.
 * Doubles are written with the shortest text that reads back to the same
 * double (Number#toString), NaN as `NaN`, null as an empty cell, Int64 as its
 * exact integer.
 */
import { Readable } from 'node:stream';
import { parse as parseStream, CsvError, type Options as CsvOptions } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { Field, Float64, Int32, Int64, RecordBatch, Schema, Struct, Table, Uint8, Utf8, makeData, makeTable, tableFromArrays, vectorFromArray, type Data } from 'apache-arrow';
import { errors } from '../errors.js';

/** Rows per CSV batch (and rows that decide the column types). */
export const CSV_BATCH_ROWS = 65_536;

const NUMBER = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$|^\s*[+-]?(nan|inf|infinity)\s*$/i;
const INTEGER = /^\s*[+-]?\d+\s*$/;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

export type CsvColumnType = 'int64' | 'float64' | 'utf8';

function toNumber(cell: string): number {
  const t = cell.trim().toLowerCase();
  if (t.endsWith('nan')) return NaN;
  if (t.endsWith('inf') || t.endsWith('infinity')) return t.startsWith('-') ? -Infinity : Infinity;
  return Number(t);
}

function toInt64(cell: string): bigint | undefined {
  if (!INTEGER.test(cell)) return undefined;
  const v = BigInt(cell.trim());
  return v >= INT64_MIN && v <= INT64_MAX ? v : undefined;
}

/** The type of column j from the first batch's rows (the rules above). */
function inferType(rows: readonly string[][], j: number): CsvColumnType {
  let filled = 0, numbers = 0, integers = 0;
  for (const r of rows) {
    const c = r[j]!;
    if (c.trim() === '') continue;
    filled++;
    if (!NUMBER.test(c)) continue;
    numbers++;
    if (toInt64(c) !== undefined) integers++;
  }
  if (filled > 0 && numbers * 2 < filled) return 'utf8';
  return numbers > 0 && integers === numbers ? 'int64' : 'float64';
}

function fieldOf(name: string, type: CsvColumnType): Field {
  return new Field(name, type === 'int64' ? new Int64() : type === 'float64' ? new Float64() : new Utf8(), true);
}

/** A validity bitmap (Arrow: bit i of byte i>>3, LSB first) and its null count. */
function validity(valid: Uint8Array): { nullBitmap: Uint8Array; nullCount: number } {
  const bitmap = new Uint8Array((valid.length + 7) >> 3);
  let nulls = 0;
  for (let i = 0; i < valid.length; i++) {
    if (valid[i]) bitmap[i >> 3]! |= 1 << (i & 7);
    else nulls++;
  }
  return { nullBitmap: bitmap, nullCount: nulls };
}

function columnData(field: Field, kind: CsvColumnType, rows: readonly string[][], j: number, firstRow: number, source: string): Data {
  const n = rows.length;
  if (kind === 'utf8') return vectorFromArray(rows.map((r) => r[j]!), new Utf8()).data[0]!;
  const valid = new Uint8Array(n);
  if (kind === 'float64') {
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const c = rows[i]![j]!;
      if (NUMBER.test(c)) {
        values[i] = toNumber(c);
        valid[i] = 1;
      } else values[i] = NaN;
    }
    const v = validity(valid);
    return makeData({ type: field.type as Float64, length: n, data: values, ...(v.nullCount > 0 ? v : { nullCount: 0 }) });
  }
  const values = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    const c = rows[i]![j]!;
    if (!NUMBER.test(c) || /nan/i.test(c)) continue; // not a value: null
    const v = toInt64(c);
    if (v === undefined) {
      throw errors.badInput(
        source,
        `row ${firstRow + i} column ${field.name}: ${JSON.stringify(c.trim())} is not a 64-bit integer, but the column was typed Int64 from its first rows (CSV type rules: write every value of a float column with a decimal point, e.g. 1.0)`,
      );
    }
    values[i] = v;
    valid[i] = 1;
  }
  const v = validity(valid);
  return makeData({ type: field.type as Int64, length: n, data: values, ...(v.nullCount > 0 ? v : { nullCount: 0 }) });
}

/** The header row's names: trimmed, non-empty, unique. */
function headerNames(record: readonly string[], source: string): string[] {
  const names = record.map((n) => n.trim());
  const seen = new Set<string>();
  for (const n of names) {
    if (n === '') throw errors.badInput(source, 'empty column name in the header row');
    if (seen.has(n)) throw errors.badInput(source, `column ${n} appears twice in the header row`);
    seen.add(n);
  }
  return names;
}

/** Schema and column kinds from the header and the first batch. */
function layoutOf(names: readonly string[], first: readonly string[][]): { schema: Schema; kinds: CsvColumnType[] } {
  const kinds = names.map((_, j) => inferType(first, j));
  return { schema: new Schema(names.map((n, j) => fieldOf(n, kinds[j]!))), kinds };
}

function toBatch(schema: Schema, kinds: readonly CsvColumnType[], rows: readonly string[][], firstRow: number, source: string): RecordBatch {
  const children = schema.fields.map((f, j) => columnData(f, kinds[j]!, rows, j, firstRow, source));
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows.length, nullCount: 0, children }));
}

/** Characters one record may hold: a file with no newline (or /dev/zero) must not grow one field without bound. */
export const CSV_MAX_RECORD_CHARS = 16 << 20;

const CSV_OPTIONS: CsvOptions = { bom: true, relax_quotes: true, skip_empty_lines: true, relax_column_count: false, max_record_size: CSV_MAX_RECORD_CHARS };

function csvError(e: unknown, source: string): unknown {
  if (e instanceof CsvError) {
    if (e.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH') {
      const rec = (e as CsvError & { record?: unknown[]; lines?: number }).record;
      return errors.badInput(source, `line ${(e as { lines?: number }).lines ?? '?'} has ${rec?.length ?? '?'} fields, the header has a different number`);
    }
    if (e.code === 'CSV_QUOTE_NOT_CLOSED') return errors.badInput(source, `unterminated quoted field (${e.message})`);
    return errors.badInput(source, `not CSV: ${e.message}`);
  }
  return e;
}

/** Parse CSV text into an Arrow table (one batch; types from every row). `source` names the input in errors. */
export function csvToTable(text: string, source = 'CSV input'): Table {
  let records: string[][];
  try {
    records = parseSync(text, CSV_OPTIONS) as string[][];
  } catch (e) {
    throw csvError(e, source);
  }
  if (records.length === 0) throw errors.badInput(source, 'empty CSV (no header row)');
  const names = headerNames(records[0]!, source);
  const body = records.slice(1);
  const { schema, kinds } = layoutOf(names, body);
  return new Table(schema, [toBatch(schema, kinds, body, 2, source)]);
}

export interface CsvBatches {
  readonly schema: Schema;
  readonly batches: AsyncIterable<RecordBatch>;
  /** Release the input without reading the batches (iteration releases it at its end). */
  close(): void;
}

/**
 * Stream CSV from `input` as record batches of `batchRows` rows. Resolves
 * once the header and the first batch are read (they fix the schema); the
 * rest is parsed as the batches are consumed.
 */
export async function readCsvBatches(from: Readable | AsyncIterable<unknown>, source: string, batchRows = CSV_BATCH_ROWS): Promise<CsvBatches> {
  if (!Number.isInteger(batchRows) || batchRows < 1) throw errors.usage(`batchRows: expected an integer >= 1, got ${batchRows}`);
  // Any async iterable of chunks (e.g. a CLI context's stdin) is read as a stream.
  const input = from instanceof Readable ? from : Readable.from(from as AsyncIterable<Buffer | string>);
  const parser = input.pipe(parseStream(CSV_OPTIONS));
  // A read error of the input (EISDIR, EACCES) reaches the parser as an error.
  input.once('error', (e) => parser.destroy(e));
  const records = parser[Symbol.asyncIterator]() as AsyncIterator<string[]>;
  const next = async (): Promise<string[] | undefined> => {
    try {
      const r = await records.next();
      return r.done ? undefined : r.value;
    } catch (e) {
      throw csvError(e, source);
    }
  };
  const readRows = async (): Promise<string[][]> => {
    const rows: string[][] = [];
    while (rows.length < batchRows) {
      const r = await next();
      if (r === undefined) break;
      rows.push(r);
    }
    return rows;
  };
  const close = (): void => {
    parser.destroy();
    if (input !== process.stdin) input.destroy();
  };
  let first: string[][];
  let names: string[];
  try {
    const header = await next();
    if (header === undefined) throw errors.badInput(source, 'empty CSV (no header row)');
    names = headerNames(header, source);
    first = await readRows();
  } catch (e) {
    close();
    throw e;
  }
  const { schema, kinds } = layoutOf(names, first);
  async function* batches(): AsyncGenerator<RecordBatch> {
    try {
      let rows = first;
      let row = 2;
      while (rows.length > 0) {
        yield toBatch(schema, kinds, rows, row, source);
        row += rows.length;
        if (rows.length < batchRows) break;
        rows = await readRows();
      }
    } finally {
      close();
    }
  }
  return { schema, batches: batches(), close };
}

function formatCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Arrow table to CSV text, with a header row unless `header` is false (a later piece of one file). */
export function tableToCsv(table: Table, { header = true }: { header?: boolean } = {}): string {
  const names = table.schema.fields.map((f) => f.name);
  const cols = names.map((n) => table.getChild(n)!);
  const lines: string[] = header ? [names.map(formatCell).join(',')] : [];
  const n = table.numRows;
  for (let i = 0; i < n; i++) {
    let line = '';
    for (let j = 0; j < cols.length; j++) {
      if (j > 0) line += ',';
      line += formatCell(cols[j]!.get(i));
    }
    lines.push(line);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

// Re-exported so that callers build tables with the same Arrow copy.
export { Float64, Int32, Uint8, makeTable, tableFromArrays };
