/**
 * Photometric calibration commands: `calibrate`, `photocalib info` and
 * `plot photocalib` (`bench calibrate` is in bench.ts).
 */
import { errors } from '../errors.js';
import type { PhotoCalib } from '../photocalib/photoCalib.js';
import { photoCalibFromBytes } from '../photocalib/load.js';
import { instFluxNames } from '../catalog/columns.js';
import type { DerivedBatches } from '../catalog/derive.js';
import { boxToString, makeBox } from '../photocalib/bbox.js';
import type { ChebyshevField } from '../photocalib/chebyshevField.js';
import { photoCalibMapSvg } from '../plot/maps.js';
import { writeFileAtomic } from '../io/atomicFile.js';
import type { Command } from './command.js';
import { CATALOG_OPTIONS, fileVersion, runCatalogCommand } from './catalogCommand.js';
import { INPUT_LIMITS, readFileBounded } from './io.js';
import { calibrated } from '../catalog/views.js';
import { optionalString, parseBBoxOption, parseIntegerOption, requireString, stringList } from './args.js';

async function readBytes(path: string): Promise<Uint8Array> {
  return readFileBounded(path, { label: 'calibration', maxBytes: INPUT_LIMITS.fits });
}

/** A PhotoCalib from its JSON, or from the FLUXMAG0 cards of a FITS file or header text (the rule of fits/sniff.ts). */
export async function readPhotoCalib(path: string): Promise<PhotoCalib> {
  return photoCalibFromBytes(await readBytes(path), path);
}

const PHOTOCALIB_OPTION = {
  type: 'string', value: 'P', required: true,
  description: 'the calibration: PhotoCalib JSON, or a FITS file or header text with FLUXMAG0 cards',
} as const;

const calibrate: Command = {
  name: 'calibrate',
  options: {
    photocalib: PHOTOCALIB_OPTION,
    'legacy-errors': { type: 'boolean', default: false, description: 'the pre-2025 error model (calibrationErr folded into fluxErr and magErr)' },
    field: { type: 'string', multiple: true, value: 'NAME', description: 'calibrate NAME_instFlux only (default: every <name>_instFlux column)' },
    x: { type: 'string', value: 'COL', description: 'the x centroid column (default: found as for pix2sky)' },
    y: { type: 'string', value: 'COL', description: 'the y centroid column' },
    ...CATALOG_OPTIONS,
  },
  async run(values, _positionals, ctx) {
    const calibPath = requireString(values, 'photocalib');
    const outPath = optionalString(values, 'out');
    if (ctx.json && outPath === undefined) throw errors.usage('calibrate --json needs --out (stdout would carry both the CSV and the JSON)');
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
  args: 'P',
  options: {},
  notes: 'P: PhotoCalib JSON, or a FITS file or header text with FLUXMAG0 cards.',
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
    ctx.stdout.write(`${lines.join('\n')}\n`);
  },
};

const plot: Command = {
  name: 'plot photocalib',
  options: {
    photocalib: PHOTOCALIB_OPTION,
    out: { type: 'string', value: 'F.svg|F.png', required: true, description: 'the plot to write (SVG, or PNG rendered by resvg)' },
    bbox: { type: 'string', value: 'x0,y0,x1,y1', description: "the parent-pixel box (default: the field's bbox)" },
    title: { type: 'string', value: 'T', description: 'the plot title' },
  },
  async run(values, _positionals, ctx) {
    const calib = await readPhotoCalib(requireString(values, 'photocalib'));
    const out = requireString(values, 'out');
    if (!/\.(svg|png)$/i.test(out)) throw errors.usage(`--out ${out}: expected a .svg or .png file`);
    const given = parseBBoxOption(optionalString(values, 'bbox'));
    const bbox = given ? makeBox(given, '--bbox') : calib.field.bbox;
    if (!bbox) throw errors.badInput('plot photocalib', 'a constant calibration without a bbox needs --bbox');
    const title = optionalString(values, 'title');
    const { svg, nx, ny } = photoCalibMapSvg(calib, bbox, title === undefined ? {} : { title });
    // Loaded here, not at startup: resvg is a native module every other command can do without.
    const { plotBytes } = await import('../plot/png.js');
    writeFileAtomic(out, plotBytes(svg, out));
    if (ctx.json) ctx.writeJson({ out, bbox, grid: [nx, ny] });
    else ctx.log(`plot photocalib: wrote ${out}`);
  },
};

export const photocalibCommands: Command[] = [calibrate, info, plot];
