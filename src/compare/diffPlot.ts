/**
 * The shift between two WCS versions over the sky, as a quiver plot: the
 * per-source shifts of every dataId are averaged in cells of a grid on the
 * tangent plane at the field's centre (so that hundreds of thousands of
 * sources become a readable field of arrows), east to the left as on the sky.
 * Each CCD is outlined (its bbox's edges through its WCS) and labelled with
 * its detector; a CCD invalid on either side is drawn hatched, "invalid".
 * Cells are per CCD, and the longest arrow spans 0.9 of a cell, so that
 * arrows never run across a neighbouring cell or CCD.
 */
import { gnomonicProjectDeg } from '../../native-free-kernels/tanSip.js';
import { quiverSvg, type QuiverRegion } from '../plot/quiver.js';
import { parseDataId } from '../butler/dataId.js';
import { median } from '../stats.js';
import type { DataIdDiff } from './diffVersions.js';

const DEG = Math.PI / 180;

/** "det 12" from a dataId with a detector (or ccd) key; the whole dataId otherwise. */
function detectorLabel(dataId: string): string {
  try {
    const d = parseDataId(dataId);
    const det = d.detector ?? d.ccd;
    if (det !== undefined) return `det ${String(det)}`;
  } catch {
    // not a key=value dataId: show it as it is
  }
  return dataId;
}

export function diffPlotSvg(rows: readonly DataIdDiff[], from: string, to: string, cellsAlongLongerSide = 24): string {
  const valid = rows.filter((r) => r.shift !== undefined);
  // Field centre: mean unit vector of all positions and outlines (safe across RA = 0/360).
  let sx = 0, sy = 0, sz = 0;
  const addUnit = (raDeg: number, decDeg: number) => {
    if (!Number.isFinite(raDeg) || !Number.isFinite(decDeg)) return;
    sx += Math.cos(decDeg * DEG) * Math.cos(raDeg * DEG);
    sy += Math.cos(decDeg * DEG) * Math.sin(raDeg * DEG);
    sz += Math.sin(decDeg * DEG);
  };
  for (const r of rows) {
    if (r.shift) for (let i = 0; i < r.shift.ra.length; i++) addUnit(r.shift.ra[i]!, r.shift.dec[i]!);
    if (r.outline) for (let i = 0; i < r.outline.ra.length; i++) addUnit(r.outline.ra[i]!, r.outline.dec[i]!);
  }
  const ra0 = Math.atan2(sy, sx);
  const dec0 = Math.atan2(sz, Math.hypot(sx, sy));
  // Gnomonic (xi, eta) in degrees about the centre, xi growing to the east: the kernel's projection.
  const ra0Deg = ra0 / DEG, dec0Deg = dec0 / DEG;
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  const project = (ra: ArrayLike<number>, dec: ArrayLike<number>): { xi: Float64Array; eta: Float64Array } => {
    const n = ra.length, xi = new Float64Array(n), eta = new Float64Array(n);
    gnomonicProjectDeg(n, ra0Deg, dec0Deg, Float64Array.from(ra), 1, 0, Float64Array.from(dec), 1, 0, xi, 1, 0, eta, 1, 0, new Uint8Array(n), 1, 0);
    for (let i = 0; i < n; i++) {
      if (Number.isFinite(xi[i]!) && Number.isFinite(eta[i]!)) {
        x0 = Math.min(x0, xi[i]!); x1 = Math.max(x1, xi[i]!);
        y0 = Math.min(y0, eta[i]!); y1 = Math.max(y1, eta[i]!);
      }
    }
    return { xi, eta };
  };
  const regions: QuiverRegion[] = [];
  for (const r of rows) {
    if (!r.outline) continue;
    const { xi, eta } = project(r.outline.ra, r.outline.dec);
    regions.push({ x: xi, y: eta, label: detectorLabel(r.dataId), invalid: r.shift === undefined });
  }
  const points: { xi: Float64Array; eta: Float64Array; east: Float64Array; north: Float64Array }[] = [];
  for (const r of valid) {
    const { ra, dec, eastMas, northMas } = r.shift!;
    points.push({ ...project(ra, dec), east: eastMas, north: northMas });
  }
  if (!(x1 > x0)) { x0 = (Number.isFinite(x0) ? x0 : 0) - 0.01; x1 = x0 + 0.02; }
  if (!(y1 > y0)) { y0 = (Number.isFinite(y0) ? y0 : 0) - 0.01; y1 = y0 + 0.02; }
  const cell = Math.max(x1 - x0, y1 - y0) / cellsAlongLongerSide;
  const nx = Math.max(1, Math.ceil((x1 - x0) / cell));
  // Mean shift per cell of each CCD: a cell on a CCD edge averages that CCD's sources only.
  const xs: number[] = [], ys: number[] = [], us: number[] = [], vs: number[] = [];
  for (const p of points) {
    const sum = new Map<number, Float64Array>(); // xi, eta, east, north, count
    for (let i = 0; i < p.xi.length; i++) {
      const e = p.east[i]!, n = p.north[i]!;
      if (!Number.isFinite(e) || !Number.isFinite(n) || !Number.isFinite(p.xi[i]!) || !Number.isFinite(p.eta[i]!)) continue;
      const k = Math.floor((p.eta[i]! - y0) / cell) * nx + Math.floor((p.xi[i]! - x0) / cell);
      let s = sum.get(k);
      if (s === undefined) sum.set(k, (s = new Float64Array(5)));
      s[0] += p.xi[i]!; s[1] += p.eta[i]!; s[2] += e; s[3] += n; s[4]! += 1;
    }
    for (const s of sum.values()) {
      xs.push(s[0]! / s[4]!); ys.push(s[1]! / s[4]!); us.push(s[2]! / s[4]!); vs.push(s[3]! / s[4]!);
    }
  }
  const medianMas = median(valid.map((r) => r.medianMas));
  const invalid = rows.length - valid.length;
  const undrawn = rows.filter((r) => r.shift === undefined && r.outline === undefined).length;
  const invalidText = invalid === 0 ? '' : ` · ${invalid} invalid (hatched${undrawn ? `; ${undrawn} with no WCS, not drawn` : ''})`;
  return quiverSvg({
    x: xs, y: ys, u: us, v: vs,
    extent: { x0: x0 - cell, x1: x1 + cell, y0: y0 - cell, y1: y1 + cell },
    flipX: true,
    regions,
    cellSize: cell,
    title: `WCS shift ${from} → ${to}`,
    subtitle: `${valid.length} CCD${valid.length === 1 ? '' : 's'} · median shift ${Number.isFinite(medianMas) ? medianMas.toFixed(1) : '-'} mas${invalidText} · mean shift per cell`,
    xLabel: `ξ (deg east of RA ${((((ra0 / DEG) % 360) + 360) % 360).toFixed(3)})`,
    yLabel: `η (deg north of Dec ${(dec0 / DEG).toFixed(3)})`,
    unit: 'mas',
  });
}
