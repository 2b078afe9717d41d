/** `skycal plot distortion`: the SIP distortion of a WCS over its image as a quiver plot. */
import { SkycalError } from '../errors.js';
import { loadWcs } from '../wcs/load.js';
import { distortionMapSvg } from '../plot/maps.js';
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
    const cells = parseIntegerOption(optionalString(values, 'grid'), 'grid', 24, 2);
    const { svg, maxDistortionPx, nx, ny } = distortionMapSvg(wcs, bbox, { title: `SIP distortion: ${path.split('/').pop()}`, cells });
    writeFileAtomic(out, plotBytes(svg, out));
    if (ctx.json) ctx.writeJson({ out, maxDistortionPx, grid: { nx, ny } });
    else ctx.log(`wrote ${out}: max distortion ${maxDistortionPx.toPrecision(3)} px over ${nx}x${ny} grid`);
  },
};
