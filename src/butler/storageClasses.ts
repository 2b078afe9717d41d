/**
 * Storage classes: how a dataset type's bytes are checked on put and what
 * they are on disk. A put that fails validation throws BAD_INPUT before
 * anything is written. Each class normalises what it is given (a FITS file
 * holding a WCS is stored as its header text) so equal content hashes equal.
 *
 * WCS and PhotoCalib inputs are read exactly as the library reads them
 * (`wcsFromBytes`, `photoCalibFromBytes`: the one rule of fits/sniff.ts), so a
 * put is refused exactly when a read would fail.
 */
import { errors } from '../errors.js';
import { outputKindOf, sniffInput } from '../fits/sniff.js';
import { checkCatalogSchema } from '../catalog/columnTypes.js';
import { catalogSchemaOfBytes } from '../catalog/schemaOf.js';
import { readImage } from '../fits/image.js';
import { readWcsBytes, wcsFromBytes } from '../wcs/load.js';
import { photoCalibFromBytes } from '../photocalib/load.js';
import { sniffCatalogEnds } from '../catalog/format.js';

export type StorageClassName = 'TanSipWcs' | 'PhotoCalib' | 'ArrowTable' | 'Image' | 'Exposure';

export interface StorageClass {
  readonly name: StorageClassName;
  /** Suffix of files written by `get --out` when the user gives none. */
  readonly extension: string;
  /** Check the bytes; return what to store (maybe normalised). */
  normalise(bytes: Uint8Array, source: string): Uint8Array;
  /** The stored bytes as a file named `path` (default: as stored). */
  forOutput?(bytes: Uint8Array, path: string): Uint8Array;
}

const latin1 = new TextDecoder('latin1');

const tanSipWcs: StorageClass = {
  name: 'TanSipWcs',
  extension: '.hdr',
  normalise(bytes, source) {
    // What the file is and which HDU holds the WCS: the one rule (fits/sniff.ts), as loadWcs reads it.
    const { header, kind } = readWcsBytes(bytes, source);
    if (kind !== 'fits') return bytes;
    // A FITS file is stored as the header text of the HDU holding the WCS, so equal content hashes equal.
    return new TextEncoder().encode(header.cards.map((c) => c.raw).join('\n') + '\n' + 'END'.padEnd(80) + '\n');
  },
  forOutput(bytes, path) {
    // Output kind by extension (fits/sniff.ts outputKindOf): a .fits name gets a FITS file, anything else header text.
    return outputKindOf(path) === 'fits' ? wcsFromBytes(bytes, path).toFitsFile() : bytes;
  },
};

const photoCalib: StorageClass = {
  name: 'PhotoCalib',
  extension: '.json',
  normalise(bytes, source) {
    const calib = photoCalibFromBytes(bytes, source);
    // JSON is stored as given; a FLUXMAG0 header as the JSON of the calibration it gives.
    return sniffInput(bytes) === 'json' ? bytes : new TextEncoder().encode(JSON.stringify(calib.toJson()));
  },
};

export type StoredCatalogFormat = 'parquet' | 'arrow' | 'arrows';

/**
 * A stored catalog's format: the one recorded at put, or (entries written
 * before schema 2) sniffed from the file's first and last bytes — never by
 * reading the whole file.
 */
export function catalogFormatOfStored(recorded: string | null, headTail: () => { head: Uint8Array; tail: Uint8Array; size: number }): StoredCatalogFormat {
  if (recorded === 'parquet' || recorded === 'arrow' || recorded === 'arrows') return recorded;
  const { head, tail, size } = headTail();
  return sniffCatalogEnds({ head, tail, size }) ?? 'parquet';
}

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
    throw errors.badInput(source, 'an Exposure is a composite; put its components (.image, .wcs, .photoCalib) one by one');
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
  // Own properties only: `toString` or `__proto__` is an unknown class, not Object's internals.
  const c = typeof name === 'string' && Object.hasOwn(STORAGE_CLASSES, name) ? (STORAGE_CLASSES as Record<string, StorageClass>)[name] : undefined;
  if (c === undefined) {
    throw errors.badInput('storage class', `unknown ${name}; known: ${Object.keys(STORAGE_CLASSES).join(', ')}`);
  }
  return c;
}
