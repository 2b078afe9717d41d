/**
 * loadWcs: a TAN-SIP WCS from a path (header text, one card per line or
 * 2880-byte blocks; or a FITS file, primary HDU or --hdu N), or from a
 * built-in header (`builtin:ptf`, `builtin:hsc`).
 */
import { SkycalError } from '../errors.js';
import { looksLikeFits } from '../fits/file.js';
import { INPUT_LIMITS, readFileBounded } from '../io/readBounded.js';
import { BUILTIN_HEADERS } from './builtin.js';
import { TanSipWcs } from './tanSipWcs.js';

export interface LoadWcsOptions {
  /** FITS files: which HDU (default 0, the primary). */
  readonly hdu?: number;
  /** Pixels in the LSST parent frame (local + parentOffset). */
  readonly parent?: boolean;
}

export function loadWcs(path: string, options: LoadWcsOptions = {}): TanSipWcs {
  const parent = options.parent === true;
  if (path.startsWith('builtin:')) {
    const name = path.slice('builtin:'.length);
    const text = Object.hasOwn(BUILTIN_HEADERS, name) ? BUILTIN_HEADERS[name] : undefined;
    if (text === undefined) {
      throw new SkycalError('BAD_INPUT', `${path}: no such built-in header (have ${Object.keys(BUILTIN_HEADERS).map((n) => `builtin:${n}`).join(', ')})`);
    }
    return TanSipWcs.fromFitsHeader(text, { parent });
  }
  // Bounded: a FITS file may be a whole calexp, but a pipe or a device (/dev/zero) is read no further than header text needs.
  const bytes = readFileBounded(path, { label: 'WCS file', maxBytes: INPUT_LIMITS.fits, maxStreamBytes: INPUT_LIMITS.text });
  try {
    if (looksLikeFits(bytes) && (options.hdu !== undefined || !isHeaderOnly(bytes))) {
      return TanSipWcs.fromFitsFile(bytes, options.hdu ?? 0, { parent, source: path });
    }
    if (options.hdu !== undefined && options.hdu !== 0) {
      throw new SkycalError('BAD_INPUT', `${path}: --hdu ${options.hdu} given but the file is header text, not a FITS file`);
    }
    return TanSipWcs.fromFitsHeader(new TextDecoder('latin1').decode(bytes), { parent });
  } catch (e) {
    if (SkycalError.isSkycalError(e) && e.code === 'BAD_INPUT' && !e.message.startsWith(path)) {
      throw new SkycalError('BAD_INPUT', `${path}: ${e.message}`, { cause: e });
    }
    throw e;
  }
}

/** A header saved on its own (text lines, or blocks with no data following) also starts with SIMPLE = T. */
function isHeaderOnly(bytes: Uint8Array): boolean {
  return bytes.subarray(0, 2880).includes(10); // a newline: header text, not FITS blocks
}
