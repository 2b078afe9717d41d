/**
 * Calibrate an Arrow source catalog: every `<name>_instFlux` column gains
 * `<name>_flux` (nJy) and `<name>_mag` (AB), and where `<name>_instFluxErr`
 * exists, `<name>_fluxErr` and `<name>_magErr`. Positions are the parent-pixel
 * centroid columns (`x`, `y` by default). Returns a new Table; the input is
 * not touched. Works batch by batch (a Table's columns share record-batch
 * boundaries), one kernel call per batch and flux family.
 */
import { type Data, Field, Float64, RecordBatch, Schema, Struct, Table, makeData, makeVector } from 'apache-arrow';
import { photoCalibCalibrate } from '../../native-free-kernels/photoCalib.js';
import { SkycalError } from '../errors.js';
import type { PhotoCalib } from './photoCalib.js';

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
const NO_STATUS = new Uint8Array(0);

/** The flux-family names (`base_PsfFlux` for `base_PsfFlux_instFlux`) in a schema, in column order. */
export function instFluxNames(schema: Schema): string[] {
  return schema.fields.filter((f) => f.name.endsWith(INST_FLUX) && f.name.length > INST_FLUX.length).map((f) => f.name.slice(0, -INST_FLUX.length));
}

/** A column chunk as Float64 values: zero-copy for a null-free Float64 chunk, else a copy (null -> NaN). */
function float64Values(data: Data): Float64Array {
  if (data.type instanceof Float64 && data.nullCount === 0 && data.values instanceof Float64Array && data.values.length >= data.length) {
    return data.values as Float64Array;
  }
  const v = makeVector(data);
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const e = v.get(i);
    out[i] = e === null || e === undefined ? NaN : Number(e);
  }
  return out;
}

function outputField(name: string, unit: string, description: string): Field {
  return new Field(name, new Float64(), true, new Map([['unit', unit], ['description', description]]));
}

export function calibrateCatalog(calib: PhotoCalib, table: Table, fields?: readonly string[], options: CalibrateCatalogOptions = {}): Table {
  if (!Table.isTable(table)) throw new SkycalError('BAD_INPUT', 'calibrateCatalog: expected an Arrow Table');
  const schema = table.schema;
  const index = new Map(schema.fields.map((f, i) => [f.name, i]));
  const names = fields === undefined ? instFluxNames(schema) : [...fields];
  for (const n of names) {
    if (!index.has(n + INST_FLUX)) throw new SkycalError('BAD_INPUT', `calibrateCatalog: no column ${n}${INST_FLUX} for flux field ${JSON.stringify(n)}`);
  }
  const xName = options.xColumn ?? 'x', yName = options.yColumn ?? 'y';
  if (!calib.isConstant) {
    for (const c of [xName, yName]) {
      if (!index.has(c)) throw new SkycalError('BAD_INPUT', `calibrateCatalog: no centroid column ${c} (needed by a spatially varying calibration)`);
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
      flux: slot(outputField(`${n}_flux`, 'nJy', `${n}: calibrated flux`)),
      fluxErr: hasErr ? slot(outputField(`${n}_fluxErr`, 'nJy', `${n}: calibrated flux uncertainty`)) : -1,
      mag: slot(outputField(`${n}_mag`, 'mag(AB)', `${n}: AB magnitude`)),
      magErr: hasErr ? slot(outputField(`${n}_magErr`, 'mag(AB)', `${n}: AB magnitude uncertainty`)) : -1,
    };
  });
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
    const x = calib.isConstant || xi === undefined ? NONE : float64Values(inputs[xi]!);
    const y = calib.isConstant || yi === undefined ? NONE : float64Values(inputs[yi]!);
    for (const p of plans) {
      const flux = new Float64Array(n), mag = new Float64Array(n);
      const fluxErr = p.err >= 0 ? new Float64Array(n) : NONE;
      const magErr = p.err >= 0 ? new Float64Array(n) : NONE;
      const err = p.err >= 0 ? float64Values(inputs[p.err]!) : NONE;
      photoCalibCalibrate(n, model, legacy, x, 1, 0, y, 1, 0, float64Values(inputs[p.inst]!), 1, 0, err, 1, 0,
        flux, 1, 0, fluxErr, 1, 0, mag, 1, 0, magErr, 1, 0, NO_STATUS, 1, 0);
      const put = (i: number, values: Float64Array) => (children[i] = makeData({ type: new Float64(), length: n, nullCount: 0, data: values }));
      put(p.flux, flux);
      put(p.mag, mag);
      if (p.err >= 0) {
        put(p.fluxErr, fluxErr);
        put(p.magErr, magErr);
      }
    }
    return new RecordBatch(outSchema, makeData({ type: new Struct(outSchema.fields), length: n, nullCount: 0, children }));
  });
  return new Table(outSchema, batches);
}
