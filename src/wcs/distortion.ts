/**
 * The SIP distortion of a WCS over its image: at each pixel, the offset
 * (f(u, v), g(u, v)) in pixels that SIP adds to the linear model, that is
 * the pixel position minus the position the linear WCS alone would give.
 * Evaluated by the kernels' SIP polynomials (tanSipDistortionPx).
 */
import { tanSipDistortionPx } from '../../native-free-kernels/tanSip.js';
import type { TanSipWcs } from './tanSipWcs.js';
import type { PixelBox } from './params.js';
import { pixelGrid } from './pixelGrid.js';

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
  tanSipDistortionPx(n, wcs.toKernelModel(), out.x, 1, 0, out.y, 1, 0, out.dx, 1, 0, out.dy, 1, 0);
  for (let k = 0; k < n; k++) out.maxPx = Math.max(out.maxPx, Math.sqrt(out.dx[k]! ** 2 + out.dy[k]! ** 2));
  return out;
}
