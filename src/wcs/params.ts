/**
 * The plain data of a TAN-SIP WCS, as a FITS header states it. CRPIX is kept
 * 1-based here (exactly the header's double, so that writing and reading back
 * reproduces the model bit for bit); the public API converts to 0-based.
 */
import type { SipPolynomial } from './sip.js';

export type Mat2 = readonly [readonly [number, number], readonly [number, number]];

export interface PixelBox {
  /** Inclusive 0-based pixel bounds. */
  readonly minX: number;
  readonly minY: number;
  readonly maxX: number;
  readonly maxY: number;
}

export interface TanSipParams {
  /** 'RA---TAN' style names without the -SIP suffix. */
  readonly ctype: readonly [string, string];
  /** FITS (1-based) reference pixel. */
  readonly crpixFits: readonly [number, number];
  readonly crval: readonly [number, number];
  /** The linear matrix as the header gave it: CD, or PC with CDELT. */
  readonly linear: { readonly form: 'cd'; readonly cd: Mat2 } | { readonly form: 'pc'; readonly pc: Mat2; readonly cdelt: readonly [number, number] };
  readonly lonpole: number;
  readonly latpole?: number;
  readonly radesys: string;
  readonly equinox?: number;
  readonly sipA?: SipPolynomial;
  readonly sipB?: SipPolynomial;
  readonly sipAp?: SipPolynomial;
  readonly sipBp?: SipPolynomial;
  /** Local pixel + parentOffset = LSST parent pixel. */
  readonly parentOffset: readonly [number, number];
  readonly bbox?: PixelBox;
  readonly warnings: readonly string[];
}

/** The effective matrix M (degrees per pixel): CD, or diag(CDELT) PC. */
export function linearMatrix(linear: TanSipParams['linear']): Mat2 {
  if (linear.form === 'cd') return linear.cd;
  const [c1, c2] = linear.cdelt;
  const pc = linear.pc;
  return [
    [c1 * pc[0][0], c1 * pc[0][1]],
    [c2 * pc[1][0], c2 * pc[1][1]],
  ];
}
