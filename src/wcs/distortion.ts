/**
 * The SIP distortion of a WCS over its image: at each pixel, the offset
 * (f(u, v), g(u, v)) in pixels that SIP adds to the linear model, that is
 * the pixel position minus the position the linear WCS alone would give.
 */
import type { TanSipWcs } from './tanSipWcs.js';
import type { PixelBox } from './params.js';
import type { SipPolynomial } from './sip.js';
import { pixelGrid } from './pixelGrid.js';

function evaluateSip(poly: SipPolynomial | undefined, u: number, v: number): number {
  if (poly === undefined) return 0;
  // Horner in u of polynomials in v; the dense matrix is small (order <= 9).
  const c = poly.coefficients;
  let f = 0;
  for (let p = poly.order; p >= 0; p--) {
    let row = 0;
    for (let q = poly.order - p; q >= 0; q--) row = row * v + c[p]![q]!;
    f = f * u + row;
  }
  return f;
}

export interface DistortionGrid {
  /** Grid points (0-based pixels) and the distortion there (px). */
  x: Float64Array;
  y: Float64Array;
  dx: Float64Array;
  dy: Float64Array;
  nx: number;
  ny: number;
  maxPx: number;
}

/** The distortion on an nx x ny grid of cell centres covering `bbox`. */
export function sipDistortionGrid(wcs: TanSipWcs, bbox: PixelBox, nx: number, ny: number): DistortionGrid {
  const n = nx * ny;
  const out: DistortionGrid = { ...pixelGrid(bbox, nx, ny), dx: new Float64Array(n), dy: new Float64Array(n), nx, ny, maxPx: 0 };
  const { x: x0, y: y0 } = wcs.crpix;
  for (let k = 0; k < n; k++) {
    const dx = evaluateSip(wcs.sipA, out.x[k]! - x0, out.y[k]! - y0);
    const dy = evaluateSip(wcs.sipB, out.x[k]! - x0, out.y[k]! - y0);
    out.dx[k] = dx;
    out.dy[k] = dy;
    out.maxPx = Math.max(out.maxPx, Math.sqrt(dx * dx + dy * dy));
  }
  return out;
}
