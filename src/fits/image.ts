/**
 * 2-D image HDUs (FITS Standard 4.0, §5): BITPIX 8, 16, 32, -32, -64, stored
 * big-endian, physical = BSCALE * stored + BZERO. Integer BLANK pixels read as
 * NaN; NaN pixels are written as BLANK in integer images. Pixels are held
 * row-major, index = y * width + x, with (0, 0) the first pixel in the file.
 */
import { errors } from '../errors.js';
import { readHdus, type Hdu } from './file.js';
import { BLOCK_LENGTH, cardsToBlocks, formatCard, type FitsHeader } from './header.js';

export type Bitpix = 8 | 16 | 32 | -32 | -64;
const BITPIXES: readonly number[] = [8, 16, 32, -32, -64];

export interface FitsImage {
  readonly width: number;
  readonly height: number;
  /** Physical values (after BSCALE/BZERO), row-major. */
  readonly pixels: Float64Array;
  /** How the pixels were (or will be) stored. */
  readonly bitpix: Bitpix;
  readonly bscale: number;
  readonly bzero: number;
}

/** The first 2-D image HDU (or HDU `index`) of a FITS file, decoded. */
export function readImage(bytes: Uint8Array, index?: number, source = 'FITS file'): FitsImage & { header: FitsHeader } {
  const hdus = readHdus(bytes, source);
  const hdu = index !== undefined ? hdus[index] : hdus.find(isImageHdu);
  if (hdu === undefined) {
    throw errors.badInput(source, index !== undefined ? `HDU ${index} does not exist` : 'no 2-D image HDU');
  }
  if (!isImageHdu(hdu)) throw errors.badInput(source, `HDU ${hdu.index} is not a 2-D image`);
  return decodeImage(bytes, hdu, source);
}

function isImageHdu(hdu: Hdu): boolean {
  const h = hdu.header;
  const xtension = h.has('XTENSION') ? String(h.get('XTENSION')).trim() : undefined;
  return (hdu.index === 0 || xtension === 'IMAGE') && h.getNumber('NAXIS', 0) === 2;
}

function decodeImage(bytes: Uint8Array, hdu: Hdu, source: string): FitsImage & { header: FitsHeader } {
  const h = hdu.header;
  const bitpix = h.getNumber('BITPIX');
  if (!BITPIXES.includes(bitpix)) throw errors.badInput(source, `unsupported BITPIX ${bitpix}`);
  const width = h.getNumber('NAXIS1');
  const height = h.getNumber('NAXIS2');
  // readHdus checked that the sizes are non-negative integers within the file; an image also needs pixels.
  if (width < 1 || height < 1) throw errors.badInput(source, `HDU ${hdu.index} is a ${width} x ${height} image: NAXIS1 and NAXIS2 must be at least 1`);
  const bscale = h.getNumber('BSCALE', 1);
  const bzero = h.getNumber('BZERO', 0);
  const blank = bitpix > 0 ? h.getOptionalNumber('BLANK') : undefined;
  const n = width * height;
  if (n * (Math.abs(bitpix) / 8) > hdu.dataLength) {
    throw errors.badInput(source, `HDU ${hdu.index}: a ${width} x ${height} image of BITPIX ${bitpix} needs more than the ${hdu.dataLength} data bytes its header declares (GCOUNT/PCOUNT?)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + hdu.dataOffset, hdu.dataLength);
  const pixels = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v: number;
    switch (bitpix) {
      case 8: v = view.getUint8(i); break;
      case 16: v = view.getInt16(i * 2); break;
      case 32: v = view.getInt32(i * 4); break;
      case -32: v = view.getFloat32(i * 4); break;
      default: v = view.getFloat64(i * 8);
    }
    pixels[i] = blank !== undefined && v === blank ? NaN : bscale * v + bzero;
  }
  return { width, height, pixels, bitpix: bitpix as Bitpix, bscale, bzero, header: h };
}

const INT_RANGE: Record<number, [number, number]> = { 8: [0, 255], 16: [-32768, 32767], 32: [-2147483648, 2147483647] };

/**
 * One image HDU as bytes: the primary HDU (SIMPLE) or an IMAGE extension.
 * `cards` are extra header cards (80-character images) placed after the
 * structural ones. Integer images round (physical - BZERO) / BSCALE and
 * reject values out of range rather than wrapping them.
 */
export function writeImage(
  image: FitsImage,
  options: { cards?: readonly string[]; extension?: boolean; extname?: string } = {},
): Uint8Array {
  const { width, height, pixels, bitpix, bscale, bzero } = image;
  if (!BITPIXES.includes(bitpix)) throw errors.badInput('image', `unsupported BITPIX ${bitpix}`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || pixels.length !== width * height) {
    throw errors.badInput('image', `${width}x${height} does not match ${pixels.length} pixels`);
  }
  const blank = bitpix > 0 ? (bitpix === 8 ? 255 : INT_RANGE[bitpix]![0]) : undefined;
  const cards = [
    options.extension ? formatCard('XTENSION', 'IMAGE', 'image extension') : formatCard('SIMPLE', true, 'conforms to FITS standard'),
    formatCard('BITPIX', bitpix, 'bits per pixel', true),
    formatCard('NAXIS', 2, '', true),
    formatCard('NAXIS1', width, '', true),
    formatCard('NAXIS2', height, '', true),
    ...(options.extension ? [formatCard('PCOUNT', 0, '', true), formatCard('GCOUNT', 1, '', true)] : [formatCard('EXTEND', true)]),
    ...(options.extname ? [formatCard('EXTNAME', options.extname)] : []),
    ...(bscale !== 1 ? [formatCard('BSCALE', bscale)] : []),
    ...(bzero !== 0 ? [formatCard('BZERO', bzero, '', Number.isInteger(bzero))] : []),
    ...(blank !== undefined ? [formatCard('BLANK', blank, 'stored value of undefined pixels', true)] : []),
    ...(options.cards ?? []),
  ];
  const headerBytes = new TextEncoder().encode(cardsToBlocks(cards));
  const bytesPer = Math.abs(bitpix) / 8;
  const dataLength = width * height * bytesPer;
  const out = new Uint8Array(headerBytes.length + Math.ceil(dataLength / BLOCK_LENGTH) * BLOCK_LENGTH);
  out.set(headerBytes);
  const view = new DataView(out.buffer, headerBytes.length, dataLength);
  for (let i = 0; i < pixels.length; i++) {
    const phys = pixels[i]!;
    if (bitpix < 0) {
      const v = (phys - bzero) / bscale;
      if (bitpix === -32) view.setFloat32(i * 4, v);
      else view.setFloat64(i * 8, v);
      continue;
    }
    let v: number;
    if (Number.isNaN(phys)) v = blank!;
    else {
      v = Math.round((phys - bzero) / bscale);
      const [lo, hi] = INT_RANGE[bitpix]!;
      if (!(v >= lo && v <= hi)) {
        throw errors.badInput(`image pixel ${i}`, `${phys} does not fit BITPIX ${bitpix} with BSCALE ${bscale}, BZERO ${bzero}`);
      }
    }
    if (bitpix === 8) view.setUint8(i, v);
    else if (bitpix === 16) view.setInt16(i * 2, v);
    else view.setInt32(i * 4, v);
  }
  return out;
}
