/**
 * A quiver plot: arrows at points, with a key arrow that gives the scale, over
 * optional outlined regions (CCDs). Used for SIP distortion (pixels) and for
 * the shift between two WCS versions over a focal plane (milliarcseconds).
 *
 * Every arrow lies inside the frame: the scale is lowered until each arrow's
 * head is inside (and the arrows are clipped to the frame besides); an arrow
 * whose tail is outside the frame, or within 3 px of its edge, is not drawn
 * (callers pad the extent by a cell, so that none is). With
 * `cellSize` the longest arrow spans 0.9 of a cell, so that arrows of
 * neighbouring cells (or CCDs) never run into each other.
 */
import { type Frame, axesSvg, escapeXml, svgDocument, toPxX, toPxY, wrapText } from './svg.js';
import { quantileSorted } from '../stats.js';

/** A region drawn under the arrows (a CCD), in data coordinates: a closed polygon. */
export interface QuiverRegion {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  label?: string;
  /** Drawn hatched and labelled "invalid" (e.g. a CCD whose WCS failed). */
  invalid?: boolean;
}

export interface QuiverOptions {
  /** Arrow tails in data coordinates, and arrow components in `unit`. */
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  u: ArrayLike<number>;
  v: ArrayLike<number>;
  /** Data range shown. */
  extent: { x0: number; x1: number; y0: number; y1: number };
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  /** Unit of u, v for the key ("px", "mas"). */
  unit: string;
  /** Flip x so that it grows to the left (RA on the sky). */
  flipX?: boolean;
  plotHeight?: number;
  /** Extra rectangles drawn under the arrows (e.g. CCD outlines), in data coordinates. */
  outlines?: readonly { x0: number; y0: number; x1: number; y1: number; label?: string }[];
  /** Polygons drawn under the arrows, each outlined and labelled at its centre (CCDs on a focal plane). */
  regions?: readonly QuiverRegion[];
  /** Spacing of the arrow tails in data units: the longest arrow then spans 0.9 of it. */
  cellSize?: number;
}

/** A 1, 2 or 5 x 10^k length near `v`, for the key arrow. */
function niceLength(v: number): number {
  if (!(v > 0)) return 1;
  const mag = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * mag).reduce((best, c) => (Math.abs(c - v) < Math.abs(best - v) ? c : best));
}

const ARROW = '#1f4e9c';
const INVALID = '#c0392b';
/** Arrow heads stay this far (px) inside the frame, so that their barbs do too. */
const INSET_PX = 3;

/** The largest scale (px per unit) at which an arrow from (px, py) along (dx, dy) per unit ends inside [lo, hi] on both axes. */
function fitScale(scale: number, p: number, d: number, lo: number, hi: number): number {
  if (d > 0 && p + d * scale > hi) return Math.max(0, (hi - p) / d);
  if (d < 0 && p + d * scale < lo) return Math.max(0, (lo - p) / d);
  return scale;
}

function arrowPath(px: number, py: number, dx: number, dy: number): string {
  const hx = px + dx, hy = py + dy;
  let d = `M${px.toFixed(1)} ${py.toFixed(1)}L${hx.toFixed(1)} ${hy.toFixed(1)}`;
  const len = Math.sqrt(dx * dx + dy * dy);
  if (len > 3) {
    // Arrow head: two short strokes at +-25 degrees back from the tip.
    const hl = Math.min(6, len * 0.35), ux = dx / len, uy = dy / len;
    const c = Math.cos(0.44), s = Math.sin(0.44);
    d += `M${(hx - hl * (ux * c - uy * s)).toFixed(1)} ${(hy - hl * (uy * c + ux * s)).toFixed(1)}L${hx.toFixed(1)} ${hy.toFixed(1)}L${(hx - hl * (ux * c + uy * s)).toFixed(1)} ${(hy - hl * (uy * c - ux * s)).toFixed(1)}`;
  }
  return d;
}

/** Outline, fill and label of the regions; the labels are returned apart so that they go over the arrows. */
function regionsSvg(frame: Frame, o: QuiverOptions): { under: string[]; labels: string[] } {
  const under: string[] = [], labels: string[] = [];
  for (const r of o.outlines ?? []) {
    const xa = toPxX(frame, r.x0), xb = toPxX(frame, r.x1);
    const ya = toPxY(frame, r.y0), yb = toPxY(frame, r.y1);
    under.push(`<rect x="${Math.min(xa, xb).toFixed(1)}" y="${Math.min(ya, yb).toFixed(1)}" width="${Math.abs(xb - xa).toFixed(1)}" height="${Math.abs(yb - ya).toFixed(1)}" fill="#f3f3f3" stroke="#999"/>`);
    if (r.label) labels.push(`<text x="${((xa + xb) / 2).toFixed(1)}" y="${((ya + yb) / 2).toFixed(1)}" text-anchor="middle" font-size="11" fill="#777">${escapeXml(r.label)}</text>`);
  }
  const regions = o.regions ?? [];
  if (regions.some((r) => r.invalid)) {
    under.push(`<defs><pattern id="hatch" patternUnits="userSpaceOnUse" width="9" height="9" patternTransform="rotate(45)"><rect width="9" height="9" fill="#fbeaea"/><line x1="0" y1="0" x2="0" y2="9" stroke="${INVALID}" stroke-width="2.2"/></pattern></defs>`);
  }
  // Invalid regions last, so that a valid one overlapping them (another visit) does not hide the hatching.
  for (const r of [...regions.filter((g) => !g.invalid), ...regions.filter((g) => g.invalid)]) {
    const pts: string[] = [];
    let cx = 0, cy = 0, m = 0;
    for (let i = 0; i < r.x.length; i++) {
      const px = toPxX(frame, r.x[i]!), py = toPxY(frame, r.y[i]!);
      if (!Number.isFinite(px) || !Number.isFinite(py)) continue;
      pts.push(`${px.toFixed(1)},${py.toFixed(1)}`);
      cx += px; cy += py; m++;
    }
    if (m < 3) continue;
    cx /= m; cy /= m;
    const fill = r.invalid ? 'url(#hatch)' : '#f4f6fa';
    const stroke = r.invalid ? INVALID : '#8a94a6';
    under.push(`<polygon class="region${r.invalid ? ' invalid' : ''}" points="${pts.join(' ')}" fill="${fill}" stroke="${stroke}" stroke-width="1.3"/>`);
    // Labels with a white halo, readable over arrows and hatching.
    const halo = 'stroke="white" stroke-width="3.5" stroke-linejoin="round" paint-order="stroke"';
    const lines = [...(r.label ? [{ text: r.label, color: '#333', weight: 'bold' }] : []), ...(r.invalid ? [{ text: 'invalid', color: INVALID, weight: 'bold' }] : [])];
    const y0 = cy - ((lines.length - 1) * 16) / 2;
    const tspans = lines.map((l, k) => `<text x="${cx.toFixed(1)}" y="${(y0 + k * 16).toFixed(1)}" dy="0.35em" text-anchor="middle" font-size="13" font-weight="${l.weight}" fill="${l.color}" ${halo}>${escapeXml(l.text)}</text>`);
    labels.push(`<g class="region-label">${tspans.join('')}</g>`);
  }
  return { under, labels };
}

export function quiverSvg(o: QuiverOptions): string {
  const n = o.x.length;
  const plotHeight = o.plotHeight ?? 520;
  const aspect = Math.abs(o.extent.x1 - o.extent.x0) / Math.abs(o.extent.y1 - o.extent.y0);
  const plotWidth = Math.round(Math.min(900, Math.max(160, plotHeight * aspect)));
  // Title and subtitle wrap to the frame's width (with a floor), so that a tall CCD does not get a wide empty canvas.
  // (Bold 18 px text is about 11 px a character, 13 px text about 7.5.)
  const canvasWidth = Math.max(84 + plotWidth + 30, 480);
  const titleLines = wrapText(o.title, Math.floor((canvasWidth - 84 - 16) / 11));
  const subtitleLines = o.subtitle ? wrapText(o.subtitle, Math.floor((canvasWidth - 84 - 16) / 7.5)) : [];
  const top = 28 + (titleLines.length - 1) * 22 + subtitleLines.length * 18 + 38;
  const extent = o.flipX ? { ...o.extent, x0: o.extent.x1, x1: o.extent.x0 } : o.extent;
  const frame: Frame = { left: 84, top, width: plotWidth, height: plotHeight, ...extent };
  const lengths = new Float64Array(n);
  let finite = 0, longest = 0;
  for (let i = 0; i < n; i++) {
    const len = Math.sqrt(o.u[i]! * o.u[i]! + o.v[i]! * o.v[i]!);
    if (Number.isFinite(len)) {
      lengths[finite++] = len;
      if (len > longest) longest = len;
    }
  }
  // Scale: the longest arrow spans 0.9 of a cell; without cells, the 95th percentile arrow spans 1/12 of the frame's smaller side.
  let pxPerUnit: number;
  if (o.cellSize !== undefined && o.cellSize > 0 && longest > 0) {
    const cellPx = Math.min(Math.abs(o.cellSize * frame.width / (frame.x1 - frame.x0)), Math.abs(o.cellSize * frame.height / (frame.y1 - frame.y0)));
    pxPerUnit = (0.9 * cellPx) / longest;
  } else {
    const typical = finite > 0 ? quantileSorted(lengths.subarray(0, finite).sort(), 0.95) : 0;
    pxPerUnit = Math.min(plotWidth, plotHeight) / 12 / (typical > 0 ? typical : 1);
  }
  // Lower the scale until every arrow ends inside the frame.
  const sx = o.flipX ? -1 : 1;
  const left = frame.left + INSET_PX, right = frame.left + frame.width - INSET_PX;
  const upper = frame.top + INSET_PX, lower = frame.top + frame.height - INSET_PX;
  for (let i = 0; i < n; i++) {
    const u = o.u[i]!, v = o.v[i]!;
    if (!Number.isFinite(u) || !Number.isFinite(v)) continue;
    const px = toPxX(frame, o.x[i]!), py = toPxY(frame, o.y[i]!);
    if (!(px >= left && px <= right && py >= upper && py <= lower)) continue; // a tail outside is clipped away
    pxPerUnit = fitScale(pxPerUnit, px, sx * u, left, right);
    pxPerUnit = fitScale(pxPerUnit, py, -v, upper, lower);
  }

  const body: string[] = [];
  titleLines.forEach((line, k) => body.push(`<text x="${frame.left}" y="${28 + k * 22}" font-size="18" font-weight="bold">${escapeXml(line)}</text>`));
  const subtitleTop = 28 + (titleLines.length - 1) * 22 + 22;
  subtitleLines.forEach((line, k) => body.push(`<text x="${frame.left}" y="${subtitleTop + k * 18}" font-size="13" fill="#444">${escapeXml(line)}</text>`));
  body.push(`<clipPath id="q"><rect x="${frame.left}" y="${frame.top}" width="${frame.width}" height="${frame.height}"/></clipPath>`);
  const regions = regionsSvg(frame, o);
  body.push('<g clip-path="url(#q)">', ...regions.under);
  const path: string[] = [];
  for (let i = 0; i < n; i++) {
    const u = o.u[i]!, v = o.v[i]!;
    if (!Number.isFinite(u) || !Number.isFinite(v)) continue;
    const px = toPxX(frame, o.x[i]!), py = toPxY(frame, o.y[i]!);
    if (!(px >= left && px <= right && py >= upper && py <= lower)) continue;
    path.push(arrowPath(px, py, sx * u * pxPerUnit, -v * pxPerUnit));
  }
  body.push(`<path class="arrows" d="${path.join('')}" fill="none" stroke="${ARROW}" stroke-width="1.2" stroke-linecap="round"/>`);
  body.push(...regions.labels, '</g>');
  body.push(axesSvg(frame, o.xLabel, o.yLabel));
  // Key: an arrow of a round length just above the frame's top right corner, the label to its left.
  const keyLength = niceLength(pxPerUnit > 0 ? Math.min(longest, frame.width / 3 / pxPerUnit) : 1);
  const keyPx = keyLength * pxPerUnit;
  const ky = frame.top - 12;
  const kx1 = frame.left + frame.width, kx0 = kx1 - keyPx;
  const keyLabel = `${keyLength} ${o.unit}`;
  body.push(`<g class="key"><path d="M${kx0.toFixed(1)} ${ky}L${kx1.toFixed(1)} ${ky}M${(kx1 - 6).toFixed(1)} ${ky - 3}L${kx1.toFixed(1)} ${ky}L${(kx1 - 6).toFixed(1)} ${ky + 3}" stroke="${ARROW}" stroke-width="1.5" fill="none"/>` +
    `<text x="${(kx0 - 6).toFixed(1)}" y="${ky}" dy="0.35em" text-anchor="end" font-size="13">${escapeXml(keyLabel)}</text></g>`);
  return svgDocument(canvasWidth, frame.top + plotHeight + 62, body.join('\n'));
}
