/**
 * Storage classes: how a dataset type's bytes are checked on put and what
 * they are on disk. A put that fails validation throws BAD_INPUT before
 * anything is written. Each class normalises what it is given (a FITS file
 * holding a WCS is stored as its header text) so equal content hashes equal.
 *
 * Validation of WCS headers and PhotoCalib JSON goes through the small table
 * in `validators.ts`, which the WCS and PhotoCalib modules replace with their
 * own parsers (`TanSipWcs.fromFitsHeader`, `PhotoCalib.fromJson`) when they land.
 */
import { SkycalError } from '../errors.js';
import { sniffCatalogBytes } from '../catalog/format.js';
import { checkCatalogSchema } from '../catalog/columnTypes.js';
import { catalogSchemaOfBytes } from '../catalog/schemaOf.js';
import { looksLikeFits, readHdus } from '../fits/file.js';
import { readImage } from '../fits/image.js';
import { validatePhotoCalibJson, validateTanSipHeader } from './validators.js';

export type StorageClassName = 'TanSipWcs' | 'PhotoCalib' | 'ArrowTable' | 'Image' | 'Exposure';

export interface StorageClass {
  readonly name: StorageClassName;
  /** Suffix of files written by `get --out` when the user gives none. */
  readonly extension: string;
  /** Check the bytes; return what to store (maybe normalised). */
  normalise(bytes: Uint8Array, source: string): Uint8Array;
}

const latin1 = new TextDecoder('latin1');

const tanSipWcs: StorageClass = {
  name: 'TanSipWcs',
  extension: '.hdr',
  normalise(bytes, source) {
    let text: string;
    if (looksLikeFits(bytes)) {
      // The first HDU that carries a celestial WCS; its cards become header text.
      const hdu = readHdus(bytes, source).find((h) => h.header.has('CTYPE1'));
      if (hdu === undefined) throw new SkycalError('BAD_INPUT', `${source}: FITS file has no HDU with a WCS (no CTYPE1)`);
      text = hdu.header.cards.map((c) => c.raw).join('\n') + '\n' + 'END'.padEnd(80) + '\n';
    } else {
      text = latin1.decode(bytes);
    }
    validateTanSipHeader(text, source);
    return new TextEncoder().encode(text);
  },
};

const photoCalib: StorageClass = {
  name: 'PhotoCalib',
  extension: '.json',
  normalise(bytes, source) {
    let value: unknown;
    try {
      value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch (e) {
      throw new SkycalError('BAD_INPUT', `${source}: not JSON: ${(e as Error).message}`);
    }
    validatePhotoCalibJson(value, source);
    return bytes;
  },
};

/** A binary catalog's format from its bytes: the one sniffer (catalog/format.ts). Reads should use sniffCatalogFormat(path). */
export const arrowFormatOf = sniffCatalogBytes;

const arrowTable: StorageClass = {
  name: 'ArrowTable',
  extension: '.parquet',
  normalise(bytes, source) {
    // The schema it will be read with: a text, boolean or decimal column a kernel reads is refused now, not at recompute.
    checkCatalogSchema(catalogSchemaOfBytes(bytes, source).schema, { source });
    return bytes;
  },
};

const image: StorageClass = {
  name: 'Image',
  extension: '.fits',
  normalise(bytes, source) {
    readImage(bytes, undefined, source); // decodes every pixel: a truncated file fails here
    return bytes;
  },
};

const exposure: StorageClass = {
  name: 'Exposure',
  extension: '.fits',
  normalise(_bytes, source) {
    throw new SkycalError('BAD_INPUT', `${source}: an Exposure is a composite; put its components (.image, .wcs, .photoCalib) one by one`);
  },
};

export const STORAGE_CLASSES: Readonly<Record<StorageClassName, StorageClass>> = {
  TanSipWcs: tanSipWcs, PhotoCalib: photoCalib, ArrowTable: arrowTable, Image: image, Exposure: exposure,
};

/** Components of a composite storage class, with their own storage classes. */
export const COMPOSITE_COMPONENTS: Readonly<Partial<Record<StorageClassName, Readonly<Record<string, StorageClassName>>>>> = {
  Exposure: { image: 'Image', wcs: 'TanSipWcs', photoCalib: 'PhotoCalib' },
};

export function storageClass(name: string): StorageClass {
  const c = (STORAGE_CLASSES as Record<string, StorageClass>)[name];
  if (c === undefined) {
    throw new SkycalError('BAD_INPUT', `unknown storage class ${name}; known: ${Object.keys(STORAGE_CLASSES).join(', ')}`);
  }
  return c;
}
