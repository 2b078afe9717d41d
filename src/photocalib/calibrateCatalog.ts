/**
 * Calibrate an Arrow source catalog: every `<name>_instFlux` column gains
 * `<name>_flux` (nJy) and `<name>_mag` (AB), and where `<name>_instFluxErr`
 * exists, `<name>_fluxErr` and `<name>_magErr`, plus one `status` column (the
 * OR over families of nonFiniteInput and nonPositiveFlux, status.ts); field
 * metadata comes from catalog/columns.ts, as in the derived views. Positions are the parent-pixel
 * centroid columns (`x`, `y` by default). Returns a new Table; the input is
 * not touched. Works batch by batch (a Table's columns share record-batch
 * boundaries), one kernel call per batch and flux family.
 */
import { type Data, type Field, Float64, RecordBatch, Schema, Struct, Table, makeData, makeVector } from 'apache-arrow';
import { photoCalibCalibrate } from '../../native-free-kernels/photoCalib.js';
import { calibrationStatusField, fluxFields, instFluxNames } from '../catalog/columns.js';
import { kernelInputValues } from '../catalog/columnTypes.js';
import { errors } from '../errors.js';
import type { PhotoCalib } from './photoCalib.js';

export { instFluxNames };

export interface CalibrateCatalogOptions {
  /** Pre-2025 (afw <= 28) error model. */
  legacyErrors?: boolean;
  /** Centroid columns, parent-pixel coordinates (default 'x', 'y'). */
  xColumn?: string;
  yColumn?: string;
  /** Recorded in the schema metadata as `skycal.photoCalib` (e.g. the run id it came from). */
  calibrationId?: string;
}

const INST_FLUX = '_instFlux';
const NONE = new Float64Array(0);

/** A batch column as the doubles the kernel reads (type-checked: a text column is BAD_INPUT). */
function float64Values(data: Data, name: string): Float64Array {
  return kernelInputValues(makeVector(data), name, 'calibrateCatalog');
}

export function calibrateCatalog(calib: PhotoCalib, table: Table, fields?: readonly string[], options: CalibrateCatalogOptions = {}): Table {
  if (!Table.isTable(table)) throw errors.badInput('calibrateCatalog', 'expected an Arrow Table');
  const schema = table.schema;
  const index = new Map(schema.fields.map((f, i) => [f.name, i]));
  const names = fields === undefined ? instFluxNames(schema) : [...fields];
  for (const n of names) {
    if (!index.has(n + INST_FLUX)) throw errors.badInput('calibrateCatalog', `no column ${n}${INST_FLUX} for flux field ${JSON.stringify(n)}`);
  }
  const xName = options.xColumn ?? 'x', yName = options.yColumn ?? 'y';
  if (!calib.isConstant) {
    for (const c of [xName, yName]) {
      if (!index.has(c)) throw errors.badInput('calibrateCatalog', `no centroid column ${c} (needed by a spatially varying calibration)`);
    }
  }
  // Output columns replace same-named inputs in place, otherwise are appended.
  const outFields = schema.fields.slice();
  const slot = (f: Field): number => {
    const i = outFields.findIndex((g) => g.name === f.name);
    if (i >= 0) outFields[i] = f;
    else outFields.push(f);
    return i >= 0 ? i : outFields.length - 1;
  };
  const plans = names.map((n) => {
    const hasErr = index.has(`${n}_instFluxErr`);
    return {
      inst: index.get(n + INST_FLUX)!,
      err: hasErr ? index.get(`${n}_instFluxErr`)! : -1,
      // Column order flux, fluxErr, mag, magErr: the order of the pool's derived views too.
      flux: slot(fluxFields(n).flux),
      fluxErr: hasErr ? slot(fluxFields(n).fluxErr) : -1,
      mag: slot(fluxFields(n).mag),
      magErr: hasErr ? slot(fluxFields(n).magErr) : -1,
    };
  });
  // One status column, the OR over flux families (as the calibrated view writes it).
  const statusSlot = slot(calibrationStatusField());
  const metadata = new Map(schema.metadata);
  if (options.calibrationId !== undefined) metadata.set('skycal.photoCalib', options.calibrationId);
  const outSchema = new Schema(outFields, metadata);
  const model = calib.toKernelModel();
  const legacy = options.legacyErrors === true ? 1 : 0;
  const xi = index.get(xName), yi = index.get(yName);

  const batches = table.batches.map((batch) => {
    const n = batch.numRows;
    const inputs = batch.data.children as Data[];
    const children: Data[] = inputs.slice();
    const x = calib.isConstant || xi === undefined ? NONE : float64Values(inputs[xi]!, xName);
    const y = calib.isConstant || yi === undefined ? NONE : float64Values(inputs[yi]!, yName);
    const status = new Uint8Array(n);
    const familyStatus = new Uint8Array(n);
    for (const p of plans) {
      const flux = new Float64Array(n), mag = new Float64Array(n);
      const fluxErr = p.err >= 0 ? new Float64Array(n) : NONE;
      const magErr = p.err >= 0 ? new Float64Array(n) : NONE;
      const err = p.err >= 0 ? float64Values(inputs[p.err]!, schema.fields[p.err]!.name) : NONE;
      photoCalibCalibrate(n, model, legacy, x, 1, 0, y, 1, 0, float64Values(inputs[p.inst]!, schema.fields[p.inst]!.name), 1, 0, err, 1, 0,
        flux, 1, 0, fluxErr, 1, 0, mag, 1, 0, magErr, 1, 0, familyStatus, 1, 0);
      for (let i = 0; i < n; i++) status[i]! |= familyStatus[i]!;
      const put = (i: number, values: Float64Array) => (children[i] = makeData({ type: new Float64(), length: n, nullCount: 0, data: values }));
      put(p.flux, flux);
      put(p.mag, mag);
      if (p.err >= 0) {
        put(p.fluxErr, fluxErr);
        put(p.magErr, magErr);
      }
    }
    children[statusSlot] = makeData({ type: outSchema.fields[statusSlot]!.type, length: n, nullCount: 0, data: status });
    return new RecordBatch(outSchema, makeData({ type: new Struct(outSchema.fields), length: n, nullCount: 0, children }));
  });
  return new Table(outSchema, batches);
}
