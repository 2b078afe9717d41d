/**
 * What a WCS or PhotoCalib input is, and which HDU holds it: the one rule
 * (README "Input files"), used by loadWcs, the repository's storage classes
 * and the photocalib commands.
 *
 * - A FITS file: its first card is `SIMPLE  =` ... `T`, its length is a
 *   whole number of 2880-byte blocks and its first block holds no line break. A file that ends right
 *   after its first header unit (astropy's `Header.tofile`) is that header.
 * - JSON: otherwise, when the first non-blank character is `{`.
 * - Header text: anything else: 80-column cards run together or one card per
 *   line, with or without SIMPLE, with or without END.
 *
 * Which HDU of a FITS file: `hdu` when given, else the first HDU whose header
 * has the `key` card (CTYPE1 for a WCS, FLUXMAG0 for a calibration). Header
 * text is HDU 0; asking for another is BAD_INPUT.
 */
import { errors } from '../errors.js';
import { readFirstHeader, readHdus } from './file.js';
import { BLOCK_LENGTH, CARD_LENGTH, FitsHeader } from './header.js';

export type InputKind = 'fits' | 'json' | 'header';

/**
 * What to write for an output path: a FITS file for .fits, .fit, .fts (any
 * case), header text for anything else (.hdr, .txt, ...).
 */
export function outputKindOf(path: string): 'fits' | 'header' {
  return /\.(fits|fit|fts)$/i.test(path) ? 'fits' : 'header';
}

const latin1 = new TextDecoder('latin1');

export function sniffInput(bytes: Uint8Array): InputKind {
  if (bytes.length >= BLOCK_LENGTH && /^SIMPLE  = +T/.test(latin1.decode(bytes.subarray(0, CARD_LENGTH)))) {
    const first = bytes.subarray(0, BLOCK_LENGTH);
    if (bytes.length % BLOCK_LENGTH === 0 && !first.includes(10) && !first.includes(13)) return 'fits';
  }
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
    return c === 0x7b /* { */ ? 'json' : 'header';
  }
  return 'header';
}

export interface SelectedHeader {
  readonly header: FitsHeader;
  /** The HDU it came from (0 for header text). */
  readonly hdu: number;
  readonly kind: 'fits' | 'header';
}

/**
 * The header holding `key` (see the rule above). `what` names the content
 * in errors ("a WCS (no CTYPE1)"); `source` names the input.
 */
export function selectHeader(bytes: Uint8Array, options: { source: string; key: string; what: string; hdu?: number }): SelectedHeader {
  const { source, key, what, hdu } = options;
  if (hdu !== undefined && !(Number.isInteger(hdu) && hdu >= 0)) throw errors.badInput(source, `HDU ${hdu}: expected an integer >= 0`);
  const kind = sniffInput(bytes);
  if (kind === 'json') throw errors.badInput(source, `expected a FITS file or header text with ${what}, got JSON`);
  if (kind === 'header') {
    if (hdu !== undefined && hdu !== 0) throw errors.badInput(source, `HDU ${hdu} asked for, but the file is header text, not a FITS file`);
    return { header: FitsHeader.parse(latin1.decode(bytes)), hdu: 0, kind };
  }
  const first = readFirstHeader(bytes, source);
  if (first.headerLength === bytes.length && (hdu === undefined || hdu === 0)) {
    // A header unit saved on its own (no data, even if NAXISn say there were some).
    return { header: first.header, hdu: 0, kind };
  }
  const hdus = readHdus(bytes, source);
  if (hdu !== undefined) {
    const h = hdus[hdu];
    if (h === undefined) throw errors.badInput(source, `has ${hdus.length} HDU(s); HDU ${hdu} does not exist`);
    return { header: h.header, hdu, kind };
  }
  const found = hdus.find((h) => h.header.has(key));
  if (found === undefined) throw errors.badInput(source, `FITS file has no HDU with ${what} (no ${key} card in ${hdus.length} HDU(s))`);
  return { header: found.header, hdu: found.index, kind };
}
