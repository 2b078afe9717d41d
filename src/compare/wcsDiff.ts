/**
 * How far two WCS versions of one image disagree on the sky, at given pixel
 * positions (a catalog's sources, or a grid over the image when there is no
 * catalog): per-point separations in milliarcseconds, their summary, and the
 * shift components for a quiver plot.
 */
import { angularSeparationMas } from '../../native-free-kernels/separation.js';
import { summarize, type Summary } from '../stats.js';
import type { TanSipWcs } from '../wcs/tanSipWcs.js';

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
