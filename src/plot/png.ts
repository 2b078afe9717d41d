/**
 * PNG output for plots: we draw SVG ourselves and rasterise it with resvg
 * (a Rust SVG renderer shipped as a prebuilt npm binary), using the system's
 * fonts with DejaVu Sans as the fallback family.
 */
import { Resvg } from '@resvg/resvg-js';

/** Rasterise an SVG document to PNG bytes at `scale` times its nominal size. */
export function svgToPng(svg: string, scale = 2): Uint8Array {
  const renderer = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  return renderer.render().asPng();
}

/** Write an SVG document as .svg or .png, chosen by the output path's extension. */
export function plotBytes(svg: string, outPath: string): Uint8Array {
  if (/\.png$/i.test(outPath)) return svgToPng(svg);
  return new TextEncoder().encode(svg);
}
