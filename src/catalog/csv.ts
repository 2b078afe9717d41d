/**
 * CSV catalogs (a header row, comma-separated, RFC 4180 quoting) as Arrow
 * tables. A column whose every non-empty cell is a number becomes Float64;
 * anything else stays Utf8. Doubles are written with the shortest text that
 * reads back to the same double (JavaScript's Number#toString), NaN as `NaN`.
 */
import { Float64, Int32, Table, Uint8, Utf8, makeTable, makeVector, tableFromArrays, vectorFromArray, type Vector } from 'apache-arrow';
import { SkycalError } from '../errors.js';

function splitRecords(text: string, source: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  let line = 1;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      i++;
      continue;
    }
    if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (!(row.length === 1 && row[0] === '')) rows.push(row);
      row = [];
      line++;
    } else field += c;
    i++;
  }
  if (quoted) throw new SkycalError('BAD_INPUT', `${source}: unterminated quoted field at line ${line}`);
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

const NUMBER = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$|^\s*[+-]?(NaN|nan|inf|Infinity)\s*$/;

function toNumber(cell: string): number {
  const t = cell.trim().toLowerCase().replace(/^([+-]?)inf(inity)?$/, '$1Infinity');
  return t === 'nan' || t === '' ? NaN : Number(t === '+infinity' ? 'Infinity' : t === '-infinity' ? '-Infinity' : t);
}

/** Parse CSV text into an Arrow table. `source` names the input in errors. */
export function csvToTable(text: string, source = 'CSV input'): Table {
  const rows = splitRecords(text, source);
  if (rows.length === 0) throw new SkycalError('BAD_INPUT', `${source}: empty CSV (no header row)`);
  const names = rows[0]!.map((n) => n.trim());
  const seen = new Set<string>();
  for (const n of names) {
    if (n === '') throw new SkycalError('BAD_INPUT', `${source}: empty column name in the header row`);
    if (seen.has(n)) throw new SkycalError('BAD_INPUT', `${source}: column ${n} appears twice in the header row`);
    seen.add(n);
  }
  const body = rows.slice(1);
  body.forEach((r, i) => {
    if (r.length !== names.length) {
      throw new SkycalError(
        'BAD_INPUT',
        `${source}: row ${i + 2} has ${r.length} fields, the header has ${names.length}`,
      );
    }
  });
  const columns: Record<string, Vector> = {};
  names.forEach((name, j) => {
    const numeric = body.every((r) => r[j]!.trim() === '' || NUMBER.test(r[j]!));
    if (numeric) {
      const a = new Float64Array(body.length);
      for (let i = 0; i < body.length; i++) a[i] = toNumber(body[i]![j]!);
      columns[name] = makeVector(a);
    } else {
      columns[name] = vectorFromArray(
        body.map((r) => r[j]!),
        new Utf8(),
      );
    }
  });
  return new Table(columns);
}

function formatCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Arrow table to CSV text with a header row. */
export function tableToCsv(table: Table): string {
  const names = table.schema.fields.map((f) => f.name);
  const cols = names.map((n) => table.getChild(n)!);
  const lines: string[] = [names.map(formatCell).join(',')];
  const n = table.numRows;
  for (let i = 0; i < n; i++) {
    let line = '';
    for (let j = 0; j < cols.length; j++) {
      if (j > 0) line += ',';
      line += formatCell(cols[j]!.get(i));
    }
    lines.push(line);
  }
  return `${lines.join('\n')}\n`;
}

// Re-exported so that callers build tables with the same Arrow copy.
export { Float64, Int32, Uint8, makeTable, tableFromArrays };
