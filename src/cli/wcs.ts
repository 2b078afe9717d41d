/**
 * WCS commands: pix2sky, sky2pix (CSV catalogs), wcs info, wcs fit-inverse.
 * The benchmark command lives in benchWcs.ts.
 */
import { Table, makeVector, type Vector } from 'apache-arrow';
import { SkycalError } from '../errors.js';
import { csvToTable, tableToCsv } from '../catalog/csv.js';
import { loadWcs, type TanSipWcs } from '../wcs/index.js';
import { parseBBoxOption, parseIntegerOption, optionalString, requireString } from './args.js';
import type { Command, OptionSpec, ParsedValues } from './command.js';
import { readTextInput, writeTextOutput } from './io.js';
import { CATALOG_OPTIONS, CATALOG_USAGE, fileVersion, runCatalogCommand, type CatalogCommandResult } from './catalogCommand.js';
import { withPixels, withSky } from '../catalog/views.js';
import { kernelInputValues } from '../catalog/columnTypes.js';
import { writeFileAtomic } from '../io/atomicFile.js';

export const WCS_OPTIONS: OptionSpec = {
  wcs: { type: 'string' },
  hdu: { type: 'string' },
  parent: { type: 'boolean', default: false },
};

export function wcsFromOptions(values: ParsedValues): TanSipWcs {
  const hdu = optionalString(values, 'hdu');
  return loadWcs(requireString(values, 'wcs'), {
    ...(hdu !== undefined ? { hdu: parseIntegerOption(hdu, 'hdu') } : {}),
    parent: values['parent'] === true,
  });
}

function numericColumn(table: Table, name: string, source: string): Float64Array {
  const col = table.getChild(name);
  if (!col) throw new SkycalError('BAD_INPUT', `${source}: missing column ${name} (have ${table.schema.fields.map((f) => f.name).join(', ')})`);
  // The one type rule (catalog/columnTypes.ts): integers and floats read as doubles, nulls as NaN, text refused.
  return kernelInputValues(col, name, source, new Float64Array(col.length));
}

function withColumns(table: Table, added: Record<string, Float64Array | Uint8Array>): Table {
  const cols: Record<string, Vector> = {};
  // Existing columns keep their place (replaced in place when recomputed); new ones go last.
  for (const f of table.schema.fields) cols[f.name] = f.name in added ? makeVector(added[f.name]!) : table.getChild(f.name)!;
  for (const [name, a] of Object.entries(added)) if (!(name in cols)) cols[name] = makeVector(a);
  return new Table(cols);
}

async function transformCsv(
  values: ParsedValues,
  ctx: Parameters<Command['run']>[2],
  inCols: [string, string],
  compute: (a: Float64Array, b: Float64Array) => { cols: Record<string, Float64Array | Uint8Array>; bad: number },
): Promise<void> {
  const input = await readTextInput(optionalString(values, 'in'));
  const table = csvToTable(input.text, input.source);
  const a = numericColumn(table, inCols[0], input.source);
  const b = numericColumn(table, inCols[1], input.source);
  const { cols, bad } = compute(a, b);
  const out = optionalString(values, 'out');
  if (ctx.json && out === undefined) {
    ctx.writeJson({ rows: a.length, bad, columns: Object.fromEntries(Object.entries(cols).map(([k, v]) => [k, Array.from(v, (x) => (Number.isNaN(x) ? null : x))])) });
    return;
  }
  writeTextOutput(out, tableToCsv(withColumns(table, cols)), ctx);
  if (ctx.json) ctx.writeJson({ rows: a.length, bad, out });
  else if (bad > 0) ctx.log(`${bad} of ${a.length} rows could not be transformed (NaN, see the status column)`);
}

const IO_OPTIONS: OptionSpec = CATALOG_OPTIONS;

/** Catalogs go through the pool (any format); `--json` without `--out` prints the columns as JSON instead. */
function reportBad(r: CatalogCommandResult, ctx: Parameters<Command['run']>[2]): void {
  if (ctx.json) ctx.writeJson({ rows: r.rows, bad: r.bad, out: r.out });
  else if (r.bad > 0) ctx.log(`${r.bad} of ${r.rows} rows could not be transformed (NaN, see the status column)`);
}

export const pix2skyCommand: Command = {
  name: 'pix2sky',
  summary: 'x,y (0-based pixels) -> adds coord_ra, coord_dec (deg) and status, through a TAN-SIP WCS',
  usage: `--wcs H.hdr|F.fits|builtin:ptf [--hdu N] [--parent] ${CATALOG_USAGE}`,
  options: { ...WCS_OPTIONS, ...IO_OPTIONS },
  async run(values, _p, ctx) {
    const wcs = wcsFromOptions(values);
    if (!(ctx.json && optionalString(values, 'out') === undefined)) {
      const wcsVersion = await fileVersion(requireString(values, 'wcs'));
      const r = await runCatalogCommand(values, ctx, 'pix2sky', (source, options) => withSky(source, wcs, { ...options, wcsVersion }));
      reportBad(r, ctx);
      return;
    }
    await transformCsv(values, ctx, ['x', 'y'], (x, y) => {
      const r = wcs.pixelToSkyArrays(x, y);
      return { cols: { coord_ra: r.ra, coord_dec: r.dec, status: r.status }, bad: r.bad };
    });
  },
};

export const sky2pixCommand: Command = {
  name: 'sky2pix',
  summary: 'coord_ra,coord_dec (deg) -> adds x, y (0-based pixels) and status; exact unless --approx (AP/BP only)',
  usage: `--wcs H.hdr|F.fits|builtin:ptf [--hdu N] [--parent] [--approx] ${CATALOG_USAGE}`,
  options: { ...WCS_OPTIONS, ...IO_OPTIONS, approx: { type: 'boolean', default: false } },
  async run(values, _p, ctx) {
    const wcs = wcsFromOptions(values);
    if (!(ctx.json && optionalString(values, 'out') === undefined)) {
      const wcsVersion = await fileVersion(requireString(values, 'wcs'));
      const approx = values['approx'] === true;
      const r = await runCatalogCommand(values, ctx, 'sky2pix', (source, options) => withPixels(source, wcs, { ...options, wcsVersion, approx }));
      reportBad(r, ctx);
      return;
    }
    await transformCsv(values, ctx, ['coord_ra', 'coord_dec'], (ra, dec) => {
      const r = wcs.skyToPixelArrays(ra, dec, { approx: values['approx'] === true });
      return { cols: { x: r.x, y: r.y, status: r.status }, bad: r.bad };
    });
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
  summary: 'CTYPE, CRVAL, pixel scale, orientation, SIP orders, bbox, round-trip residual and AP/BP error of a WCS',
  usage: '--wcs H.hdr|F.fits|builtin:ptf [--hdu N] [--parent] [--json]',
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
  summary: 'fit AP/BP by least squares over the bbox, write the new header, print the max AP/BP residual (px)',
  usage: '--wcs H --order N [--bbox x0,y0,x1,y1] --out H2.hdr',
  options: { ...WCS_OPTIONS, order: { type: 'string' }, bbox: { type: 'string' }, out: { type: 'string' } },
  async run(values, _p, ctx) {
    const wcs = wcsFromOptions(values);
    const order = parseIntegerOption(optionalString(values, 'order'), 'order');
    const out = requireString(values, 'out');
    const bbox = parseBBoxOption(optionalString(values, 'bbox'));
    if (!bbox && !wcs.bbox) throw new SkycalError('USAGE', 'wcs fit-inverse: the header gives no image size; pass --bbox x0,y0,x1,y1');
    const fit = wcs.fitInverse({ order, ...(bbox ? { bbox } : {}) });
    writeFileAtomic(out, fit.wcs.toFitsHeader());
    if (ctx.json) ctx.writeJson({ order, maxResidualPx: fit.maxResidualPx, out });
    else ctx.stdout.write(`max AP/BP residual ${fit.maxResidualPx} px (order ${order}); wrote ${out}\n`);
  },
};
