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
import { basename } from 'node:path';
import { Table, type RecordBatch, type Schema } from 'apache-arrow';
import { errors } from '../errors.js';
import { readCatalogBatches, type CatalogBatches } from '../catalog/read.js';
import { checkOutputFolder, writeCatalog } from '../catalog/write.js';
import type { DerivedBatches } from '../catalog/derive.js';
import type { ViewOptions } from '../catalog/views.js';
import { KernelPool, defaultWorkerCount } from '../parallel/pool.js';
import { WORKERS_OPTION, optionalString, parseWorkersOption } from './args.js';
import type { CliContext, OptionSpec, ParsedValues } from './command.js';
import { INPUT_LIMITS, readFileBounded } from './io.js';
import { createProgress, type Progress } from './progress.js';

/** Options every catalog command takes (merge into the command's own). */
export const CATALOG_OPTIONS: OptionSpec = {
  in: { type: 'string', value: 'F', description: 'input catalog: .csv, .parquet, .arrow, .arrows by extension (default: CSV on stdin)' },
  out: { type: 'string', value: 'F', description: 'output catalog, same formats, written to a temporary name and renamed (default: CSV on stdout)' },
  workers: WORKERS_OPTION,
  centroid: { type: 'string', value: 'PREFIX', description: 'centroid columns PREFIX_x, PREFIX_y (default: x/y, slot_Centroid_x/_y or centroid_x/_y, the first found)' },
};

/** --workers N (default: the number of cores; 0 = in-thread; at most a small multiple of the cores). */
export function workersOption(values: ParsedValues): number {
  return parseWorkersOption(optionalString(values, 'workers'), defaultWorkerCount());
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
  /** The columns the derivation added or replaced, in output order. */
  derived: string[];
  /** With `collect`: the output, in memory, instead of a file. */
  table?: Table;
}

/** Output fields that are not the input's own: added, or replacing an input column of the same name. */
function derivedNames(input: Schema, output: Schema): { derived: string[]; replaced: string[] } {
  const byName = new Map(input.fields.map((f) => [f.name, f]));
  const derived = output.fields.filter((f) => byName.get(f.name) !== f).map((f) => f.name);
  return { derived, replaced: derived.filter((n) => byName.has(n)) };
}

/** How a derived file names a model read from a file: its name and the start of its SHA-256. */
export async function fileVersion(path: string, label = 'model file'): Promise<string> {
  if (path.startsWith('builtin:')) return path;
  const digest = createHash('sha256').update(readFileBounded(path, { label, maxBytes: INPUT_LIMITS.fits })).digest('hex');
  return `${basename(path)} sha256:${digest.slice(0, 16)}`;
}

/**
 * Stream --in through `build` to --out on a pool of --workers threads. The
 * pool is closed on success and destroyed on error; Ctrl-C exits at once
 * (removing the temporary output), so the process never hangs on its workers.
 */
export async function runCatalogCommand(
  values: ParsedValues,
  ctx: CliContext,
  label: string,
  build: BuildView,
  options: { collect?: boolean } = {},
): Promise<CatalogCommandResult> {
  const inPath = optionalString(values, 'in') ?? '-';
  const outPath = optionalString(values, 'out') ?? '-';
  const centroid = optionalString(values, 'centroid');
  const collect = options.collect === true && outPath === '-';
  if (ctx.json && outPath === '-' && !collect) throw errors.usage(`${label}: --json needs --out (stdout carries the catalog)`);
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
    const source = await readCatalogBatches(inPath, { stdin: ctx.stdin });
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
    const { derived, replaced } = derivedNames(source.schema, view.schema);
    if (replaced.length > 0) ctx.log(`${label}: warning: replacing the input's own column(s) ${replaced.join(', ')}`);
    let rows = 0;
    let table: Table | undefined;
    if (collect) {
      const batches: RecordBatch[] = [];
      for await (const b of view) batches.push(b);
      table = new Table(view.schema, batches);
      rows = table.numRows;
    } else {
      rows = (await writeCatalog(outPath, view.schema, view, { stdout: ctx.stdout })).rows;
    }
    await pool.close();
    return { rows, bad, out: outPath, inputSchema: source.schema, outputSchema: view.schema, derived, ...(table && { table }) };
  } catch (e) {
    await pool.destroy();
    throw e;
  } finally {
    progress?.finish();
    process.removeListener('SIGINT', onSignal);
  }
}
