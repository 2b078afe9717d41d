/**
 * FITS files as a sequence of HDUs: each a header and the byte range of its
 * data (FITS Standard 4.0, §3-§7). Data are not decoded here; image.ts and
 * the table readers do that.
 */
import { SkycalError } from '../errors.js';
import { BLOCK_LENGTH, CARD_LENGTH, FitsHeader } from './header.js';

export interface Hdu {
  /** 0 for the primary HDU. */
  readonly index: number;
  readonly header: FitsHeader;
  /** Byte offset of the data in the file, and its length without padding. */
  readonly dataOffset: number;
  readonly dataLength: number;
}

/** True when the bytes start like a FITS file (SIMPLE = T in the first card). */
export function looksLikeFits(bytes: Uint8Array): boolean {
  if (bytes.length < CARD_LENGTH) return false;
  const first = new TextDecoder('latin1').decode(bytes.subarray(0, CARD_LENGTH));
  return /^SIMPLE  = +T/.test(first);
}

/** Bytes of data an HDU declares: |BITPIX|/8 * GCOUNT * (PCOUNT + NAXIS1*...*NAXISn). */
export function dataLengthOf(header: FitsHeader): number {
  const naxis = header.getNumber('NAXIS', 0);
  if (naxis === 0) return 0;
  const bitpix = header.getNumber('BITPIX');
  let n = 1;
  for (let i = 1; i <= naxis; i++) n *= header.getNumber(`NAXIS${i}`);
  // Random-groups primaries have NAXIS1 = 0 and count from axis 2.
  if (header.getNumber('NAXIS1', 1) === 0) {
    n = 1;
    for (let i = 2; i <= naxis; i++) n *= header.getNumber(`NAXIS${i}`);
  }
  return (Math.abs(bitpix) / 8) * header.getNumber('GCOUNT', 1) * (header.getNumber('PCOUNT', 0) + n);
}

/** Every HDU of a FITS file held in memory. */
export function readHdus(bytes: Uint8Array, source = 'FITS file'): Hdu[] {
  if (!looksLikeFits(bytes)) {
    throw new SkycalError('BAD_INPUT', `${source}: not a FITS file (no SIMPLE = T card at the start)`);
  }
  const decoder = new TextDecoder('latin1');
  const hdus: Hdu[] = [];
  let offset = 0;
  while (offset + BLOCK_LENGTH <= bytes.length) {
    // Read blocks until one holds the END card.
    let end = -1;
    let pos = offset;
    while (end < 0) {
      if (pos + BLOCK_LENGTH > bytes.length) {
        throw new SkycalError('BAD_INPUT', `${source}: HDU ${hdus.length} header has no END card (truncated file?)`);
      }
      const block = decoder.decode(bytes.subarray(pos, pos + BLOCK_LENGTH));
      for (let c = 0; c < BLOCK_LENGTH; c += CARD_LENGTH) {
        if (/^END {77}$/.test(block.slice(c, c + CARD_LENGTH))) {
          end = pos + c;
          break;
        }
      }
      pos += BLOCK_LENGTH;
    }
    const header = FitsHeader.parse(decoder.decode(bytes.subarray(offset, end + CARD_LENGTH)));
    const dataLength = dataLengthOf(header);
    if (pos + dataLength > bytes.length) {
      throw new SkycalError(
        'BAD_INPUT',
        `${source}: HDU ${hdus.length} declares ${dataLength} bytes of data but the file ends first (truncated file?)`,
      );
    }
    hdus.push({ index: hdus.length, header, dataOffset: pos, dataLength });
    offset = pos + Math.ceil(dataLength / BLOCK_LENGTH) * BLOCK_LENGTH;
    // Trailing bytes shorter than a block, or a block of zeros, end the file.
    if (offset < bytes.length && bytes[offset] === 0) break;
  }
  return hdus;
}

/** One HDU by index, with an error naming the file when it is absent. */
export function readHdu(bytes: Uint8Array, index: number, source = 'FITS file'): Hdu {
  const hdus = readHdus(bytes, source);
  const hdu = hdus[index];
  if (hdu === undefined) {
    throw new SkycalError('BAD_INPUT', `${source}: has ${hdus.length} HDU(s); HDU ${index} does not exist`);
  }
  return hdu;
}
