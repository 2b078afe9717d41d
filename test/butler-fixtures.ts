/** Small inputs for repository tests: WCS headers that differ by version, PhotoCalib JSON, a FITS image. */
import { writeFileSync } from 'node:fs';
import { Float64, Table, makeData, makeVector, tableFromIPC, tableToIPC } from 'apache-arrow';
import { encodeParquet } from '../src/catalog/parquet.js';
import { join } from 'node:path';
import { cardsToText, formatCard } from '../src/fits/header.js';
import { writeImage } from '../src/fits/image.js';
import { describe, test } from 'node:test';
import { Repository } from '../src/butler/repository.js';
import { freshDatabaseUrl, postgresUnavailable, skipWithoutPostgres } from './postgres.js';

/**
 * A TAN-SIP header (HSC-like scale, SIP order 2) with CRVAL1 shifted by
 * `version` micro-degrees, so that each version has distinct content.
 */
export function wcsHeaderText(version: number): string {
  return cardsToText([
    formatCard('CTYPE1', 'RA---TAN-SIP'), formatCard('CTYPE2', 'DEC--TAN-SIP'),
    formatCard('CRPIX1', 1024.5), formatCard('CRPIX2', 2088.5),
    formatCard('CRVAL1', 151.319266199627 + version * 1e-6), formatCard('CRVAL2', 2.5),
    formatCard('CD1_1', -4.66e-5), formatCard('CD1_2', 1.6e-7), formatCard('CD2_1', 1.1e-7), formatCard('CD2_2', 4.66e-5),
    formatCard('A_ORDER', 2, '', true), formatCard('A_2_0', 1.2e-7), formatCard('A_1_1', -3e-8), formatCard('A_0_2', 4e-8),
    formatCard('B_ORDER', 2, '', true), formatCard('B_2_0', 2e-8), formatCard('B_1_1', 5e-8), formatCard('B_0_2', -1e-7),
    formatCard('RADESYS', 'ICRS'),
  ]);
}

export function crval1Of(text: string): number {
  const line = text.split('\n').find((l) => l.startsWith('CRVAL1  '))!;
  return Number(line.slice(10, 30));
}

export function photoCalibJson(mean: number, chebyshev = false): string {
  return JSON.stringify({
    photoCalibVersion: 1, calibrationMean: mean, calibrationErr: 1, isConstant: !chebyshev,
    field: chebyshev
      ? { type: 'chebyshev', bbox: { minX: 0, minY: 0, maxX: 31, maxY: 15 }, coefficients: [[mean, 2.5], [1.5, 0]] }
      : { type: 'constant', value: mean },
  });
}

export function imageFits(width = 32, height = 16): Uint8Array {
  const pixels = new Float64Array(width * height).map((_, i) => (i % 97) * 1.5 - 20);
  return writeImage({ width, height, pixels, bitpix: -32, bscale: 1, bzero: 0 });
}

export function writeFixture(dir: string, name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/*
 * A raw ustar writer for tests that craft hostile archives (`..` paths,
 * absolute paths, links, devices, duplicated entries, lying size fields)
 * that a well-behaved packer refuses to write. skycal itself packs and
 * unpacks with tar-stream (src/butler/tar.ts).
 */
const BLOCK = 512;

export interface RawTarEntry {
  readonly path: string;
  readonly bytes: Uint8Array;
  /** Type flag: '0' file (default), '1' hard link, '2' symlink, '3' char device, '4' block device, '5' folder, '6' FIFO. */
  readonly flag?: string;
  /** Lie in the size field (fuzzing). */
  readonly sizeField?: string;
  readonly linkname?: string;
}

function tarOctal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function tarPutString(block: Uint8Array, offset: number, width: number, text: string): void {
  const bytes = new TextEncoder().encode(text).subarray(0, width);
  block.set(bytes, offset);
}

export function writeTar(files: readonly RawTarEntry[], mtime = 1_700_000_000): Uint8Array {
  const size = files.reduce((s, f) => s + BLOCK + Math.ceil(f.bytes.length / BLOCK) * BLOCK, 2 * BLOCK);
  const out = new Uint8Array(size);
  let off = 0;
  for (const f of files) {
    const h = out.subarray(off, off + BLOCK);
    tarPutString(h, 0, 100, f.path);
    tarPutString(h, 100, 8, tarOctal(0o644, 8));
    tarPutString(h, 108, 8, tarOctal(0, 8));
    tarPutString(h, 116, 8, tarOctal(0, 8));
    tarPutString(h, 124, 12, f.sizeField ?? tarOctal(f.bytes.length, 12));
    tarPutString(h, 136, 12, tarOctal(mtime, 12));
    h.fill(0x20, 148, 156); // checksum field counts as spaces
    h[156] = (f.flag ?? '0').charCodeAt(0);
    if (f.linkname !== undefined) tarPutString(h, 157, 100, f.linkname);
    tarPutString(h, 257, 6, 'ustar\0');
    tarPutString(h, 263, 2, '00');
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += h[i]!;
    tarPutString(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
    out.set(f.bytes, off + BLOCK);
    off += BLOCK + Math.ceil(f.bytes.length / BLOCK) * BLOCK;
  }
  return out;
}

/**
 * A real catalog holding `body`'s bytes (put --type src reads the schema it
 * will be read with, so fake magic-only files are refused): an Arrow IPC
 * stream of one Float64 column `x` whose values are those bytes (padded with
 * zeros to a multiple of 8). Deterministic: equal bodies give equal files.
 */
export function arrowCatalog(body: Uint8Array): Buffer {
  const padded = new Uint8Array(Math.ceil(body.length / 8) * 8);
  padded.set(body);
  const values = new Float64Array(padded.buffer);
  return Buffer.from(tableToIPC(new Table({ x: makeVector(makeData({ type: new Float64(), length: values.length, nullCount: 0, data: values })) }), 'stream'));
}

/** The same as a Parquet file (encoded by the catalog writer). */
export async function parquetCatalog(body: Uint8Array): Promise<Buffer> {
  const table = tableFromIPC(arrowCatalog(body));
  const parts: Uint8Array[] = [];
  async function* batches() {
    yield* table.batches;
  }
  await encodeParquet(table.schema, batches(), new Map(), async (b) => void parts.push(b));
  return Buffer.concat(parts);
}

/**
 * One suite, two backends: a repository test written once runs on each
 * registry. `init` makes a repository at `root` on this backend (a fresh
 * database per repository for PostgreSQL); `initArgs` is the same for
 * `skycal init REPO ...`.
 */
export interface Backend {
  readonly name: 'sqlite' | 'postgresql';
  init(root: string): Repository;
  initArgs(): string[];
}

export const backends: readonly Backend[] = [
  { name: 'sqlite', init: (root) => Repository.init(root), initArgs: () => [] },
  {
    name: 'postgresql',
    init: (root) => Repository.init(root, { registry: freshDatabaseUrl() }),
    initArgs: () => ['--registry', freshDatabaseUrl()],
  },
];

/**
 * `describe(title [backend])` for each backend, the tests inside given it.
 * Without a PostgreSQL server the postgresql block holds one test that skips
 * loudly (and fails under CI: skipWithoutPostgres).
 */
export function describeBackends(title: string, fn: (backend: Backend) => void): void {
  for (const backend of backends) {
    describe(`${title} [${backend.name}]`, () => {
      if (backend.name === 'postgresql' && postgresUnavailable() !== undefined) {
        test('PostgreSQL is available', (t) => {
          skipWithoutPostgres(t);
        });
        return;
      }
      fn(backend);
    });
  }
}
