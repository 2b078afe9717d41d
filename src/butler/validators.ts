/**
 * Validators for the storage classes whose parsers live in other modules.
 * Until `TanSipWcs.fromFitsHeader` and `PhotoCalib.fromJson` are on main,
 * these check structure only (required keys per table); then they call the
 * real parsers, so a put is rejected exactly when a read would fail.
 */
import { SkycalError } from '../errors.js';
import { FitsHeader } from '../fits/header.js';

/** Keys every TAN(-SIP) header must have, and the checks on their values. */
const REQUIRED_WCS_KEYS: readonly { key: string; check: (h: FitsHeader) => void }[] = [
  { key: 'CTYPE1', check: (h) => expectCtype(h, 'CTYPE1', /^RA--?-TAN(-SIP)?$/) },
  { key: 'CTYPE2', check: (h) => expectCtype(h, 'CTYPE2', /^DEC--TAN(-SIP)?$/) },
  { key: 'CRPIX1', check: (h) => void h.getNumber('CRPIX1') },
  { key: 'CRPIX2', check: (h) => void h.getNumber('CRPIX2') },
  { key: 'CRVAL1', check: (h) => void h.getNumber('CRVAL1') },
  { key: 'CRVAL2', check: (h) => void h.getNumber('CRVAL2') },
];

function expectCtype(h: FitsHeader, key: string, pattern: RegExp): void {
  const v = h.getString(key).trim();
  if (!pattern.test(v)) throw new SkycalError('BAD_INPUT', `${key} = '${v}' is not a TAN projection`);
}

export function validateTanSipHeader(text: string, source: string): void {
  try {
    const h = FitsHeader.parse(text);
    for (const { check } of REQUIRED_WCS_KEYS) check(h);
    const hasCd = h.has('CD1_1') || h.has('CD1_2') || h.has('CD2_1') || h.has('CD2_2');
    const hasCdelt = h.has('CDELT1') && h.has('CDELT2');
    if (!hasCd && !hasCdelt) throw new SkycalError('BAD_INPUT', 'no linear transform (CDi_j or CDELTi)');
    for (const p of ['A', 'B', 'AP', 'BP']) {
      if (!h.has(`${p}_ORDER`)) continue;
      const order = h.getNumber(`${p}_ORDER`);
      if (!Number.isInteger(order) || order < 0 || order > 9) throw new SkycalError('BAD_INPUT', `${p}_ORDER = ${order} is not an order 0..9`);
      for (const k of h.keys()) if (k.startsWith(`${p}_`) && k !== `${p}_ORDER` && k !== `${p}_DMAX`) h.getNumber(k);
    }
    if (h.has('A_ORDER') !== h.has('B_ORDER')) throw new SkycalError('BAD_INPUT', 'A_ORDER and B_ORDER must come together');
  } catch (e) {
    throw new SkycalError('BAD_INPUT', `${source}: not a TAN-SIP WCS header: ${(e as Error).message}`);
  }
}

export function validatePhotoCalibJson(value: unknown, source: string): void {
  const fail = (why: string): never => {
    throw new SkycalError('BAD_INPUT', `${source}: not a PhotoCalib: ${why}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('expected a JSON object');
  const v = value as Record<string, unknown>;
  if (v['photoCalibVersion'] !== 1) fail(`photoCalibVersion must be 1, got ${JSON.stringify(v['photoCalibVersion'])}`);
  for (const key of ['calibrationMean', 'calibrationErr']) {
    if (typeof v[key] !== 'number' || !Number.isFinite(v[key])) fail(`${key} must be a finite number`);
  }
  if ((v['calibrationMean'] as number) <= 0) fail('calibrationMean must be positive');
  if (v['isConstant'] !== undefined && typeof v['isConstant'] !== 'boolean') fail('isConstant must be a boolean');
  if (v['field'] !== undefined) validateField(v['field'], fail);
}

function validateField(field: unknown, fail: (why: string) => never): void {
  if (typeof field !== 'object' || field === null) fail('field must be an object');
  const f = field as Record<string, unknown>;
  switch (f['type']) {
    case 'constant':
      if (typeof f['value'] !== 'number' || !Number.isFinite(f['value'])) fail('constant field needs a finite value');
      return;
    case 'chebyshev': {
      const b = f['bbox'] as Record<string, unknown> | undefined;
      if (!b || !['minX', 'minY', 'maxX', 'maxY'].every((k) => Number.isInteger(b[k]))) fail('chebyshev field needs an integer bbox');
      if ((b!['maxX'] as number) < (b!['minX'] as number) || (b!['maxY'] as number) < (b!['minY'] as number)) fail('empty bbox');
      const c = f['coefficients'];
      if (!Array.isArray(c) || c.length === 0 || !c.every((row) => Array.isArray(row) && row.length > 0 && row.every((x) => typeof x === 'number' && Number.isFinite(x)))) {
        fail('chebyshev coefficients must be a non-empty [y][x] array of finite numbers');
      }
      return;
    }
    case 'product':
      if (!Array.isArray(f['factors']) || f['factors'].length === 0) fail('product field needs factors');
      for (const x of f['factors'] as unknown[]) validateField(x, fail);
      return;
    default:
      fail(`unknown field type ${JSON.stringify(f['type'])}`);
  }
}
