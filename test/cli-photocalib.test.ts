/** The photometric calibration commands, run as a user runs them (the CLI's main() in-process). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from './helpers.js';
import { csvToTable } from '../src/catalog/csv.js';
import { PhotoCalib } from '../src/photocalib/index.js';

const CALIB = {
  photoCalibVersion: 1, calibrationMean: 1000, calibrationErr: 10, isConstant: false,
  field: { type: 'chebyshev', bbox: { minX: 0, minY: 0, maxX: 2047, maxY: 4175 }, coefficients: [[1000, 25, -8], [15, 3, 0], [-12, 0, 0]] },
};
const CSV = 'id,name,x,y,a_instFlux,a_instFluxErr,b_instFlux\n1,star,10,20,100,3,5\n2,"gal, faint",2000,4000,-4,1,0\n';

const skycal = (args: string[], input?: string) => runCli(args, input === undefined ? {} : { stdin: input });

async function withFiles(fn: (dir: string, calibPath: string) => Promise<void>): Promise<void> {
  const dir = tempDir();
  try {
    const calibPath = join(dir.path, 'calib.json');
    writeFileSync(calibPath, JSON.stringify(CALIB));
    await fn(dir.path, calibPath);
  } finally {
    dir.cleanup();
  }
}

test('calibrate --in/--out keeps every input column and adds flux, mag and errors equal to the library\'s (bitwise via CSV)', async () => {
  await withFiles(async (dir, calibPath) => {
    writeFileSync(join(dir, 'in.csv'), CSV);
    const r = await skycal(['calibrate', '--photocalib', calibPath, '--in', join(dir, 'in.csv'), '--out', join(dir, 'out.csv')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    const out = csvToTable(readFileSync(join(dir, 'out.csv'), 'utf8'));
    assert.deepEqual(out.schema.fields.map((f) => f.name), ['id', 'name', 'x', 'y', 'a_instFlux', 'a_instFluxErr', 'b_instFlux', 'a_flux', 'a_fluxErr', 'a_mag', 'a_magErr', 'b_flux', 'b_mag', 'status']);
    assert.equal(out.getChild('name')!.get(1), 'gal, faint');
    const pc = PhotoCalib.fromJson(CALIB);
    const m = pc.instFluxToMagnitudeWithError(100, 3, { x: 10, y: 20 });
    assert.equal(out.getChild('a_flux')!.get(0), pc.instFluxToNanojansky(100, { x: 10, y: 20 }));
    assert.deepEqual([out.getChild('a_mag')!.get(0), out.getChild('a_magErr')!.get(0)], [m.value, m.error]);
    assert.ok(Number.isNaN(out.getChild('a_mag')!.get(1)), 'negative flux: mag NaN');
    assert.ok(Number.isNaN(out.getChild('b_mag')!.get(1)), 'zero flux: mag NaN');
  });
});

test('calibrate reads stdin and writes stdout when --in/--out are absent; --legacy-errors uses the pre-2025 model', async () => {
  await withFiles(async (_dir, calibPath) => {
    const now = await skycal(['calibrate', '--photocalib', calibPath], CSV);
    const old = await skycal(['calibrate', '--photocalib', calibPath, '--legacy-errors'], CSV);
    assert.equal(now.code, 0, now.stderr);
    const a = csvToTable(now.stdout), b = csvToTable(old.stdout);
    const pc = PhotoCalib.fromJson(CALIB);
    const p = { x: 10, y: 20 };
    assert.equal(a.getChild('a_fluxErr')!.get(0), pc.instFluxToNanojanskyWithError(100, 3, p).error);
    assert.equal(b.getChild('a_fluxErr')!.get(0), pc.instFluxToNanojanskyWithError(100, 3, p, { legacyErrors: true }).error);
    assert.ok(b.getChild('a_fluxErr')!.get(0) > a.getChild('a_fluxErr')!.get(0));
  });
});

test('calibrate errors: USAGE (exit 2) without --photocalib, NOT_FOUND for a missing file, BAD_INPUT for an unknown version or a bad --field', async () => {
  await withFiles(async (dir, calibPath) => {
    const usage = await skycal(['calibrate', '--json'], CSV);
    assert.equal(usage.code, 2);
    assert.equal(JSON.parse(usage.stdout).error.code, 'USAGE');
    const missing = await skycal(['calibrate', '--photocalib', join(dir, 'nope.json'), '--json', '--out', join(dir, 'o.csv')], CSV);
    assert.equal(missing.code, 1);
    assert.equal(JSON.parse(missing.stdout).error.code, 'NOT_FOUND');
    writeFileSync(join(dir, 'v9.json'), JSON.stringify({ ...CALIB, photoCalibVersion: 9 }));
    const v9 = await skycal(['calibrate', '--photocalib', join(dir, 'v9.json')], CSV);
    assert.equal(v9.code, 1);
    assert.match(v9.stderr, /BAD_INPUT.*unknown photoCalibVersion 9/);
    const field = await skycal(['calibrate', '--photocalib', calibPath, '--field', 'base_PsfFlux'], CSV);
    assert.equal(field.code, 1);
    assert.match(field.stderr, /base_PsfFlux_instFlux/);
  });
});

test('photocalib info --json reports mean, error, field orders and the zero point; FLUXMAG0 headers read too', async () => {
  await withFiles(async (dir, calibPath) => {
    const r = await skycal(['photocalib', 'info', calibPath, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout);
    assert.equal(d.calibrationMean, 1000);
    assert.equal(d.field.orderX, 2);
    assert.ok(Math.abs(d.zeroPointMag - 23.9) < 1e-12);
    assert.ok(d.field.min < d.field.mean && d.field.mean < d.field.max);
    writeFileSync(join(dir, 'calexp.hdr'), `FLUXMAG0= ${'12345.0'.padStart(20)}\nHIERARCH FLUXMAG0ERR = 6789.0\n`);
    const h = JSON.parse((await skycal(['photocalib', 'info', join(dir, 'calexp.hdr'), '--json'])).stdout);
    assert.equal(h.isConstant, true);
    assert.ok(Math.abs(h.calibrationMean - 294109400.38080215) <= 1e-13 * 294109400.38080215);
    assert.match((await skycal(['photocalib', 'info', calibPath])).stdout, /calibrationMean\s+1000 nJy\/count/);
  });
});

test('plot photocalib writes an SVG heat map with title, labelled axes and a colour bar, and a PNG', async () => {
  await withFiles(async (dir, calibPath) => {
    const svgPath = join(dir, 'map.svg'), pngPath = join(dir, 'map.png');
    assert.equal((await skycal(['plot', 'photocalib', '--photocalib', calibPath, '--out', svgPath])).code, 0);
    const svg = readFileSync(svgPath, 'utf8');
    for (const s of ['<svg', 'x (parent pixels)', 'y (parent pixels)', 'c(x, y) / calibrationMean', 'linearGradient', 'data:image/png;base64,']) assert.ok(svg.includes(s), s);
    assert.equal((await skycal(['plot', 'photocalib', '--photocalib', calibPath, '--out', pngPath])).code, 0);
    assert.deepEqual([...readFileSync(pngPath).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    assert.equal((await skycal(['plot', 'photocalib', '--photocalib', calibPath, '--out', join(dir, 'map.gif')])).code, 2);
  });
});

test('bench calibrate --json prints {"calibrate": {"rowsPerSecond": ...}} with a positive rate', async () => {
  const r = await skycal(['bench', 'calibrate', '--n', '20000', '--time', '100', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const d = JSON.parse(r.stdout);
  assert.ok(d.calibrate.rowsPerSecond > 0);
});
