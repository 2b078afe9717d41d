/**
 * Photometric calibration commands: `calibrate`, `photocalib info`,
 * `plot photocalib` and `bench calibrate`.
 */
import { readFile } from 'node:fs/promises';
import { SkycalError, errors } from '../errors.js';
import { readHdus, looksLikeFits } from '../fits/file.js';
import { PhotoCalib } from '../photocalib/photoCalib.js';
import { instFluxNames } from '../catalog/columns.js';
import type { DerivedBatches } from '../catalog/derive.js';
import { benchCalibrate } from '../photocalib/benchCalibrate.js';
import { boxToString, makeBox } from '../photocalib/bbox.js';
import type { ChebyshevField } from '../photocalib/chebyshevField.js';
import { photoCalibMapSvg } from '../plot/maps.js';
import { writeFileAtomic } from '../io/atomicFile.js';
import type { Command } from './command.js';
import { CATALOG_OPTIONS, CATALOG_USAGE, fileVersion, runCatalogCommand } from './catalogCommand.js';
import { calibrated } from '../catalog/views.js';
import { optionalString, parseBBoxOption, parseIntegerOption, requireString, stringList } from './args.js';

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw errors.notFound(path);
    throw errors.io(path, e);
  }
}

/** A PhotoCalib from its JSON, or from the FLUXMAG0 cards of a FITS file or header text. */
export async function readPhotoCalib(path: string): Promise<PhotoCalib> {
  const bytes = await readBytes(path);
  if (looksLikeFits(bytes)) return PhotoCalib.fromFitsHeader(readHdus(bytes, path)[0]!.header);
  const text = new TextDecoder().decode(bytes);
  if (/\.(hdr|txt)$/i.test(path) || /^\s*FLUXMAG0/m.test(text)) return PhotoCalib.fromFitsHeader(text);
  try {
    return PhotoCalib.fromJson(text);
  } catch (e) {
    if (SkycalError.isSkycalError(e)) throw new SkycalError(e.code, `${path}: ${e.message}`);
    throw e;
  }
}

const calibrate: Command = {
  name: 'calibrate',
  summary: 'add <name>_flux, _fluxErr (nJy) and _mag, _magErr (AB) for every <name>_instFlux column',
  usage: `--photocalib P.json [--legacy-errors] [--field NAME]... [--x COL --y COL] ${CATALOG_USAGE}`,
  options: {
    photocalib: { type: 'string' },
    'legacy-errors': { type: 'boolean', default: false },
    field: { type: 'string', multiple: true },
    x: { type: 'string' },
    y: { type: 'string' },
    ...CATALOG_OPTIONS,
  },
  async run(values, _positionals, ctx) {
    const calibPath = requireString(values, 'photocalib');
    const outPath = optionalString(values, 'out');
    if (ctx.json && outPath === undefined) throw new SkycalError('USAGE', 'calibrate --json needs --out (stdout would carry both the CSV and the JSON)');
    const calib = await readPhotoCalib(calibPath);
    const fields = stringList(values, 'field');
    const x = optionalString(values, 'x'), y = optionalString(values, 'y');
    const legacyErrors = values['legacy-errors'] === true;
    const photoCalibVersion = await fileVersion(calibPath);
    let view: DerivedBatches | undefined;
    const r = await runCatalogCommand(values, ctx, 'calibrate', (source, options) =>
      (view = calibrated(source, calib, {
        ...options,
        legacyErrors,
        photoCalibVersion,
        ...(fields.length > 0 ? { fluxFields: fields } : {}),
        ...(x !== undefined || y !== undefined ? { centroidColumns: [x ?? 'x', y ?? 'y'] as const } : {}),
      })),
    );
    // Rows with each status bit (nonFiniteInput, nonPositiveFlux), as recompute's summary counts them.
    const badByStatus = { ...view!.badByStatus };
    const bad = Object.entries(badByStatus).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`);
    const names = fields.length > 0 ? fields : instFluxNames(r.inputSchema);
    if (names.length === 0) ctx.log('calibrate: warning: no <name>_instFlux columns in the input; nothing to calibrate');
    const added = r.outputSchema.fields.map((f) => f.name).filter((n) => r.inputSchema.fields.every((g) => g.name !== n));
    if (ctx.json) ctx.writeJson({ rows: r.rows, fields: names, added, out: outPath, legacyErrors, badByStatus });
    else ctx.log(`calibrate: ${r.rows} rows, ${names.length} flux field(s), ${bad.length === 0 ? 'no bad points' : `bad points: ${bad.join(', ')}`}${outPath ? ` -> ${outPath}` : ''}`);
  },
};

function describe(calib: PhotoCalib) {
  const field = calib.field;
  const fieldInfo: Record<string, unknown> = { type: field.type, bbox: field.bbox ?? null };
  if (field.type === 'chebyshev') {
    const cheb = field as ChebyshevField;
    Object.assign(fieldInfo, { orderX: cheb.orderX, orderY: cheb.orderY });
  }
  if (field.type === 'product') fieldInfo['factors'] = (field.toJson() as { factors: { type: string }[] }).factors.map((f) => f.type);
  if (field.bbox) {
    const grid = field.evaluateGrid(field.bbox, Math.max(1, Math.ceil(Math.max(field.bbox.maxX - field.bbox.minX, field.bbox.maxY - field.bbox.minY) / 256)));
    let min = Infinity, max = -Infinity;
    for (const v of grid.data) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    Object.assign(fieldInfo, { mean: field.mean(), min, max });
  }
  return {
    photoCalibVersion: 1,
    calibrationMean: calib.calibrationMean,
    calibrationErr: calib.calibrationErr,
    isConstant: calib.isConstant,
    zeroPointMag: calib.instFluxToMagnitude(1),
    instFluxAtZeroMagnitude: calib.getInstFluxAtZeroMagnitude(),
    field: fieldInfo,
  };
}

const info: Command = {
  name: 'photocalib info',
  summary: 'summarise a photometric calibration (mean, error, field, zero point)',
  usage: 'P.json [--json]',
  options: {},
  positionals: { min: 1, max: 1 },
  async run(_values, positionals, ctx) {
    const calib = await readPhotoCalib(positionals[0]!);
    const d = describe(calib);
    if (ctx.json) {
      ctx.writeJson(d);
      return;
    }
    const f = d.field as Record<string, unknown>;
    const lines = [
      `calibrationMean      ${d.calibrationMean} nJy/count`,
      `calibrationErr       ${d.calibrationErr} nJy/count`,
      `isConstant           ${d.isConstant}`,
      `zero point           ${d.zeroPointMag.toFixed(6)} mag(AB) for 1 count`,
      `field                ${f['type']}${f['orderX'] !== undefined ? ` (order ${f['orderX']} in x, ${f['orderY']} in y)` : ''}${f['factors'] ? ` of ${(f['factors'] as string[]).join(' x ')}` : ''}`,
      `bbox                 ${calib.field.bbox ? boxToString(calib.field.bbox) : 'none (everywhere)'}`,
    ];
    if (f['mean'] !== undefined) {
      const m = f['mean'] as number;
      lines.push(`field mean           ${m} nJy/count`);
      lines.push(`field min / max      ${f['min']} / ${f['max']} (${(((f['max'] as number) - (f['min'] as number)) / m * 100).toFixed(3)}% of the mean)`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  },
};

const plot: Command = {
  name: 'plot photocalib',
  summary: 'heat map of c(x, y) / calibrationMean over the bbox (.svg or .png)',
  usage: '--photocalib P.json --out map.svg|map.png [--bbox x0,y0,x1,y1] [--title T]',
  options: { photocalib: { type: 'string' }, out: { type: 'string' }, bbox: { type: 'string' }, title: { type: 'string' } },
  async run(values, _positionals, ctx) {
    const calib = await readPhotoCalib(requireString(values, 'photocalib'));
    const out = requireString(values, 'out');
    if (!/\.(svg|png)$/i.test(out)) throw new SkycalError('USAGE', `--out ${out}: expected a .svg or .png file`);
    const given = parseBBoxOption(optionalString(values, 'bbox'));
    const bbox = given ? makeBox(given, '--bbox') : calib.field.bbox;
    if (!bbox) throw new SkycalError('BAD_INPUT', 'plot photocalib: a constant calibration without a bbox needs --bbox');
    const title = optionalString(values, 'title');
    const { svg, nx, ny } = photoCalibMapSvg(calib, bbox, title === undefined ? {} : { title });
    // Loaded here, not at startup: resvg is a native module every other command can do without.
    const { plotBytes } = await import('../plot/png.js');
    writeFileAtomic(out, plotBytes(svg, out));
    if (ctx.json) ctx.writeJson({ out, bbox, grid: [nx, ny] });
    else ctx.log(`plot photocalib: wrote ${out}`);
  },
};

const bench: Command = {
  name: 'bench calibrate',
  summary: 'single-threaded rows/s of flux, fluxErr, mag, magErr with a 4x4 Chebyshev field',
  usage: '--n N [--time MS] [--json]',
  options: { n: { type: 'string' }, time: { type: 'string' } },
  async run(values, _positionals, ctx) {
    const n = parseIntegerOption(optionalString(values, 'n'), 'n', 1_000_000, 1);
    const timeMs = parseIntegerOption(optionalString(values, 'time'), 'time', 1000, 1);
    const r = await benchCalibrate(n, { timeMs });
    if (ctx.json) ctx.writeJson({ calibrate: { rowsPerSecond: r.rowsPerSecond, n: r.n, medianMs: r.medianMs, samples: r.samples } });
    else process.stdout.write(`calibrate: ${(r.rowsPerSecond / 1e6).toFixed(2)} M rows/s (${((r.medianMs * 1e6) / n).toFixed(2)} ns/row, median of ${r.samples} runs of ${n} rows)\n`);
  },
};

export const photocalibCommands: Command[] = [calibrate, info, plot, bench];
