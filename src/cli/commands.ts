/**
 * The command table: each command's name, its one-line summary and how to
 * load it. A command's module (and Arrow, SQLite, parquet-wasm, resvg behind
 * it) is imported only when that command runs, so `skycal --help` and
 * `skycal --version` start in a fraction of the time.
 */
import type { Command } from './command.js';

export interface CommandEntry {
  /** One word, or a group and a word: 'pix2sky', 'wcs info'. */
  readonly name: string;
  readonly summary: string;
  load(): Promise<Command>;
}

type Module = Record<string, unknown>;

/** The Command called `name` among a module's exports (single commands or arrays of them). */
function from(load: () => Promise<Module>, name: string): () => Promise<Command> {
  return async () => {
    const module = await load();
    for (const value of Object.values(module)) {
      for (const c of Array.isArray(value) ? value : [value]) {
        if (typeof c === 'object' && c !== null && (c as Command).name === name && typeof (c as Command).run === 'function') return c as Command;
      }
    }
    throw new Error(`command table: ${name} is not exported by its module`);
  };
}

const wcs = () => import('./wcs.js') as Promise<Module>;
const photocalib = () => import('./photocalib.js') as Promise<Module>;
const plot = () => import('./plot.js') as Promise<Module>;
const bench = () => import('./bench.js') as Promise<Module>;
const repo = () => import('./repo.js') as Promise<Module>;
const jobs = () => import('./recompute.js') as Promise<Module>;
const demo = () => import('./demo.js') as Promise<Module>;
const serve = () => import('./serve.js') as Promise<Module>;

const table: [string, string, () => Promise<Module>][] = [
  ['pix2sky', 'x,y (0-based pixels) -> adds coord_ra, coord_dec (deg) and status, through a TAN-SIP WCS', wcs],
  ['sky2pix', 'coord_ra,coord_dec (deg) -> adds x, y (0-based pixels) and status; exact unless --approx (AP/BP only)', wcs],
  ['wcs info', 'CTYPE, CRVAL, pixel scale, orientation, SIP orders, bbox, round-trip residual and AP/BP error of a WCS', wcs],
  ['wcs fit-inverse', 'fit AP/BP by least squares over the bbox, write the new header, print the max AP/BP residual (px)', wcs],
  ['calibrate', 'add <name>_flux, _fluxErr (nJy) and _mag, _magErr (AB) for every <name>_instFlux column', photocalib],
  ['photocalib info', 'summarise a photometric calibration (mean, error, field, zero point)', photocalib],
  ['plot photocalib', 'heat map of c(x, y) / calibrationMean over the bbox (.svg or .png)', photocalib],
  ['plot distortion', 'plot the SIP distortion (pixel minus linear WCS) over the image as arrows, with a scale', plot],
  ['init', 'create a repository (built-in types wcs, photoCalib, src, calexp; an empty main branch)', repo],
  ['register-type', 'add a dataset type with a storage class (TanSipWcs, PhotoCalib, ArrowTable, Image, Exposure)', repo],
  ['begin', 'open a run on a branch (invisible until commit); prints the run id', repo],
  ['put', 'validate and store a dataset in an open run', repo],
  ['fail', 'record that a run failed to produce a dataset (readers get INVALID_DATASET, never an older version)', repo],
  ['commit', 'publish a run atomically and move its branch (CONFLICT if the branch moved; the run stays open)', repo],
  ['abort', 'abandon an open run', repo],
  ['get', 'resolve a dataset (newest along REF’s history; TYPE@STAGE for one stage’s output)', repo],
  ['log', 'the runs of REF’s history, newest first', repo],
  ['status', 'open runs (stale when their lease expired) with their declared outputs, and the refs', repo],
  ['recover', 'abandon a stale run (or every stale run)', repo],
  ['branch', 'create (or with --force move) a branch at FROM (default main), or --delete it (main only with --force)', repo],
  ['tag', 'name a version immutably', repo],
  ['merge', 'publish REF (a branch, tag, committed run, or an open run that lost a commit race) into BRANCH with two parents; conflicts need --prefer or --rebase', repo],
  ['provenance', 'the run that wrote a dataset and, transitively, the datasets it read', repo],
  ['verify', 'check that registry and datastore agree and every checksum matches; finish an interrupted gc; remove old crash leftovers', repo],
  ['gc', 'list (--dry-run) or delete runs no ref reaches, with their use, and their unshared files', repo],
  ['export', 'write a bundle (folder, or one .tar file) of REF’s history with a manifest and checksums', repo],
  ['import', 'verify a bundle completely, then add its runs, files and refs (--as NAME: its branch under another name)', repo],
  ['recompute', 'derive coord_ra/coord_dec and calibrated fluxes for every src catalog at a version, into one file or a partitioned Parquet dataset', jobs],
  ['diff', 'per-dataId separation between two WCS versions at the src positions (or a grid): median, p95, max in mas', jobs],
  ['bench wcs', 'TAN-SIP kernel throughput (points/s, single thread): pixelToSky and exact skyToPixel', bench],
  ['bench calibrate', 'single-threaded rows/s of flux, fluxErr, mag, magErr with a 4x4 Chebyshev field', bench],
  ['bench pool', 'pixel -> sky throughput in-thread and on pools of each worker count', bench],
  ['bench catalog', 'reading stored coord_ra/coord_dec from Parquet vs reading x, y and deriving them on the pool', bench],
  ['bench repo', 'gets/s on 10- and 1000-run histories, and the time to commit a run of 10,000 datasets', bench],
  ['demo', 'run the whole story on a synthetic camera: singleFrame, jointcal (one failure), recompute, diff, plots', demo],
  ['serve', 'a read-only web view of a repository: history, dataIds, WCS comparison, sources derived in the browser', serve],
];

export const commands: readonly CommandEntry[] = table.map(([name, summary, load]) => ({ name, summary, load: from(load, name) }));

/** Group names: the first word of the two-word commands ('wcs', 'bench', 'plot', 'photocalib'). */
export const groups: readonly string[] = [...new Set(commands.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0]!))];
