/**
 * Files we write, read back by astropy (Debian's python3-astropy, which CI
 * installs): the self-contained calexp FITS file and a TAN-SIP header with
 * AP/BP. Outside CI, the test is skipped when astropy is not importable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeExposureFits } from '../src/butler/exposureFits.js';
import { readImage } from '../src/fits/image.js';
import { TanSipWcs } from '../src/wcs/index.js';
import { imageFits, photoCalibJson, wcsHeaderText } from './butler-fixtures.js';
import { tempDir, wcsHeaderDir } from './helpers.js';

const PYTHON = '/usr/bin/python3';
const hasAstropy = spawnSync(PYTHON, ['-c', 'import astropy'], { encoding: 'utf8' }).status === 0;
const skip = !hasAstropy && !process.env['CI'] ? 'python3-astropy is not installed (CI installs it)' : false;

function python(script: string, ...args: string[]): unknown {
  const r = spawnSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('astropy opens the calexp FITS file: same pixels, same sky positions (1e-8 arcsec), calibration keywords and table', { skip }, () => {
  const dir = tempDir();
  try {
    const header = wcsHeaderText(1);
    const fits = writeExposureFits(
      { image: imageFits(32, 16), wcs: header, photoCalib: JSON.parse(photoCalibJson(1000, true)) },
      { wcs: { type: 'calexp.wcs', dataId: 'visit=1', runId: 'r-1', stage: 'jointcal', committedAt: '2026-11-24T00:00:00Z' } },
    );
    const path = join(dir.path, 'calexp.fits');
    writeFileSync(path, fits);
    const got = python(
      `import sys, json, warnings
from astropy.io import fits
from astropy.wcs import WCS
warnings.simplefilter('ignore')
with fits.open(sys.argv[1]) as h:
    w = WCS(h[0].header)
    ra, dec = w.all_pix2world([0, 10.5, 31], [0, 7.25, 15], 0)
    print(json.dumps({'data': h[0].data.astype(float).ravel().tolist(), 'ra': ra.tolist(), 'dec': dec.tolist(),
        'sip': w.sip is not None, 'photcalm': h[0].header['PHOTCALM'], 'extname': h[1].header['EXTNAME'], 'rows': len(h[1].data)}))`,
      path,
    ) as { data: number[]; ra: number[]; dec: number[]; sip: boolean; photcalm: number; extname: string; rows: number };
    assert.deepEqual(got.data, Array.from(readImage(fits).pixels));
    assert.equal(got.sip, true);
    assert.equal(got.photcalm, 1000);
    assert.equal(got.extname, 'PHOTOCAL');
    assert.equal(got.rows, 4);
    const wcs = TanSipWcs.fromFitsHeader(header);
    [[0, 0], [10.5, 7.25], [31, 15]].forEach(([x, y], i) => {
      const p = wcs.pixelToSky(x!, y!);
      assert.ok(Math.abs(p.ra - got.ra[i]!) * 3600 < 1e-8, `ra ${i}`);
      assert.ok(Math.abs(p.dec - got.dec[i]!) * 3600 < 1e-8, `dec ${i}`);
    });
  } finally {
    dir.cleanup();
  }
});

test('astropy reads our written PTF header (with a fitted AP/BP) to the same sky and the same inverse', { skip }, () => {
  const dir = tempDir();
  try {
    const wcs = TanSipWcs.fromFitsHeader(readFileSync(join(wcsHeaderDir, 'ptf_p48_sip4.hdr'), 'latin1')).fitInverse({ order: 5 }).wcs;
    const path = join(dir.path, 'ptf.hdr');
    writeFileSync(path, wcs.toFitsHeader());
    const got = python(
      `import sys, json, warnings
from astropy.io import fits
from astropy.wcs import WCS
warnings.simplefilter('ignore')
w = WCS(fits.Header.fromtextfile(sys.argv[1]))
ra, dec = w.all_pix2world([0, 1000.5, 2047], [0, 2000.25, 4095], 0)
x, y = w.all_world2pix(ra, dec, 0, tolerance=1e-10)
print(json.dumps({'ra': ra.tolist(), 'dec': dec.tolist(), 'x': x.tolist(), 'y': y.tolist(), 'ap': w.sip.ap is not None}))`,
      path,
    ) as { ra: number[]; dec: number[]; x: number[]; y: number[]; ap: boolean };
    assert.equal(got.ap, true, 'AP/BP survive the header round trip');
    [[0, 0], [1000.5, 2000.25], [2047, 4095]].forEach(([x, y], i) => {
      const p = wcs.pixelToSky(x!, y!);
      assert.ok(Math.abs(p.ra - got.ra[i]!) * 3600 < 1e-8, `ra ${i}`);
      assert.ok(Math.abs(p.dec - got.dec[i]!) * 3600 < 1e-8, `dec ${i}`);
      assert.ok(Math.abs(got.x[i]! - x!) < 1e-8 && Math.abs(got.y[i]! - y!) < 1e-8, `astropy's inverse of point ${i}`);
    });
  } finally {
    dir.cleanup();
  }
});
