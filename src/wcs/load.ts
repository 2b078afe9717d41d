/**
 * loadWcs: a TAN-SIP WCS from a path or from a built-in header
 * (`builtin:ptf`, `builtin:hsc`). What the file is and which HDU holds the
 * WCS follow the one rule of fits/sniff.ts: a FITS file (HDU `hdu`, else the
 * first with CTYPE1) or header text (80-column cards or one per line, with
 * or without SIMPLE and END).
 */
import { SkycalError, errors } from '../errors.js';
import { selectHeader } from '../fits/sniff.js';
import type { FitsHeader } from '../fits/header.js';
import { INPUT_LIMITS, readFileBounded } from '../io/readBounded.js';
import { BUILTIN_HEADERS } from './builtin.js';
import { TanSipWcs } from './tanSipWcs.js';

export interface LoadWcsOptions {
  /** FITS files: which HDU (default: the first with a CTYPE1 card). */
  readonly hdu?: number;
  /** Pixels in the LSST parent frame (local + parentOffset). */
  readonly parent?: boolean;
}

/** The header card that marks the HDU holding a WCS. */
export const WCS_KEY = 'CTYPE1';

/** The WCS in a file's bytes (FITS or header text) and the header it came from; errors name `source`. */
export function readWcsBytes(bytes: Uint8Array, source: string, options: LoadWcsOptions = {}): { wcs: TanSipWcs; header: FitsHeader; kind: 'fits' | 'header' } {
  try {
    const { header, kind } = selectHeader(bytes, { source, key: WCS_KEY, what: 'a WCS', ...(options.hdu !== undefined ? { hdu: options.hdu } : {}) });
    return { wcs: TanSipWcs.fromFitsHeader(header, { parent: options.parent === true }), header, kind };
  } catch (e) {
    if (SkycalError.isSkycalError(e) && e.code === 'BAD_INPUT' && !e.message.startsWith(source)) {
      throw errors.badInput(source, e.message, { cause: e });
    }
    throw e;
  }
}

/** The WCS in a file's bytes (FITS or header text); errors name `source`. */
export function wcsFromBytes(bytes: Uint8Array, source: string, options: LoadWcsOptions = {}): TanSipWcs {
  return readWcsBytes(bytes, source, options).wcs;
}

export function loadWcs(path: string, options: LoadWcsOptions = {}): TanSipWcs {
  const parent = options.parent === true;
  if (path.startsWith('builtin:')) {
    const name = path.slice('builtin:'.length);
    const text = Object.hasOwn(BUILTIN_HEADERS, name) ? BUILTIN_HEADERS[name] : undefined;
    if (text === undefined) {
      throw errors.badInput(path, `no such built-in header (have ${Object.keys(BUILTIN_HEADERS).map((n) => `builtin:${n}`).join(', ')})`);
    }
    return TanSipWcs.fromFitsHeader(text, { parent });
  }
  // Bounded: a FITS file may be a whole calexp, but a pipe or a device (/dev/zero) is read no further than header text needs.
  const bytes = readFileBounded(path, { label: 'WCS file', maxBytes: INPUT_LIMITS.fits, maxStreamBytes: INPUT_LIMITS.text });
  return wcsFromBytes(bytes, path, options);
}
