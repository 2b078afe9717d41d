/**
 * The catalog benchmark behind `skycal bench catalog` and bench/catalog.ts:
 * an N-row Parquet catalog written twice, with stored coord_ra/coord_dec and
 * with x, y only; then reading the stored coordinates is timed against
 * reading x, y and deriving the coordinates on the pool (DESIGN.md §5:
 * derived, never persisted, should cost about what reading costs), and
 * beside them any other readers given (another engine reading the stored
 * coordinates: what a faster reader does to the ratio).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordBatch, Schema, Table, makeVector } from 'apache-arrow';
import { KernelPool } from '../parallel/pool.js';
import { benchPixels } from './pool.js';
import { pixelXField, pixelYField } from '../catalog/columns.js';
import { readCatalogBatches } from '../catalog/read.js';
import { writeCatalog } from '../catalog/write.js';
import { withSky } from '../catalog/views.js';
import type { KernelModelSource } from '../catalog/derive.js';
import { median } from '../stats.js';

export interface CatalogBenchResult {
  n: number;
  workers: number;
  readPersisted: { rowsPerSecond: number; medianMs: number };
  deriveOnTheFly: { rowsPerSecond: number; medianMs: number };
  /** Each of `options.readers` (when given) reading the stored coord_ra, coord_dec, timed in the same alternation. */
  otherReaders?: { name: string; rowsPerSecond: number; medianMs: number }[];
}

/** Another engine reading columns of a Parquet file (bench/pool.ts: DuckDB); resolves to the rows it read. */
export interface CatalogReader {
  readonly name: string;
  read(path: string, columns: readonly string[]): Promise<number>;
}

const BATCH = 262_144;

function* pixelBatches(n: number, schema: Schema): Generator<RecordBatch> {
  const { x, y } = benchPixels(n, 2048, 4176);
  for (let s = 0; s < n; s += BATCH) {
    const e = Math.min(n, s + BATCH);
    for (const b of new Table({ x: makeVector(x.slice(s, e)), y: makeVector(y.slice(s, e)) }).batches) yield new RecordBatch(schema, b.data);
  }
}

async function drain(batches: AsyncIterable<RecordBatch>, column: string): Promise<number> {
  // Touch one value per batch so that nothing can be skipped.
  let rows = 0;
  for await (const b of batches) rows += b.getChild(column)!.get(0) === undefined ? 0 : b.numRows;
  return rows;
}

export async function benchCatalog(wcs: KernelModelSource, n: number, options: { workers?: number; iterations?: number; readers?: readonly CatalogReader[] } = {}): Promise<CatalogBenchResult> {
  const iterations = options.iterations ?? 3;
  const dir = await mkdtemp(join(tmpdir(), 'skycal-bench-'));
  const pool = new KernelPool(options.workers === undefined ? {} : { workers: options.workers });
  try {
    const xyOnly = join(dir, 'xy.parquet');
    const stored = join(dir, 'stored.parquet');
    const pixelSchema = new Schema([pixelXField('x'), pixelYField('y')]);
    await writeCatalog(xyOnly, pixelSchema, pixelBatches(n, pixelSchema));
    const withCoords = withSky(await readCatalogBatches(xyOnly), wcs, { pool });
    await writeCatalog(stored, withCoords.schema, withCoords);

    const persisted: number[] = [];
    const derived: number[] = [];
    const readers = options.readers ?? [];
    const others: number[][] = readers.map(() => []);
    for (let i = 0; i <= iterations; i++) {
      // Alternate the two, so that neither gets a warmer page cache or JIT; run 0 is a warm-up.
      let t0 = performance.now();
      const a = await drain(await readCatalogBatches(stored, { columns: ['coord_ra', 'coord_dec'] }), 'coord_dec');
      const readMs = performance.now() - t0;
      t0 = performance.now();
      const b = await drain(withSky(await readCatalogBatches(xyOnly, { columns: ['x', 'y'] }), wcs, { pool }), 'coord_dec');
      const deriveMs = performance.now() - t0;
      if (a !== n || b !== n) throw new Error(`bench catalog: read ${a} and ${b} rows, expected ${n}`);
      if (i > 0) {
        persisted.push(readMs);
        derived.push(deriveMs);
      }
      for (const [k, reader] of readers.entries()) {
        t0 = performance.now();
        const rows = await reader.read(stored, ['coord_ra', 'coord_dec']);
        const ms = performance.now() - t0;
        if (rows !== n) throw new Error(`bench catalog: ${reader.name} read ${rows} rows, expected ${n}`);
        if (i > 0) others[k]!.push(ms);
      }
    }
    const readMs = median(persisted), deriveMs = median(derived);
    return {
      n,
      workers: pool.workers,
      readPersisted: { rowsPerSecond: n / (readMs / 1000), medianMs: readMs },
      deriveOnTheFly: { rowsPerSecond: n / (deriveMs / 1000), medianMs: deriveMs },
      ...(readers.length > 0 && { otherReaders: readers.map((r, k) => ({ name: r.name, rowsPerSecond: n / (median(others[k]!) / 1000), medianMs: median(others[k]!) })) }),
    };
  } finally {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  }
}
