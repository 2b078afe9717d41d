/**
 * TAN-SIP pixel <-> sky kernels (FITS WCS Paper II gnomonic projection with
 * Shupe et al. 2005 SIP distortion). Angles in degrees at the argument edge,
 * radians inside; pixels 0-based in the WCS's own frame.
 *
 * Pixel to sky: u = x - x0, v = y - y0 (x0 = CRPIX1 - 1), (U, V) = (u + f, v + g),
 * IWC = M (U, V), then TAN deprojection and the rotation to the native pole at
 * CRVAL with native longitude of the celestial pole LONPOLE.
 *
 * The packed model (a plain Float64Array, so it can be posted to workers),
 * slot by slot as the names in TAN_SIP_SLOTS (use the names, never the numbers):
 *   VERSION, KIND          MODEL_VERSION, MODEL_KIND_TAN_SIP
 *   X0, Y0                 CRPIX1 - 1, CRPIX2 - 1
 *   M11..M22               M = CD (or diag(CDELT) PC) in radians per pixel, row major
 *   MINV11..MINV22         M^-1 in pixels per radian, row major
 *   CRVAL1                 deg, in [0, 360)
 *   SIN_CRVAL2, COS_CRVAL2, SIN_LONPOLE, COS_LONPOLE
 *   DIRECT                 1 when LONPOLE = 180 (direct gnomonic formulas)
 *   SIP_ORDER              order of A and B (padded to a common order; -1 without SIP)
 *   INV_ORDER              order of AP and BP (padded to a common order; -1 without an inverse)
 *   OFFSET_A, OFFSET_B, OFFSET_AP, OFFSET_BP: each dense (order + 1)^2, c[p * (order + 1) + q]
 *   CRVAL2                 deg
 *   RESERVED               0
 *
 * Precision: Dec is computed as CRVAL2 + (Dec - CRVAL2), and sky -> pixel
 * works from (RA - CRVAL1, Dec - CRVAL2) with 1 - cos written as 2 sin^2, so
 * that no step cancels to the absolute rounding of a ~1 radian angle (which is
 * 1e-9 px on 0.05"/px HST pixels): the round trip is then limited by the
 * rounding of the degree outputs themselves.
 */
import { SIP_DISTORT_BLOCK, SIP_GRAD_PAIR_IDX, SIP_MAX_ORDER, SIP_PAIR_BLOCK, SIP_PAIR_IDX } from './sipPoly.js';
import { STATUS_DIVERGED, STATUS_NONFINITE_INPUT, STATUS_NO_CONVERGENCE, STATUS_OUTSIDE_DOMAIN, STATUS_OVERFLOW } from './status.js';

const D2R = Math.PI / 180;
const R2D = 180 / Math.PI;

export const MODEL_VERSION = 1;
export const MODEL_KIND_TAN_SIP = 1;
export const MODEL_HEADER_LENGTH = 26;

/** Slot of each header value in a packed TAN-SIP model (layout above). */
export const TAN_SIP_SLOTS = Object.freeze({
  VERSION: 0, KIND: 1, X0: 2, Y0: 3,
  M11: 4, M12: 5, M21: 6, M22: 7,
  MINV11: 8, MINV12: 9, MINV21: 10, MINV22: 11,
  CRVAL1: 12, SIN_CRVAL2: 13, COS_CRVAL2: 14, SIN_LONPOLE: 15, COS_LONPOLE: 16, DIRECT: 17,
  SIP_ORDER: 18, INV_ORDER: 19,
  OFFSET_A: 20, OFFSET_B: 21, OFFSET_AP: 22, OFFSET_BP: 23,
  CRVAL2: 24, RESERVED: 25,
} as const);
const S = TAN_SIP_SLOTS;

/** A copy of `model` with AP/BP switched off: sky -> pixel then seeds from the linear inverse. */
export function withoutInverse(model: Float64Array): Float64Array {
  const m = model.slice();
  m[S.INV_ORDER] = -1;
  return m;
}

/** sin and cos of an angle in degrees, exact at multiples of 90 (as WCSLIB's sind/cosd). */
export function sinCosDeg(deg: number): [number, number] {
  const r = ((deg % 360) + 360) % 360;
  if (r === 0) return [0, 1];
  if (r === 90) return [1, 0];
  if (r === 180) return [0, -1];
  if (r === 270) return [-1, 0];
  return [Math.sin(deg * D2R), Math.cos(deg * D2R)];
}
export { SIP_MAX_ORDER };

/** Newton steps that keep growing, or a solution this far from CRPIX, mean the polynomial is not invertible there. */
const DIVERGENCE_LIMIT_PX = 1e8;
/**
 * Points go through the polynomials a block at a time (SIP_PAIR_BLOCK reads
 * the coefficients once per block instead of once per term and point: 2x on
 * pixel -> sky). Module scratch, never per point; every value is computed per
 * point exactly as point-wise code would, so blocking does not change results.
 */
const BLOCK = 256;
const BU = new Float64Array(BLOCK);
const BV = new Float64Array(BLOCK);
const BF = new Float64Array(BLOCK);
const BG = new Float64Array(BLOCK);
// Newton state per point of a block (sky -> pixel): current solution, gradients, Jacobian, last step.
const CU = new Float64Array(BLOCK);
const CV = new Float64Array(BLOCK);
const BFU = new Float64Array(BLOCK);
const BFV = new Float64Array(BLOCK);
const BGU = new Float64Array(BLOCK);
const BGV = new Float64Array(BLOCK);
const J11 = new Float64Array(BLOCK);
const J12 = new Float64Array(BLOCK);
const J21 = new Float64Array(BLOCK);
const J22 = new Float64Array(BLOCK);
const DET = new Float64Array(BLOCK);
const PREV = new Float64Array(BLOCK);
const BS = new Uint8Array(BLOCK);
const ACT = new Int32Array(BLOCK); // points of the block with a projection
// Unconverged points that need a fresh Jacobian, and those on chord steps (double-buffered).
const FI = new Int32Array(BLOCK);
const CI = new Int32Array(BLOCK);
const FI2 = new Int32Array(BLOCK);
const CI2 = new Int32Array(BLOCK);
// Per point of a block, for the diagnostics: the last Newton step and the iterations used.
const LDU = new Float64Array(BLOCK);
const LDV = new Float64Array(BLOCK);
const NIT = new Int32Array(BLOCK);

/** True when `model` is a packed TAN-SIP model this kernel version understands. */
export function isTanSipModel(model: Float64Array): boolean {
  return (
    model.length >= MODEL_HEADER_LENGTH &&
    model[S.VERSION] === MODEL_VERSION &&
    model[S.KIND] === MODEL_KIND_TAN_SIP &&
    model[S.SIP_ORDER]! <= SIP_MAX_ORDER &&
    model[S.INV_ORDER]! <= SIP_MAX_ORDER
  );
}

function checkModel(model: Float64Array): void {
  // Bad configuration throws (once per call), bad points never do.
  if (!isTanSipModel(model)) throw new TypeError('tanSip kernel: not a packed TAN-SIP model (version/kind mismatch)');
}

/*
 * Inline atan and sin for small arguments. Math.atan and Math.sin are C calls
 * that cost ~7-10 ns each in the loops (plus the spilling of every live
 * double around the call). On |t| < 7/16 and |x| < pi/4, V8's fdlibm
 * computes exactly these polynomials (s_atan.c aT[], k_sin.c S1..S6), so the
 * results are bit for bit those of Math.atan / Math.sin (checked on 2e6
 * random arguments per function, down to 2^-60); outside, call Math.
 */
const AT0 = 3.33333333333329318027e-1, AT1 = -1.99999999998764832476e-1, AT2 = 1.42857142725034663711e-1;
const AT3 = -1.1111110405462355788e-1, AT4 = 9.09088713343650656196e-2, AT5 = -7.69187620504482999495e-2;
const AT6 = 6.66107313738753120669e-2, AT7 = -5.83357013379057348645e-2, AT8 = 4.97687799461593236017e-2;
const AT9 = -3.6531572744216915527e-2, AT10 = 1.62858201153657823623e-2;
function atanFast(t: number): number {
  if (!(t < 0.4375 && t > -0.4375)) return Math.atan(t);
  const z = t * t, w = z * z;
  const s1 = z * (AT0 + w * (AT2 + w * (AT4 + w * (AT6 + w * (AT8 + w * AT10)))));
  const s2 = w * (AT1 + w * (AT3 + w * (AT5 + w * (AT7 + w * AT9))));
  return t - t * (s1 + s2);
}
const S1 = -1.66666666666666324348e-1, S2 = 8.33333333332248946124e-3, S3 = -1.98412698298579493134e-4;
const S4 = 2.75573137070700676789e-6, S5 = -2.50507602534068634195e-8, S6 = 1.58969099521155010221e-10;
function sinFast(x: number): number {
  if (!(x < 0.7853981633974483 && x > -0.7853981633974483)) return Math.sin(x);
  const z = x * x, v = z * x;
  return x + v * (S1 + z * (S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)))));
}

/** Normalise degrees to [0, 360); a tiny negative must not round up to 360. */
function wrapDeg(a: number): number {
  if (a < 0) {
    a += 360;
    if (a >= 360) a = 0;
  } else if (a >= 360) a -= 360;
  return a;
}

/**
 * Pixel (x, y) to sky (ra, dec) in degrees, RA in [0, 360). Returns the number
 * of bad points (NaN output and a status bit); status is 0 for good points.
 */
export function tanSipPixelToSkyDeg(
  N: number, model: Float64Array,
  x: Float64Array, strideX: number, offsetX: number,
  y: Float64Array, strideY: number, offsetY: number,
  ra: Float64Array, strideRa: number, offsetRa: number,
  dec: Float64Array, strideDec: number, offsetDec: number,
  status: Uint8Array, strideStatus: number, offsetStatus: number,
): number {
  checkModel(model);
  // Scratch in locals: in V8 a module-level binding is reloaded (and its typed array re-checked)
  // at every use, which cost 10-20% here.
  const bu_ = BU, bv_ = BV, bf_ = BF, bg_ = BG, bs_ = BS;
  const x0 = model[S.X0]!, y0 = model[S.Y0]!;
  const m11 = model[S.M11]!, m12 = model[S.M12]!, m21 = model[S.M21]!, m22 = model[S.M22]!;
  const ra0 = model[S.CRVAL1]!, sd0 = model[S.SIN_CRVAL2]!, cd0 = model[S.COS_CRVAL2]!, dec0 = model[S.CRVAL2]!;
  const sp = model[S.SIN_LONPOLE]!, cp = model[S.COS_LONPOLE]!;
  const direct = model[S.DIRECT] === 1;
  const n = model[S.SIP_ORDER]!;
  const hasSip = n >= 0;
  const distort = SIP_DISTORT_BLOCK[hasSip ? n : 0]!;
  const oa = model[S.OFFSET_A]! | 0, ob = model[S.OFFSET_B]! | 0; // int offsets: double-typed indexes take a slow path
  let bad = 0;
  let ir = offsetRa, id = offsetDec, is = offsetStatus;
  for (let start = 0; start < N; start += BLOCK) {
    const count = N - start < BLOCK ? N - start : BLOCK;
    const ox = offsetX + start * strideX, oy = offsetY + start * strideY;
    // (U, V) = (u + f, v + g) into bu_, bv_.
    if (hasSip) distort(model, oa, ob, count, x0, y0, x, strideX, ox, y, strideY, oy, bu_, bv_);
    else {
      for (let j = 0, ix = ox, iy = oy; j < count; j++, ix += strideX, iy += strideY) {
        bu_[j] = x[ix]! - x0;
        bv_[j] = y[iy]! - y0;
      }
    }
    // Two passes per block: the deprojection up to the atan arguments, then the atans and the stores.
    // Shorter loop bodies let the CPU overlap the long division/atan dependency chains of several points.
    for (let j = 0; j < count; j++) {
      const U = bu_[j]!, V = bv_[j]!;
      const xi = m11 * U + m12 * V;
      const eta = m21 * U + m22 * V;
      // Gnomonic deprojection and rotation without trig (the common 1/sqrt(1+r^2) cancels in atan2).
      // (a, b, z) is the direction (unnormalised) in the celestial frame.
      let a: number, w: number;
      if (direct) {
        a = xi;
        w = eta;
      } else {
        a = -(xi * cp + eta * sp);
        w = xi * sp - eta * cp;
      }
      const b = cd0 - sd0 * w;
      const z = sd0 + cd0 * w;
      const rho = Math.sqrt(a * a + b * b);
      const den = cd0 + rho;
      // sin and cos of (Dec - CRVAL2), scaled: z cd0 - rho sd0 without cancellation.
      const ns = den > 1e-6 ? cd0 * cd0 * w + (sd0 * (2 * cd0 * sd0 * w - sd0 * sd0 * w * w - a * a)) / den : 0;
      const nc = rho * cd0 + z * sd0;
      if (b > 0 && den > 1e-6 && nc > 0) {
        // atan(a / b) is twice as fast as atan2 (7 vs 16 ns) and as exact where b > 0 (|RA - CRVAL1| < 90 deg).
        bf_[j] = a / b;
        bg_[j] = ns / nc;
        bs_[j] = 0;
      } else {
        // Rare cases (|RA - CRVAL1| >= 90 deg, the pole, non-finite input): finish here.
        bf_[j] = ra0 + (b > 0 ? atanFast(a / b) : Math.atan2(a, b)) * R2D;
        let d: number;
        if (den > 1e-6) {
          d = dec0 + (nc > 0 ? atanFast(ns / nc) : Math.atan2(ns, nc)) * R2D;
          if (d > 90) d = 90;
          else if (d < -90) d = -90;
        } else {
          d = Math.atan2(z, rho) * R2D; // at the pole itself
        }
        bg_[j] = d;
        bs_[j] = 1;
      }
    }
    for (let j = 0; j < count; j++, ir += strideRa, id += strideDec, is += strideStatus) {
      let r: number, d: number;
      if (bs_[j] === 0) {
        r = ra0 + atanFast(bf_[j]!) * R2D;
        d = dec0 + atanFast(bg_[j]!) * R2D;
        if (d > 90) d = 90;
        else if (d < -90) d = -90;
      } else {
        r = bf_[j]!;
        d = bg_[j]!;
      }
      if (r === r && d === d && r !== Infinity && r !== -Infinity) {
        ra[ir] = wrapDeg(r);
        dec[id] = d;
        status[is] = 0;
      } else {
        ra[ir] = NaN;
        dec[id] = NaN;
        // Finite pixels with a non-finite result: the SIP polynomial overflowed there.
        const px = x[ox + j * strideX]!, py = y[oy + j * strideY]!;
        status[is] = px - px === 0 && py - py === 0 ? STATUS_OVERFLOW : STATUS_NONFINITE_INPUT;
        bad++;
      }
    }
  }
  return bad;
}


// Block projection scratch: RA - CRVAL1 and Dec - CRVAL2 (deg) and their sines.
const DA = new Float64Array(BLOCK);
const DD = new Float64Array(BLOCK);
const SH = new Float64Array(BLOCK);
const SD = new Float64Array(BLOCK);

/**
 * Sky to the gnomonic plane in pixel units before distortion, (U, V) = M^-1 IWC,
 * over a block: (U, V) to BU, BV and 0 or a status bit to BS. Two passes, the sines then the rest, so that the
 * CPU overlaps the dependency chains of several points.
 */
function projectBlock(
  model: Float64Array, count: number,
  ra: Float64Array, strideRa: number, offsetRa: number,
  dec: Float64Array, strideDec: number, offsetDec: number,
): void {
  gnomonicBlock(
    count, model[S.CRVAL1]!, model[S.CRVAL2]!, model[S.SIN_CRVAL2]!, model[S.COS_CRVAL2]!,
    model[S.SIN_LONPOLE]!, model[S.COS_LONPOLE]!, model[S.DIRECT] === 1,
    model[S.MINV11]!, model[S.MINV12]!, model[S.MINV21]!, model[S.MINV22]!,
    ra, strideRa, offsetRa, dec, strideDec, offsetDec,
  );
}

/**
 * The one gnomonic (TAN) projection: sky (deg) to N (xi, eta), the standard
 * coordinates in radians on the plane tangent at (ra0, dec0) (xi east, eta
 * north, rotated by LONPOLE unless `direct`), times the matrix N. Into BU, BV;
 * 0 or a status bit into BS.
 */
function gnomonicBlock(
  count: number, ra0: number, dec0: number, sd0: number, cd0: number, sp: number, cp: number, direct: boolean,
  n11: number, n12: number, n21: number, n22: number,
  ra: Float64Array, strideRa: number, offsetRa: number,
  dec: Float64Array, strideDec: number, offsetDec: number,
): void {
  // Scratch in locals (see tanSipPixelToSkyDeg).
  const bu_ = BU, bv_ = BV, bs_ = BS, da_ = DA, dd_ = DD, sh_ = SH, sd_ = SD;
  for (let j = 0, ir = offsetRa, id = offsetDec; j < count; j++, ir += strideRa, id += strideDec) {
    const raDeg = ra[ir]!, decDeg = dec[id]!;
    let st = 0;
    if (!(raDeg - raDeg === 0) || !(decDeg - decDeg === 0)) st = STATUS_NONFINITE_INPUT;
    else if (decDeg > 90 || decDeg < -90) st = STATUS_OUTSIDE_DOMAIN;
    bs_[j] = st;
    if (st !== 0) continue;
    // Reduce RA - CRVAL1 in degrees (exact near 0/360) before radians: 2 pi - tiny loses 1e-13 deg.
    let dad = raDeg - ra0;
    if (dad > 180) dad -= 360;
    else if (dad < -180) dad += 360;
    const ddDeg = decDeg - dec0; // exact subtraction near CRVAL2
    da_[j] = dad;
    dd_[j] = ddDeg;
    sh_[j] = sinFast(0.5 * dad * D2R);
    sd_[j] = sinFast(ddDeg * D2R);
  }
  for (let j = 0; j < count; j++) {
    if (bs_[j] !== 0) {
      bu_[j] = 0;
      bv_[j] = 0;
      continue;
    }
    const dad = da_[j]!, ddDeg = dd_[j]!, h = sh_[j]!, sdd = sd_[j]!;
    // Two sines instead of five trig calls: cos from sqrt where the angle is within 90 deg.
    const omc = 2 * h * h; // 1 - cos(da) without cancellation
    // sqrt(1 - s^2) loses digits as s -> 1: only within 60 deg (beyond, call the trig function).
    const sa = dad > -120 && dad < 120 ? 2 * h * Math.sqrt(1 - h * h) : Math.sin(dad * D2R); // sin(da)
    const cdd = ddDeg > -60 && ddDeg < 60 ? Math.sqrt(1 - sdd * sdd) : Math.cos(ddDeg * D2R);
    const cd = cd0 * cdd - sd0 * sdd; // cos(Dec) = cos(CRVAL2 + dd)
    const z = cdd - cd * cd0 * omc; // sin(native latitude)
    if (!(z > 0)) {
      bs_[j] = STATUS_OUTSIDE_DOMAIN; // far hemisphere (or the horizon)
      bu_[j] = 0;
      bv_[j] = 0;
      continue;
    }
    const p = -cd * sa;
    const q = sdd + cd * sd0 * omc;
    let xi: number, eta: number;
    if (direct) {
      xi = -p / z;
      eta = q / z;
    } else {
      xi = (p * cp + q * sp) / z;
      eta = -(q * cp - p * sp) / z;
    }
    bu_[j] = n11 * xi + n12 * eta;
    bv_[j] = n21 * xi + n22 * eta;
  }
}

/**
 * The SIP distortion at N pixels: (dx, dy) = (A(u, v), B(u, v)) with
 * u = x - x0, v = y - y0, the offset (px) that SIP adds to the linear model
 * (0 without SIP). The kernels' own polynomial evaluation.
 */
export function tanSipDistortionPx(
  N: number, model: Float64Array,
  x: Float64Array, strideX: number, offsetX: number,
  y: Float64Array, strideY: number, offsetY: number,
  dx: Float64Array, strideDx: number, offsetDx: number,
  dy: Float64Array, strideDy: number, offsetDy: number,
): void {
  checkModel(model);
  const bu_ = BU, bv_ = BV, bf_ = BF, bg_ = BG;
  const x0 = model[S.X0]!, y0 = model[S.Y0]!, n = model[S.SIP_ORDER]!;
  const pair = SIP_PAIR_BLOCK[n >= 0 ? n : 0]!;
  const oa = model[S.OFFSET_A]! | 0, ob = model[S.OFFSET_B]! | 0;
  let ix = offsetX, iy = offsetY, idx = offsetDx, idy = offsetDy;
  for (let start = 0; start < N; start += BLOCK) {
    const count = N - start < BLOCK ? N - start : BLOCK;
    for (let j = 0; j < count; j++, ix += strideX, iy += strideY) {
      bu_[j] = x[ix]! - x0;
      bv_[j] = y[iy]! - y0;
    }
    if (n >= 0) pair(model, oa, ob, count, bu_, bv_, bf_, bg_);
    for (let j = 0; j < count; j++, idx += strideDx, idy += strideDy) {
      dx[idx] = n >= 0 ? bf_[j]! : 0;
      dy[idy] = n >= 0 ? bg_[j]! : 0;
    }
  }
}

/**
 * Sky (deg) to gnomonic standard coordinates (deg) on the plane tangent at
 * (ra0, dec0): xi grows to the east, eta to the north (FITS TAN with LONPOLE
 * 180). The same arithmetic as the TAN-SIP kernels' projection. Points at or
 * beyond 90 deg from (ra0, dec0), or with |dec| > 90, get NaN and
 * STATUS_OUTSIDE_DOMAIN; NaN input gets STATUS_NONFINITE_INPUT. Returns the
 * number of bad points.
 */
export function gnomonicProjectDeg(
  N: number, ra0: number, dec0: number,
  ra: Float64Array, strideRa: number, offsetRa: number,
  dec: Float64Array, strideDec: number, offsetDec: number,
  xi: Float64Array, strideXi: number, offsetXi: number,
  eta: Float64Array, strideEta: number, offsetEta: number,
  status: Uint8Array, strideStatus: number, offsetStatus: number,
): number {
  let r0 = ra0 % 360;
  if (r0 < 0) r0 += 360;
  if (r0 >= 360) r0 = 0;
  const [sd0, cd0] = sinCosDeg(dec0);
  const bu_ = BU, bv_ = BV, bs_ = BS;
  let bad = 0;
  let ix = offsetXi, ie = offsetEta, is = offsetStatus;
  for (let start = 0; start < N; start += BLOCK) {
    const count = N - start < BLOCK ? N - start : BLOCK;
    gnomonicBlock(count, r0, dec0, sd0, cd0, 0, -1, true, 1, 0, 0, 1, ra, strideRa, offsetRa + start * strideRa, dec, strideDec, offsetDec + start * strideDec);
    for (let j = 0; j < count; j++, ix += strideXi, ie += strideEta, is += strideStatus) {
      const st = bs_[j]!;
      if (st !== 0) {
        xi[ix] = NaN;
        eta[ie] = NaN;
        bad++;
      } else {
        xi[ix] = bu_[j]! * R2D;
        eta[ie] = bv_[j]! * R2D;
      }
      status[is] = st;
    }
  }
  return bad;
}

/**
 * Sky to pixel by the AP/BP polynomial alone (an approximation: 1e-3 to 0.1 px
 * on real headers). Without AP/BP this is the linear inverse (SIP ignored).
 */
export function tanSipSkyToPixelApproxDeg(
  N: number, model: Float64Array,
  ra: Float64Array, strideRa: number, offsetRa: number,
  dec: Float64Array, strideDec: number, offsetDec: number,
  x: Float64Array, strideX: number, offsetX: number,
  y: Float64Array, strideY: number, offsetY: number,
  status: Uint8Array, strideStatus: number, offsetStatus: number,
): number {
  checkModel(model);
  // Scratch in locals (see tanSipPixelToSkyDeg).
  const bu_ = BU, bv_ = BV, bf_ = BF, bg_ = BG, bs_ = BS;
  const x0 = model[S.X0]!, y0 = model[S.Y0]!;
  const m = model[S.INV_ORDER]!;
  const hasInv = m >= 0;
  const seed = SIP_PAIR_BLOCK[hasInv ? m : 0]!;
  const oap = model[S.OFFSET_AP]! | 0, obp = model[S.OFFSET_BP]! | 0;
  let bad = 0;
  let ix = offsetX, iy = offsetY, is = offsetStatus;
  for (let start = 0; start < N; start += BLOCK) {
    const count = N - start < BLOCK ? N - start : BLOCK;
    projectBlock(model, count, ra, strideRa, offsetRa + start * strideRa, dec, strideDec, offsetDec + start * strideDec);
    if (hasInv) seed(model, oap, obp, count, bu_, bv_, bf_, bg_);
    for (let j = 0; j < count; j++, ix += strideX, iy += strideY, is += strideStatus) {
      const st = bs_[j]!;
      if (st !== 0) {
        x[ix] = NaN;
        y[iy] = NaN;
        status[is] = st;
        bad++;
      } else {
        const px = (hasInv ? bu_[j]! + bf_[j]! : bu_[j]!) + x0;
        const py = (hasInv ? bv_[j]! + bg_[j]! : bv_[j]!) + y0;
        if (px - px === 0 && py - py === 0) {
          x[ix] = px;
          y[iy] = py;
          status[is] = 0;
        } else {
          x[ix] = NaN; // the AP/BP polynomial overflowed
          y[iy] = NaN;
          status[is] = STATUS_OVERFLOW;
          bad++;
        }
      }
    }
  }
  return bad;
}

const DONE = 0, FRESH_STEP = 1, CHORD_STEP = 2;

/**
 * Applies the Newton step (du, dv) to point j of the block (cu, cv) and says what
 * it needs next: DONE (converged, bs 0, or diverged, bs STATUS_DIVERGED), or a
 * FRESH_STEP or a CHORD_STEP.
 */
function newtonUpdate(
  j: number, du: number, dv: number, k: number, tol: number,
  cu: Float64Array, cv: Float64Array, prev: Float64Array, bs: Uint8Array,
): number {
  const u0 = cu[j]!, v0 = cv[j]!;
  const u = u0 - du;
  const v = v0 - dv;
  cu[j] = u;
  cv[j] = v;
  if (Math.abs(du) <= tol && Math.abs(dv) <= tol) {
    bs[j] = 0;
    return DONE;
  }
  const step = Math.abs(du) + Math.abs(dv);
  // Growing steps above the rounding floor, or a run-away solution: not invertible here.
  if (!(step === step) || Math.abs(u) + Math.abs(v) > DIVERGENCE_LIMIT_PX || (k >= 2 && step > prev[j]! && step > 1e-6)) {
    // A NaN step from finite input is overflow in the polynomials, not a growing step.
    bs[j] = step === step ? STATUS_DIVERGED : STATUS_OVERFLOW;
    cu[j] = u0; // keep the iterate before the step that failed: the best solution (as astropy)
    cv[j] = v0;
    return DONE;
  }
  prev[j] = step;
  // Close to the solution the Jacobian barely changes: reuse it (chord steps) and skip the gradient.
  return step > 1e-3 ? FRESH_STEP : CHORD_STEP;
}

/**
 * Exact sky to pixel: Newton iteration on the forward SIP model, seeded by
 * AP/BP when present (else the linear inverse), until the step is at most
 * `tolerancePx`. Solves u + f(u, v) = U, v + g(u, v) = V with the 2x2 Jacobian
 * [[1 + f_u, f_v], [g_u, 1 + g_v]]. Points whose steps grow (or run away) get
 * STATUS_DIVERGED; points that use up `maxIter` get STATUS_NO_CONVERGENCE.
 */
export function tanSipSkyToPixelDeg(
  N: number, model: Float64Array, maxIter: number, tolerancePx: number,
  ra: Float64Array, strideRa: number, offsetRa: number,
  dec: Float64Array, strideDec: number, offsetDec: number,
  x: Float64Array, strideX: number, offsetX: number,
  y: Float64Array, strideY: number, offsetY: number,
  status: Uint8Array, strideStatus: number, offsetStatus: number,
): number {
  return tanSipSkyToPixelDiagDeg(
    N, model, maxIter, tolerancePx, ra, strideRa, offsetRa, dec, strideDec, offsetDec,
    x, strideX, offsetX, y, strideY, offsetY, status, strideStatus, offsetStatus, NO_DIAG, 0, 0,
  );
}

/** Slots of one point's record in tanSipSkyToPixelDiagDeg's `diag` output. */
export const SKY_TO_PIXEL_DIAG = Object.freeze({ BEST_X: 0, BEST_Y: 1, ACCURACY: 2, NITER: 3, LENGTH: 4 } as const);
const NO_DIAG = new Float64Array(0);

/**
 * tanSipSkyToPixelDeg that also reports what the solver reached at every
 * point, into diag[offsetDiag + i * strideDiag + slot] (SKY_TO_PIXEL_DIAG; an
 * empty `diag` is not written):
 *   BEST_X, BEST_Y  the solver's last iterate (for a diverging point, the one
 *                   before the step that grew); equal to x, y where status is 0;
 *                   NaN where the point has no projection (bad input, far side)
 *   ACCURACY        the length (px) of the last Newton step taken there, as
 *                   astropy's NoConvergence.accuracy; 0 without SIP (exact)
 *   NITER           Newton iterations used at the point
 */
export function tanSipSkyToPixelDiagDeg(
  N: number, model: Float64Array, maxIter: number, tolerancePx: number,
  ra: Float64Array, strideRa: number, offsetRa: number,
  dec: Float64Array, strideDec: number, offsetDec: number,
  x: Float64Array, strideX: number, offsetX: number,
  y: Float64Array, strideY: number, offsetY: number,
  status: Uint8Array, strideStatus: number, offsetStatus: number,
  diag: Float64Array, strideDiag: number, offsetDiag: number,
): number {
  checkModel(model);
  // Scratch in locals (see tanSipPixelToSkyDeg).
  const bu_ = BU, bv_ = BV, bf_ = BF, bg_ = BG, cu_ = CU, cv_ = CV, bfu_ = BFU, bfv_ = BFV, bgu_ = BGU, bgv_ = BGV, j11_ = J11, j12_ = J12, j21_ = J21, j22_ = J22, det_ = DET, prev_ = PREV, bs_ = BS, act_ = ACT, fi_ = FI, ci_ = CI, fi2_ = FI2, ci2_ = CI2;
  const ldu_ = LDU, ldv_ = LDV, nit_ = NIT;
  const wantDiag = diag.length > 0;
  let iD = offsetDiag;
  const x0 = model[S.X0]!, y0 = model[S.Y0]!;
  const n = model[S.SIP_ORDER]!, m = model[S.INV_ORDER]!;
  const hasSip = n >= 0, hasInv = m >= 0;
  const pair = SIP_PAIR_BLOCK[hasSip ? n : 0]!;
  const pairIdx = SIP_PAIR_IDX[hasSip ? n : 0]!;
  const gradIdx = SIP_GRAD_PAIR_IDX[hasSip ? n : 0]!;
  const seed = SIP_PAIR_BLOCK[hasInv ? m : 0]!;
  const oa = model[S.OFFSET_A]! | 0, ob = model[S.OFFSET_B]! | 0, oap = model[S.OFFSET_AP]! | 0, obp = model[S.OFFSET_BP]! | 0;
  const tol = tolerancePx;
  let bad = 0;
  let ix = offsetX, iy = offsetY, is = offsetStatus;
  // A block at a time: the Newton iterations of a point are the same as point by point, but each
  // sweep evaluates the polynomials of all unconverged points of the block with hoisted coefficients.
  for (let start = 0; start < N; start += BLOCK) {
    const count = N - start < BLOCK ? N - start : BLOCK;
    projectBlock(model, count, ra, strideRa, offsetRa + start * strideRa, dec, strideDec, offsetDec + start * strideDec);
    let nAct = 0;
    for (let j = 0; j < count; j++) if (bs_[j] === 0) act_[nAct++] = j;
    if (hasInv) {
      seed(model, oap, obp, count, bu_, bv_, bf_, bg_);
      for (let j = 0; j < count; j++) {
        cu_[j] = bu_[j]! + bf_[j]!;
        cv_[j] = bv_[j]! + bg_[j]!;
      }
      if (hasSip) {
        // Then one fixed-point step u <- U - f(u): it shrinks the AP/BP error by about |grad f|
        // (0.02 on PTF) for one polynomial pair, so that most points need one Newton step fewer
        // (sky -> pixel 0.88-0.91x the time on PTF). Only where the step is small, i.e. near the image.
        pair(model, oa, ob, count, cu_, cv_, bf_, bg_);
        for (let j = 0; j < count; j++) {
          const u = bu_[j]! - bf_[j]!, v = bv_[j]! - bg_[j]!;
          if (Math.abs(u - cu_[j]!) + Math.abs(v - cv_[j]!) < 1) {
            cu_[j] = u;
            cv_[j] = v;
          }
        }
      }
    } else if (hasSip) {
      // One fixed-point step from the linear inverse: the seed error drops from f to about f * |grad f|.
      pair(model, oa, ob, count, bu_, bv_, bf_, bg_);
      for (let j = 0; j < count; j++) {
        cu_[j] = bu_[j]! - bf_[j]!;
        cv_[j] = bv_[j]! - bg_[j]!;
      }
    } else {
      for (let j = 0; j < count; j++) {
        cu_[j] = bu_[j]!;
        cv_[j] = bv_[j]!;
      }
    }
    if (hasSip) {
      // Points needing a fresh Jacobian (fi) and points on chord steps (ci), double-buffered.
      let fi = fi_, ci = ci_, fiNext = fi2_, ciNext = ci2_;
      let nf = 0, nc = 0;
      for (let i = 0; i < nAct; i++) {
        const j = act_[i]!;
        bs_[j] = STATUS_NO_CONVERGENCE;
        prev_[j] = Infinity;
        ldu_[j] = NaN;
        ldv_[j] = NaN;
        nit_[j] = 0;
        fi[nf++] = j;
      }
      for (let k = 0; k < maxIter && nf + nc > 0; k++) {
        if (nf > 0) gradIdx(model, oa, ob, nf, fi, cu_, cv_, bf_, bfu_, bfv_, bg_, bgu_, bgv_);
        if (nc > 0) pairIdx(model, oa, ob, nc, ci, cu_, cv_, bf_, bg_);
        let nf2 = 0, nc2 = 0;
        for (let i = 0; i < nf; i++) {
          const j = fi[i]!;
          const j11 = j11_[j] = 1 + bfu_[j]!;
          const j12 = j12_[j] = bfv_[j]!;
          const j21 = j21_[j] = bgu_[j]!;
          const j22 = j22_[j] = 1 + bgv_[j]!;
          const det = det_[j] = j11 * j22 - j12 * j21;
          const ru = cu_[j]! + bf_[j]! - bu_[j]!;
          const rv = cv_[j]! + bg_[j]! - bv_[j]!;
          const du = (j22 * ru - j12 * rv) / det, dv = (j11 * rv - j21 * ru) / det;
          ldu_[j] = du;
          ldv_[j] = dv;
          nit_[j] = k + 1;
          const next = newtonUpdate(j, du, dv, k, tol, cu_, cv_, prev_, bs_);
          if (next === FRESH_STEP) fiNext[nf2++] = j;
          else if (next === CHORD_STEP) ciNext[nc2++] = j;
        }
        for (let i = 0; i < nc; i++) {
          const j = ci[i]!;
          const j11 = j11_[j]!, j12 = j12_[j]!, j21 = j21_[j]!, j22 = j22_[j]!, det = det_[j]!;
          const ru = cu_[j]! + bf_[j]! - bu_[j]!;
          const rv = cv_[j]! + bg_[j]! - bv_[j]!;
          const du = (j22 * ru - j12 * rv) / det, dv = (j11 * rv - j21 * ru) / det;
          ldu_[j] = du;
          ldv_[j] = dv;
          nit_[j] = k + 1;
          const next = newtonUpdate(j, du, dv, k, tol, cu_, cv_, prev_, bs_);
          if (next === FRESH_STEP) fiNext[nf2++] = j;
          else if (next === CHORD_STEP) ciNext[nc2++] = j;
        }
        let t = fi; fi = fiNext; fiNext = t;
        t = ci; ci = ciNext; ciNext = t;
        nf = nf2;
        nc = nc2;
      }
    }
    for (let j = 0; j < count; j++, ix += strideX, iy += strideY, is += strideStatus) {
      const st = bs_[j]!;
      if (st !== 0) {
        x[ix] = NaN;
        y[iy] = NaN;
        status[is] = st;
        bad++;
      } else {
        x[ix] = cu_[j]! + x0;
        y[iy] = cv_[j]! + y0;
        status[is] = 0;
      }
      if (wantDiag) {
        const projected = st === 0 || st === STATUS_NO_CONVERGENCE || st === STATUS_DIVERGED || (st === STATUS_OVERFLOW && hasSip);
        diag[iD + SKY_TO_PIXEL_DIAG.BEST_X] = projected ? cu_[j]! + x0 : NaN;
        diag[iD + SKY_TO_PIXEL_DIAG.BEST_Y] = projected ? cv_[j]! + y0 : NaN;
        diag[iD + SKY_TO_PIXEL_DIAG.ACCURACY] = !projected ? NaN : hasSip ? Math.sqrt(ldu_[j]! * ldu_[j]! + ldv_[j]! * ldv_[j]!) : 0;
        diag[iD + SKY_TO_PIXEL_DIAG.NITER] = projected && hasSip ? nit_[j]! : 0;
        iD += strideDiag;
      }
    }
  }
  return bad;
}
