/**
 * The one place that decides whether a catalog column can feed a kernel, and
 * how its values become the doubles a kernel reads (DESIGN.md §7 "No silent
 * wrong number"). Every derived view, PhotoCalib#calibrateCatalog and
 * `put --type src` go through here, once per batch (or once per schema):
 *
 *  - Float64: read as is (zero-copy when one chunk without nulls).
 *  - Float32, Float16, Int8..Int32, Uint8..Uint32: converted exactly.
 *  - Int64, Uint64: converted to the nearest double (exact up to 2^53; an id
 *    column is never a kernel input, and passes through untouched as Int64).
 *  - null: NaN, which the kernels flag with the non-finite-input status bit.
 *  - anything else (Utf8, Bool, Decimal, Date, Timestamp, Binary, Dictionary,
 *    List, ...): BAD_INPUT naming the column and its Arrow type. A Decimal is
 *    refused rather than rescaled: its scale lives in the type, and reading
 *    its raw integers gave 10.125 as 10125.
 */
import { DataType, Type, type Field, type Schema, type Vector } from 'apache-arrow';
import { errors } from '../errors.js';
import { requireColumns } from './columns.js';

/** Whether a column of this Arrow type can be read as doubles by a kernel. */
export function isKernelNumeric(type: DataType): boolean {
  return DataType.isFloat(type) || DataType.isInt(type);
}

/** BAD_INPUT unless `field` is floating point or integer. */
export function checkKernelInputField(field: Field, source = 'catalog'): void {
  if (!isKernelNumeric(field.type)) {
    throw errors.badInput(source, `column ${field.name} is ${String(field.type)}, not a number: kernels read floating-point and integer columns only`);
  }
}

export interface CatalogSchemaNeeds {
  /** Columns a kernel will read: each must exist and be numeric. */
  needs?: readonly string[];
  /** Names the catalog in errors. */
  source?: string;
}

/**
 * Check that a catalog's schema can be read the way skycal reads it: every
 * column in `needs` exists and is numeric, and every column that a view may
 * read by convention (centroids, `<name>_instFlux[Err]`, coord_ra/coord_dec)
 * is numeric where present. What `put --type src` runs before storing.
 */
export function checkCatalogSchema(schema: Schema, options: CatalogSchemaNeeds = {}): void {
  const source = options.source ?? 'catalog';
  const needs = options.needs ?? [];
  requireColumns(schema, needs, source);
  const wanted = new Set(needs);
  for (const f of schema.fields) {
    if (wanted.has(f.name) || readByConvention(f.name)) checkKernelInputField(f, source);
  }
}

/** Column names that derived views read when present (DESIGN.md §4). */
export function readByConvention(name: string): boolean {
  return /^(x|y|slot_Centroid_[xy]|centroid_[xy]|coord_ra|coord_dec)$/.test(name) || /.+_instFlux(Err)?$/.test(name);
}

/**
 * A column's values as doubles for a kernel: the Arrow buffer itself when it
 * is one null-free Float64 chunk and `target` is not given, else copied into
 * `target` (or a fresh array). Throws BAD_INPUT for a non-numeric column.
 */
export function kernelInputValues(column: Vector, name: string, source: string, target?: Float64Array): Float64Array {
  checkKernelInputField({ name, type: column.type } as Field, source);
  if (target === undefined && column.data.length === 1) {
    const data = column.data[0]!;
    if (data.values instanceof Float64Array && data.nullCount === 0) return data.values.subarray(0, data.length);
  }
  const out = target ?? new Float64Array(column.length);
  let at = 0;
  for (const data of column.data) {
    const n = data.length;
    const values = data.values as ArrayLike<number | bigint> & { subarray(a: number, b: number): ArrayLike<number> };
    if (data.type.typeId === Type.Float && (data.type as { precision: number }).precision === 0) {
      // Float16 buffers hold raw half-precision bits: decode through Arrow.
      for (let i = 0; i < n; i++) {
        const e = column.get(at + i) as number | null;
        out[at + i] = e === null ? NaN : e;
      }
    } else if (data.nullCount === 0 && !(values instanceof BigInt64Array) && !(values instanceof BigUint64Array)) {
      out.set(values.subarray(0, n), at);
    } else {
      for (let i = 0; i < n; i++) out[at + i] = data.getValid(i) ? Number(values[i]!) : NaN;
    }
    at += n;
  }
  return out;
}
