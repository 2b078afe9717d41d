/** Bad headers throw BAD_INPUT naming the keyword; bad points get NaN and a status bit, never a throw. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SkycalError } from '../src/errors.js';
import { NoConvergenceError, TanSipWcs, makeTanSipWcs } from '../src/wcs/index.js';
import { STATUS_DIVERGED, STATUS_NONFINITE_INPUT, STATUS_NO_CONVERGENCE, STATUS_OUTSIDE_DOMAIN } from '../native-free-kernels/index.js';
import { wcsHeaderDir } from './helpers.js';

const irac = readFileSync(join(wcsHeaderDir, 'spitzer_irac_ch1_sip2.hdr'), 'utf8');
const lines = irac.split('\n');
const without = (key: string) => lines.filter((l) => !l.startsWith(key.padEnd(8))).join('\n');
const replace = (key: string, card: string) => lines.map((l) => (l.startsWith(key.padEnd(8)) ? card.padEnd(80) : l)).join('\n');

function throwsBadInput(text: string, mentions: RegExp): void {
  assert.throws(
    () => TanSipWcs.fromFitsHeader(text),
    (e: unknown) => SkycalError.isSkycalError(e) && e.code === 'BAD_INPUT' && mentions.test(e.message),
  );
}

test('a malformed card value (CRPIX1 = 12.3.4) is BAD_INPUT naming CRPIX1', () => throwsBadInput(replace('CRPIX1', 'CRPIX1  = 12.3.4'), /CRPIX1/));
for (const key of ['CRPIX1', 'CRPIX2', 'CRVAL1', 'CRVAL2', 'CTYPE1']) {
  test(`a missing ${key} is BAD_INPUT naming ${key}`, () => throwsBadInput(without(key), new RegExp(key)));
}
test('no CD, PC or CDELT is BAD_INPUT naming CD', () => throwsBadInput(lines.filter((l) => !/^CD[12]_[12] /.test(l)).join('\n'), /CD1_1/));
test('a singular CD matrix is BAD_INPUT', () => throwsBadInput(replace('CD2_2', 'CD2_2   = 0.0').replace(/^CD2_1 .*$/m, 'CD2_1   = 0.0'), /singular/));
test("an unsupported projection (RA---SIN) is BAD_INPUT naming the CTYPE", () => throwsBadInput(replace('CTYPE1', "CTYPE1  = 'RA---SIN'"), /CTYPE1 = 'RA---SIN'.*SIN/));
test('A_ORDER without B_ORDER is BAD_INPUT naming B_ORDER', () => throwsBadInput(without('B_ORDER'), /B_ORDER/));
test('AP_ORDER without BP_ORDER is BAD_INPUT naming BP_ORDER', () => throwsBadInput(without('BP_ORDER'), /BP_ORDER/));
test('a non-finite keyword value (CD1_1 = 1E400) is BAD_INPUT naming CD1_1', () => throwsBadInput(replace('CD1_1', 'CD1_1   = 1E400'), /CD1_1.*not finite/));
test('a non-finite SIP coefficient (A_2_0 = 1E999) is BAD_INPUT naming A_2_0', () => throwsBadInput(replace('A_2_0', 'A_2_0   = 1E999'), /A_2_0/));
test('a junk card that is not part of the WCS does not reject the header', () => {
  assert.doesNotThrow(() => TanSipWcs.fromFitsHeader(irac.replace(/^END/m, "JUNKKEY = 'unterminated\nEND")));
});

test('SIP without "-SIP" in CTYPE is applied, with a warning on the object', () => {
  const plain = TanSipWcs.fromFitsHeader(irac.replace(/-SIP'/g, "'    "));
  const sip = TanSipWcs.fromFitsHeader(irac);
  assert.ok(plain.hasSip && plain.warnings.some((w) => /-SIP/.test(w)));
  assert.deepEqual(plain.pixelToSky(10, 200), sip.pixelToSky(10, 200));
});

test('alternate WCS cards (CTYPE1O, CRVAL1O...) do not change the primary WCS', () => {
  const hst = readFileSync(join(wcsHeaderDir, 'hst_acs_wfc_sip4_noinv.hdr'), 'utf8');
  const stripped = hst.split('\n').filter((l) => !/^[A-Z0-9_]+O\s*=/.test(l)).join('\n');
  assert.ok(TanSipWcs.fromFitsHeader(hst).equals(TanSipWcs.fromFitsHeader(stripped)));
});

test('PC wins over CD when both are present (WCSLIB)', () => {
  const sipfits = readFileSync(join(wcsHeaderDir, 'astropy_sip_pc_cdelt_sip3.hdr'), 'utf8');
  const both = sipfits.replace(/^END/m, 'CD1_1   = 1.0\nCD2_2   = 1.0\nEND');
  assert.ok(TanSipWcs.fromFitsHeader(both).equals(TanSipWcs.fromFitsHeader(sipfits)));
});

test('NaN and infinite points get NaN plus STATUS_NONFINITE_INPUT, never a throw', () => {
  const wcs = TanSipWcs.fromFitsHeader(irac);
  const p = wcs.pixelToSkyArrays([NaN, 1, Infinity], [1, NaN, 2]);
  assert.equal(p.bad, 3);
  assert.deepEqual([...p.status], [STATUS_NONFINITE_INPUT, STATUS_NONFINITE_INPUT, STATUS_NONFINITE_INPUT]);
  assert.ok(p.ra.every(Number.isNaN) && p.dec.every(Number.isNaN));
  const s = wcs.skyToPixelArrays([NaN, 6, -Infinity], [0, NaN, 0]);
  assert.equal(s.bad, 3);
  assert.ok([...s.status].every((b) => b === STATUS_NONFINITE_INPUT) && s.x.every(Number.isNaN) && s.y.every(Number.isNaN));
});

test('strict sky -> pixel throws for any bad point (NaN input, |dec| > 90, behind the tangent plane) with the status of each', () => {
  const wcs = TanSipWcs.fromFitsHeader(irac); // CRVAL = (6.155, -2.07)
  const good = wcs.pixelToSky(100, 120);
  for (const approx of [false, true]) {
    assert.throws(
      () => wcs.skyToPixelArrays([good.ra, NaN, 6, 186.155], [good.dec, 0, 91, 2.07], { strict: true, approx }),
      (e: unknown) => {
        assert.ok(e instanceof NoConvergenceError && e.code === 'NO_CONVERGENCE');
        assert.deepEqual(e.indices, [1, 2, 3]);
        assert.deepEqual([...e.status], [STATUS_NONFINITE_INPUT, STATUS_OUTSIDE_DOMAIN, STATUS_OUTSIDE_DOMAIN]);
        const plain = wcs.skyToPixelArrays([good.ra], [good.dec], { approx });
        assert.ok(e.bestSolution.x[0] === plain.x[0] && Math.abs(plain.x[0]! - 100) < (approx ? 0.1 : 1e-9), 'good points kept');
        assert.ok(Number.isNaN(e.bestSolution.x[1]), 'no projection: NaN');
        assert.ok(e.accuracy.every(Number.isNaN) && e.divergent.length === 0 && e.slowConv.length === 0);
        return true;
      },
    );
  }
});

test('points on the far hemisphere (behind the tangent plane) get NaN plus STATUS_OUTSIDE_DOMAIN, in both modes', () => {
  const wcs = TanSipWcs.fromFitsHeader(irac); // CRVAL = (6.155, -2.07)
  for (const approx of [false, true]) {
    const s = wcs.skyToPixelArrays([186.155, 6.155, 96.2], [2.07, 88.0, 0], { approx });
    assert.deepEqual([...s.status], [STATUS_OUTSIDE_DOMAIN, STATUS_OUTSIDE_DOMAIN, STATUS_OUTSIDE_DOMAIN]);
    assert.ok(s.x.every(Number.isNaN) && s.y.every(Number.isNaN));
  }
  assert.equal(wcs.skyToPixelArrays([6], [91]).status[0], STATUS_OUTSIDE_DOMAIN);
});

/** A SIP polynomial that folds over: u + 1e-3 u^2 has no solution for U < -250. */
const folded = () =>
  makeTanSipWcs({
    crpix: [1000, 1000],
    crval: [150, 2],
    cd: [[-2.8e-4, 0], [0, 2.8e-4]],
    sipA: [[0, 0, 0], [0, 0, 0], [1e-3, 0, 0]],
    sipB: [[0, 0, 0], [0, 0, 0], [0, 0, 0]],
  });

test('a point with no preimage (folded SIP) gets NaN and a convergence status bit; strict mode throws NO_CONVERGENCE with the best solution, indices and accuracy', () => {
  const wcs = folded();
  const linear = makeTanSipWcs({ crpix: [1000, 1000], crval: [150, 2], cd: [[-2.8e-4, 0], [0, 2.8e-4]] });
  const target = linear.pixelToSky(1000 - 400, 1000); // U = -400 < -250
  const good = wcs.pixelToSky(1100, 1000);
  const r = wcs.skyToPixelArrays([good.ra, target.ra], [good.dec, target.dec]);
  assert.equal(r.bad, 1);
  assert.ok(Math.abs(r.x[0]! - 1100) < 1e-9 && r.status[0] === 0);
  assert.ok(Number.isNaN(r.x[1]) && (r.status[1]! & (STATUS_DIVERGED | STATUS_NO_CONVERGENCE)) !== 0);
  assert.throws(
    () => wcs.skyToPixelArrays([good.ra, target.ra], [good.dec, target.dec], { strict: true }),
    (e: unknown) => {
      assert.ok(e instanceof NoConvergenceError && e.code === 'NO_CONVERGENCE');
      assert.deepEqual(e.indices, [1]);
      assert.ok(Math.abs(e.bestSolution.x[0]! - 1100) < 1e-9, 'converged points are kept');
      assert.ok(Number.isFinite(e.bestSolution.x[1]) && e.accuracy[0]! > 1, `best residual ${e.accuracy[0]} px is honest`);
      return true;
    },
  );
});

test('makeTanSipWcs rejects bad arguments with BAD_INPUT', () => {
  const base = { crpix: [0, 0] as const, crval: [0, 0] as const, cd: [[1e-4, 0], [0, 1e-4]] };
  for (const bad of [
    { ...base, cd: [[1e-4, 0], [2e-4, 0]] },
    { ...base, crval: [0, NaN] as const },
    { ...base, sipA: [[0]] },
    { ...base, sipA: [[0, 0], [0, 1]], sipB: [[0, 0], [0, 0]] },
  ]) {
    assert.throws(() => makeTanSipWcs(bad), (e: unknown) => SkycalError.isSkycalError(e) && e.code === 'BAD_INPUT');
  }
});
