/**
 * WCS commands: pix2sky, sky2pix (CSV catalogs), wcs info, wcs fit-inverse.
 * The benchmark command lives in benchWcs.ts.
 */
import type { Table } from 'apache-arrow';
import { errors } from '../errors.js';
import { loadWcs, type TanSipWcs } from '../wcs/index.js';
import { parseBBoxOption, parseIntegerOption, optionalString, requireString } from './args.js';
import type { Command, OptionSpec, ParsedValues } from './command.js';
import { CATALOG_OPTIONS, fileVersion, runCatalogCommand, type CatalogCommandResult } from './catalogCommand.js';
import { withPixels, withSky } from '../catalog/views.js';
import { writeFileAtomic } from '../io/atomicFile.js';

export const WCS_OPTIONS: OptionSpec = {
  wcs: { type: 'string', value: 'H', required: true, description: 'the WCS: header text (.hdr), a FITS file, or builtin:ptf / builtin:hsc' },
  hdu: { type: 'string', value: 'N', description: 'the HDU of a FITS file that holds the WCS (default: the first with CTYPE1)' },
  parent: { type: 'boolean', default: false, description: 'pixels are LSST parent pixels (local + xy0)' },
};

export function wcsFromOptions(values: ParsedValues): TanSipWcs {
  const hdu = optionalString(values, 'hdu');
  return loadWcs(requireString(values, 'wcs'), {
    ...(hdu !== undefined ? { hdu: parseIntegerOption(hdu, 'hdu') } : {}),
    parent: values['parent'] === true,
  });
}

/** `--json` without `--out`: the derived columns as JSON (NaN as null), computed by the same engine as files. */
function derivedColumnsJson(table: Table, names: readonly string[]): Record<string, (number | null)[]> {
  return Object.fromEntries(
    names.map((n) => [n, Array.from(table.getChild(n)!.toArray() as ArrayLike<number>, (x) => (Number.isNaN(x) ? null : Number(x)))]),
  );
}

/** Catalogs go through the pool (any format); `--json` without `--out` prints the derived columns as JSON instead. */
function report(r: CatalogCommandResult, ctx: Parameters<Command['run']>[2]): void {
  if (ctx.json && r.table !== undefined) ctx.writeJson({ rows: r.rows, bad: r.bad, columns: derivedColumnsJson(r.table, r.derived) });
  else if (ctx.json) ctx.writeJson({ rows: r.rows, bad: r.bad, out: r.out });
  else if (r.bad > 0) ctx.log(`${r.bad} of ${r.rows} rows could not be transformed (NaN, see the status column)`);
}

export const pix2skyCommand: Command = {
  name: 'pix2sky',
  options: { ...WCS_OPTIONS, ...CATALOG_OPTIONS },
  notes: 'Without --out, --json prints {"rows", "bad", "columns": {"coord_ra": [...], "coord_dec": [...], "status": [...]}}.',
  async run(values, _p, ctx) {
    const wcs = wcsFromOptions(values);
    const wcsVersion = await fileVersion(requireString(values, 'wcs'), '--wcs');
    const r = await runCatalogCommand(values, ctx, 'pix2sky', (source, options) => withSky(source, wcs, { ...options, wcsVersion }), { collect: ctx.json });
    report(r, ctx);
  },
};

export const sky2pixCommand: Command = {
  name: 'sky2pix',
  options: { ...WCS_OPTIONS, ...CATALOG_OPTIONS, approx: { type: 'boolean', default: false, description: 'AP/BP alone (fast, approximate) instead of the exact Newton inverse (1e-10 px)' } },
  notes: 'Without --out, --json prints {"rows", "bad", "columns": {"x": [...], "y": [...], "status": [...]}}.',
  async run(values, _p, ctx) {
    const wcs = wcsFromOptions(values);
    const wcsVersion = await fileVersion(requireString(values, 'wcs'), '--wcs');
    const approx = values['approx'] === true;
    const r = await runCatalogCommand(values, ctx, 'sky2pix', (source, options) => withPixels(source, wcs, { ...options, wcsVersion, approx }), { collect: ctx.json });
    report(r, ctx);
  },
};

/** Everything `wcs info` reports, as one JSON-able object. */
export function describeWcs(wcs: TanSipWcs): Record<string, unknown> {
  const b = wcs.bbox;
  const centre = b ? { x: (b.minX + b.maxX) / 2, y: (b.minY + b.maxY) / 2 } : wcs.crpix;
  const lin = wcs.linearizePixelToSky(centre.x, centre.y);
  const det = lin.cd[0][0] * lin.cd[1][1] - lin.cd[0][1] * lin.cd[1][0];
  const rt = b ? wcs.roundTripResidual(b) : undefined;
  return {
    ctype: wcs.ctype,
    crval: wcs.crval,
    crpix: wcs.crpix,
    cd: wcs.cd,
    lonpole: wcs.lonpole,
    radesys: wcs.radesys,
    ...(wcs.equinox !== undefined ? { equinox: wcs.equinox } : {}),
    pixelScaleArcsec: wcs.getPixelScale(centre.x, centre.y),
    centre: { x: centre.x, y: centre.y, ra: lin.ra, dec: lin.dec },
    /** Position angle of the +y axis, east of north, at the centre. */
    orientationDeg: (Math.atan2(lin.cd[0][1], lin.cd[1][1]) * 180) / Math.PI,
    flipped: det > 0,
    sip: { a: wcs.sipA?.order ?? null, b: wcs.sipB?.order ?? null, ap: wcs.sipAp?.order ?? null, bp: wcs.sipBp?.order ?? null },
    bbox: b ?? null,
    parentOffset: wcs.parentOffset,
    roundTripMaxResidualPx: rt?.maxResidualPx ?? null,
    inverseMaxResidualPx: rt?.approxMaxResidualPx ?? null,
    warnings: wcs.warnings,
  };
}

export const wcsInfoCommand: Command = {
  name: 'wcs info',
  options: WCS_OPTIONS,
  async run(values, _p, ctx) {
    const info = describeWcs(wcsFromOptions(values));
    if (ctx.json) return ctx.writeJson(info);
    const fmt = (v: unknown) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));
    const lines = Object.entries(info).map(([k, v]) => `${k.padEnd(24)} ${fmt(v)}`);
    ctx.stdout.write(`${lines.join('\n')}\n`);
  },
};

export const wcsFitInverseCommand: Command = {
  name: 'wcs fit-inverse',
  options: {
    ...WCS_OPTIONS,
    order: { type: 'string', value: 'N', required: true, description: 'the order of the AP/BP polynomials' },
    bbox: { type: 'string', value: 'x0,y0,x1,y1', description: 'the pixel box to fit over (default: the image)' },
    out: { type: 'string', value: 'H2.hdr', required: true, description: 'the header to write, with the fitted AP/BP' },
  },
  async run(values, _p, ctx) {
    const wcs = wcsFromOptions(values);
    const order = parseIntegerOption(optionalString(values, 'order'), 'order');
    const out = requireString(values, 'out');
    const bbox = parseBBoxOption(optionalString(values, 'bbox'));
    if (!bbox && !wcs.bbox) throw errors.usage('wcs fit-inverse: the header gives no image size; pass --bbox x0,y0,x1,y1');
    const fit = wcs.fitInverse({ order, ...(bbox ? { bbox } : {}) });
    writeFileAtomic(out, fit.wcs.toFitsHeader());
    if (ctx.json) ctx.writeJson({ order, maxResidualPx: fit.maxResidualPx, out });
    else ctx.stdout.write(`max AP/BP residual ${fit.maxResidualPx} px (order ${order}); wrote ${out}\n`);
  },
};
