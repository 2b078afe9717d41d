/**
 * The adapter boundary: all the compute core (derived views, recompute,
 * diff) may ask of a dataset repository. Kernels and catalog code depend on
 * this interface only, so other backends (a read-only adapter over an LSST
 * Gen3 butler, a remote service) can be added without touching them.
 * skycal's own Repository is the first implementation.
 */
import type { DataIdInput } from './dataId.js';
import type { TanSipWcs } from '../wcs/index.js';
import type { PhotoCalib } from '../photocalib/index.js';

/** Which version to read: a ref (branch, tag or run id; default `main`), optionally as it stood at a time, optionally only one stage's output. */
export interface VersionSpec {
  readonly at?: string;
  /** ISO 8601 time or milliseconds since the epoch. */
  readonly asOf?: string | number;
  /** `wcs@jointcal`: only datasets written by runs of this stage. */
  readonly stage?: string;
  /** Record the read as an input of this open run (provenance). */
  readonly forRun?: string;
}

/** Which run supplied a value: what output files record as their source versions. */
export interface Supplied {
  readonly type: string;
  readonly dataId: string;
  readonly runId: string;
  readonly stage: string;
  readonly committedAt: string;
}

export interface ButlerAdapter {
  /** A dataId's `wcs`: the model and its stored header text. */
  getWcs(dataId: DataIdInput | string, at?: VersionSpec): { wcs: TanSipWcs; headerText: string; supplied: Supplied };
  /** A dataId's `photoCalib`: the model and its JSON document. */
  getPhotoCalib(dataId: DataIdInput | string, at?: VersionSpec): { photoCalib: PhotoCalib; json: unknown; supplied: Supplied };
  /** Where a dataId's `src` catalog is (read it batch by batch), and its format. */
  getCatalog(dataId: DataIdInput | string, at?: VersionSpec): { path: string; format: 'parquet' | 'arrow' | 'arrows'; supplied: Supplied };
  /** The dataIds of a type visible at a version that match `where` (every key equal, numbers as their decimal text), with the run each resolves to. */
  queryDataIds(type: string, where: DataIdInput | string | undefined, at?: VersionSpec): { dataId: string; supplied: Supplied | undefined; invalid?: string }[];
  /** The run a version's ref names (its tip; null: an empty branch): what a job split over hosts pins every part to. */
  runIdAt(at?: VersionSpec): string | null;
  /**
   * `fn` against one consistent view of the versions (one read transaction):
   * every lookup inside sees the same tips, whatever commits meanwhile, and a
   * remote registry is asked in one transaction instead of one per lookup.
   */
  snapshot<T>(fn: () => T): T;
}
