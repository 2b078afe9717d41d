/**
 * A heat map of gridded values with a colour bar, ticked and labelled axes and
 * a title, as one self-contained SVG (the raster embedded as a PNG data URI,
 * smoothed by the renderer). Row 0 of `values` is the lowest y, as in
 * astronomy plots (matplotlib origin='lower').
 */
import { type Rgb, rgbCss, viridis } from './colormap.js';
import { type Frame, axesSvg, escapeXml, formatTick, niceTicks, svgDocument } from './svg.js';
import { encodePngRgba, pngDataUri } from './pngEncode.js';

export interface HeatmapOptions {
  /** nx * ny values, row-major, row 0 at y0. */
  values: ArrayLike<number>;
  nx: number;
  ny: number;
  /** Data coordinates of the map's outer edges. */
  extent: { x0: number; x1: number; y0: number; y1: number };
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  colorbarLabel: string;
  /** Colour range (default: the finite min and max of values). */
  vmin?: number;
  vmax?: number;
  colormap?: (t: number) => Rgb;
  /** Height of the data area in px (default 520); width follows the extent's aspect ratio. */
  plotHeight?: number;
}

export function finiteRange(values: ArrayLike<number>): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

export function heatmapSvg(o: HeatmapOptions): string {
  const cmap = o.colormap ?? viridis;
  let [vmin, vmax] = finiteRange(o.values);
  vmin = o.vmin ?? vmin;
  vmax = o.vmax ?? vmax;
  if (!(vmax - vmin > 1e-9 * Math.abs(vmin))) {
    // A flat field (to double rounding): widen the range so that it still gets a readable bar.
    const pad = Math.abs(vmin) * 1e-6 || 1e-6;
    vmin -= pad;
    vmax += pad;
  }
  const plotHeight = o.plotHeight ?? 520;
  const aspect = (o.extent.x1 - o.extent.x0) / (o.extent.y1 - o.extent.y0);
  const plotWidth = Math.round(Math.min(900, Math.max(220, plotHeight * aspect)));
  const top = o.subtitle ? 70 : 52;
  const frame: Frame = { left: 84, top, width: plotWidth, height: plotHeight, ...o.extent };
  const barLeft = frame.left + plotWidth + 28, barWidth = 22;
  const width = barLeft + barWidth + 110, height = top + plotHeight + 62;

  // Raster: one pixel per grid cell, top row = highest y.
  const rgba = new Uint8Array(o.nx * o.ny * 4);
  for (let j = 0; j < o.ny; j++) {
    for (let i = 0; i < o.nx; i++) {
      const c = cmap((o.values[j * o.nx + i]! - vmin) / (vmax - vmin));
      const k = ((o.ny - 1 - j) * o.nx + i) * 4;
      rgba[k] = c[0]; rgba[k + 1] = c[1]; rgba[k + 2] = c[2]; rgba[k + 3] = 255;
    }
  }
  const map = `<image x="${frame.left}" y="${frame.top}" width="${plotWidth}" height="${plotHeight}" preserveAspectRatio="none" href="${pngDataUri(encodePngRgba(rgba, o.nx, o.ny))}"/>`;

  // Colour bar: a vertical gradient with ticks on its right.
  const stops = Array.from({ length: 17 }, (_, k) => `<stop offset="${(k / 16).toFixed(4)}" stop-color="${rgbCss(cmap(1 - k / 16))}"/>`).join('');
  const ticks = niceTicks(vmin, vmax, 6);
  const barTicks = ticks.map((v) => {
    const py = (frame.top + plotHeight - ((v - vmin) / (vmax - vmin)) * plotHeight).toFixed(1);
    return `<line x1="${barLeft + barWidth}" y1="${py}" x2="${barLeft + barWidth + 5}" y2="${py}" stroke="#222"/>` +
      `<text x="${barLeft + barWidth + 8}" y="${py}" dy="0.35em" font-size="12">${formatTick(v, ticks)}</text>`;
  });
  const barMid = frame.top + plotHeight / 2, barLabelX = barLeft + barWidth + 88;
  const body = [
    `<text x="${frame.left + plotWidth / 2}" y="28" text-anchor="middle" font-size="17" font-weight="bold">${escapeXml(o.title)}</text>`,
    o.subtitle ? `<text x="${frame.left + plotWidth / 2}" y="50" text-anchor="middle" font-size="12" fill="#444">${escapeXml(o.subtitle)}</text>` : '',
    map,
    axesSvg(frame, o.xLabel, o.yLabel),
    `<defs><linearGradient id="cbar" x1="0" y1="0" x2="0" y2="1">${stops}</linearGradient></defs>`,
    `<rect x="${barLeft}" y="${frame.top}" width="${barWidth}" height="${plotHeight}" fill="url(#cbar)" stroke="#222"/>`,
    ...barTicks,
    `<text x="${barLabelX}" y="${barMid}" text-anchor="middle" font-size="14" transform="rotate(-90 ${barLabelX} ${barMid})">${escapeXml(o.colorbarLabel)}</text>`,
  ].join('\n');
  return svgDocument(width, height, body);
}
