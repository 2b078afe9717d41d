/**
 * dataId columns: one value in every row of a job (a job is one dataId),
 * built straight into Arrow buffers.
 */
import { Int64, Utf8, makeData, type Data, type Field } from 'apache-arrow';

/** The Arrow type of a dataId column: Int64 where every selected value is an integer, else Utf8. */
export function isIntegerKey(values: readonly (string | undefined)[]): boolean {
  return values.every((v) => /^-?\d{1,15}$/.test(v ?? ''));
}

export function constantColumn(field: Field, value: string | undefined, rows: number): Data {
  if (field.type instanceof Int64) return constantInt64(BigInt(value!), rows);
  return value === undefined ? nullUtf8(rows) : constantUtf8(value, rows);
}

// One function per column type (each monomorphic, compiled once per worker).

function constantInt64(value: bigint, rows: number): Data {
  return makeData({ type: new Int64(), length: rows, nullCount: 0, data: new BigInt64Array(rows).fill(value) });
}

function nullUtf8(rows: number): Data {
  return makeData({ type: new Utf8(), length: rows, nullCount: rows, nullBitmap: new Uint8Array((rows + 7) >> 3), valueOffsets: new Int32Array(rows + 1), data: new Uint8Array(0) });
}

function constantUtf8(value: string, rows: number): Data {
  const bytes = new TextEncoder().encode(value);
  const data = new Uint8Array(bytes.length * rows);
  // Fill by doubling: log2(rows) block copies instead of one small copy per row.
  if (data.length > 0) {
    data.set(bytes);
    for (let filled = bytes.length; filled < data.length; filled *= 2) data.copyWithin(filled, 0, Math.min(filled, data.length - filled));
  }
  const valueOffsets = new Int32Array(rows + 1);
  for (let i = 0; i <= rows; i++) valueOffsets[i] = i * bytes.length;
  return makeData({ type: new Utf8(), length: rows, nullCount: 0, valueOffsets, data });
}
