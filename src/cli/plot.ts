/** `skycal plot distortion`: the SIP distortion of a WCS over its image as a quiver plot. */
import { SkycalError } from '../errors.js';
import { loadWcs } from '../wcs/load.js';
import { sipDistortionGrid } from '../wcs/distortion.js';
import { quiverSvg } from '../plot/quiver.js';
import { plotBytes } from '../plot/png.js';
import { writeFileAtomic } from '../io/atomicFile.js';
import type { Command } from './command.js';
import { optionalString, parseBBoxOption, parseIntegerOption, requireString } from './args.js';

export const plotDistortion: Command = {
  name: 'plot distortion',
  summary: 'plot the SIP distortion (pixel minus linear WCS) over the image as arrows, with a scale',
  usage: '--wcs H.hdr|F.fits|builtin:NAME [--hdu N] [--bbox x0,y0,x1,y1] [--grid N] --out F.svg|F.png',
  options: {
    wcs: { type: 'string' },
    hdu: { type: 'string' },
    bbox: { type: 'string' },
    grid: { type: 'string' },
    out: { type: 'string' },
  },
  async run(values, _positionals, ctx) {
    const path = requireString(values, 'wcs');
    const out = requireString(values, 'out');
    if (!/\.(svg|png)$/i.test(out)) throw new SkycalError('USAGE', `--out ${out}: expected a .svg or .png file`);
    const hduText = optionalString(values, 'hdu');
    const wcs = loadWcs(path, hduText === undefined ? {} : { hdu: parseIntegerOption(hduText, 'hdu') });
    const bbox = parseBBoxOption(optionalString(values, 'bbox')) ?? wcs.bbox;
    if (bbox === undefined) {
      throw new SkycalError('USAGE', `${path}: the header gives no image size (NAXISn, ZNAXISn, IMAGEW/H); pass --bbox x0,y0,x1,y1`);
    }
    // About N arrows along the longer side, square cells.
    const perSide = parseIntegerOption(optionalString(values, 'grid'), 'grid', 24, 2);
    const w = bbox.maxX - bbox.minX + 1;
    const h = bbox.maxY - bbox.minY + 1;
    const cell = Math.max(w, h) / perSide;
    const nx = Math.max(2, Math.round(w / cell));
    const ny = Math.max(2, Math.round(h / cell));
    const grid = sipDistortionGrid(wcs, bbox, nx, ny);
    const svg = quiverSvg({
      x: grid.x, y: grid.y, u: grid.dx, v: grid.dy,
      extent: { x0: bbox.minX - 0.5, x1: bbox.maxX + 0.5, y0: bbox.minY - 0.5, y1: bbox.maxY + 0.5 },
      title: `SIP distortion: ${path.split('/').pop()}`,
      subtitle: `pixel minus linear WCS · max ${grid.maxPx.toPrecision(3)} px · SIP order ${wcs.sipA?.order ?? 0}`,
      xLabel: 'x (pixels, 0-based)',
      yLabel: 'y (pixels, 0-based)',
      unit: 'px',
    });
    writeFileAtomic(out, plotBytes(svg, out));
    if (ctx.json) ctx.writeJson({ out, maxDistortionPx: grid.maxPx, grid: { nx, ny } });
    else ctx.log(`wrote ${out}: max distortion ${grid.maxPx.toPrecision(3)} px over ${nx}x${ny} grid`);
  },
};
