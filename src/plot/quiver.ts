/**
 * A quiver plot: arrows at points, with a key arrow that gives the scale,
 * optionally over a heat map of the arrow length. Used for SIP distortion
 * (pixels) and for the shift between two WCS versions (milliarcseconds).
 */
import { type Frame, axesSvg, escapeXml, svgDocument, toPxX, toPxY } from './svg.js';
import { quantileSorted } from '../stats.js';

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
}

/** A 1, 2 or 5 x 10^k length near `v`, for the key arrow. */
function niceLength(v: number): number {
  if (!(v > 0)) return 1;
  const mag = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * mag).reduce((best, c) => (Math.abs(c - v) < Math.abs(best - v) ? c : best));
}

export function quiverSvg(o: QuiverOptions): string {
  const n = o.x.length;
  const plotHeight = o.plotHeight ?? 520;
  const aspect = Math.abs(o.extent.x1 - o.extent.x0) / Math.abs(o.extent.y1 - o.extent.y0);
  const plotWidth = Math.round(Math.min(900, Math.max(160, plotHeight * aspect)));
  const top = o.subtitle ? 80 : 62;
  const extent = o.flipX ? { ...o.extent, x0: o.extent.x1, x1: o.extent.x0 } : o.extent;
  const frame: Frame = { left: 84, top, width: plotWidth, height: plotHeight, ...extent };
  // Scale: the 95th percentile arrow spans 1/12 of the frame's smaller side.
  const lengths = new Float64Array(n);
  let finite = 0;
  for (let i = 0; i < n; i++) {
    const len = Math.sqrt(o.u[i]! * o.u[i]! + o.v[i]! * o.v[i]!);
    if (Number.isFinite(len)) lengths[finite++] = len;
  }
  const sorted = lengths.subarray(0, finite).sort();
  const typical = finite > 0 ? quantileSorted(sorted, 0.95) : 1;
  const keyLength = niceLength(typical);
  const pxPerUnit = Math.min(plotWidth, plotHeight) / 12 / (typical > 0 ? typical : 1);
  const body: string[] = [];
  body.push(`<text x="${frame.left}" y="28" font-size="18" font-weight="bold">${escapeXml(o.title)}</text>`);
  if (o.subtitle) body.push(`<text x="${frame.left}" y="50" font-size="13" fill="#444">${escapeXml(o.subtitle)}</text>`);
  body.push(`<clipPath id="q"><rect x="${frame.left}" y="${frame.top}" width="${frame.width}" height="${frame.height}"/></clipPath>`);
  body.push('<g clip-path="url(#q)">');
  for (const r of o.outlines ?? []) {
    const xa = toPxX(frame, r.x0), xb = toPxX(frame, r.x1);
    const ya = toPxY(frame, r.y0), yb = toPxY(frame, r.y1);
    body.push(`<rect x="${Math.min(xa, xb).toFixed(1)}" y="${Math.min(ya, yb).toFixed(1)}" width="${Math.abs(xb - xa).toFixed(1)}" height="${Math.abs(yb - ya).toFixed(1)}" fill="#f3f3f3" stroke="#999"/>`);
    if (r.label) body.push(`<text x="${((xa + xb) / 2).toFixed(1)}" y="${((ya + yb) / 2).toFixed(1)}" text-anchor="middle" font-size="11" fill="#777">${escapeXml(r.label)}</text>`);
  }
  const sx = o.flipX ? -1 : 1;
  const path: string[] = [];
  for (let i = 0; i < n; i++) {
    const u = o.u[i]!, v = o.v[i]!;
    if (!Number.isFinite(u) || !Number.isFinite(v)) continue;
    const px = toPxX(frame, o.x[i]!), py = toPxY(frame, o.y[i]!);
    const dx = sx * u * pxPerUnit, dy = -v * pxPerUnit;
    const hx = px + dx, hy = py + dy;
    const len = Math.sqrt(dx * dx + dy * dy);
    path.push(`M${px.toFixed(1)} ${py.toFixed(1)}L${hx.toFixed(1)} ${hy.toFixed(1)}`);
    if (len > 3) {
      // Arrow head: two short strokes at +-25 degrees back from the tip.
      const hl = Math.min(6, len * 0.35), ux = dx / len, uy = dy / len;
      const c = Math.cos(0.44), s = Math.sin(0.44);
      path.push(`M${(hx - hl * (ux * c - uy * s)).toFixed(1)} ${(hy - hl * (uy * c + ux * s)).toFixed(1)}L${hx.toFixed(1)} ${hy.toFixed(1)}L${(hx - hl * (ux * c + uy * s)).toFixed(1)} ${(hy - hl * (uy * c - ux * s)).toFixed(1)}`);
    }
  }
  body.push(`<path d="${path.join('')}" fill="none" stroke="#1f4e9c" stroke-width="1.2"/>`);
  body.push('</g>');
  body.push(axesSvg(frame, o.xLabel, o.yLabel));
  // The canvas is wide enough for the title even when the frame is narrow (a tall CCD).
  // (Bold 18 px text is about 11 px a character, 13 px text about 7.5.)
  const canvasWidth = Math.round(Math.max(frame.left + plotWidth + 40, 520, frame.left + o.title.length * 11 + 20, frame.left + (o.subtitle?.length ?? 0) * 7.5 + 20));
  // Key arrow at the top right, just above the frame, clear of the title and axes.
  const keyPx = keyLength * pxPerUnit;
  const ky = frame.top - 10;
  const kx1 = canvasWidth - 16, kx0 = kx1 - keyPx;
  body.push(`<path d="M${kx0.toFixed(1)} ${ky}L${kx1.toFixed(1)} ${ky}M${(kx1 - 6).toFixed(1)} ${ky - 3}L${kx1.toFixed(1)} ${ky}L${(kx1 - 6).toFixed(1)} ${ky + 3}" stroke="#1f4e9c" stroke-width="1.5" fill="none"/>`);
  body.push(`<text x="${(kx0 - 6).toFixed(1)}" y="${ky}" dy="0.35em" text-anchor="end" font-size="12">${escapeXml(`${keyLength} ${o.unit}`)}</text>`);
  return svgDocument(canvasWidth, frame.top + plotHeight + 62, body.join('\n'));
}
