/**
 * The shift between two WCS versions over the sky, as a quiver plot: the
 * per-source shifts of every dataId are averaged in cells of a grid on the
 * tangent plane at the field's centre (so that hundreds of thousands of
 * sources become a readable field of arrows), east to the left as on the sky.
 */
import { quiverSvg } from '../plot/quiver.js';
import type { DataIdDiff } from './diffVersions.js';

const DEG = Math.PI / 180;

export function diffPlotSvg(rows: readonly DataIdDiff[], from: string, to: string, cellsAlongLongerSide = 40): string {
  const valid = rows.filter((r) => r.shift !== undefined);
  // Field centre: mean unit vector of all positions (safe across RA = 0/360).
  let sx = 0, sy = 0, sz = 0;
  for (const r of valid) {
    const { ra, dec } = r.shift!;
    for (let i = 0; i < ra.length; i++) {
      if (!Number.isFinite(ra[i]!) || !Number.isFinite(dec[i]!)) continue;
      sx += Math.cos(dec[i]! * DEG) * Math.cos(ra[i]! * DEG);
      sy += Math.cos(dec[i]! * DEG) * Math.sin(ra[i]! * DEG);
      sz += Math.sin(dec[i]! * DEG);
    }
  }
  const ra0 = Math.atan2(sy, sx);
  const dec0 = Math.atan2(sz, Math.hypot(sx, sy));
  // Gnomonic (xi, eta) in degrees, xi growing to the east.
  const project = (ra: number, dec: number): [number, number] => {
    const d = ra * DEG - ra0;
    const cosc = Math.sin(dec0) * Math.sin(dec * DEG) + Math.cos(dec0) * Math.cos(dec * DEG) * Math.cos(d);
    const xi = (Math.cos(dec * DEG) * Math.sin(d)) / cosc;
    const eta = (Math.cos(dec0) * Math.sin(dec * DEG) - Math.sin(dec0) * Math.cos(dec * DEG) * Math.cos(d)) / cosc;
    return [xi / DEG, eta / DEG];
  };
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  const points: { xi: Float64Array; eta: Float64Array; east: Float64Array; north: Float64Array }[] = [];
  for (const r of valid) {
    const { ra, dec, eastMas, northMas } = r.shift!;
    const xi = new Float64Array(ra.length), eta = new Float64Array(ra.length);
    for (let i = 0; i < ra.length; i++) {
      [xi[i], eta[i]] = project(ra[i]!, dec[i]!);
      if (Number.isFinite(xi[i]!) && Number.isFinite(eta[i]!)) {
        x0 = Math.min(x0, xi[i]!); x1 = Math.max(x1, xi[i]!);
        y0 = Math.min(y0, eta[i]!); y1 = Math.max(y1, eta[i]!);
      }
    }
    points.push({ xi, eta, east: eastMas, north: northMas });
  }
  if (!(x1 > x0)) { x0 -= 0.01; x1 += 0.01; }
  if (!(y1 > y0)) { y0 -= 0.01; y1 += 0.01; }
  const cell = Math.max(x1 - x0, y1 - y0) / cellsAlongLongerSide;
  const nx = Math.max(1, Math.ceil((x1 - x0) / cell)), ny = Math.max(1, Math.ceil((y1 - y0) / cell));
  const sum = new Float64Array(nx * ny * 5); // xi, eta, east, north, count
  for (const p of points) {
    for (let i = 0; i < p.xi.length; i++) {
      const e = p.east[i]!, n = p.north[i]!;
      if (!Number.isFinite(e) || !Number.isFinite(n)) continue;
      const cx = Math.min(nx - 1, Math.floor((p.xi[i]! - x0) / cell));
      const cy = Math.min(ny - 1, Math.floor((p.eta[i]! - y0) / cell));
      const k = (cy * nx + cx) * 5;
      sum[k] += p.xi[i]!; sum[k + 1] += p.eta[i]!; sum[k + 2] += e; sum[k + 3] += n; sum[k + 4]! += 1;
    }
  }
  const xs: number[] = [], ys: number[] = [], us: number[] = [], vs: number[] = [];
  for (let k = 0; k < nx * ny; k++) {
    const c = sum[k * 5 + 4]!;
    if (c === 0) continue;
    xs.push(sum[k * 5]! / c); ys.push(sum[k * 5 + 1]! / c); us.push(sum[k * 5 + 2]! / c); vs.push(sum[k * 5 + 3]! / c);
  }
  const medians = valid.map((r) => r.medianMas).sort((a, b) => a - b);
  const invalid = rows.length - valid.length;
  return quiverSvg({
    x: xs, y: ys, u: us, v: vs,
    extent: { x0: x0 - cell, x1: x1 + cell, y0: y0 - cell, y1: y1 + cell },
    flipX: true,
    title: `WCS shift ${from} → ${to}`,
    subtitle: `${valid.length} dataId(s) · median ${medians.length ? medians[Math.floor(medians.length / 2)]!.toFixed(1) : '-'} mas${invalid ? ` · ${invalid} invalid, not drawn` : ''} · mean shift per cell`,
    xLabel: `ξ (deg east of RA ${((((ra0 / DEG) % 360) + 360) % 360).toFixed(3)})`,
    yLabel: `η (deg north of Dec ${(dec0 / DEG).toFixed(3)})`,
    unit: 'mas',
  });
}
