/**
 * What pix2sky, sky2pix and calibrate share: read --in (a catalog by
 * extension, or CSV on stdin), derive columns on the worker pool batch by
 * batch, write --out (temp file renamed on success, or CSV on stdout), with a
 * progress bar on a TTY. A command supplies only its derivation, and prints
 * its own summary from the result:
 *
 *   const r = await runCatalogCommand(values, ctx, 'pix2sky', (source, options) =>
 *     withSky(source, wcs, { ...options, wcsVersion }));
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Schema } from 'apache-arrow';
import { SkycalError, errors } from '../errors.js';
import { readCatalogBatches, type CatalogBatches } from '../catalog/read.js';
import { checkOutputFolder, writeCatalog } from '../catalog/write.js';
import type { DerivedBatches } from '../catalog/derive.js';
import type { ViewOptions } from '../catalog/views.js';
import { KernelPool, defaultWorkerCount } from '../parallel/pool.js';
import { optionalString, parseIntegerOption } from './args.js';
import type { CliContext, OptionSpec, ParsedValues } from './command.js';
import { createProgress, type Progress } from './progress.js';

/** Options every catalog command takes (merge into the command's own). */
export const CATALOG_OPTIONS: OptionSpec = {
  in: { type: 'string' },
  out: { type: 'string' },
  workers: { type: 'string' },
  centroid: { type: 'string' },
};

export const CATALOG_USAGE = '[--in F] [--out F] [--workers N] [--centroid PREFIX]   (F: .csv, .parquet, .arrow, .arrows; stdin/stdout: CSV)';

/** --workers N (default: the number of cores; 0 = in-thread). */
export function workersOption(values: ParsedValues): number {
  return parseIntegerOption(optionalString(values, 'workers'), 'workers', defaultWorkerCount(), 0);
}

export type BuildView = (source: CatalogBatches, options: ViewOptions) => DerivedBatches;

export interface CatalogCommandResult {
  rows: number;
  /** Points with a non-zero status (summed over derivations). */
  bad: number;
  /** The output path, or '-' for stdout. */
  out: string;
  inputSchema: Schema;
  outputSchema: Schema;
}

/** How a derived file names a model read from a file: its name and the start of its SHA-256. */
export async function fileVersion(path: string): Promise<string> {
  if (path.startsWith('builtin:')) return path;
  try {
    const digest = createHash('sha256').update(await readFile(path)).digest('hex');
    return `${basename(path)} sha256:${digest.slice(0, 16)}`;
  } catch (e) {
    throw errors.io(path, e);
  }
}

/**
 * Stream --in through `build` to --out on a pool of --workers threads. The
 * pool is closed on success and destroyed on error; Ctrl-C exits at once
 * (removing the temporary output), so the process never hangs on its workers.
 */
export async function runCatalogCommand(values: ParsedValues, ctx: CliContext, label: string, build: BuildView): Promise<CatalogCommandResult> {
  const inPath = optionalString(values, 'in') ?? '-';
  const outPath = optionalString(values, 'out') ?? '-';
  const centroid = optionalString(values, 'centroid');
  if (ctx.json && outPath === '-') throw new SkycalError('USAGE', `${label}: --json needs --out (stdout carries the catalog)`);
  const pool = new KernelPool({ workers: workersOption(values) });
  if (outPath !== '-') await checkOutputFolder(outPath);
  // Ctrl-C: exit now; the writer's exit hook removes the temporary output and
  // the worker threads end with the process.
  const onSignal = (): void => {
    ctx.stderr.write(`\nskycal: ${label} interrupted\n`);
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  let progress: Progress | undefined;
  let bad = 0;
  try {
    const source = await readCatalogBatches(inPath);
    const bar = createProgress(ctx, label, source.numRows ?? 0);
    progress = bar;
    const view = build(source, {
      pool,
      source: inPath === '-' ? 'stdin' : inPath,
      ...(centroid === undefined ? {} : { centroid }),
      onProgress: (done, badSoFar) => {
        bad = badSoFar;
        bar.update(done);
      },
    });
    const { rows } = await writeCatalog(outPath, view.schema, view, { stdout: ctx.stdout });
    await pool.close();
    return { rows, bad, out: outPath, inputSchema: source.schema, outputSchema: view.schema };
  } catch (e) {
    await pool.destroy();
    throw e;
  } finally {
    progress?.finish();
    process.removeListener('SIGINT', onSignal);
  }
}
