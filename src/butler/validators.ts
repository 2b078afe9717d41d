/**
 * Validation of the storage classes whose parsers live in other modules: a
 * put is rejected exactly when a read would fail, because both use the same
 * parser (`TanSipWcs.fromFitsHeader`, `PhotoCalib.fromJson`). Parse errors
 * become BAD_INPUT naming the input.
 */
import { SkycalError } from '../errors.js';
import { TanSipWcs } from '../wcs/index.js';
import { PhotoCalib } from '../photocalib/index.js';

function asBadInput(source: string, what: string, e: unknown): SkycalError {
  return new SkycalError('BAD_INPUT', `${source}: not a ${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

export function validateTanSipHeader(text: string, source: string): TanSipWcs {
  try {
    return TanSipWcs.fromFitsHeader(text);
  } catch (e) {
    throw asBadInput(source, 'TAN-SIP WCS header', e);
  }
}

export function validatePhotoCalibJson(value: unknown, source: string): PhotoCalib {
  try {
    return PhotoCalib.fromJson(value);
  } catch (e) {
    throw asBadInput(source, 'PhotoCalib', e);
  }
}
