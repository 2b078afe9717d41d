/**
 * Columns in SharedArrayBuffers: the only memory the pool's workers see.
 * Arrow columns are copied in once, chunk by chunk (DESIGN.md §4: never post
 * a zero-copy Arrow column, which clones the whole file buffer, and never
 * transfer its .buffer, which detaches the whole file).
 */
import type { Vector } from 'apache-arrow';

export function sharedFloat64(length: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT));
}

export function sharedUint8(length: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(length));
}

export function isShared(a: ArrayBufferView): boolean {
  return a.buffer instanceof SharedArrayBuffer;
}

/**
 * Copy a numeric Arrow column (any chunking, any numeric type) into
 * `target` from `offset`, as doubles; nulls become NaN. Returns target.
 */
export function copyColumnInto(column: Vector, target: Float64Array, offset = 0): Float64Array {
  let at = offset;
  for (const data of column.data) {
    const values = data.values as ArrayLike<number | bigint> & { subarray?: unknown };
    const n = data.length;
    if (values instanceof Float64Array && data.nullCount === 0) {
      // Fixed-width Arrow buffers are already sliced to the chunk: values[0] is row 0.
      target.set(values.subarray(0, n), at);
    } else {
      for (let i = 0; i < n; i++) target[at + i] = data.getValid(i) ? Number(values[i]) : NaN;
    }
    at += n;
  }
  return target;
}

/** A fresh shared copy of a numeric Arrow column. */
export function sharedColumnFrom(column: Vector): Float64Array {
  return copyColumnInto(column, sharedFloat64(column.length));
}
