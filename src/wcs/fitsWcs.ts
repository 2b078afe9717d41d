/**
 * Reading and writing TAN-SIP FITS headers (FITS WCS Papers I/II, the SIP
 * convention), with the defaults of WCSLIB and the habits of real headers:
 * CD or PC + CDELT (PC wins), LONPOLE/LATPOLE, RADESYS or legacy RADECSYS,
 * SIP without "-SIP" (applied, with a warning), alternate WCS cards ignored,
 * the LSST parent offset (WCS 'A' LINEAR, or LTV1/2), image size from
 * ZNAXISn, NAXISn, IMAGEW/IMAGEH, ONAXISn or SIZAXISn.
 */
import { errors } from '../errors.js';
import { FitsHeader, cardsToBlocks, cardsToText, formatCard } from '../fits/header.js';
import { SIP_MAX_ORDER } from '../../native-free-kernels/tanSip.js';
import type { Mat2, PixelBox, TanSipParams } from './params.js';
import { linearMatrix } from './params.js';
import { sipFromTerms, type SipPolynomial } from './sip.js';

const bad = (message: string) => errors.badInput('FITS WCS', message);

function readCtype(h: FitsHeader, key: string, axis: 'lon' | 'lat'): { base: string; sip: boolean } {
  const value = h.getString(key);
  const m = /^([A-Z0-9]{1,4})-*-([A-Z0-9]{3})(-SIP)?\s*$/i.exec(value.trim().toUpperCase());
  if (!m) throw bad(`${key} = '${value}': not a celestial projection type`);
  const [, coord, proj, sip] = m as unknown as [string, string, string, string | undefined];
  if (proj !== 'TAN') throw bad(`${key} = '${value}': unsupported projection ${proj} (only TAN and TAN-SIP)`);
  const lon = ['RA', 'GLON', 'ELON', 'HLON', 'SLON'];
  const lat = ['DEC', 'GLAT', 'ELAT', 'HLAT', 'SLAT'];
  if (!(axis === 'lon' ? lon : lat).includes(coord)) {
    throw bad(`${key} = '${value}': expected a ${axis === 'lon' ? 'longitude' : 'latitude'} axis`);
  }
  return { base: `${coord.padEnd(4, '-')}-TAN`, sip: sip !== undefined };
}

function readLinear(h: FitsHeader): TanSipParams['linear'] {
  const has = (prefix: string) => ['1_1', '1_2', '2_1', '2_2'].some((ij) => h.has(`${prefix}${ij}`));
  const mat = (prefix: string, diag: number): Mat2 => [
    [h.getNumber(`${prefix}1_1`, diag), h.getNumber(`${prefix}1_2`, 0)],
    [h.getNumber(`${prefix}2_1`, 0), h.getNumber(`${prefix}2_2`, diag)],
  ];
  // PC wins over CD when both are present (WCSLIB).
  if (has('PC')) return { form: 'pc', pc: mat('PC', 1), cdelt: [h.getNumber('CDELT1', 1), h.getNumber('CDELT2', 1)] };
  if (has('CD')) return { form: 'cd', cd: mat('CD', 0) };
  if (h.has('CDELT1') || h.has('CDELT2')) {
    return { form: 'pc', pc: [[1, 0], [0, 1]], cdelt: [h.getNumber('CDELT1'), h.getNumber('CDELT2')] };
  }
  throw bad('missing the linear transformation: no CD1_1..CD2_2, PC1_1..PC2_2 or CDELT1/2 keyword');
}

function readSip(h: FitsHeader, name: 'A' | 'B' | 'AP' | 'BP'): SipPolynomial {
  const order = h.getNumber(`${name}_ORDER`);
  if (!Number.isInteger(order) || order < 0 || order > SIP_MAX_ORDER) {
    throw bad(`${name}_ORDER = ${order}: expected an integer in 0..${SIP_MAX_ORDER}`);
  }
  const terms: [number, number, number][] = [];
  const pattern = new RegExp(`^${name}_(\\d+)_(\\d+)$`);
  for (const key of h.keys()) {
    const m = pattern.exec(key);
    if (!m) continue;
    const p = Number(m[1]), q = Number(m[2]);
    const c = h.getNumber(key); // names the keyword when malformed or non-finite
    if (p + q <= order) terms.push([p, q, c]);
  }
  return sipFromTerms(order, terms);
}

function readSipPair(h: FitsHeader, a: 'A' | 'AP', b: 'B' | 'BP'): [SipPolynomial, SipPolynomial] | undefined {
  const hasA = h.has(`${a}_ORDER`), hasB = h.has(`${b}_ORDER`);
  if (!hasA && !hasB) return undefined;
  if (!hasB) throw bad(`${a}_ORDER is present but ${b}_ORDER is missing`);
  if (!hasA) throw bad(`${b}_ORDER is present but ${a}_ORDER is missing`);
  return [readSip(h, a), readSip(h, b)];
}

/** WCSLIB's defaults: RADESYS from EQUINOX when absent; EQUINOX from RADESYS. */
function readFrame(h: FitsHeader, warnings: string[]): { radesys: string; equinox?: number } {
  let equinox = h.getOptionalNumber('EQUINOX');
  if (equinox === undefined && h.has('EPOCH')) equinox = h.getOptionalNumber('EPOCH');
  let radesys = h.has('RADESYS') ? h.getString('RADESYS').trim().toUpperCase() : undefined;
  if (radesys === undefined && h.has('RADECSYS')) {
    radesys = h.getString('RADECSYS').trim().toUpperCase();
    warnings.push('RADECSYS is deprecated: read as RADESYS');
  }
  if (radesys === undefined) radesys = equinox === undefined ? 'ICRS' : equinox < 1984 ? 'FK4' : 'FK5';
  if (equinox === undefined && radesys === 'FK5') equinox = 2000;
  if (equinox === undefined && radesys === 'FK4') equinox = 1950;
  return equinox === undefined ? { radesys } : { radesys, equinox };
}

/** afw writes xy0 as WCS 'A' (CTYPE1A = 'LINEAR', CRVAL1A = x0 at CRPIX1A = 1); IRAF as LTV = -x0. */
function readParentOffset(h: FitsHeader): [number, number] {
  const linearA = (i: number) => h.has(`CTYPE${i}A`) && h.getString(`CTYPE${i}A`).trim().toUpperCase() === 'LINEAR';
  if (linearA(1) && linearA(2)) {
    return [
      h.getNumber('CRVAL1A') - h.getNumber('CRPIX1A', 1) + 1,
      h.getNumber('CRVAL2A') - h.getNumber('CRPIX2A', 1) + 1,
    ];
  }
  // -0 would not survive a round trip through the text; make it 0.
  return [0 - h.getNumber('LTV1', 0) || 0, 0 - h.getNumber('LTV2', 0) || 0];
}

function readBBox(h: FitsHeader): PixelBox | undefined {
  const size = (k: string) => {
    const v = h.getOptionalNumber(k);
    if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER)) {
      throw bad(`${k} = ${v}: an image size must be a non-negative integer`);
    }
    return v;
  };
  const pair = (k1: string, k2: string): [number, number] | undefined => {
    const w = size(k1), hh = size(k2);
    return w !== undefined && hh !== undefined && w >= 1 && hh >= 1 ? [w, hh] : undefined;
  };
  const naxis = h.getOptionalNumber('NAXIS');
  const fromNaxis = naxis !== undefined && naxis >= 2 ? pair('NAXIS1', 'NAXIS2') : undefined;
  // A 1x1 NAXIS with an original size elsewhere is a header whose data were stripped (HST test files).
  const stripped = fromNaxis !== undefined && fromNaxis[0] === 1 && fromNaxis[1] === 1;
  const dims =
    pair('ZNAXIS1', 'ZNAXIS2') ??
    (stripped ? undefined : fromNaxis) ??
    pair('IMAGEW', 'IMAGEH') ??
    pair('ONAXIS1', 'ONAXIS2') ??
    pair('SIZAXIS1', 'SIZAXIS2') ??
    fromNaxis;
  return dims ? { minX: 0, minY: 0, maxX: dims[0] - 1, maxY: dims[1] - 1 } : undefined;
}

/** |CRVAL1| at most this (deg): the double still resolves 1e-10 deg there. */
export const MAX_ABS_CRVAL1_DEG = 1e6;
/** |CRPIX| at most this (px), so that pixel offsets from it keep sub-1e-6 px digits. */
export const MAX_CRPIX_PX = 1e9;
/**
 * The linear matrix M (deg/px) must be well conditioned: |det M| >= MIN_RELATIVE_DET
 * * (largest |M_ij|)^2 (rows not nearly parallel: the image does not collapse
 * onto a line), and its pixel scale sqrt|det M| in [MIN_PIXEL_SCALE_DEG, MAX_PIXEL_SCALE_DEG].
 */
export const MIN_RELATIVE_DET = 1e-10;
export const MIN_PIXEL_SCALE_DEG = 1e-12;
export const MAX_PIXEL_SCALE_DEG = 10;

function checkLinear(linear: TanSipParams['linear']): void {
  const m = linearMatrix(linear);
  const name = linear.form === 'cd' ? 'CD' : 'PC x CDELT';
  const det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
  const big = Math.max(Math.abs(m[0][0]), Math.abs(m[0][1]), Math.abs(m[1][0]), Math.abs(m[1][1]));
  if (!(Math.abs(det) > 0) || !Number.isFinite(1 / det) || !(Math.abs(det) >= MIN_RELATIVE_DET * big * big)) {
    throw bad(`singular linear transformation (${name} determinant ${det}, below ${MIN_RELATIVE_DET} x the largest element squared)`);
  }
  const scale = Math.sqrt(Math.abs(det));
  if (!(scale >= MIN_PIXEL_SCALE_DEG && scale <= MAX_PIXEL_SCALE_DEG)) {
    throw bad(`${name} gives a pixel scale of ${scale} deg/px, outside [${MIN_PIXEL_SCALE_DEG}, ${MAX_PIXEL_SCALE_DEG}]`);
  }
}

/** Parse the primary TAN(-SIP) WCS of a header. */
export function parseTanSipHeader(h: FitsHeader): TanSipParams {
  const warnings: string[] = [];
  const c1 = readCtype(h, 'CTYPE1', 'lon');
  const c2 = readCtype(h, 'CTYPE2', 'lat');
  const crpixFits = [h.getNumber('CRPIX1'), h.getNumber('CRPIX2')] as const;
  for (const [k, v] of [['CRPIX1', crpixFits[0]], ['CRPIX2', crpixFits[1]]] as const) {
    if (!(Math.abs(v) <= MAX_CRPIX_PX)) throw bad(`${k} = ${v}: beyond ${MAX_CRPIX_PX} px`);
  }
  const crval = [h.getNumber('CRVAL1'), h.getNumber('CRVAL2')] as const;
  // Any finite longitude is wrapped into [0, 360) by the model; beyond 1e6 deg its double has lost sub-uas digits.
  if (!(Math.abs(crval[0]) <= MAX_ABS_CRVAL1_DEG)) throw bad(`CRVAL1 = ${crval[0]}: |CRVAL1| beyond ${MAX_ABS_CRVAL1_DEG} deg`);
  if (crval[1] < -90 || crval[1] > 90) throw bad(`CRVAL2 = ${crval[1]}: not a latitude in [-90, 90]`);
  const linear = readLinear(h);
  checkLinear(linear);
  // WCSLIB: LONPOLE defaults to 180 unless the reference point is the pole (CRVAL2 >= theta0 = 90).
  const lonpole = h.getNumber('LONPOLE', crval[1] >= 90 ? 0 : 180);
  const latpole = h.getOptionalNumber('LATPOLE');
  const frame = readFrame(h, warnings);
  const ab = readSipPair(h, 'A', 'B');
  const apbp = readSipPair(h, 'AP', 'BP');
  const sip = c1.sip || c2.sip;
  if (ab && !sip) warnings.push('SIP coefficients present but CTYPE lacks "-SIP": applying them (as astropy does)');
  if (!ab && sip) warnings.push('CTYPE says "-SIP" but there are no A_ORDER/B_ORDER cards: no distortion applied');
  const bbox = readBBox(h);
  return {
    ctype: [c1.base, c2.base],
    crpixFits,
    crval,
    linear,
    lonpole,
    ...(latpole !== undefined ? { latpole } : {}),
    ...frame,
    ...(ab ? { sipA: ab[0], sipB: ab[1] } : {}),
    ...(apbp ? { sipAp: apbp[0], sipBp: apbp[1] } : {}),
    parentOffset: readParentOffset(h),
    ...(bbox ? { bbox } : {}),
    warnings,
  };
}

function sipCards(name: string, poly: SipPolynomial | undefined): string[] {
  if (!poly) return [];
  const cards = [formatCard(`${name}_ORDER`, poly.order, 'SIP polynomial order', true)];
  for (let p = 0; p <= poly.order; p++) {
    for (let q = 0; q <= poly.order - p; q++) {
      const c = poly.coefficients[p]![q]!;
      if (c !== 0) cards.push(formatCard(`${name}_${p}_${q}`, c));
    }
  }
  return cards;
}

/** Header cards for `params`: always "-SIP" with SIP, and every nonzero A/B/AP/BP term. */
export function tanSipHeaderCards(params: TanSipParams): string[] {
  const hasSip = params.sipA !== undefined;
  const suffix = hasSip ? '-SIP' : '';
  const cards: string[] = [];
  if (params.bbox) {
    cards.push(formatCard('NAXIS', 2, 'number of data axes', true));
    cards.push(formatCard('NAXIS1', params.bbox.maxX - params.bbox.minX + 1, 'image width', true));
    cards.push(formatCard('NAXIS2', params.bbox.maxY - params.bbox.minY + 1, 'image height', true));
  }
  cards.push(formatCard('WCSAXES', 2, 'number of WCS axes', true));
  cards.push(formatCard('CTYPE1', params.ctype[0] + suffix, 'gnomonic projection' + (hasSip ? ' + SIP distortion' : '')));
  cards.push(formatCard('CTYPE2', params.ctype[1] + suffix, 'gnomonic projection' + (hasSip ? ' + SIP distortion' : '')));
  cards.push(formatCard('CUNIT1', 'deg'), formatCard('CUNIT2', 'deg'));
  cards.push(formatCard('CRPIX1', params.crpixFits[0], 'reference pixel (1-based)'));
  cards.push(formatCard('CRPIX2', params.crpixFits[1], 'reference pixel (1-based)'));
  cards.push(formatCard('CRVAL1', params.crval[0], '[deg] reference RA'));
  cards.push(formatCard('CRVAL2', params.crval[1], '[deg] reference Dec'));
  const l = params.linear;
  if (l.form === 'cd') {
    cards.push(formatCard('CD1_1', l.cd[0][0]), formatCard('CD1_2', l.cd[0][1]));
    cards.push(formatCard('CD2_1', l.cd[1][0]), formatCard('CD2_2', l.cd[1][1]));
  } else {
    cards.push(formatCard('PC1_1', l.pc[0][0]), formatCard('PC1_2', l.pc[0][1]));
    cards.push(formatCard('PC2_1', l.pc[1][0]), formatCard('PC2_2', l.pc[1][1]));
    cards.push(formatCard('CDELT1', l.cdelt[0]), formatCard('CDELT2', l.cdelt[1]));
  }
  cards.push(formatCard('LONPOLE', params.lonpole, '[deg] native longitude of the celestial pole'));
  if (params.latpole !== undefined) cards.push(formatCard('LATPOLE', params.latpole));
  cards.push(formatCard('RADESYS', params.radesys));
  if (params.equinox !== undefined) cards.push(formatCard('EQUINOX', params.equinox));
  cards.push(...sipCards('A', params.sipA), ...sipCards('B', params.sipB));
  cards.push(...sipCards('AP', params.sipAp), ...sipCards('BP', params.sipBp));
  const [ox, oy] = params.parentOffset;
  if (ox !== 0 || oy !== 0) {
    // The LSST (afw) form and the IRAF form of the parent offset.
    cards.push(formatCard('LTV1', -ox), formatCard('LTV2', -oy));
    cards.push(formatCard('CTYPE1A', 'LINEAR'), formatCard('CTYPE2A', 'LINEAR'));
    cards.push(formatCard('CRPIX1A', 1), formatCard('CRPIX2A', 1));
    cards.push(formatCard('CRVAL1A', ox), formatCard('CRVAL2A', oy));
    cards.push(formatCard('CUNIT1A', 'pixel'), formatCard('CUNIT2A', 'pixel'));
  }
  return cards;
}

export function tanSipHeaderText(params: TanSipParams): string {
  return cardsToText(tanSipHeaderCards(params));
}

/**
 * A FITS file holding the WCS: a primary HDU with no data (NAXIS = 0) whose
 * header has the WCS cards; the image size, when known, as IMAGEW/IMAGEH.
 */
export function tanSipFitsFile(params: TanSipParams): Uint8Array {
  const wcsCards = tanSipHeaderCards(params).filter((c) => !/^NAXIS\d* /.test(c));
  const cards = [
    formatCard('SIMPLE', true, 'conforms to FITS standard'),
    formatCard('BITPIX', 8, 'no data', true),
    formatCard('NAXIS', 0, 'header only: the WCS of an image', true),
    formatCard('EXTEND', true),
    ...(params.bbox
      ? [
          formatCard('IMAGEW', params.bbox.maxX - params.bbox.minX + 1, 'image width (px)', true),
          formatCard('IMAGEH', params.bbox.maxY - params.bbox.minY + 1, 'image height (px)', true),
        ]
      : []),
    ...wcsCards,
  ];
  return new TextEncoder().encode(cardsToBlocks(cards));
}
