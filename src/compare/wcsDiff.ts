/**
 * How far two WCS versions of one image disagree on the sky, at given pixel
 * positions (a catalog's sources, or a grid over the image when there is no
 * catalog): per-point separations in milliarcseconds, their summary, and the
 * shift components for a quiver plot.
 */
import { angularSeparationMas } from '../../native-free-kernels/separation.js';
import { summarize, type Summary } from '../stats.js';
import type { TanSipWcs } from '../wcs/tanSipWcs.js';
import type { PixelBox } from '../wcs/params.js';

const MAS_PER_DEG = 3.6e6;

export { pixelGrid } from '../wcs/pixelGrid.js';

export interface WcsShift {
  /** Separation at each point (mas); NaN where either WCS is undefined. */
  separationMas: Float64Array;
  /** East and north components of the shift from `from` to `to` (mas). */
  eastMas: Float64Array;
  northMas: Float64Array;
  /** Positions under `from` (deg), for plotting. */
  ra: Float64Array;
  dec: Float64Array;
  summary: Summary;
}

export function wcsShift(from: TanSipWcs, to: TanSipWcs, x: Float64Array, y: Float64Array): WcsShift {
  const a = from.pixelToSkyArrays(x, y);
  const b = to.pixelToSkyArrays(x, y);
  const n = x.length;
  const separationMas = new Float64Array(n);
  angularSeparationMas(n, a.ra, 1, 0, a.dec, 1, 0, b.ra, 1, 0, b.dec, 1, 0, separationMas, 1, 0);
  const eastMas = new Float64Array(n);
  const northMas = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // Small-shift components in the local tangent plane; RA wraps at 0/360.
    let dRa = b.ra[i]! - a.ra[i]!;
    if (dRa > 180) dRa -= 360;
    else if (dRa < -180) dRa += 360;
    eastMas[i] = dRa * Math.cos((a.dec[i]! * Math.PI) / 180) * MAS_PER_DEG;
    northMas[i] = (b.dec[i]! - a.dec[i]!) * MAS_PER_DEG;
  }
  return { separationMas, eastMas, northMas, ra: a.ra, dec: a.dec, summary: summarize(separationMas) };
}

/** An image's outline on the sky (deg), a closed polygon (the last vertex joins the first). */
export interface SkyOutline {
  ra: number[];
  dec: number[];
}

/**
 * The outline of `bbox` on the sky: its outer pixel edges (0-based pixel
 * centres, so the edges lie at min - 0.5 and max + 0.5), `perEdge` points per
 * edge through the WCS, so that a distorted image keeps its curved edges.
 */
export function skyOutline(wcs: TanSipWcs, bbox: PixelBox, perEdge = 8): SkyOutline {
  const x0 = bbox.minX - 0.5, x1 = bbox.maxX + 0.5, y0 = bbox.minY - 0.5, y1 = bbox.maxY + 0.5;
  const corners: [number, number][] = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
  const x = new Float64Array(4 * perEdge), y = new Float64Array(4 * perEdge);
  for (let e = 0; e < 4; e++) {
    const [ax, ay] = corners[e]!, [bx, by] = corners[(e + 1) % 4]!;
    for (let k = 0; k < perEdge; k++) {
      x[e * perEdge + k] = ax + ((bx - ax) * k) / perEdge;
      y[e * perEdge + k] = ay + ((by - ay) * k) / perEdge;
    }
  }
  const sky = wcs.pixelToSkyArrays(x, y);
  return { ra: Array.from(sky.ra), dec: Array.from(sky.dec) };
}
