/** The WCS commands, run as a user would: the CLI's main() in-process, with its own stdin/stdout/stderr. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir, wcsHeaderDir } from './helpers.js';
import { TanSipWcs } from '../src/wcs/index.js';

const skycal = (args: string[], input?: string) => runCli(args, input === undefined ? {} : { stdin: input });

const ptfPath = join(wcsHeaderDir, 'ptf_p48_sip4.hdr');
const ref = readFileSync(join(wcsHeaderDir, 'ptf_p48_sip4.ref.csv'), 'utf8');

test('pix2sky reads x,y CSV on stdin and adds coord_ra, coord_dec, status that read back to the library values exactly', async () => {
  const r = await skycal(['pix2sky', '--wcs', ptfPath], ref.replace('x,y,ra,dec', 'x,y,ref_ra,ref_dec'));
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.trim().split('\n');
  assert.equal(rows[0], 'x,y,ref_ra,ref_dec,coord_ra,coord_dec,status');
  const wcs = TanSipWcs.fromFitsHeader(readFileSync(ptfPath, 'utf8'));
  for (const line of rows.slice(1)) {
    const [x, y, rra, rdec, ra, dec, st] = line.split(',').map(Number) as number[];
    const s = wcs.pixelToSky(x!, y!);
    assert.equal(ra, s.ra);
    assert.equal(dec, s.dec);
    assert.equal(st, 0);
    assert.ok(Math.abs(ra! - rra!) < 1e-11 && Math.abs(dec! - rdec!) < 1e-11, 'astropy reference');
  }
});

test('sky2pix inverts pix2sky within 1e-9 px, through files (--in/--out), and --approx uses AP/BP alone', async () => {
  const dir = tempDir();
  try {
    const sky = join(dir.path, 'sky.csv');
    assert.equal((await skycal(['pix2sky', '--wcs', ptfPath, '--out', sky], 'x,y\n10,20\n2000.5,4000.25\n')).code, 0);
    const back = await skycal(['sky2pix', '--wcs', ptfPath, '--in', sky]);
    assert.equal(back.code, 0, back.stderr);
    const [, r1, r2] = back.stdout.trim().split('\n');
    const [x1, y1] = r1!.split(',').map(Number) as number[];
    const [x2, y2] = r2!.split(',').map(Number) as number[];
    assert.ok(Math.abs(x1! - 10) < 1e-9 && Math.abs(y1! - 20) < 1e-9 && Math.abs(x2! - 2000.5) < 1e-9 && Math.abs(y2! - 4000.25) < 1e-9, back.stdout);
    const approx = (await skycal(['sky2pix', '--wcs', ptfPath, '--in', sky, '--approx'])).stdout.trim().split('\n')[2]!.split(',').map(Number);
    const err = Math.hypot(approx[0]! - 2000.5, approx[1]! - 4000.25);
    assert.ok(err > 1e-6 && err < 0.2, `AP/BP alone is an approximation (${err} px)`);
  } finally {
    dir.cleanup();
  }
});

test('pix2sky --parent takes LSST parent pixels (HSC xy0 = 100,100) and matches local pixels', async () => {
  const hsc = join(wcsHeaderDir, 'hsc_lsst_afw_sip3.hdr');
  const local = (await skycal(['pix2sky', '--wcs', hsc], 'x,y\n5,7\n')).stdout.trim().split('\n')[1]!.split(',');
  const parent = (await skycal(['pix2sky', '--wcs', hsc, '--parent'], 'x,y\n105,107\n')).stdout.trim().split('\n')[1]!.split(',');
  assert.deepEqual(parent.slice(2), local.slice(2));
});

test('wcs info --json reports CTYPE, pixel scale, SIP orders, bbox, round-trip and AP/BP errors (built-in PTF header)', async () => {
  const r = await skycal(['wcs', 'info', '--wcs', 'builtin:ptf', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.deepEqual(info.ctype, ['RA---TAN-SIP', 'DEC--TAN-SIP']);
  assert.deepEqual(info.sip, { a: 4, b: 4, ap: 4, bp: 4 });
  assert.deepEqual(info.bbox, { minX: 0, minY: 0, maxX: 2047, maxY: 4095 });
  assert.ok(Math.abs(info.pixelScaleArcsec - 1.01) < 0.01);
  assert.ok(info.roundTripMaxResidualPx <= 1e-9);
  assert.ok(info.inverseMaxResidualPx > 0.05 && info.inverseMaxResidualPx < 0.2);
});

test('wcs fit-inverse writes a header whose AP/BP beats the stated residual, and which reads back', async () => {
  const dir = tempDir();
  try {
    const out = join(dir.path, 'hst_inv.hdr');
    const r = await skycal(['wcs', 'fit-inverse', '--wcs', join(wcsHeaderDir, 'hst_acs_wfc_sip4_noinv.hdr'), '--order', '5', '--out', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const { maxResidualPx } = JSON.parse(r.stdout);
    const wcs = TanSipWcs.fromFitsHeader(readFileSync(out, 'utf8'));
    assert.ok(wcs.hasInverse && maxResidualPx < 0.01);
    assert.equal(wcs.roundTripResidual(undefined, { gridPerAxis: 61 }).approxMaxResidualPx, maxResidualPx);
  } finally {
    dir.cleanup();
  }
});

test('bench wcs --json prints pointsPerSecond for both directions', async () => {
  const r = await skycal(['bench', 'wcs', '--wcs', 'builtin:hsc', '--n', '2000', '--time', '50', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.ok(j.pixelToSky.pointsPerSecond > 0 && j.skyToPixel.pointsPerSecond > 0);
});

test('errors: a missing file is NOT_FOUND, a bad header is BAD_INPUT naming the keyword and the file, a missing --wcs is USAGE (exit 2)', async () => {
  const dir = tempDir();
  try {
    const missing = await skycal(['wcs', 'info', '--wcs', join(dir.path, 'nope.hdr'), '--json']);
    assert.equal(missing.code, 1);
    assert.equal(JSON.parse(missing.stdout).error.code, 'NOT_FOUND');
    const badHdr = join(dir.path, 'sin.hdr');
    writeFileSync(badHdr, readFileSync(ptfPath, 'utf8').replace("'RA---TAN-SIP'", "'RA---SIN'    "));
    const bad = await skycal(['pix2sky', '--wcs', badHdr, '--json'], 'x,y\n1,2\n');
    assert.equal(bad.code, 1);
    const err = JSON.parse(bad.stdout).error;
    assert.equal(err.code, 'BAD_INPUT');
    assert.match(err.message, /sin\.hdr.*CTYPE1 = 'RA---SIN'/);
    assert.equal(bad.stderr, '', 'under --json the error is on stdout only, not also as text on stderr');
    assert.equal(bad.stdout.trim().split('\n').length, 1, 'one JSON document');
    const usage = await skycal(['pix2sky']);
    assert.equal(usage.code, 2);
    const noCol = await skycal(['pix2sky', '--wcs', ptfPath, '--json'], 'a,b\n1,2\n');
    assert.equal(JSON.parse(noCol.stdout).error.code, 'BAD_INPUT');
    assert.match(JSON.parse(noCol.stdout).error.message, /no centroid columns: looked for x\/y/);
  } finally {
    dir.cleanup();
  }
});
