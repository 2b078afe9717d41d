/**
 * Where CCDs lie on the focal plane, from their WCS: the outline of each
 * image (its bbox edge, ±0.5 px around the pixel centres, sampled along each
 * side so that distortion bends it as on the sky) and a gnomonic projection
 * onto the tangent plane at the field's centre, xi growing to the east.
 * Plots of a whole visit (the diff's shift map, the web view) draw from here.
 */
import type { TanSipWcs } from '../wcs/tanSipWcs.js';
import type { PixelBox } from '../wcs/params.js';

const DEG = Math.PI / 180;

/** The image outline on the sky (deg), counter-clockwise in pixels, `perSide` points per side (closed by the caller). */
export function ccdOutlineSky(wcs: TanSipWcs, bbox: PixelBox, perSide = 8): { ra: Float64Array; dec: Float64Array } {
  const x0 = bbox.minX - 0.5, x1 = bbox.maxX + 0.5, y0 = bbox.minY - 0.5, y1 = bbox.maxY + 0.5;
  const corners = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]] as const;
  const n = 4 * perSide;
  const x = new Float64Array(n), y = new Float64Array(n);
  for (let side = 0; side < 4; side++) {
    const [ax, ay] = corners[side]!;
    const [bx, by] = corners[(side + 1) % 4]!;
    for (let k = 0; k < perSide; k++) {
      const t = k / perSide;
      x[side * perSide + k] = ax + t * (bx - ax);
      y[side * perSide + k] = ay + t * (by - ay);
    }
  }
  const { ra, dec } = wcs.pixelToSkyArrays(x, y);
  return { ra, dec };
}

/** The centre of a set of sky positions: their mean unit vector (safe across RA = 0/360). NaN positions are skipped. */
export function skyCentre(ra: ArrayLike<number>, dec: ArrayLike<number>): { ra: number; dec: number } {
  let sx = 0, sy = 0, sz = 0;
  for (let i = 0; i < ra.length; i++) {
    const a = ra[i]! * DEG, d = dec[i]! * DEG;
    if (!Number.isFinite(a) || !Number.isFinite(d)) continue;
    sx += Math.cos(d) * Math.cos(a);
    sy += Math.cos(d) * Math.sin(a);
    sz += Math.sin(d);
  }
  const r = Math.atan2(sy, sx) / DEG;
  return { ra: ((r % 360) + 360) % 360, dec: Math.atan2(sz, Math.hypot(sx, sy)) / DEG };
}

/** Gnomonic (xi, eta) in degrees on the tangent plane at (ra0, dec0); xi grows to the east. */
export function toTangentPlane(ra0: number, dec0: number, ra: ArrayLike<number>, dec: ArrayLike<number>): { xi: Float64Array; eta: Float64Array } {
  const n = ra.length;
  const xi = new Float64Array(n), eta = new Float64Array(n);
  const sd0 = Math.sin(dec0 * DEG), cd0 = Math.cos(dec0 * DEG);
  for (let i = 0; i < n; i++) {
    const da = (ra[i]! - ra0) * DEG, d = dec[i]! * DEG;
    const cosc = sd0 * Math.sin(d) + cd0 * Math.cos(d) * Math.cos(da);
    xi[i] = (Math.cos(d) * Math.sin(da)) / cosc / DEG;
    eta[i] = (cd0 * Math.sin(d) - sd0 * Math.cos(d) * Math.cos(da)) / cosc / DEG;
  }
  return { xi, eta };
}
