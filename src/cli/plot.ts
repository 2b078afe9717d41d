/** `skycal plot distortion`: the SIP distortion of a WCS over its image as a quiver plot. */
import { errors } from '../errors.js';
import { loadWcs } from '../wcs/load.js';
import { distortionMapSvg } from '../plot/maps.js';
import { plotBytes } from '../plot/png.js';
import { writeFileAtomic } from '../io/atomicFile.js';
import type { Command } from './command.js';
import { optionalString, parseBBoxOption, parseIntegerOption, requireString } from './args.js';

/** The most arrows per side: a 200 x 200 quiver is already unreadable, and larger grids only cost memory. */
export const MAX_GRID = 200;

export const plotDistortion: Command = {
  name: 'plot distortion',
  options: {
    wcs: { type: 'string', value: 'H', required: true, description: 'the WCS: header text (.hdr), a FITS file, or builtin:ptf / builtin:hsc' },
    hdu: { type: 'string', value: 'N', description: 'the HDU of a FITS file that holds the WCS (default: the first with CTYPE1)' },
    bbox: { type: 'string', value: 'x0,y0,x1,y1', description: 'the pixel box to plot (default: the image)' },
    grid: { type: 'string', value: 'N', description: `arrows along the longer side (default 24, 2 to ${MAX_GRID})` },
    out: { type: 'string', value: 'F.svg|F.png', required: true, description: 'the plot to write (SVG, or PNG rendered by resvg)' },
  },
  async run(values, _positionals, ctx) {
    const path = requireString(values, 'wcs');
    const out = requireString(values, 'out');
    if (!/\.(svg|png)$/i.test(out)) throw errors.usage(`--out ${out}: expected a .svg or .png file`);
    const hduText = optionalString(values, 'hdu');
    const wcs = loadWcs(path, hduText === undefined ? {} : { hdu: parseIntegerOption(hduText, 'hdu') });
    const bbox = parseBBoxOption(optionalString(values, 'bbox')) ?? wcs.bbox;
    if (bbox === undefined) {
      throw errors.usage(`${path}: the header gives no image size (NAXISn, ZNAXISn, IMAGEW/H); pass --bbox x0,y0,x1,y1`);
    }
    const cells = parseIntegerOption(optionalString(values, 'grid'), 'grid', 24, 2, MAX_GRID);
    const { svg, maxDistortionPx, nx, ny } = distortionMapSvg(wcs, bbox, { title: `SIP distortion: ${path.split('/').pop()}`, cells });
    writeFileAtomic(out, plotBytes(svg, out));
    if (ctx.json) ctx.writeJson({ out, maxDistortionPx, grid: { nx, ny } });
    else ctx.log(`wrote ${out}: max distortion ${maxDistortionPx.toPrecision(3)} px over ${nx}x${ny} grid`);
  },
};
