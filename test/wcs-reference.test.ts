/**
 * TAN-SIP pixel -> sky against astropy's all_pix2world grids for the six real
 * headers in test/data/wcs-headers (SOURCES.md), and the round trip over
 * each image plus a 10% margin.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TanSipWcs } from '../src/wcs/index.js';
import { wcsHeaderDir } from './helpers.js';

export const HEADERS = [
  'spitzer_irac_ch1_sip2',
  'astropy_sip_pc_cdelt_sip3',
  'ptf_p48_sip4',
  'hst_acs_wfc_sip4_noinv',
  'hsc_lsst_afw_sip3',
  'zwo_asi290_astrometrynet_ncp_sip2',
] as const;

/** Image sizes from SOURCES.md (astropy's sip.fits header has none: the 256x256 IRAC array). */
const SIZES: Record<string, [number, number]> = {
  spitzer_irac_ch1_sip2: [256, 256],
  astropy_sip_pc_cdelt_sip3: [256, 256],
  ptf_p48_sip4: [2048, 4096],
  hst_acs_wfc_sip4_noinv: [4096, 2048],
  hsc_lsst_afw_sip3: [200, 200],
  zwo_asi290_astrometrynet_ncp_sip2: [1936, 1088],
};

function readRef(name: string): { x: number[]; y: number[]; ra: number[]; dec: number[] } {
  const lines = readFileSync(join(wcsHeaderDir, `${name}.ref.csv`), 'utf8').trim().split('\n');
  assert.equal(lines[0], 'x,y,ra,dec');
  const rows = lines.slice(1).map((l) => l.split(',').map(Number));
  return { x: rows.map((r) => r[0]!), y: rows.map((r) => r[1]!), ra: rows.map((r) => r[2]!), dec: rows.map((r) => r[3]!) };
}

/** Great-circle separation in arcsec (haversine: accurate at tiny angles). */
export function separationArcsec(ra1: number, dec1: number, ra2: number, dec2: number): number {
  const d = Math.PI / 180;
  const s = Math.sin(((dec2 - dec1) * d) / 2) ** 2 + Math.cos(dec1 * d) * Math.cos(dec2 * d) * Math.sin(((ra2 - ra1) * d) / 2) ** 2;
  return (2 * Math.asin(Math.min(1, Math.sqrt(s)))) / d * 3600;
}

const load = (name: string) => TanSipWcs.fromFitsHeader(readFileSync(join(wcsHeaderDir, `${name}.hdr`), 'utf8'));

for (const name of HEADERS) {
  test(`${name}: pixelToSky matches astropy all_pix2world on the 5x5 grid within 1e-8 arcsec`, () => {
    const wcs = load(name);
    const ref = readRef(name);
    const sky = wcs.pixelToSkyArrays(ref.x, ref.y);
    assert.equal(sky.bad, 0);
    let worst = 0;
    for (let i = 0; i < ref.x.length; i++) {
      assert.ok(sky.ra[i]! >= 0 && sky.ra[i]! < 360, 'RA in [0, 360)');
      worst = Math.max(worst, separationArcsec(sky.ra[i]!, sky.dec[i]!, ref.ra[i]!, ref.dec[i]!));
    }
    console.log(`# ${name}: max |pixelToSky - astropy| = ${worst.toExponential(2)} arcsec`);
    assert.ok(worst <= 1e-8, `max separation ${worst} arcsec`);
  });

  test(`${name}: skyToPixel(pixelToSky(p)) = p within 1e-9 px over the image plus a 10% margin`, () => {
    const wcs = load(name);
    const [w, h] = SIZES[name]!;
    const bbox = { minX: 0, minY: 0, maxX: w - 1, maxY: h - 1 };
    const r = wcs.roundTripResidual(bbox, { margin: 0.1, gridPerAxis: 41 });
    console.log(`# ${name}: round trip max ${r.maxResidualPx.toExponential(2)} px; AP/BP only: ${r.approxMaxResidualPx?.toExponential(2) ?? 'no AP/BP'} px`);
    assert.equal(r.bad, 0);
    assert.ok(r.maxResidualPx <= 1e-9, `round trip ${r.maxResidualPx} px`);
  });
}

test('the image size comes from NAXISn, IMAGEW/IMAGEH, or ONAXISn/SIZAXISn when NAXISn were stripped', () => {
  for (const name of HEADERS) {
    const wcs = load(name);
    const size = SIZES[name]!;
    if (name === 'astropy_sip_pc_cdelt_sip3') {
      assert.equal(wcs.bbox, undefined);
      continue;
    }
    assert.deepEqual(wcs.bbox, { minX: 0, minY: 0, maxX: size[0] - 1, maxY: size[1] - 1 }, name);
  }
});

test('astropy issue #3675 values for sip.fits (origin=1 pixels) agree within 1e-8 deg (their 8-10 digit precision)', () => {
  const wcs = load('astropy_sip_pc_cdelt_sip3');
  const cases = [
    [1, 2, 202.39347618, 47.1772851],
    [256, 256, 202.57220793, 47.17261645],
    [500, 600, 202.76169378, 47.14490412],
  ] as const;
  for (const [x1, y1, ra, dec] of cases) {
    const s = wcs.pixelToSky(x1 - 1, y1 - 1);
    assert.ok(Math.abs(s.ra - ra) < 1e-8 && Math.abs(s.dec - dec) < 1e-8, `${x1},${y1}: ${s.ra},${s.dec}`);
  }
});

test('HSC sub-image: the parent frame (xy0 = 100,100 from WCS A / LTV) gives the same sky at parent = local + 100', () => {
  const local = load('hsc_lsst_afw_sip3');
  assert.deepEqual(local.parentOffset, [100, 100]);
  const parent = local.inParentFrame();
  const viaOption = TanSipWcs.fromFitsHeader(readFileSync(join(wcsHeaderDir, 'hsc_lsst_afw_sip3.hdr'), 'utf8'), { parent: true });
  const ref = readRef('hsc_lsst_afw_sip3');
  for (let i = 0; i < ref.x.length; i++) {
    for (const w of [parent, viaOption]) {
      const s = w.pixelToSky(ref.x[i]! + 100, ref.y[i]! + 100);
      assert.ok(separationArcsec(s.ra, s.dec, ref.ra[i]!, ref.dec[i]!) <= 1e-8);
    }
  }
  assert.deepEqual(parent.bbox, { minX: 100, minY: 100, maxX: 299, maxY: 299 });
});

test('header metadata: RADESYS/RADECSYS/EQUINOX defaults as WCSLIB, and warnings', () => {
  assert.equal(load('hsc_lsst_afw_sip3').radesys, 'FK5');
  const ptf = load('ptf_p48_sip4');
  assert.equal(ptf.radesys, 'ICRS');
  assert.ok(ptf.warnings.some((w) => w.includes('RADECSYS')));
  assert.equal(load('hst_acs_wfc_sip4_noinv').radesys, 'ICRS');
  const zwo = load('zwo_asi290_astrometrynet_ncp_sip2');
  assert.equal(zwo.radesys, 'FK5');
  assert.equal(zwo.equinox, 2000);
  assert.equal(load('hst_acs_wfc_sip4_noinv').hasInverse, false);
});
