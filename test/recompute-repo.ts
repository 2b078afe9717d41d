/**
 * Small repositories for recompute tests, built with the library: per
 * dataId a TAN-SIP WCS, a Chebyshev calibration and a Parquet src catalog
 * whose row groups are `rowGroupRows` long (so that a catalog spans several
 * recompute jobs).
 */
import { Dictionary, Int32, makeVector, Table, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { Repository } from '../src/butler/repository.js';
import { formatDataId } from '../src/butler/dataId.js';
import { makeTanSipWcs } from '../src/wcs/index.js';
import { PhotoCalib } from '../src/photocalib/photoCalib.js';
import { ChebyshevField } from '../src/photocalib/chebyshevField.js';
import { makeRandom } from '../src/random.js';

export interface RepoSpec {
  /** Rows per dataId, in visit-major order. */
  rows: number[];
  detectorsPerVisit: number;
  rowGroupRows: number;
  seed: number;
  /** One catalog stored under every dataId (the store keeps it once): a big repository, cheaply. */
  sameCatalog?: boolean;
  /** Add a dictionary-encoded `band` column (each row group read alone gets its own dictionary). */
  band?: boolean;
}

/** The project's seeded generator (src/random.ts). */
const random = makeRandom;

/** A Parquet src catalog (x, y, base_PsfFlux_instFlux/_instFluxErr, a few NaNs and out-of-box points). */
export function catalogParquet(n: number, rowGroupRows: number, seed: number, band = false): Uint8Array {
  const r = random(seed);
  const x = Float64Array.from({ length: n }, (_, i) => (i % 97 === 5 ? NaN : r() * 2100 - 20));
  const y = Float64Array.from({ length: n }, () => r() * 4100 - 20);
  const f = Float64Array.from({ length: n }, (_, i) => (i % 53 === 7 ? -5 : 10 ** (2 + 3 * r())));
  const e = Float64Array.from(f, (v) => Math.abs(v) * 0.01 + 1);
  const table = new Table({
    id: makeVector(BigInt64Array.from({ length: n }, (_, i) => BigInt(seed * 1e6 + i))),
    x: makeVector(x),
    y: makeVector(y),
    base_PsfFlux_instFlux: makeVector(f),
    base_PsfFlux_instFluxErr: makeVector(e),
    // Bands in runs, so that row groups differ in which bands they hold.
    ...(band && { band: vectorFromArray(Array.from({ length: n }, (_, i) => 'ugrizy'[Math.floor(i / 37 + seed) % 6]!), new Dictionary(new Utf8(), new Int32())) }),
  });
  const props = new pw.WriterPropertiesBuilder().setMaxRowGroupSize(Math.max(1, rowGroupRows)).build();
  return pw.writeParquet(pw.Table.fromIPCStream(tableToIPC(table, 'stream')), props);
}

/** `init`: how the repository is made (default: SQLite; the PostgreSQL tests pass their backend's init). */
export function buildRepo(root: string, spec: RepoSpec, init: (root: string) => Repository = (r) => Repository.init(r)): { dataIds: string[] } {
  const repo = init(root);
  const r = random(spec.seed + 7);
  const bbox = { minX: 0, minY: 0, maxX: 2047, maxY: 4095 };
  const run = repo.begin({ stage: 'singleFrame' });
  const dataIds: string[] = [];
  const shared = spec.sameCatalog ? catalogParquet(spec.rows[0]!, spec.rowGroupRows, spec.seed, spec.band) : undefined;
  try {
    spec.rows.forEach((n, k) => {
      const id = formatDataId({ instrument: 'TestCam', visit: String(1000 + Math.floor(k / spec.detectorsPerVisit)), detector: String(k % spec.detectorsPerVisit) });
      dataIds.push(id);
      const wcs = makeTanSipWcs({
        crpix: [1024 + 10 * r(), 2048 - 10 * r()],
        crval: [150 + r(), 2 + r()],
        cd: [[-0.2 / 3600, 1e-7 * r()], [1e-7 * r(), 0.2 / 3600]],
        bbox,
        sipA: [[0, 0, 2e-7 * r()], [0, 1e-7 * r(), 0], [3e-7 * r(), 0, 0]],
        sipB: [[0, 0, 1e-7 * r()], [0, 2e-7 * r(), 0], [1e-7 * r(), 0, 0]],
      });
      repo.put(run.id, 'wcs', id, new TextEncoder().encode(wcs.toFitsHeader()));
      const calib = PhotoCalib.fromField(new ChebyshevField(bbox, [[1 + r(), 0.1 * r()], [0.05 * r(), 0]]), 0.01);
      repo.put(run.id, 'photoCalib', id, new TextEncoder().encode(JSON.stringify(calib.toJson())));
      repo.put(run.id, 'src', id, shared ?? catalogParquet(n, spec.rowGroupRows, spec.seed * 100 + k, spec.band));
    });
    repo.commit(run.id);
  } finally {
    repo.close();
  }
  return { dataIds };
}
