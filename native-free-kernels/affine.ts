/**
 * A 2-D affine map, (x, y) -> (u, v) = (m0 + m1 x + m2 y, m3 + m4 x + m5 y).
 * The smallest real kernel: it exercises the pool, chunking and status
 * handling in tests without depending on the WCS model.
 *
 * model: Float64Array [m0, m1, m2, m3, m4, m5].
 * A non-finite x or y gives u = v = NaN and STATUS_NONFINITE_INPUT.
 * Returns the number of bad points.
 */
import { STATUS_NONFINITE_INPUT } from './status.js';

export function affineTransform(
  N: number, model: Float64Array,
  x: Float64Array, strideX: number, offsetX: number,
  y: Float64Array, strideY: number, offsetY: number,
  u: Float64Array, strideU: number, offsetU: number,
  v: Float64Array, strideV: number, offsetV: number,
  status: Uint8Array, strideSt: number, offsetSt: number,
): number {
  const m0 = model[0]!, m1 = model[1]!, m2 = model[2]!;
  const m3 = model[3]!, m4 = model[4]!, m5 = model[5]!;
  let bad = 0;
  let ix = offsetX, iy = offsetY, iu = offsetU, iv = offsetV, is = offsetSt;
  for (let i = 0; i < N; i++, ix += strideX, iy += strideY, iu += strideU, iv += strideV, is += strideSt) {
    const xi = x[ix]!, yi = y[iy]!;
    if (xi - xi !== 0 || yi - yi !== 0) {
      // x - x is NaN exactly when x is NaN or infinite: one test, no call.
      u[iu] = NaN;
      v[iv] = NaN;
      status[is] = STATUS_NONFINITE_INPUT;
      bad++;
      continue;
    }
    u[iu] = m0 + m1 * xi + m2 * yi;
    v[iv] = m3 + m4 * xi + m5 * yi;
    status[is] = 0;
  }
  return bad;
}
