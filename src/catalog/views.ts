/**
 * The views users ask for: a catalog with sky coordinates (withSky), with
 * pixel positions from sky coordinates (withPixels), with calibrated fluxes
 * (calibrated), or with both (withSkyAndCalibration). Each takes a Table
 * (-> Promise<Table>) or a batch stream with its schema (-> a stream), and
 * records what it was derived from in the schema's key/value metadata.
 */
import { Table, type Schema } from 'apache-arrow';
import { calibrationStatusField, decField, findCentroid, fluxFields, instFluxNames, pixelXField, pixelYField, raField, requireColumns, statusField } from './columns.js';
import {
  deriveStream,
  deriveTable,
  type BatchSource,
  type ColumnDerivation,
  type DeriveOptions,
  type DerivedBatches,
  type KernelModelSource,
} from './derive.js';

/** Column kernel names (native-free-kernels/columnKernels.ts). */
export const KERNEL_PIXEL_TO_SKY = 'tanSipPixelToSkyDeg';
export const KERNEL_SKY_TO_PIXEL = 'tanSipSkyToPixelDeg';
export const KERNEL_SKY_TO_PIXEL_APPROX = 'tanSipSkyToPixelApproxDeg';
export const KERNEL_CALIBRATE = 'photoCalibCalibrate';

/** File key/value metadata keys naming the versions a catalog was derived from. */
export const META_WCS = 'skycal.wcs';
export const META_PHOTOCALIB = 'skycal.photoCalib';

export interface ViewOptions extends DeriveOptions {
  /** What the WCS is (a run id, or a file and its checksum): stored as skycal.wcs. */
  wcsVersion?: string;
  /** Likewise for the calibration: stored as skycal.photoCalib. */
  photoCalibVersion?: string;
  /** Pre-2025 afw calibration errors. */
  legacyErrors?: boolean;
  /** sky -> pixel: the AP/BP polynomial instead of the exact Newton inverse. */
  approx?: boolean;
  maxIter?: number;
  tolerancePx?: number;
  /** Explicit centroid columns (over `centroid`). */
  centroidColumns?: readonly [string, string];
  /** Calibrate only these flux families (default: every `<name>_instFlux`). */
  fluxFields?: readonly string[];
}

type Source = Table | BatchSource;

function isTable(x: Source): x is Table {
  // Arrow's brand check, which survives two copies of the library (unlike instanceof).
  return Table.isTable(x);
}

function centroidOf(schema: Schema, options: ViewOptions): [string, string] {
  if (options.centroidColumns !== undefined) {
    requireColumns(schema, options.centroidColumns, options.source);
    return [options.centroidColumns[0], options.centroidColumns[1]];
  }
  return findCentroid(schema, options.centroid, options.source);
}

export function skyDerivation(schema: Schema, wcs: KernelModelSource, options: ViewOptions = {}): ColumnDerivation {
  const [x, y] = centroidOf(schema, options);
  return { kernel: KERNEL_PIXEL_TO_SKY, model: wcs.toKernelModel(), inputs: [x, y], outputs: [raField(), decField()], status: statusField('status', 'pixel -> sky') };
}

export function pixelDerivation(schema: Schema, wcs: KernelModelSource, options: ViewOptions = {}): ColumnDerivation {
  requireColumns(schema, ['coord_ra', 'coord_dec'], options.source);
  const approx = options.approx === true;
  return {
    kernel: approx ? KERNEL_SKY_TO_PIXEL_APPROX : KERNEL_SKY_TO_PIXEL,
    model: wcs.toKernelModel(),
    // Defaults as TanSipWcs#skyToPixelArrays, so pool and library agree.
    scalars: approx ? [] : [options.maxIter ?? 50, options.tolerancePx ?? 1e-10],
    inputs: ['coord_ra', 'coord_dec'],
    outputs: [pixelXField('x'), pixelYField('y')],
    status: statusField('status', approx ? 'sky -> pixel (AP/BP approximation)' : 'sky -> pixel'),
  };
}

/**
 * One derivation per flux family (`<name>_instFlux`, with `_instFluxErr`
 * when present), as PhotoCalib#calibrateCatalog. Every family writes its
 * bits into the one `status` column (ORed, with pixel -> sky's in
 * withSkyAndCalibration): nonFiniteInput for a NaN or missing flux,
 * nonPositiveFlux where flux <= 0 (mag and magErr NaN). A `status` column of
 * the input is replaced, as every derived column is. A constant calibration
 * needs no centroid.
 */
export function calibrationDerivations(schema: Schema, photoCalib: KernelModelSource, options: ViewOptions = {}): ColumnDerivation[] {
  const names = new Set(schema.fields.map((f) => f.name));
  const fluxes = (options.fluxFields ?? instFluxNames(schema)).map((name) => ({ name, hasErr: names.has(`${name}_instFluxErr`) }));
  requireColumns(schema, fluxes.map((f) => `${f.name}_instFlux`), options.source);
  const model = photoCalib.toKernelModel();
  const [x, y] = 'isConstant' in photoCalib && photoCalib.isConstant === true && options.centroidColumns === undefined ? ['', ''] : centroidOf(schema, options);
  return fluxes.map(({ name, hasErr }) => {
    const f = fluxFields(name);
    return {
      kernel: KERNEL_CALIBRATE,
      model,
      scalars: [options.legacyErrors ? 1 : 0],
      inputs: [x, y, `${name}_instFlux`, hasErr ? `${name}_instFluxErr` : ''],
      outputs: [f.flux, hasErr ? f.fluxErr : null, f.mag, hasErr ? f.magErr : null],
      status: calibrationStatusField(),
    };
  });
}

function versions(options: ViewOptions): Record<string, string> {
  const out: Record<string, string> = { ...options.metadata };
  if (options.wcsVersion !== undefined) out[META_WCS] = options.wcsVersion;
  if (options.photoCalibVersion !== undefined) out[META_PHOTOCALIB] = options.photoCalibVersion;
  return out;
}

function view(source: Source, derivations: ColumnDerivation[], options: ViewOptions): Promise<Table> | DerivedBatches {
  const opts = { ...options, metadata: versions(options) };
  return isTable(source) ? deriveTable(source, derivations, opts) : deriveStream(source, derivations, opts);
}

export function withSky(source: Table, wcs: KernelModelSource, options?: ViewOptions): Promise<Table>;
export function withSky(source: BatchSource, wcs: KernelModelSource, options?: ViewOptions): DerivedBatches;
export function withSky(source: Source, wcs: KernelModelSource, options: ViewOptions = {}): Promise<Table> | DerivedBatches {
  return view(source, [skyDerivation(source.schema, wcs, options)], options);
}

export function withPixels(source: Table, wcs: KernelModelSource, options?: ViewOptions): Promise<Table>;
export function withPixels(source: BatchSource, wcs: KernelModelSource, options?: ViewOptions): DerivedBatches;
export function withPixels(source: Source, wcs: KernelModelSource, options: ViewOptions = {}): Promise<Table> | DerivedBatches {
  return view(source, [pixelDerivation(source.schema, wcs, options)], options);
}

export function calibrated(source: Table, photoCalib: KernelModelSource, options?: ViewOptions): Promise<Table>;
export function calibrated(source: BatchSource, photoCalib: KernelModelSource, options?: ViewOptions): DerivedBatches;
export function calibrated(source: Source, photoCalib: KernelModelSource, options: ViewOptions = {}): Promise<Table> | DerivedBatches {
  return view(source, calibrationDerivations(source.schema, photoCalib, options), options);
}

export function withSkyAndCalibration(source: Table, wcs: KernelModelSource, photoCalib: KernelModelSource, options?: ViewOptions): Promise<Table>;
export function withSkyAndCalibration(source: BatchSource, wcs: KernelModelSource, photoCalib: KernelModelSource, options?: ViewOptions): DerivedBatches;
export function withSkyAndCalibration(
  source: Source,
  wcs: KernelModelSource,
  photoCalib: KernelModelSource,
  options: ViewOptions = {},
): Promise<Table> | DerivedBatches {
  const sky = skyDerivation(source.schema, wcs, options);
  // One status column for the row: the calibration bits join pixel -> sky's under its field.
  const status = statusField('status', 'pixel -> sky and photometric calibration');
  const derivations = [{ ...sky, status }, ...calibrationDerivations(source.schema, photoCalib, options).map((d) => ({ ...d, status }))];
  return view(source, derivations, options);
}
