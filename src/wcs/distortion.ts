/**
 * The SIP distortion of a WCS over its image: at each pixel, the offset
 * (f(u, v), g(u, v)) in pixels that SIP adds to the linear model, that is
 * the pixel position minus the position the linear WCS alone would give.
 */
import type { TanSipWcs } from './tanSipWcs.js';
import type { PixelBox } from './params.js';
import type { SipPolynomial } from './sip.js';

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
  const out: DistortionGrid = { x: new Float64Array(n), y: new Float64Array(n), dx: new Float64Array(n), dy: new Float64Array(n), nx, ny, maxPx: 0 };
  const { x: x0, y: y0 } = wcs.crpix;
  const w = bbox.maxX - bbox.minX + 1;
  const h = bbox.maxY - bbox.minY + 1;
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const k = j * nx + i;
      const x = bbox.minX - 0.5 + ((i + 0.5) * w) / nx;
      const y = bbox.minY - 0.5 + ((j + 0.5) * h) / ny;
      const dx = evaluateSip(wcs.sipA, x - x0, y - y0);
      const dy = evaluateSip(wcs.sipB, x - x0, y - y0);
      out.x[k] = x;
      out.y[k] = y;
      out.dx[k] = dx;
      out.dy[k] = dy;
      out.maxPx = Math.max(out.maxPx, Math.sqrt(dx * dx + dy * dy));
    }
  }
  return out;
}
