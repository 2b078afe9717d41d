/** TanSipWcs helpers: pixel scale, linearization, fitInverse, FITS files, ndarray input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ndarray from 'ndarray';
import { TanSipWcs, makeTanSipWcs } from '../src/wcs/index.js';
import { cardsToBlocks, formatCard, FitsHeader } from '../src/fits/header.js';
import { wcsHeaderDir } from './helpers.js';

const load = (name: string) => TanSipWcs.fromFitsHeader(readFileSync(join(wcsHeaderDir, `${name}.hdr`), 'utf8'));

test('getPixelScale equals sqrt|det CD| * 3600 at CRPIX (no distortion there) within 1e-7 relative', () => {
  for (const name of ['spitzer_irac_ch1_sip2', 'ptf_p48_sip4', 'hst_acs_wfc_sip4_noinv', 'zwo_asi290_astrometrynet_ncp_sip2']) {
    const wcs = load(name);
    const [[a, b], [c, d]] = wcs.cd;
    const expected = Math.sqrt(Math.abs(a * d - b * c)) * 3600;
    const p = wcs.crpix;
    const got = wcs.getPixelScale(p.x, p.y);
    assert.ok(Math.abs(got / expected - 1) < 1e-7, `${name}: ${got} vs ${expected}`);
  }
});

test('linearizePixelToSky predicts pixelToSky 2 px away to within 1e-4 arcsec (HST, PTF)', () => {
  for (const name of ['hst_acs_wfc_sip4_noinv', 'ptf_p48_sip4']) {
    const wcs = load(name);
    const lin = wcsLinear(wcs, 500, 700);
    const s = wcs.pixelToSky(502, 701);
    const [ra, dec] = lin(502, 701);
    const cosd = Math.cos((s.dec * Math.PI) / 180);
    assert.ok(Math.hypot((ra - s.ra) * cosd, dec - s.dec) * 3600 < 1e-4, name);
  }
});

function wcsLinear(wcs: TanSipWcs, x: number, y: number): (x: number, y: number) => [number, number] {
  const l = wcs.linearizePixelToSky(x, y);
  return (px, py) => [l.offset[0] + l.matrix[0][0] * px + l.matrix[0][1] * py, l.offset[1] + l.matrix[1][0] * px + l.matrix[1][1] * py];
}

test('fitInverse on HST (no AP/BP) gives an AP/BP whose own round-trip error is what it reports, and below 0.01 px at order 5', () => {
  const wcs = load('hst_acs_wfc_sip4_noinv');
  const { wcs: fitted, maxResidualPx } = wcs.fitInverse({ order: 5 });
  assert.ok(fitted.hasInverse && maxResidualPx < 0.01, `max ${maxResidualPx}`);
  const check = fitted.roundTripResidual(undefined, { gridPerAxis: 61 });
  assert.equal(check.approxMaxResidualPx, maxResidualPx);
  assert.ok(check.maxResidualPx <= 1e-9);
  // A higher order fits the order-4 forward model better than a lower one.
  assert.ok(wcs.fitInverse({ order: 3 }).maxResidualPx > maxResidualPx);
});

test('fromFitsFile reads the primary HDU or a chosen extension with data', () => {
  const hdr = FitsHeader.parse(readFileSync(join(wcsHeaderDir, 'spitzer_irac_ch1_sip2.hdr'), 'utf8'));
  const wcsCards = hdr.cards.filter((c) => /^(CTYPE|CRPIX|CRVAL|CD|A_|B_|AP_|BP_)/.test(c.key)).map((c) => c.raw);
  const primary = cardsToBlocks([formatCard('SIMPLE', true), formatCard('BITPIX', 8, '', true), formatCard('NAXIS', 0, '', true), formatCard('EXTEND', true)]);
  const ext = cardsToBlocks([
    formatCard('XTENSION', 'IMAGE'), formatCard('BITPIX', 8, '', true), formatCard('NAXIS', 2, '', true),
    formatCard('NAXIS1', 4, '', true), formatCard('NAXIS2', 3, '', true), formatCard('PCOUNT', 0, '', true), formatCard('GCOUNT', 1, '', true),
    ...wcsCards,
  ]);
  const data = '\0'.repeat(2880);
  const bytes = new TextEncoder().encode(primary + ext + data);
  const wcs = TanSipWcs.fromFitsFile(bytes, 1);
  assert.ok(wcs.equals(TanSipWcs.fromFitsHeader(wcsCards.concat(['NAXIS   = 2', 'NAXIS1  = 4', 'NAXIS2  = 3']))));
  assert.deepEqual(wcs.bbox, { minX: 0, minY: 0, maxX: 3, maxY: 2 });
  assert.throws(() => TanSipWcs.fromFitsFile(bytes, 0), /CTYPE1/);
  assert.throws(() => TanSipWcs.fromFitsFile(bytes, 5), /HDU 5/);
});

test('makeTanSipWcs takes 0-based crpix and SIP as [p][q] arrays or ndarrays, and agrees with the header form', () => {
  const a = [[0, 0, 1e-6], [0, 2e-6, 0], [3e-6, 0, 0]];
  const b = [[0, 0, -1e-6], [0, 0, 0], [1e-6, 0, 0]];
  const fromArrays = makeTanSipWcs({ crpix: [99, 49], crval: [10, 20], cd: [[-1e-4, 0], [0, 1e-4]], sipA: a, sipB: b });
  const fromNd = makeTanSipWcs({ crpix: { x: 99, y: 49 }, crval: { ra: 10, dec: 20 }, cd: [[-1e-4, 0], [0, 1e-4]], sipA: ndarray(a.flat(), [3, 3]), sipB: ndarray(b.flat(), [3, 3]) });
  assert.ok(fromArrays.equals(fromNd));
  assert.match(fromArrays.toFitsHeader(), /CRPIX1  = +100\.0/);
  const s = fromArrays.pixelToSky(99, 49);
  assert.ok(Math.abs(s.ra - 10) < 1e-12 && Math.abs(s.dec - 20) < 1e-12, 'CRPIX maps to CRVAL');
  assert.equal(fromArrays.sipA!.coefficients[2]![0], 3e-6);
});
