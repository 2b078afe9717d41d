/**
 * Small SVG building blocks shared by skycal's plots (heat maps, distortion
 * and quiver plots): escaping, "nice" axis ticks, number labels, and a
 * labelled, ticked frame around a data rectangle.
 */
export const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Ticks at 1, 2 or 5 x 10^k covering [lo, hi], about `target` of them. */
export function niceTicks(lo: number, hi: number, target = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  // Multiples of step (not a running sum, which drifts).
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) out.push(k === 0 ? 0 : k * step);
  return out;
}

/** A tick label with no more digits than the tick spacing needs. */
export function formatTick(v: number, ticks: readonly number[]): string {
  const step = ticks.length > 1 ? Math.abs(ticks[1]! - ticks[0]!) : Math.abs(v) || 1;
  const digits = Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9)));
  return v.toFixed(digits);
}

/**
 * Lines of at most about `maxChars` characters: breaks after ", " or " · "
 * first, then at spaces; a single word longer than that keeps its own line.
 */
export function wrapText(text: string, maxChars: number): string[] {
  if (text.length <= maxChars) return [text];
  const pieces = text.split(/(?<=, |· )/).flatMap((p) => (p.length > maxChars ? p.split(/(?<= )/) : [p]));
  const lines: string[] = [];
  let line = '';
  for (const p of pieces) {
    if (line !== '' && (line + p).trimEnd().length > maxChars) {
      lines.push(line.trimEnd());
      line = '';
    }
    line += p;
  }
  if (line.trim() !== '') lines.push(line.trimEnd());
  // A "·" ends a line only because the break fell after it.
  return lines.map((l) => l.replace(/\s*·$/, ''));
}

export interface Frame {
  /** Pixel rectangle of the data area in the SVG. */
  left: number;
  top: number;
  width: number;
  height: number;
  /** Data range shown: x grows right, y grows up. */
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

export const toPxX = (f: Frame, x: number): number => f.left + ((x - f.x0) / (f.x1 - f.x0)) * f.width;
export const toPxY = (f: Frame, y: number): number => f.top + f.height - ((y - f.y0) / (f.y1 - f.y0)) * f.height;

/** Border, ticks, tick labels and axis labels around a frame. */
export function axesSvg(f: Frame, xLabel: string, yLabel: string): string {
  const parts: string[] = [`<rect class="frame" x="${f.left}" y="${f.top}" width="${f.width}" height="${f.height}" fill="none" stroke="#222" stroke-width="1"/>`];
  // Ticks over the sorted range: an axis may run right to left (RA on the sky).
  const xt = niceTicks(Math.min(f.x0, f.x1), Math.max(f.x0, f.x1), Math.max(3, Math.round(f.width / 90)));
  for (const v of xt) {
    const px = toPxX(f, v).toFixed(1);
    parts.push(`<line x1="${px}" y1="${f.top + f.height}" x2="${px}" y2="${f.top + f.height + 5}" stroke="#222"/>`);
    parts.push(`<text x="${px}" y="${f.top + f.height + 19}" text-anchor="middle" font-size="12">${formatTick(v, xt)}</text>`);
  }
  const yt = niceTicks(Math.min(f.y0, f.y1), Math.max(f.y0, f.y1), Math.max(3, Math.round(f.height / 70)));
  for (const v of yt) {
    const py = toPxY(f, v).toFixed(1);
    parts.push(`<line x1="${f.left - 5}" y1="${py}" x2="${f.left}" y2="${py}" stroke="#222"/>`);
    parts.push(`<text x="${f.left - 8}" y="${py}" dy="0.35em" text-anchor="end" font-size="12">${formatTick(v, yt)}</text>`);
  }
  parts.push(`<text x="${f.left + f.width / 2}" y="${f.top + f.height + 40}" text-anchor="middle" font-size="14">${escapeXml(xLabel)}</text>`);
  const cy = f.top + f.height / 2;
  parts.push(`<text x="${f.left - 58}" y="${cy}" text-anchor="middle" font-size="14" transform="rotate(-90 ${f.left - 58} ${cy})">${escapeXml(yLabel)}</text>`);
  return parts.join('\n');
}

export function svgDocument(width: number, height: number, body: string): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    body,
    '</svg>',
    '',
  ].join('\n');
}
