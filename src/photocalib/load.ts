/**
 * A PhotoCalib from a file's bytes, by the one rule of fits/sniff.ts: JSON
 * (the persisted form), or the FLUXMAG0 cards of a FITS file (the first HDU
 * with FLUXMAG0) or of header text.
 */
import { SkycalError, errors } from '../errors.js';
import { selectHeader, sniffInput } from '../fits/sniff.js';
import { PhotoCalib } from './photoCalib.js';

export function photoCalibFromBytes(bytes: Uint8Array, source: string): PhotoCalib {
  try {
    if (sniffInput(bytes) === 'json') {
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        throw errors.badInput('PhotoCalib JSON', 'not UTF-8 text');
      }
      return PhotoCalib.fromJson(text);
    }
    return PhotoCalib.fromFitsHeader(selectHeader(bytes, { source, key: 'FLUXMAG0', what: 'a calibration (FLUXMAG0)' }).header);
  } catch (e) {
    if (SkycalError.isSkycalError(e) && !e.message.startsWith(source)) throw errors.within(source, e);
    throw e;
  }
}
