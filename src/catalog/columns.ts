/**
 * Column conventions of LSST source catalogs (DESIGN.md §4): the centroid
 * columns, and the fields skycal adds, with units, UCDs and descriptions in
 * Arrow field metadata (not in names).
 */
import { Field, Float64, Uint8, type Schema } from 'apache-arrow';
import { STATUS_NAMES } from '../../native-free-kernels/status.js';
import { errors } from '../errors.js';

/** Centroid column pairs, tried in this order when none is configured. */
export const CENTROID_CANDIDATES: readonly (readonly [string, string])[] = [
  ['x', 'y'],
  ['slot_Centroid_x', 'slot_Centroid_y'],
  ['centroid_x', 'centroid_y'],
];

/**
 * The centroid columns of `schema`: the configured prefix (`slot_Centroid`
 * means slot_Centroid_x/_y; `x` or an empty prefix means x/y), else the first
 * candidate pair present. The error names what was looked for.
 */
export function findCentroid(schema: Schema, configured?: string, source = 'catalog'): [string, string] {
  const names = new Set(schema.fields.map((f) => f.name));
  const pairs: (readonly [string, string])[] =
    configured === undefined ? [...CENTROID_CANDIDATES] : configured === '' || configured === 'x' ? [['x', 'y']] : [[`${configured}_x`, `${configured}_y`]];
  const found = pairs.find(([x, y]) => names.has(x) && names.has(y));
  if (found) return [found[0], found[1]];
  throw errors.badInput(source, `no centroid columns: looked for ${pairs.map((p) => p.join('/')).join(', ')}; the catalog has ${[...names].join(', ') || 'no columns'}`);
}

/** Columns that must exist (e.g. coord_ra/coord_dec for sky -> pixel); the error names the missing ones. */
export function requireColumns(schema: Schema, wanted: readonly string[], source = 'catalog'): void {
  const names = new Set(schema.fields.map((f) => f.name));
  const missing = wanted.filter((n) => !names.has(n));
  if (missing.length > 0) throw errors.badInput(source, `missing column(s) ${missing.join(', ')}`);
}

function meta(unit: string, ucd: string, description: string): Map<string, string> {
  const m = new Map<string, string>();
  if (unit !== '') m.set('unit', unit);
  m.set('ucd', ucd);
  m.set('description', description);
  return m;
}

export function float64Field(name: string, unit: string, ucd: string, description: string): Field {
  return new Field(name, new Float64(), true, meta(unit, ucd, description));
}

export const raField = (): Field => float64Field('coord_ra', 'deg', 'pos.eq.ra;meta.main', 'Right ascension (ICRS) derived from the WCS');
export const decField = (): Field => float64Field('coord_dec', 'deg', 'pos.eq.dec;meta.main', 'Declination (ICRS) derived from the WCS');
export const pixelXField = (name = 'x'): Field => float64Field(name, 'pixel', 'pos.cartesian.x;instr.det', 'Column position (0-based, 0 = centre of the first pixel)');
export const pixelYField = (name = 'y'): Field => float64Field(name, 'pixel', 'pos.cartesian.y;instr.det', 'Row position (0-based, 0 = centre of the first pixel)');

/** The status bits, as the description of a status column lists them (from status.ts, the one table). */
export const STATUS_BITS_TEXT = STATUS_NAMES.map(([bit, name]) => `${bit} ${name}`).join(', ');

export function statusField(name: string, what: string): Field {
  return new Field(name, new Uint8(), true, meta('', 'meta.code.qual', `${what} status bits (0 = good; OR of): ${STATUS_BITS_TEXT}`));
}

const INST_FLUX = '_instFlux';

/** The flux-family names (`base_PsfFlux` for `base_PsfFlux_instFlux`) in a schema, in column order. */
export function instFluxNames(schema: Schema): string[] {
  return schema.fields.filter((f) => f.name.endsWith(INST_FLUX) && f.name.length > INST_FLUX.length).map((f) => f.name.slice(0, -INST_FLUX.length));
}

/**
 * Fields for `<name>_flux`, `_fluxErr`, `_mag`, `_magErr` (nJy and AB
 * magnitudes): the one place their units, UCDs and descriptions are written,
 * for the derived views and PhotoCalib#calibrateCatalog alike.
 */
export function fluxFields(name: string): { flux: Field; fluxErr: Field; mag: Field; magErr: Field } {
  return {
    flux: float64Field(`${name}_flux`, 'nJy', 'phot.flux', `${name}: calibrated flux`),
    fluxErr: float64Field(`${name}_fluxErr`, 'nJy', 'stat.error;phot.flux', `${name}: calibrated flux uncertainty`),
    mag: float64Field(`${name}_mag`, 'mag(AB)', 'phot.mag', `${name}: AB magnitude (NaN where the flux is <= 0: status bit nonPositiveFlux)`),
    magErr: float64Field(`${name}_magErr`, 'mag(AB)', 'stat.error;phot.mag', `${name}: AB magnitude uncertainty (NaN where the magnitude is)`),
  };
}

/** The status column of a calibrated view (or of PhotoCalib#calibrateCatalog). */
export const calibrationStatusField = (name = 'status'): Field => statusField(name, 'photometric calibration');
