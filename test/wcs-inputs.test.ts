/**
 * The faults of issues 9-11 in the FITS / WCS / PhotoCalib layer, one test
 * each: what an input file is (one rule), FITS size fields, WCS values,
 * strict sky -> pixel from the kernel's own record, PhotoCalib bounds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readPhotoCalib } from '../src/cli/photocalib.js';
import { readHdus } from '../src/fits/file.js';
import { cardsToBlocks, formatCard, FitsHeader } from '../src/fits/header.js';
import { readImage, writeImage } from '../src/fits/image.js';
import { outputKindOf, sniffInput } from '../src/fits/sniff.js';
import { NoConvergenceError, TanSipWcs, loadWcs, makeTanSipWcs } from '../src/wcs/index.js';
import { PhotoCalib } from '../src/photocalib/index.js';
import { storageClass } from '../src/butler/storageClasses.js';
import {
  SKY_TO_PIXEL_DIAG,
  STATUS_DIVERGED,
  STATUS_NONFINITE_INPUT,
  STATUS_OVERFLOW,
  TAN_SIP_SLOTS,
  tanSipSkyToPixelApproxDeg,
  tanSipSkyToPixelDiagDeg,
  withoutInverse,
  PHOTOCALIB_SLOTS,
  photoCalibModelIsConstant,
} from '../native-free-kernels/index.js';
import { runCli, tempDir, wcsHeaderDir } from './helpers.js';

const headerNames = readdirSync(wcsHeaderDir).filter((f) => f.endsWith('.hdr'));
const headerText = (name: string) => readFileSync(join(wcsHeaderDir, name), 'latin1');
const ptf = headerText('ptf_p48_sip4.hdr');

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  const r = await runCli([...args, '--json']);
  return { code: r.code, out: r.stdout };
}
async function ok(...args: string[]): Promise<any> {
  const r = await cli(args);
  assert.equal(r.code, 0, `skycal ${args.join(' ')}: ${r.out}`);
  return JSON.parse(r.out);
}
function codeOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

/** A FITS file: an empty primary HDU, then an IMAGE extension whose header has `cards`. */
function fitsWithWcsInExtension(cards: string[]): Uint8Array {
  const primary = new TextEncoder().encode(cardsToBlocks([formatCard('SIMPLE', true), formatCard('BITPIX', 8, '', true), formatCard('NAXIS', 0, '', true), formatCard('EXTEND', true)]));
  const ext = writeImage({ width: 4, height: 3, pixels: new Float64Array(12), bitpix: -32, bscale: 1, bzero: 0 }, { extension: true, cards });
  const out = new Uint8Array(primary.length + ext.length);
  out.set(primary);
  out.set(ext, primary.length);
  return out;
}
const wcsCardsOf = (text: string) => FitsHeader.parse(text).cards.filter((c) => !/^(SIMPLE|BITPIX|NAXIS\d*|EXTEND|XTENSION|PCOUNT|GCOUNT)$/.test(c.key)).map((c) => c.raw);

/** A one-HDU FITS file whose primary header has `cards` (80-char images) and `dataBytes` of data. */
function rawFits(cards: string[], dataBytes = 0): Uint8Array {
  const head = new TextEncoder().encode(cardsToBlocks(cards));
  const out = new Uint8Array(head.length + Math.ceil(dataBytes / 2880) * 2880);
  out.set(head);
  return out;
}
const card = (k: string, v: string) => `${k.padEnd(8)}= ${v.padStart(20)}`.padEnd(80);

// ---------------------------------------------------------------------------
// What a file is, and which HDU (issue 9, issue 10 item 1)

test('one rule for what a file is: FITS blocks, JSON, or header text with or without SIMPLE/END, 80-column or one card per line', () => {
  for (const name of headerNames) assert.equal(sniffInput(new TextEncoder().encode(headerText(name))), 'header', name);
  const blocks = new TextEncoder().encode(cardsToBlocks(FitsHeader.parse(ptf).cards.map((c) => c.raw)));
  assert.equal(sniffInput(blocks), 'fits');
  assert.equal(sniffInput(new TextEncoder().encode(' \n{"photoCalibVersion": 1}')), 'json');
  // The same WCS from every form of the same header.
  const ref = TanSipWcs.fromFitsHeader(ptf);
  const noEnd = ptf.replace(/^END.*$/m, '');
  const run80 = FitsHeader.parse(ptf).cards.map((c) => c.raw).join('');
  const dir = tempDir();
  try {
    for (const [label, content] of [['lines', ptf], ['no END', noEnd], ['80-column run', run80], ['blocks (Header.tofile)', blocks]] as const) {
      const path = join(dir.path, `${label.replace(/\W/g, '_')}.hdr`);
      writeFileSync(path, content);
      assert.ok(loadWcs(path).equals(ref), label);
    }
  } finally {
    dir.cleanup();
  }
});

test('the WCS HDU is --hdu N when given, else the first HDU with CTYPE1, for loadWcs, fromFitsFile and put alike', () => {
  const bytes = fitsWithWcsInExtension(wcsCardsOf(ptf));
  const ref = TanSipWcs.fromFitsHeader(ptf);
  const dir = tempDir();
  try {
    const path = join(dir.path, 'ext.fits');
    writeFileSync(path, bytes);
    // Old main: loadWcs took HDU 0 (no CTYPE1: BAD_INPUT) while put took the first HDU with CTYPE1.
    assert.equal(loadWcs(path).pixelToSky(10, 20).ra, ref.pixelToSky(10, 20).ra);
    assert.equal(TanSipWcs.fromFitsFile(bytes).pixelToSky(10, 20).dec, ref.pixelToSky(10, 20).dec);
    assert.equal(codeOf(() => loadWcs(path, { hdu: 0 })), 'BAD_INPUT');
    const stored = new TextDecoder().decode(storageClass('TanSipWcs').normalise(bytes, path));
    assert.equal(TanSipWcs.fromFitsHeader(stored).pixelToSky(10, 20).ra, ref.pixelToSky(10, 20).ra);
  } finally {
    dir.cleanup();
  }
});

test('put accepts every real header file (4 of 6 start with SIMPLE), and a bundle exported after a FITS put imports', async () => {
  const dir = tempDir();
  try {
    const repo = join(dir.path, 'repo');
    await ok('init', repo);
    const run = (await ok('begin', repo, '--stage', 'singleFrame')).run as string;
    for (const [i, name] of headerNames.entries()) {
      await ok('put', repo, '--run', run, '--type', 'wcs', '--data-id', `instrument=X,visit=1,detector=${i}`, join(wcsHeaderDir, name));
    }
    const fits = join(dir.path, 'ext.fits');
    writeFileSync(fits, fitsWithWcsInExtension(wcsCardsOf(ptf)));
    await ok('put', repo, '--run', run, '--type', 'wcs', '--data-id', 'instrument=X,visit=1,detector=99', fits);
    await ok('commit', repo, '--run', run);
    const bundle = join(dir.path, 'b.tar');
    await ok('export', repo, '--at', 'main', '--out', bundle);
    const fresh = join(dir.path, 'fresh');
    await ok('init', fresh);
    await ok('import', fresh, bundle);
    const out = join(dir.path, 'back.hdr');
    await ok('get', fresh, '--type', 'wcs', '--data-id', 'instrument=X,visit=1,detector=99', '--out', out);
    assert.deepEqual(loadWcs(out).toKernelModel(), TanSipWcs.fromFitsHeader(ptf).toKernelModel());
  } finally {
    dir.cleanup();
  }
});

test('get --type wcs --out x.fits writes a FITS file astropy opens (same sky to 1e-9 deg); .hdr writes header text', async () => {
  assert.equal(outputKindOf('a/x.FITS'), 'fits');
  assert.equal(outputKindOf('x.hdr'), 'header');
  const dir = tempDir();
  try {
    const repo = join(dir.path, 'repo');
    await ok('init', repo);
    const run = (await ok('begin', repo, '--stage', 'singleFrame')).run as string;
    await ok('put', repo, '--run', run, '--type', 'wcs', '--data-id', 'instrument=X,visit=1,detector=1', join(wcsHeaderDir, 'ptf_p48_sip4.hdr'));
    await ok('commit', repo, '--run', run);
    const fits = join(dir.path, 'x.fits'), hdr = join(dir.path, 'x.hdr');
    await ok('get', repo, '--type', 'wcs', '--data-id', 'instrument=X,visit=1,detector=1', '--out', fits);
    await ok('get', repo, '--type', 'wcs', '--data-id', 'instrument=X,visit=1,detector=1', '--out', hdr);
    const bytes = readFileSync(fits);
    assert.equal(bytes.length % 2880, 0);
    assert.equal(sniffInput(bytes), 'fits');
    assert.equal(sniffInput(readFileSync(hdr)), 'header');
    const ref = TanSipWcs.fromFitsHeader(ptf);
    assert.ok(loadWcs(fits).equals(loadWcs(hdr)) && loadWcs(fits).bbox !== undefined);
    const py = execFileSync('/usr/bin/python3', ['-c', [
      'import sys, json, warnings', 'warnings.simplefilter("ignore")',
      'from astropy.io import fits', 'from astropy.wcs import WCS',
      'h = fits.open(sys.argv[1])[0].header', 'w = WCS(h)',
      'print(json.dumps([list(map(float, w.all_pix2world([[10.0, 20.0], [1500.5, 3000.25]], 0)[i])) for i in range(2)]))',
    ].join('\n'), fits], { encoding: 'utf8' });
    const got = JSON.parse(py) as number[][];
    for (const [k, [x, y]] of [[10, 20], [1500.5, 3000.25]].entries()) {
      const s = ref.pixelToSky(x!, y!);
      assert.ok(Math.abs(got[k]![0]! - s.ra) < 1e-9 && Math.abs(got[k]![1]! - s.dec) < 1e-9, JSON.stringify({ got: got[k], s }));
    }
  } finally {
    dir.cleanup();
  }
});

test('photocalib info reads FLUXMAG0 header text that starts with SIMPLE (it crashed with IO)', async () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, 'calexp.hdr');
    writeFileSync(path, ['SIMPLE  =                    T', 'BITPIX  =                    8', 'NAXIS   =                    0', 'FLUXMAG0=            6.3096E10', 'END'].join('\n') + '\n');
    const calib = await readPhotoCalib(path);
    assert.ok(Math.abs(calib.instFluxToMagnitude(6.3096e10) - 0) < 1e-9 && calib.isConstant);
  } finally {
    dir.cleanup();
  }
});

test('PhotoCalib.fromFitsHeader with a plain 11-letter FLUXMAG0ERR card reads FLUXMAG0 and the error (it said missing FLUXMAG0)', () => {
  const text = [`FLUXMAG0=               1000.0`, `FLUXMAG0ERR=              2.0`].join('\n');
  const c = PhotoCalib.fromFitsHeader(text);
  const ref = PhotoCalib.fromFluxMag0(1000, 2);
  assert.equal(c.calibrationMean, ref.calibrationMean);
  assert.equal(c.calibrationErr, ref.calibrationErr);
  assert.equal(PhotoCalib.fromFitsHeader(['FLUXMAG0=               1000.0', 'HIERARCH FLUXMAG0ERR = 2.0']).calibrationErr, ref.calibrationErr);
});

// ---------------------------------------------------------------------------
// FITS size fields (issue 11 item 1)

test('a negative NAXISn is BAD_INPUT naming the keyword, at once (old main looped forever or threw a DataView error)', () => {
  const base = [card('SIMPLE', 'T'), card('BITPIX', '-32'), card('NAXIS', '2')];
  for (const [n1, n2] of [['-1', '5760'], ['-1', '2880']]) {
    const bytes = rawFits([...base, card('NAXIS1', n1!), card('NAXIS2', n2!)], 2880 * 3);
    const t0 = Date.now();
    assert.throws(() => readHdus(bytes, 'f.fits'), (e: any) => e.code === 'BAD_INPUT' && /NAXIS1 = -1/.test(e.message));
    assert.ok(Date.now() - t0 < 1000);
  }
});

test('every FITS size field is checked: fractional NAXISn, bad BITPIX, NAXIS > 999, negative GCOUNT, sizes beyond the file', () => {
  const base = (extra: string[], bitpix = '8') => rawFits([card('SIMPLE', 'T'), card('BITPIX', bitpix), ...extra], 2880);
  const cases: [Uint8Array, RegExp][] = [
    [base([card('NAXIS', '2'), card('NAXIS1', '2.5'), card('NAXIS2', '4')]), /NAXIS1 = 2.5/],
    [base([card('NAXIS', '0')], '7'), /BITPIX = 7/],
    [base([card('NAXIS', '1000')]), /NAXIS = 1000/],
    [base([card('NAXIS', '1'), card('NAXIS1', '10'), card('GCOUNT', '-1')]), /GCOUNT = -1/],
    [base([card('NAXIS', '2'), card('NAXIS1', '1E15'), card('NAXIS2', '1E15')]), /more data than the file holds/],
    [base([card('NAXIS', '1'), card('NAXIS1', '2881')]), /more data than the file holds/],
  ];
  for (const [bytes, message] of cases) {
    assert.throws(() => readHdus(bytes, 'f.fits'), (e: any) => e.code === 'BAD_INPUT' && message.test(e.message), String(message));
  }
});

test('images of non-positive or fractional size are refused at put (old main accepted -8 x -6 and 2.5 x 4)', () => {
  const image = storageClass('Image');
  for (const [w, h] of [['-8', '-6'], ['2.5', '4'], ['0', '4']]) {
    const bytes = rawFits([card('SIMPLE', 'T'), card('BITPIX', '8'), card('NAXIS', '2'), card('NAXIS1', w!), card('NAXIS2', h!)], 2880);
    assert.equal(codeOf(() => image.normalise(bytes, 'img.fits')), 'BAD_INPUT', `${w} x ${h}`);
  }
  const good = writeImage({ width: 3, height: 2, pixels: new Float64Array(6), bitpix: 16, bscale: 1, bzero: 0 });
  assert.equal(readImage(good).width, 3);
});

// ---------------------------------------------------------------------------
// WCS values (issue 11 item 11)

const withCard = (text: string, key: string, value: string) => text.replace(new RegExp(`^${key} *=.*$`, 'm'), card(key, value));

test('CRVAL1 is wrapped into [0, 360) for any value (720, -400 gave RA outside the range); |CRVAL1| > 1e6 is refused', () => {
  const ref = TanSipWcs.fromFitsHeader(ptf);
  const crval1 = ref.crval.ra;
  for (const shift of [720, -360, -720]) {
    const w = TanSipWcs.fromFitsHeader(withCard(ptf, 'CRVAL1', String(crval1 + shift)));
    const s = w.pixelToSky(100, 100);
    assert.ok(s.ra >= 0 && s.ra < 360, `${shift}: ${s.ra}`);
    assert.ok(Math.abs(s.ra - ref.pixelToSky(100, 100).ra) < 1e-9);
  }
  for (const v of ['1E300', '-1E7']) assert.equal(codeOf(() => TanSipWcs.fromFitsHeader(withCard(ptf, 'CRVAL1', v))), 'BAD_INPUT', v);
});

test('a degenerate CD matrix is refused: determinant ~1e-300, nearly parallel rows (relative 1e-10)', () => {
  const cd = (a: number, b: number, c: number, d: number) =>
    codeOf(() => makeTanSipWcs({ crpix: [0, 0], crval: [10, 10], cd: [[a, b], [c, d]] }));
  assert.equal(cd(1e-150, 0, 0, 1e-150), 'BAD_INPUT');
  assert.equal(cd(1e-4, 1e-4, 1e-4, 1e-4 * (1 + 1e-12)), 'BAD_INPUT');
  assert.equal(cd(-2.8e-4, 1e-7, 1e-7, 2.8e-4), undefined);
});

test('a fractional or negative image size in a WCS header is BAD_INPUT naming the keyword', () => {
  assert.throws(() => TanSipWcs.fromFitsHeader(withCard(ptf, 'NAXIS1', '2.5')), (e: any) => e.code === 'BAD_INPUT' && /NAXIS1 = 2.5/.test(e.message));
  assert.throws(() => TanSipWcs.fromFitsHeader(withCard(ptf, 'NAXIS2', '-3')), (e: any) => e.code === 'BAD_INPUT' && /NAXIS2/.test(e.message));
});

test('SIP terms of 1e300 give the overflow status, not "non-finite input", in both directions', () => {
  const wcs = makeTanSipWcs({
    crpix: [100, 100], crval: [10, 10], cd: [[-1e-4, 0], [0, 1e-4]],
    sipA: [[0, 0, 1e300], [0, 0, 0], [1e300, 0, 0]], sipB: [[0, 0, 0], [0, 0, 0], [0, 0, 0]],
    sipAp: [[0, 0, 1e305], [0, 0, 0], [1e305, 0, 0]], sipBp: [[0, 0, 0], [0, 0, 0], [0, 0, 0]],
  });
  const p = wcs.pixelToSkyArrays([1e200, NaN], [1e200, 5]);
  assert.deepEqual([...p.status], [STATUS_OVERFLOW, STATUS_NONFINITE_INPUT]);
  const a = wcs.skyToPixelArrays([10.5], [10.5], { approx: true });
  assert.equal(a.status[0], STATUS_OVERFLOW, 'AP/BP overflow: old main gave NaN with status 0');
  const e = wcs.skyToPixelArrays([10.5], [10.5]);
  assert.ok(e.status[0] === STATUS_OVERFLOW || e.status[0] === STATUS_DIVERGED, String(e.status[0]));
});

test('makeTanSipWcs with a wrongly shaped sipA is BAD_INPUT naming sipA (old main: TypeError m.some is not a function)', () => {
  const base = { crpix: [0, 0] as const, crval: [0, 0] as const, cd: [[1e-4, 0], [0, 1e-4]], sipB: [[0, 0], [0, 0]] };
  for (const sipA of [5, [1, 2, 3], 'abc', [[0, 'x'], [0, 0]], { shape: [2], get: () => 0 }]) {
    assert.throws(() => makeTanSipWcs({ ...base, sipA } as never), (e: any) => e.code === 'BAD_INPUT' && /sipA/.test(e.message), JSON.stringify(sipA));
  }
});

// ---------------------------------------------------------------------------
// Packed models and the strict inverse (issue 9)

test('named model slots: withoutInverse switches AP/BP off, so the approximation becomes the linear inverse', () => {
  const wcs = TanSipWcs.fromFitsHeader(ptf);
  const model = wcs.toKernelModel();
  assert.ok(model[TAN_SIP_SLOTS.INV_ORDER]! >= 0);
  const linear = withoutInverse(model);
  assert.equal(linear[TAN_SIP_SLOTS.INV_ORDER], -1);
  assert.equal(model[TAN_SIP_SLOTS.INV_ORDER], wcs.toKernelModel()[TAN_SIP_SLOTS.INV_ORDER], 'the input is not modified');
  const noInv = makeTanSipWcs({ crpix: [wcs.crpix.x, wcs.crpix.y], crval: [wcs.crval.ra, wcs.crval.dec], cd: wcs.cd.map((r) => [...r]) });
  const ra = new Float64Array([wcs.crval.ra + 0.1]), dec = new Float64Array([wcs.crval.dec - 0.1]);
  const out = (m: Float64Array) => {
    const x = new Float64Array(1), y = new Float64Array(1);
    tanSipSkyToPixelApproxDeg(1, m, ra, 1, 0, dec, 1, 0, x, 1, 0, y, 1, 0, new Uint8Array(1), 1, 0);
    return [x[0], y[0]];
  };
  const lin = noInv.skyToPixel(ra[0]!, dec[0]!, { approx: true });
  assert.deepEqual(out(linear), [lin.x, lin.y]);
  const calib = PhotoCalib.constant(2);
  assert.equal(photoCalibModelIsConstant(calib.toKernelModel()), true);
  assert.equal(calib.toKernelModel()[PHOTOCALIB_SLOTS.MEAN], 2);
});

test('strict NoConvergenceError reports the kernel\'s own last iterate, accuracy and iterations (no second solver)', () => {
  const wcs = makeTanSipWcs({ crpix: [1000, 1000], crval: [150, 2], cd: [[-2.8e-4, 0], [0, 2.8e-4]], sipA: [[0, 0, 0], [0, 0, 0], [1e-3, 0, 0]], sipB: [[0, 0, 0], [0, 0, 0], [0, 0, 0]] });
  const linear = makeTanSipWcs({ crpix: [1000, 1000], crval: [150, 2], cd: [[-2.8e-4, 0], [0, 2.8e-4]] });
  const good = wcs.pixelToSky(1100, 1000), target = linear.pixelToSky(600, 1000);
  const ra = new Float64Array([good.ra, target.ra]), dec = new Float64Array([good.dec, target.dec]);
  const diag = new Float64Array(2 * SKY_TO_PIXEL_DIAG.LENGTH);
  tanSipSkyToPixelDiagDeg(2, wcs.toKernelModel(), 50, 1e-10, ra, 1, 0, dec, 1, 0, new Float64Array(2), 1, 0, new Float64Array(2), 1, 0, new Uint8Array(2), 1, 0, diag, SKY_TO_PIXEL_DIAG.LENGTH, 0);
  assert.throws(() => wcs.skyToPixelArrays(ra, dec, { strict: true }), (e: unknown) => {
    assert.ok(e instanceof NoConvergenceError);
    const D = SKY_TO_PIXEL_DIAG, k = D.LENGTH;
    assert.equal(e.bestSolution.x[1], diag[k + D.BEST_X]);
    assert.equal(e.bestSolution.y[1], diag[k + D.BEST_Y]);
    assert.equal(e.accuracy[0], diag[k + D.ACCURACY]);
    assert.ok(e.niter >= diag[k + D.NITER]! && e.niter > 0);
    assert.equal(diag[D.BEST_X], e.bestSolution.x[0], 'a converged point reports its solution');
    assert.ok(diag[D.ACCURACY]! <= 1e-10 * 2, `converged step ${diag[D.ACCURACY]}`);
    assert.equal(e.divergent.length + e.slowConv.length, 1);
    return true;
  });
});

// ---------------------------------------------------------------------------
// PhotoCalib bounds (issue 11 item 11)

test('PhotoCalib JSON nested 20,000 deep is BAD_INPUT, not a stack overflow', () => {
  let field = '{"type":"constant","value":1}';
  for (let i = 0; i < 20000; i++) field = `{"type":"product","factors":[${field}]}`;
  const json = `{"photoCalibVersion":1,"calibrationMean":1,"calibrationErr":0,"isConstant":false,"field":${field}}`;
  assert.throws(() => PhotoCalib.fromJson(json), (e: any) => e.code === 'BAD_INPUT' && /nested more than/.test(e.message));
});

test('calibrations that would give non-finite fluxes are refused at parse (Chebyshev terms of 1e300, products that overflow)', () => {
  const bbox = { minX: 0, minY: 0, maxX: 9, maxY: 9 };
  const cheb = (c: number) => ({ type: 'chebyshev', bbox, coefficients: [[1, c], [0, 0]] });
  const doc = (field: unknown, mean = 1) => ({ photoCalibVersion: 1, calibrationMean: mean, calibrationErr: 0, isConstant: false, field });
  assert.equal(codeOf(() => PhotoCalib.fromJson(doc(cheb(1e300)))), 'BAD_INPUT');
  assert.equal(codeOf(() => PhotoCalib.fromJson(doc({ type: 'product', factors: [cheb(1e200), cheb(1e200)] }))), 'BAD_INPUT');
  assert.equal(codeOf(() => PhotoCalib.fromJson({ ...doc({ type: 'constant', value: 1e300 }), isConstant: true, calibrationMean: 1e300 })), 'BAD_INPUT');
  const fine = PhotoCalib.fromJson(doc(cheb(0.5)));
  assert.ok(Number.isFinite(fine.instFluxToNanojansky(1e6, { x: 3, y: 4 })));
});

test('a bbox beyond 32-bit integers (as afw Box2I) is BAD_INPUT (old main accepted +-1e300, where pixel positions no longer resolve)', () => {
  const doc = (maxX: number) => ({
    photoCalibVersion: 1, calibrationMean: 1, calibrationErr: 0, isConstant: false,
    field: { type: 'chebyshev', bbox: { minX: -maxX, minY: 0, maxX, maxY: 9 }, coefficients: [[1, 0.5], [0, 0]] },
  });
  assert.throws(() => PhotoCalib.fromJson(doc(1e300)), (e: any) => e.code === 'BAD_INPUT' && /32-bit integer/.test(e.message));
  assert.equal(PhotoCalib.fromJson(doc(2 ** 31 - 1)).field.bbox!.maxX, 2 ** 31 - 1);
});
