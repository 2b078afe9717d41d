/**
 * PhotoCalib: the photometric calibration of one exposure, as LSST afw's
 * lsst.afw.image.PhotoCalib. Immutable.
 *
 * c(x, y) (nJy per count) is `field` evaluated at parent-pixel position
 * (x, y) ((0, 0) is the centre of the first pixel), or calibrationMean
 * everywhere when isConstant. With f = instFlux, e = instFluxErr and
 * s = calibrationErr:
 *
 *   flux = f c  [nJy]          mag = -2.5 log10(flux) + 31.4  [AB; NaN when flux <= 0]
 *
 * Error models:
 *   afw 29+ (default):      fluxErr = e c
 *                           magErr  = 2.5/ln(10) |e / f|
 *   pre-2025 (legacyErrors: true, afw <= 28):
 *                           fluxErr = |flux| hypot(e / f, s / c)
 *                           magErr  = 2.5/ln(10) hypot(e / f, s / c)
 *
 * Without a position, conversions use calibrationMean (as afw does).
 */
import { FIELD_CONSTANT, packPhotoCalibModel } from '../../native-free-kernels/boundedField.js';
import { photoCalibCalibrate } from '../../native-free-kernels/photoCalib.js';
import { errors } from '../errors.js';
import { FitsHeader, parseCard } from '../fits/header.js';
import type { Box2I } from './bbox.js';
import { type BoundedField, ConstantField, type FieldJson, requireFinite } from './boundedField.js';
import { fieldFromJson } from './fieldJson.js';
import { type CalibrateCatalogOptions, calibrateCatalog } from './calibrateCatalog.js';
import { type CalibratedImage, calibrateImage } from './calibrateImage.js';
import type { Table } from 'apache-arrow';
import type ndarray from 'ndarray';

/** The AB reference flux in nJy (~3631 Jy), computed as afw's utils::referenceFlux to the same double. */
export const REFERENCE_FLUX_NJY = 1e23 * 10 ** (48.6 / -2.5) * 1e9;

export const PHOTOCALIB_VERSION = 1;

export interface PhotoCalibJson {
  photoCalibVersion: number;
  calibrationMean: number;
  calibrationErr: number;
  isConstant: boolean;
  field: FieldJson;
}

export interface Point {
  x: number;
  y: number;
}

export interface Measurement {
  value: number;
  error: number;
}

export interface ErrorModelOptions {
  /** Use the pre-2025 (afw <= 28) error model, which folds calibrationErr into every error. */
  legacyErrors?: boolean;
}

// One-point scratch for the scalar conversions (they go through the batch kernel).
const X = new Float64Array(1), Y = new Float64Array(1), F = new Float64Array(1), E = new Float64Array(1);
const FLUX = new Float64Array(1), FLUX_ERR = new Float64Array(1), MAG = new Float64Array(1), MAG_ERR = new Float64Array(1);
const STATUS = new Uint8Array(1);
const NONE = new Float64Array(0);

/**
 * FLUXMAG0ERR is 11 letters: standard FITS can hold it only as HIERARCH
 * FLUXMAG0ERR. Headers also carry it plainly (`FLUXMAG0ERR= 1.0`), which FITS
 * reads as a value-less FLUXMAG0 card; it is read here as the writer meant it.
 */
function fluxMag0Err(h: FitsHeader): number {
  if (h.has('FLUXMAG0ERR')) return h.getNumber('FLUXMAG0ERR', 0);
  const plain = h.cards.find((c) => c.commentary === true && /^FLUXMAG0ERR\s*=/.test(c.raw));
  if (plain === undefined) return 0;
  return FitsHeader.fromCards([parseCard(`HIERARCH ${plain.raw.trimEnd()}`, plain.index)]).getNumber('FLUXMAG0ERR', 0);
}

/**
 * The largest |c| (nJy per count) a calibration may reach on its bbox: far
 * above any real one (~1e-2..1e4), and low enough that flux = instFlux * c is
 * finite for every instFlux below 1e200 counts.
 */
export const MAX_CALIBRATION_NJY_PER_COUNT = 1e100;

export class PhotoCalib {
  /** nJy per count, the mean of the field over its bbox (or the constant). */
  readonly calibrationMean: number;
  /** The calibration's uncertainty, nJy per count. */
  readonly calibrationErr: number;
  readonly isConstant: boolean;
  readonly field: BoundedField;
  private readonly model: Float64Array;
  private readonly meanModel: Float64Array;

  private constructor(calibrationMean: number, calibrationErr: number, isConstant: boolean, field: BoundedField) {
    const mean = requireFinite(calibrationMean, 'calibrationMean');
    const err = requireFinite(calibrationErr, 'calibrationErr');
    if (mean < 0) throw errors.badInput('PhotoCalib', `calibrationMean must not be negative, got ${mean}`);
    if (err < 0) throw errors.badInput('PhotoCalib', `calibrationErr must not be negative, got ${err}`);
    const reach = isConstant ? mean : field.maxAbsBound();
    if (!(reach <= MAX_CALIBRATION_NJY_PER_COUNT) || !(err <= MAX_CALIBRATION_NJY_PER_COUNT)) {
      throw errors.badInput(
        'PhotoCalib',
        `calibration reaches ${reach} nJy/count (error ${err}) on its bbox, above ${MAX_CALIBRATION_NJY_PER_COUNT}: calibrated fluxes would not be finite`,
      );
    }
    this.calibrationMean = mean;
    this.calibrationErr = err;
    this.isConstant = isConstant;
    this.field = field;
    this.meanModel = packPhotoCalibModel(mean, err, true, [FIELD_CONSTANT, mean]);
    this.model = isConstant ? this.meanModel : packPhotoCalibModel(mean, err, false, field.packedModel());
    Object.freeze(this);
  }

  /** A calibration of `calibrationMean` nJy/count everywhere (on `bbox` when given). */
  static constant(calibrationMean: number, calibrationErr = 0, bbox?: Box2I): PhotoCalib {
    return new PhotoCalib(calibrationMean, calibrationErr, true, new ConstantField(calibrationMean, bbox));
  }

  /** A spatially varying calibration; calibrationMean = field.mean(), as afw. */
  static fromField(field: BoundedField, calibrationErr = 0): PhotoCalib {
    if (field instanceof ConstantField) return PhotoCalib.constant(field.value, calibrationErr, field.bbox);
    return new PhotoCalib(field.mean(), calibrationErr, false, field);
  }

  /**
   * From a legacy zero point: FLUXMAG0 counts give magnitude 0, so
   * calibrationMean = 3631 Jy / FLUXMAG0 and calibrationErr = 3631 Jy * FLUXMAG0ERR / FLUXMAG0^2 (in nJy).
   */
  static fromFluxMag0(fluxMag0: number, fluxMag0Err = 0): PhotoCalib {
    requireFinite(fluxMag0, 'FLUXMAG0');
    requireFinite(fluxMag0Err, 'FLUXMAG0ERR');
    if (fluxMag0 <= 0) throw errors.badInput('PhotoCalib', `FLUXMAG0 must be positive, got ${fluxMag0}`);
    return PhotoCalib.constant(REFERENCE_FLUX_NJY / fluxMag0, (REFERENCE_FLUX_NJY * fluxMag0Err) / (fluxMag0 * fluxMag0));
  }

  /** From the FLUXMAG0 (required) and FLUXMAG0ERR (default 0) cards of a FITS header. */
  static fromFitsHeader(header: FitsHeader | string | readonly string[]): PhotoCalib {
    const h = header instanceof FitsHeader ? header : FitsHeader.parse(header);
    if (!h.has('FLUXMAG0') || h.card('FLUXMAG0')!.commentary) {
      throw errors.badInput('FITS header', 'no FLUXMAG0 card with a value, so no photometric calibration');
    }
    return PhotoCalib.fromFluxMag0(h.getNumber('FLUXMAG0'), fluxMag0Err(h));
  }

  /** The persisted form (DESIGN.md §3). */
  toJson(): PhotoCalibJson {
    return {
      photoCalibVersion: PHOTOCALIB_VERSION,
      calibrationMean: this.calibrationMean,
      calibrationErr: this.calibrationErr,
      isConstant: this.isConstant,
      field: this.field.toJson(),
    };
  }

  /** From the persisted JSON (an object or its text). An unknown photoCalibVersion is an error, never a guess. */
  static fromJson(json: unknown): PhotoCalib {
    let j = json;
    if (typeof j === 'string') {
      try {
        j = JSON.parse(j);
      } catch (e) {
        throw errors.badInput('PhotoCalib JSON', (e as Error).message);
      }
    }
    if (typeof j !== 'object' || j === null) throw errors.badInput('PhotoCalib JSON', 'expected an object');
    const o = j as Record<string, unknown>;
    if (o['photoCalibVersion'] !== PHOTOCALIB_VERSION) {
      throw errors.badInput('PhotoCalib JSON', `unknown photoCalibVersion ${JSON.stringify(o['photoCalibVersion'])} (this skycal reads version ${PHOTOCALIB_VERSION})`);
    }
    if (typeof o['isConstant'] !== 'boolean') throw errors.badInput('PhotoCalib JSON', 'isConstant must be true or false');
    const field = fieldFromJson(o['field'], 'PhotoCalib JSON field');
    return new PhotoCalib(o['calibrationMean'] as number, o['calibrationErr'] as number, o['isConstant'], field);
  }

  /** The packed model for the kernels (layout in native-free-kernels/photoCalib.ts); a fresh copy. */
  toKernelModel(): Float64Array {
    return this.model.slice();
  }

  /** c at a parent-pixel position (calibrationMean when constant). */
  getLocalCalibration(x: number, y: number): number {
    return this.isConstant ? this.calibrationMean : this.field.evaluate(x, y);
  }

  /** Counts that make magnitude 0: 3631 Jy / calibrationMean. */
  getInstFluxAtZeroMagnitude(): number {
    return REFERENCE_FLUX_NJY / this.calibrationMean;
  }

  private one(instFlux: number, instFluxErr: number | undefined, point: Point | undefined, legacy: boolean): void {
    F[0] = instFlux;
    E[0] = instFluxErr ?? NaN;
    X[0] = point?.x ?? 0;
    Y[0] = point?.y ?? 0;
    const model = point === undefined ? this.meanModel : this.model;
    photoCalibCalibrate(1, model, legacy ? 1 : 0, X, 1, 0, Y, 1, 0, F, 1, 0, instFluxErr === undefined ? NONE : E, 1, 0,
      FLUX, 1, 0, FLUX_ERR, 1, 0, MAG, 1, 0, MAG_ERR, 1, 0, STATUS, 1, 0);
  }

  instFluxToNanojansky(instFlux: number, point?: Point): number {
    this.one(instFlux, undefined, point, false);
    return FLUX[0]!;
  }

  instFluxToNanojanskyWithError(instFlux: number, instFluxErr: number, point?: Point, options: ErrorModelOptions = {}): Measurement {
    this.one(instFlux, instFluxErr, point, options.legacyErrors === true);
    return { value: FLUX[0]!, error: FLUX_ERR[0]! };
  }

  /** AB magnitude; NaN for zero or negative flux. */
  instFluxToMagnitude(instFlux: number, point?: Point): number {
    this.one(instFlux, undefined, point, false);
    return MAG[0]!;
  }

  instFluxToMagnitudeWithError(instFlux: number, instFluxErr: number, point?: Point, options: ErrorModelOptions = {}): Measurement {
    this.one(instFlux, instFluxErr, point, options.legacyErrors === true);
    return { value: MAG[0]!, error: MAG_ERR[0]! };
  }

  /** Counts for an AB magnitude: 3631 Jy * 10^(-0.4 mag) / c. */
  magnitudeToInstFlux(magnitude: number, point?: Point): number {
    return (REFERENCE_FLUX_NJY * 10 ** (-0.4 * magnitude)) / this.calibrationAt(point);
  }

  nanojanskyToInstFlux(nanojansky: number, point?: Point): number {
    return nanojansky / this.calibrationAt(point);
  }

  private calibrationAt(point: Point | undefined): number {
    return point === undefined ? this.calibrationMean : this.getLocalCalibration(point.x, point.y);
  }

  /**
   * A new Table where every `<name>_instFlux` (or only the `fields` named)
   * gains `<name>_flux`, `<name>_mag` and, with `<name>_instFluxErr`,
   * `<name>_fluxErr`, `<name>_magErr` (units in field metadata).
   */
  calibrateCatalog(table: Table, fields?: readonly string[], options: CalibrateCatalogOptions = {}): Table {
    return calibrateCatalog(this, table, fields, options);
  }

  /**
   * image x c and variance x c^2 over the overlap with the field's bbox. `image` and `variance` are 2-D
   * ndarrays of shape [rows (y), columns (x)] (the same shape), element [0][0] at parent pixel `xy0`
   * (integers); returns new arrays (Float32 stays Float32, anything else becomes Float64).
   */
  calibrateImage(
    image: ndarray.NdArray<ndarray.TypedArray | number[]>,
    variance?: ndarray.NdArray<ndarray.TypedArray | number[]>,
    xy0: Point = { x: 0, y: 0 },
  ): CalibratedImage {
    return calibrateImage(this, image, variance, xy0);
  }

  toString(): string {
    return `PhotoCalib(mean=${this.calibrationMean} nJy/count, err=${this.calibrationErr}, ${this.isConstant ? 'constant' : this.field.toString()})`;
  }
}
