/**
 * FITS files as a sequence of HDUs: each a header and the byte range of its
 * data (FITS Standard 4.0, §3-§7). Data are not decoded here; image.ts and
 * the table readers do that.
 *
 * Every size field is checked before it is used (BAD_INPUT naming the
 * keyword): BITPIX one of 8, 16, 32, 64, -32, -64; NAXIS an integer in
 * 0..999; NAXISn, PCOUNT and GCOUNT non-negative integers; the data length
 * they give within the file. So the HDU walk always moves forward and no
 * allocation follows from a size the file does not hold.
 */
import { errors } from '../errors.js';
import { BLOCK_LENGTH, CARD_LENGTH, FitsHeader } from './header.js';

export interface Hdu {
  /** 0 for the primary HDU. */
  readonly index: number;
  readonly header: FitsHeader;
  /** Byte offset of the data in the file, and its length without padding. */
  readonly dataOffset: number;
  readonly dataLength: number;
}

export const BITPIX_VALUES: readonly number[] = [8, 16, 32, 64, -32, -64];

const latin1 = new TextDecoder('latin1');

/** True when the bytes start like a FITS file (SIMPLE = T in the first card). */
export function looksLikeFits(bytes: Uint8Array): boolean {
  if (bytes.length < CARD_LENGTH) return false;
  return /^SIMPLE  = +T/.test(latin1.decode(bytes.subarray(0, CARD_LENGTH)));
}

function sizeField(header: FitsHeader, key: string, source: string, fallback?: number): number {
  const v = header.getNumber(key, fallback);
  if (!Number.isInteger(v) || v < 0) throw errors.badInput(source, `${key} = ${v}: expected a non-negative integer`);
  return v;
}

/**
 * Bytes of data an HDU declares: |BITPIX|/8 * GCOUNT * (PCOUNT + NAXIS1*...*NAXISn),
 * checked field by field; more than `limit` bytes is BAD_INPUT (the file ends first).
 */
export function dataLengthOf(header: FitsHeader, source = 'FITS header', limit = Number.MAX_SAFE_INTEGER): number {
  const naxis = sizeField(header, 'NAXIS', source, 0);
  if (naxis > 999) throw errors.badInput(source, `NAXIS = ${naxis}: expected at most 999`);
  const bitpix = header.getNumber('BITPIX');
  if (!BITPIX_VALUES.includes(bitpix)) throw errors.badInput(source, `BITPIX = ${bitpix}: expected one of ${BITPIX_VALUES.join(', ')}`);
  if (naxis === 0) return 0;
  const axes: number[] = [];
  for (let i = 1; i <= naxis; i++) axes.push(sizeField(header, `NAXIS${i}`, source));
  // Random-groups primaries have NAXIS1 = 0 and count from axis 2.
  const counted = axes[0] === 0 && naxis > 1 ? axes.slice(1) : axes;
  const bytesPer = Math.abs(bitpix) / 8;
  const gcount = sizeField(header, 'GCOUNT', source, 1);
  const pcount = sizeField(header, 'PCOUNT', source, 0);
  // Multiply step by step against the limit so no product overflows or grows past the file.
  const tooLarge = (what: string) =>
    errors.badInput(source, `${what} declare more data than the file holds (${limit} bytes left; truncated or corrupt header?)`);
  let n = 1;
  counted.forEach((a, k) => {
    n *= a;
    if (n * bytesPer > limit) throw tooLarge(`NAXIS1..NAXIS${k + 1 + (counted === axes ? 0 : 1)}`);
  });
  const length = bytesPer * gcount * (pcount + n);
  if (length > limit) throw tooLarge('PCOUNT and GCOUNT');
  return length;
}

/** Where the first header unit's END card is, within `bytes` from `offset`: the header and the byte just after its last block. */
function readHeaderAt(bytes: Uint8Array, offset: number, index: number, source: string): { header: FitsHeader; dataOffset: number } {
  let pos = offset;
  for (;;) {
    if (pos + BLOCK_LENGTH > bytes.length) throw errors.badInput(source, `HDU ${index} header has no END card (truncated file?)`);
    const block = latin1.decode(bytes.subarray(pos, pos + BLOCK_LENGTH));
    pos += BLOCK_LENGTH;
    for (let c = 0; c < BLOCK_LENGTH; c += CARD_LENGTH) {
      if (/^END {77}$/.test(block.slice(c, c + CARD_LENGTH))) {
        const end = pos - BLOCK_LENGTH + c;
        return { header: FitsHeader.parse(latin1.decode(bytes.subarray(offset, end + CARD_LENGTH))), dataOffset: pos };
      }
    }
  }
}

/** The primary header of a FITS file and the length of its header unit (blocks up to and including END). */
export function readFirstHeader(bytes: Uint8Array, source = 'FITS file'): { header: FitsHeader; headerLength: number } {
  if (!looksLikeFits(bytes)) throw errors.badInput(source, 'not a FITS file (no SIMPLE = T card at the start)');
  const { header, dataOffset } = readHeaderAt(bytes, 0, 0, source);
  return { header, headerLength: dataOffset };
}

/** Every HDU of a FITS file held in memory. */
export function readHdus(bytes: Uint8Array, source = 'FITS file'): Hdu[] {
  if (!looksLikeFits(bytes)) throw errors.badInput(source, 'not a FITS file (no SIMPLE = T card at the start)');
  const hdus: Hdu[] = [];
  let offset = 0;
  while (offset + BLOCK_LENGTH <= bytes.length) {
    const { header, dataOffset } = readHeaderAt(bytes, offset, hdus.length, source);
    const dataLength = dataLengthOf(header, `${source}: HDU ${hdus.length}`, bytes.length - dataOffset);
    hdus.push({ index: hdus.length, header, dataOffset, dataLength });
    const next = dataOffset + Math.ceil(dataLength / BLOCK_LENGTH) * BLOCK_LENGTH;
    if (!(next > offset)) throw new Error(`internal: FITS HDU walk did not move forward at byte ${offset}`);
    offset = next;
    // Trailing bytes shorter than a block, or a block of zeros, end the file.
    if (offset < bytes.length && bytes[offset] === 0) break;
  }
  return hdus;
}

/** One HDU by index, with an error naming the file when it is absent. */
export function readHdu(bytes: Uint8Array, index: number, source = 'FITS file'): Hdu {
  const hdus = readHdus(bytes, source);
  const hdu = hdus[index];
  if (hdu === undefined) throw errors.badInput(source, `has ${hdus.length} HDU(s); HDU ${index} does not exist`);
  return hdu;
}
