/**
 * An immutable TAN-SIP world coordinate system (FITS WCS Paper II TAN with the
 * SIP distortion convention), with LSST afw's method names.
 *
 * Pixel convention: 0-based, (0, 0) is the centre of the first pixel (LSST,
 * astropy APE 14); only FITS headers use 1-based CRPIX (CRPIX1 = crpix.x + 1).
 * Angles are degrees; RA is returned in [0, 360).
 */
import { errors } from '../errors.js';
import { FitsHeader } from '../fits/header.js';
import { selectHeader, sniffInput } from '../fits/sniff.js';
import {
  SKY_TO_PIXEL_DIAG as D,
  STATUS_DIVERGED,
  STATUS_NAMES,
  STATUS_NO_CONVERGENCE,
  STATUS_OVERFLOW,
  gnomonicProjectDeg,
  tanSipPixelToSkyDeg,
  tanSipSkyToPixelApproxDeg,
  tanSipSkyToPixelDiagDeg,
} from '../../native-free-kernels/index.js';
import { NoConvergenceError } from './errors.js';
import { fitInverseSip } from './fitInverse.js';
import { parseTanSipHeader, tanSipFitsFile, tanSipHeaderText } from './fitsWcs.js';
import { packTanSipModel } from './model.js';
import { linearMatrix, type Mat2, type PixelBox, type TanSipParams } from './params.js';
import { makeSipPolynomial, sipEquals, type SipInput, type SipPolynomial } from './sip.js';

const BRAND = Symbol.for('skycal/TanSipWcs');
const D2R = Math.PI / 180;

export interface SkyToPixelOptions {
  /** AP/BP polynomial only (the linear inverse without AP/BP): fast, approximate. */
  readonly approx?: boolean;
  /** Throw NoConvergenceError (code NO_CONVERGENCE) when any point has a non-zero status (see skyToPixelArrays). */
  readonly strict?: boolean;
  readonly maxIter?: number;
  /** Newton stops when both pixel steps are at most this (default 1e-10 px). */
  readonly tolerancePx?: number;
}

export interface FromHeaderOptions {
  /** Pixels in the LSST parent frame: local pixel + parentOffset (as afw with xy0). */
  readonly parent?: boolean;
}

export interface LocalLinearization {
  readonly x: number;
  readonly y: number;
  readonly ra: number;
  readonly dec: number;
  /** Local CD (deg/px) on the tangent plane at (ra, dec): rows (east, north), columns (x, y). */
  readonly cd: Mat2;
  /** d(ra, dec)/d(x, y) in deg/px, so (ra, dec) ~ offset + matrix (x, y) near the point. */
  readonly matrix: Mat2;
  readonly offset: readonly [number, number];
}

type Coords = ArrayLike<number>;
const toF64 = (a: Coords) => (a instanceof Float64Array ? a : Float64Array.from(a));

export class TanSipWcs {
  readonly [BRAND] = true;
  private readonly params: TanSipParams;
  private readonly model: Float64Array;

  private constructor(params: TanSipParams) {
    this.params = params;
    this.model = packTanSipModel(params);
    Object.freeze(this);
  }

  static isTanSipWcs(x: unknown): x is TanSipWcs {
    return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[BRAND] === true;
  }

  /** From header text (80-char lines or 2880-byte blocks), a list of cards, or a parsed header. */
  static fromFitsHeader(input: string | readonly string[] | FitsHeader, options: FromHeaderOptions = {}): TanSipWcs {
    const header = input instanceof FitsHeader ? input : FitsHeader.parse(input);
    const wcs = new TanSipWcs(parseTanSipHeader(header));
    return options.parent ? wcs.inParentFrame() : wcs;
  }

  /** From a FITS file's bytes: HDU `hdu`, else the first HDU with a CTYPE1 card (the rule of fits/sniff.ts). */
  static fromFitsFile(bytes: Uint8Array, hdu?: number, options: FromHeaderOptions & { source?: string } = {}): TanSipWcs {
    const source = options.source ?? 'FITS file';
    if (sniffInput(bytes) !== 'fits') throw errors.badInput(source, 'not a FITS file (no SIMPLE = T card at the start of 2880-byte blocks)');
    return TanSipWcs.fromFitsHeader(selectHeader(bytes, { source, key: 'CTYPE1', what: 'a WCS', ...(hdu !== undefined ? { hdu } : {}) }).header, options);
  }

  /** @internal */
  static fromParams(params: TanSipParams): TanSipWcs {
    return new TanSipWcs(params);
  }

  /** Reference pixel, 0-based. */
  get crpix(): { x: number; y: number } {
    return { x: this.params.crpixFits[0] - 1, y: this.params.crpixFits[1] - 1 };
  }
  get crval(): { ra: number; dec: number } {
    return { ra: this.params.crval[0], dec: this.params.crval[1] };
  }
  /** The linear matrix (deg/px): CD, or diag(CDELT) PC. */
  get cd(): Mat2 {
    return linearMatrix(this.params.linear);
  }
  get ctype(): readonly [string, string] {
    const s = this.hasSip ? '-SIP' : '';
    return [this.params.ctype[0] + s, this.params.ctype[1] + s];
  }
  get lonpole(): number { return this.params.lonpole; }
  get latpole(): number | undefined { return this.params.latpole; }
  get radesys(): string { return this.params.radesys; }
  get equinox(): number | undefined { return this.params.equinox; }
  get sipA(): SipPolynomial | undefined { return this.params.sipA; }
  get sipB(): SipPolynomial | undefined { return this.params.sipB; }
  get sipAp(): SipPolynomial | undefined { return this.params.sipAp; }
  get sipBp(): SipPolynomial | undefined { return this.params.sipBp; }
  get hasSip(): boolean { return this.params.sipA !== undefined; }
  get hasInverse(): boolean { return this.params.sipAp !== undefined; }
  /** Local pixel + parentOffset = LSST parent pixel ([0, 0] when the header has none). */
  get parentOffset(): readonly [number, number] { return this.params.parentOffset; }
  /** The image's pixel box (inclusive, 0-based), when the header gives a size. */
  get bbox(): PixelBox | undefined { return this.params.bbox; }
  /** What was unusual in the header (e.g. SIP without "-SIP"); never fatal. */
  get warnings(): readonly string[] { return this.params.warnings; }

  /** The packed model for the kernels: a fresh copy, safe to post to a worker. */
  toKernelModel(): Float64Array {
    return Float64Array.from(this.model);
  }

  /** Header text, one card per line: always "-SIP" and every A/B/AP/BP term the model has. */
  toFitsHeader(): string {
    return tanSipHeaderText(this.params);
  }

  /** A FITS file (2880-byte blocks, astropy and ds9 open it) whose primary header holds the WCS. */
  toFitsFile(): Uint8Array {
    return tanSipFitsFile(this.params);
  }

  /** The same WCS for pixels in the parent frame (pixel = local + parentOffset). */
  inParentFrame(): TanSipWcs {
    const [ox, oy] = this.params.parentOffset;
    if (ox === 0 && oy === 0) return this;
    const b = this.params.bbox;
    return new TanSipWcs({
      ...this.params,
      crpixFits: [this.params.crpixFits[0] + ox, this.params.crpixFits[1] + oy],
      parentOffset: [0, 0],
      ...(b ? { bbox: { minX: b.minX + ox, minY: b.minY + oy, maxX: b.maxX + ox, maxY: b.maxY + oy } } : {}),
    });
  }

  /** A copy with AP/BP replaced. */
  withInverse(ap: SipInput | SipPolynomial, bp: SipInput | SipPolynomial): TanSipWcs {
    const poly = (m: SipInput | SipPolynomial, name: string) => ('order' in m && 'coefficients' in m ? makeSipPolynomial(m.coefficients, name) : makeSipPolynomial(m as SipInput, name));
    return new TanSipWcs({ ...this.params, sipAp: poly(ap, 'sipAp'), sipBp: poly(bp, 'sipBp') });
  }

  pixelToSky(x: number, y: number): { ra: number; dec: number } {
    const r = this.pixelToSkyArrays([x], [y]);
    return { ra: r.ra[0]!, dec: r.dec[0]! };
  }

  skyToPixel(ra: number, dec: number, options: SkyToPixelOptions = {}): { x: number; y: number } {
    const r = this.skyToPixelArrays([ra], [dec], options);
    return { x: r.x[0]!, y: r.y[0]! };
  }

  pixelToSkyArrays(x: Coords, y: Coords): { ra: Float64Array; dec: Float64Array; status: Uint8Array; bad: number } {
    const n = checkLengths(x, y, 'x', 'y');
    const ra = new Float64Array(n), dec = new Float64Array(n), status = new Uint8Array(n);
    const bad = tanSipPixelToSkyDeg(n, this.model, toF64(x), 1, 0, toF64(y), 1, 0, ra, 1, 0, dec, 1, 0, status, 1, 0);
    return { ra, dec, status, bad };
  }

  /**
   * Sky (deg) to pixels. Without `strict`, a bad point gets NaN and status
   * bits (the batch goes on). With `strict`, any point with a non-zero status
   * (no convergence, divergence, overflow, NaN input, |dec| > 90, the far side
   * of the tangent plane) makes it throw NoConvergenceError carrying the
   * kernel's own best solution, accuracy and each failing point's status.
   */
  skyToPixelArrays(ra: Coords, dec: Coords, options: SkyToPixelOptions = {}): { x: Float64Array; y: Float64Array; status: Uint8Array; bad: number } {
    const n = checkLengths(ra, dec, 'ra', 'dec');
    const x = new Float64Array(n), y = new Float64Array(n), status = new Uint8Array(n);
    const r = toF64(ra), d = toF64(dec);
    const maxIter = options.maxIter ?? 50;
    const tol = options.tolerancePx ?? 1e-10;
    const diag = options.strict && !options.approx ? new Float64Array(n * D.LENGTH) : NO_DIAG;
    const bad = options.approx
      ? tanSipSkyToPixelApproxDeg(n, this.model, r, 1, 0, d, 1, 0, x, 1, 0, y, 1, 0, status, 1, 0)
      : tanSipSkyToPixelDiagDeg(n, this.model, maxIter, tol, r, 1, 0, d, 1, 0, x, 1, 0, y, 1, 0, status, 1, 0, diag, D.LENGTH, 0);
    if (options.strict && bad > 0) throwNoConvergence(x, y, status, diag, tol);
    return { x, y, status, bad };
  }

  /** The local affine approximation of pixel -> sky at (x, y) (central differences, 0.5 px). */
  linearizePixelToSky(x: number, y: number): LocalLinearization {
    const h = 0.5;
    const c = this.pixelToSky(x, y);
    const xs = [x + h, x - h, x, x], ys = [y, y, y + h, y - h];
    const s = this.pixelToSkyArrays(xs, ys);
    const cd0 = Math.cos(c.dec * D2R);
    // Gnomonic standard coordinates (deg) of each neighbour on the tangent plane at (ra, dec).
    const xi = new Float64Array(4), eta = new Float64Array(4);
    gnomonicProjectDeg(4, c.ra, c.dec, s.ra, 1, 0, s.dec, 1, 0, xi, 1, 0, eta, 1, 0, new Uint8Array(4), 1, 0);
    const cd: Mat2 = [
      [(xi[0]! - xi[1]!) / (2 * h), (xi[2]! - xi[3]!) / (2 * h)],
      [(eta[0]! - eta[1]!) / (2 * h), (eta[2]! - eta[3]!) / (2 * h)],
    ];
    const matrix: Mat2 = [
      [cd[0][0] / cd0, cd[0][1] / cd0],
      [cd[1][0], cd[1][1]],
    ];
    const offset = [c.ra - matrix[0][0] * x - matrix[0][1] * y, c.dec - matrix[1][0] * x - matrix[1][1] * y] as const;
    return { x, y, ra: c.ra, dec: c.dec, cd, matrix, offset };
  }

  /** Pixel scale (arcsec/px) at (x, y): sqrt |det| of the local Jacobian. Default: the bbox centre, else CRPIX. */
  getPixelScale(x?: number, y?: number): number {
    const p = x !== undefined && y !== undefined ? { x, y } : this.defaultPoint();
    const { cd } = this.linearizePixelToSky(p.x, p.y);
    return Math.sqrt(Math.abs(cd[0][0] * cd[1][1] - cd[0][1] * cd[1][0])) * 3600;
  }

  private defaultPoint(): { x: number; y: number } {
    const b = this.params.bbox;
    return b ? { x: (b.minX + b.maxX) / 2, y: (b.minY + b.maxY) / 2 } : this.crpix;
  }

  private requireBBox(bbox: PixelBox | undefined, what: string): PixelBox {
    const b = bbox ?? this.params.bbox;
    if (!b) throw errors.badInput(what, 'the header gives no image size; pass a bbox');
    return b;
  }

  /** Fit AP/BP of the given order by least squares over the box; returns the new WCS and its AP/BP round-trip error. */
  fitInverse(options: { order: number; bbox?: PixelBox }): { wcs: TanSipWcs; maxResidualPx: number } {
    const bbox = this.requireBBox(options.bbox, 'fitInverse');
    if (!this.hasSip) throw errors.badInput('fitInverse', 'this WCS has no SIP distortion (A/B) to invert');
    const { ap, bp } = fitInverseSip(this.model, options.order, bbox);
    const wcs = new TanSipWcs({ ...this.params, sipAp: ap, sipBp: bp });
    return { wcs, maxResidualPx: wcs.roundTripResidual(bbox, { gridPerAxis: 61 }).approxMaxResidualPx! };
  }

  /**
   * skyToPixel(pixelToSky(p)) - p over a grid on the box (default: the image,
   * grown by `margin` as a fraction of its size): the exact inverse's maximum
   * (px), and AP/BP's own (undefined without AP/BP).
   */
  roundTripResidual(bbox?: PixelBox, options: { margin?: number; gridPerAxis?: number } = {}): {
    maxResidualPx: number;
    approxMaxResidualPx: number | undefined;
    bad: number;
  } {
    const b = this.requireBBox(bbox, 'roundTripResidual');
    const g = options.gridPerAxis ?? 33;
    const mx = (b.maxX - b.minX) * (options.margin ?? 0), my = (b.maxY - b.minY) * (options.margin ?? 0);
    const xs = new Float64Array(g * g), ys = new Float64Array(g * g);
    for (let j = 0; j < g; j++) {
      for (let i = 0; i < g; i++) {
        xs[j * g + i] = b.minX - mx + ((b.maxX - b.minX + 2 * mx) * i) / (g - 1);
        ys[j * g + i] = b.minY - my + ((b.maxY - b.minY + 2 * my) * j) / (g - 1);
      }
    }
    const sky = this.pixelToSkyArrays(xs, ys);
    const worst = (p: { x: Float64Array; y: Float64Array; bad: number }) => {
      let m = 0;
      for (let i = 0; i < xs.length; i++) m = Math.max(m, Math.hypot(p.x[i]! - xs[i]!, p.y[i]! - ys[i]!));
      return p.bad > 0 ? Infinity : m;
    };
    const exact = this.skyToPixelArrays(sky.ra, sky.dec);
    const approx = this.hasInverse ? worst(this.skyToPixelArrays(sky.ra, sky.dec, { approx: true })) : undefined;
    return { maxResidualPx: worst(exact), approxMaxResidualPx: approx, bad: exact.bad };
  }

  /** Same model (every parameter, bit for bit), metadata included. */
  equals(other: TanSipWcs): boolean {
    const a = this.params, b = other.params;
    return (
      this.model.length === other.model.length &&
      this.model.every((v, i) => Object.is(v, other.model[i])) &&
      sipEquals(a.sipA, b.sipA) && sipEquals(a.sipB, b.sipB) && sipEquals(a.sipAp, b.sipAp) && sipEquals(a.sipBp, b.sipBp) &&
      a.radesys === b.radesys && a.equinox === b.equinox && a.latpole === b.latpole &&
      a.parentOffset[0] === b.parentOffset[0] && a.parentOffset[1] === b.parentOffset[1] &&
      JSON.stringify(a.bbox) === JSON.stringify(b.bbox) && JSON.stringify(a.linear) === JSON.stringify(b.linear)
    );
  }
}

const NO_DIAG = new Float64Array(0);

/** NoConvergenceError from the kernel's own record of each point (empty `diag`: the AP/BP approximation, no iterations). */
function throwNoConvergence(x: Float64Array, y: Float64Array, status: Uint8Array, diag: Float64Array, tol: number): never {
  const indices: number[] = [], divergent: number[] = [], slowConv: number[] = [];
  for (let i = 0; i < status.length; i++) {
    const st = status[i]!;
    if (st === 0) continue;
    indices.push(i);
    if (st & (STATUS_DIVERGED | STATUS_OVERFLOW)) divergent.push(i);
    if (st & STATUS_NO_CONVERGENCE) slowConv.push(i);
  }
  const best = { x: Float64Array.from(x), y: Float64Array.from(y) };
  const accuracy = new Float64Array(indices.length).fill(NaN);
  let niter = 0;
  for (let i = 0; diag.length > 0 && i < status.length; i++) niter = Math.max(niter, diag[i * D.LENGTH + D.NITER]!);
  indices.forEach((i, k) => {
    if (diag.length === 0) return;
    best.x[i] = diag[i * D.LENGTH + D.BEST_X]!;
    best.y[i] = diag[i * D.LENGTH + D.BEST_Y]!;
    accuracy[k] = diag[i * D.LENGTH + D.ACCURACY]!;
  });
  const names = (st: number) => STATUS_NAMES.filter(([bit]) => st & bit).map(([, name]) => name).join('+');
  const counts = new Map<string, number>();
  for (const i of indices) counts.set(names(status[i]!), (counts.get(names(status[i]!)) ?? 0) + 1);
  throw new NoConvergenceError(
    `skyToPixel: ${indices.length} point(s) have no solution to ${tol} px (first index ${indices[0]}; ${[...counts].map(([k, c]) => `${c} ${k}`).join(', ')})`,
    { bestSolution: best, indices, status: Uint8Array.from(indices, (i) => status[i]!), accuracy, niter, divergent, slowConv },
  );
}

function checkLengths(a: Coords, b: Coords, na: string, nb: string): number {
  if (a.length !== b.length) throw errors.badInput(`${na} and ${nb}`, `different lengths (${a.length} vs ${b.length})`);
  return a.length;
}

export interface MakeTanSipWcsInput {
  /** Reference pixel, 0-based: [x, y] or {x, y}. */
  readonly crpix: readonly [number, number] | { x: number; y: number };
  /** Reference sky position (deg): [ra, dec] or {ra, dec}. */
  readonly crval: readonly [number, number] | { ra: number; dec: number };
  /** CD matrix (deg/px), [[CD1_1, CD1_2], [CD2_1, CD2_2]]. */
  readonly cd: readonly (readonly number[])[];
  /**
   * SIP forward polynomials, given together: square matrices m[p][q] of size
   * (order + 1) x (order + 1) (arrays of rows or 2-D ndarrays, order 0..9),
   * m[p][q] multiplying u^p v^q with u = x - crpix.x, v = y - crpix.y (px);
   * terms with p + q > order must be 0. A gives the x offset, B the y offset.
   */
  readonly sipA?: SipInput;
  readonly sipB?: SipInput;
  /** The SIP inverse (AP, BP), same shape rule, in the undistorted offsets (U, V). */
  readonly sipAp?: SipInput;
  readonly sipBp?: SipInput;
  readonly lonpole?: number;
  readonly radesys?: string;
  readonly equinox?: number;
  readonly bbox?: PixelBox;
  readonly parentOffset?: readonly [number, number];
}

/** afw's makeTanSipWcs: crpix 0-based, SIP matrices [p][q] (or ndarrays). */
export function makeTanSipWcs(input: MakeTanSipWcsInput): TanSipWcs {
  const crpix = Array.isArray(input.crpix) ? input.crpix : [(input.crpix as { x: number }).x, (input.crpix as { y: number }).y];
  const crval = Array.isArray(input.crval) ? input.crval : [(input.crval as { ra: number }).ra, (input.crval as { dec: number }).dec];
  const cdOk = Array.isArray(input.cd) && input.cd.length === 2 && input.cd.every((r) => Array.isArray(r) && r.length === 2);
  const nums = cdOk ? [...crpix, ...crval, ...input.cd.flat()] : [];
  if (!cdOk || nums.length !== 8 || nums.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
    throw errors.badInput('makeTanSipWcs', 'crpix, crval and a 2x2 cd of finite numbers are required');
  }
  if ((input.sipA === undefined) !== (input.sipB === undefined)) throw errors.badInput('makeTanSipWcs', 'sipA and sipB go together');
  if ((input.sipAp === undefined) !== (input.sipBp === undefined)) throw errors.badInput('makeTanSipWcs', 'sipAp and sipBp go together');
  const cd = input.cd as unknown as Mat2;
  const dec0 = crval[1]!;
  const params: TanSipParams = {
    ctype: ['RA---TAN', 'DEC--TAN'],
    crpixFits: [crpix[0]! + 1, crpix[1]! + 1],
    crval: [crval[0]!, dec0],
    linear: { form: 'cd', cd: [[cd[0][0], cd[0][1]], [cd[1][0], cd[1][1]]] },
    lonpole: input.lonpole ?? (dec0 >= 90 ? 0 : 180),
    radesys: input.radesys ?? 'ICRS',
    ...(input.equinox !== undefined ? { equinox: input.equinox } : {}),
    ...(input.sipA ? { sipA: makeSipPolynomial(input.sipA, 'sipA'), sipB: makeSipPolynomial(input.sipB!, 'sipB') } : {}),
    ...(input.sipAp ? { sipAp: makeSipPolynomial(input.sipAp, 'sipAp'), sipBp: makeSipPolynomial(input.sipBp!, 'sipBp') } : {}),
    parentOffset: input.parentOffset ?? [0, 0],
    ...(input.bbox ? { bbox: input.bbox } : {}),
    warnings: [],
  };
  // Validate as a header would be (singular matrix, pole) by writing and reading it.
  return TanSipWcs.fromFitsHeader(tanSipHeaderText(params));
}
