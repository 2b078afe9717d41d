/**
 * The main job and its companion: `recompute` (derive coordinates and fluxes
 * for every selected source catalog at one version, into one file) and
 * `diff` (how far two WCS versions disagree, per dataId, in mas).
 */
import { errors } from '../errors.js';
import { parseVersionArg } from '../butler/typeSpec.js';
import { parseDataId, type DataId } from '../butler/dataId.js';
import { openRecomputePool, type RecomputePool } from '../recompute/pool.js';
import type { RecomputeProgress, RecomputeSummary } from '../recompute/recompute.js';
import type { ShardPlanSummary, ShardSummary } from '../recompute/sharded.js';
import { parseShardArg, parseShardCount } from '../recompute/shards.js';
import type { DataIdDiff } from '../compare/diffVersions.js';
import { writeFileAtomic } from '../io/atomicFile.js';
import { defaultWorkerCount } from '../parallel/pool.js';
import { createProgress, type Progress } from './progress.js';
import { AS_OF_OPTION, AT_OPTION, WHERE_OPTION, WORKERS_OPTION, optionalString, parseWorkersOption, requireString } from './args.js';
import type { CliContext, Command } from './command.js';

// The job's modules (Arrow, the repository, the Parquet code: ~300 ms to load)
// are imported when a command runs, after recompute has started its workers.

/** `--where k=v,...` as a dataId selection; a malformed one is a usage error. */
function whereOption(text: string | undefined): DataId | undefined {
  if (text === undefined) return undefined;
  try {
    return parseDataId(text);
  } catch (e) {
    throw errors.usage(`--where: ${(e as Error).message}`);
  }
}

/** The cores the job kept busy: this process's CPU seconds over its wall seconds. */
function coresBusy(s: RecomputeSummary): string {
  return `${(s.cpuSeconds / s.seconds).toFixed(2)} cores busy`;
}

/** The points with a status bit set, by name, or that there were none. */
function statusLine(s: RecomputeSummary): string {
  const bad = Object.entries(s.badByStatus).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`);
  return bad.length === 0 ? 'no bad points' : `bad points: ${bad.join(', ')}`;
}

export function formatRecomputeSummary(s: RecomputeSummary): string {
  const lines = [
    `wrote ${s.out}${s.parts !== undefined ? `/ (${s.parts} part files)` : ''}: ${s.rows} rows from ${s.dataIds.length} dataId(s) in ${s.seconds.toFixed(2)} s (${Math.round(s.rowsPerSecond).toLocaleString('en-US')} rows/s, ${coresBusy(s)}); ${statusLine(s)}`,
  ];
  for (const k of s.skipped) lines.push(`  skipped ${k.dataId}: [${k.code}] ${k.reason}`);
  return lines.join('\n');
}

function formatPlan(p: ShardPlanSummary): string {
  const lines = [`plan of ${p.shards} shard(s) at run ${p.at}${p.ref !== p.at ? ` (${p.ref})` : ''} for ${p.out}, recorded in ${p.staging}:`];
  for (const s of p.plan) lines.push(`  shard ${s.shard}: ${s.dataIds.length} dataId(s), ${s.bytes} catalog bytes`);
  for (const k of p.skipped) lines.push(`  skipped ${k.dataId}: [${k.code}] ${k.reason}`);
  lines.push(`run: skycal recompute REPO --at ${p.at} --shard I/${p.shards} --out ${p.out}   (I = 0..${p.shards - 1})`);
  return lines.join('\n');
}

function formatShard(s: ShardSummary): string {
  const { index, count, written, published, verified } = s.shard;
  const head = `shard ${index}/${count} at run ${s.shard.at}: ${s.rows} rows from ${s.dataIds.length} dataId(s) in ${s.parts} part file(s), ${s.seconds.toFixed(2)} s, ${coresBusy(s)}; ${statusLine(s)}`;
  const state = verified ? `the same bytes as the published ${s.out}/ (nothing written)` : published ? `all ${count} shards written: published ${s.out}/` : `${written} of ${count} shards written; ${s.out}/ appears when all are`;
  return `${head}\n${state}`;
}

/** The options a sharded run must not be given with `--finish` (it reads everything from the staging area). */
const FINISH_ALONE = ['at', 'as-of', 'wcs-stage', 'photocalib-stage', 'where', 'out', 'partition-by', 'plan', 'shard'];

const recomputeCommand: Command = {
  name: 'recompute',
  args: 'REPO',
  options: {
    at: AT_OPTION,
    'as-of': AS_OF_OPTION,
    'wcs-stage': { type: 'string', value: 'S', description: 'the newest WCS written by stage S (as wcs@S)' },
    'photocalib-stage': { type: 'string', value: 'S', description: 'the newest calibration written by stage S' },
    where: WHERE_OPTION,
    out: { type: 'string', value: 'F|DIR/', description: 'the output: one .parquet, .arrow, .arrows or .csv file, or (a name ending in /) a partitioned Parquet dataset; complete or absent (required)' },
    'partition-by': { type: 'string', value: 'K,...', description: 'write a partitioned Parquet dataset, Hive-style folders by these keys (default for DIR/: visit, detector)' },
    workers: WORKERS_OPTION,
    'skip-invalid': { type: 'boolean', default: false, description: 'leave out (and list) dataIds whose WCS or calibration is invalid, instead of failing' },
    plan: { type: 'string', value: 'N', description: 'resolve --at once to a run id, assign the dataIds to N shards and record the plan beside DIR/ (prints it)' },
    shard: { type: 'string', value: 'I/N', description: 'compute shard I (zero-based) of N of the plan into DIR/\'s staging area; the shard that completes the set publishes DIR/' },
    finish: { type: 'string', value: 'DIR/', description: 'check that every shard of DIR/\'s plan is written and publish DIR/ (needs no REPO)' },
  },
  positionals: { min: 0, max: 1 },
  notes: 'Sharded: skycal recompute REPO --at REF --plan N --out DIR/, then for I in 0..N-1 (a Slurm array: --array=0-(N-1)) skycal recompute REPO --at RUNID --shard I/N --out DIR/; DIR/ appears whole when the last shard is written (or at --finish DIR/).',
  async run(values, [root], ctx) {
    const finish = optionalString(values, 'finish');
    if (finish !== undefined) {
      const extra = FINISH_ALONE.filter((k) => values[k] !== undefined);
      if (extra.length > 0) throw errors.usage(`--finish ${finish}: takes no --${extra.join(', --')} (the plan recorded beside it says everything)`);
      const summary = (await import('../recompute/sharded.js')).finishShards(finish);
      if (ctx.json) ctx.writeJson(summary);
      else ctx.log(summary.published ? `published ${summary.out}/: ${summary.rows} rows in ${summary.parts} part files from ${summary.shards} shard(s) at run ${summary.at}` : `${summary.out}/ is already published from this plan (${summary.rows} rows, ${summary.shards} shards at run ${summary.at})`);
      return;
    }
    if (root === undefined) throw errors.usage('recompute: REPO is required (only --finish DIR/ goes without it)');
    const out = requireString(values, 'out');
    const planText = optionalString(values, 'plan');
    const shardText = optionalString(values, 'shard');
    if (planText !== undefined && shardText !== undefined) throw errors.usage('--plan and --shard: one or the other (plan first, then run the shards)');
    const shards = planText === undefined ? undefined : parseShardCount(planText);
    const shard = shardText === undefined ? undefined : parseShardArg(shardText);
    const where = whereOption(optionalString(values, 'where'));
    const partitionText = optionalString(values, 'partition-by');
    const partitionBy = partitionText === undefined ? undefined : partitionText.split(',').map((k) => k.trim()).filter((k) => k !== '');
    if (partitionBy !== undefined && partitionBy.length === 0) throw errors.usage('--partition-by: expected dataId keys, e.g. visit,detector');
    if ((shards !== undefined || shard !== undefined) && !/[/\\]$/.test(out)) {
      throw errors.usage(`--${shards !== undefined ? 'plan' : 'shard'} writes a partitioned dataset: --out ${out} must be a folder (a name ending in /)`);
    }
    const workers = parseWorkersOption(optionalString(values, 'workers'), defaultWorkerCount());
    // The workers boot (Node, their modules, parquet-wasm: 0.3-0.5 s) while this thread loads the job's modules.
    const starting = shards === undefined && workers > 0 ? openRecomputePool(workers) : undefined;
    let pool: RecomputePool | undefined;
    try {
      const [{ recompute, recomputeOutputOf }, sharded, { checkOutputFolder }, { Repository }] = await Promise.all([
        import('../recompute/recompute.js'),
        import('../recompute/sharded.js'),
        import('../catalog/write.js'),
        import('../butler/repository.js'),
      ]);
      const repo = Repository.open(root);
      try {
        const kind = recomputeOutputOf(out, partitionBy);
        // A dataset is a folder: its parent must exist.
        await checkOutputFolder(kind === 'dataset' ? out.replace(/[/\\]+$/, '') : out);
        const options = {
          out,
          ...(partitionBy !== undefined && { partitionBy }),
          skipInvalid: values['skip-invalid'] === true,
          ...(optionalString(values, 'at') !== undefined && { at: optionalString(values, 'at')! }),
          ...(optionalString(values, 'as-of') !== undefined && { asOf: optionalString(values, 'as-of')! }),
          ...(optionalString(values, 'wcs-stage') !== undefined && { wcsStage: optionalString(values, 'wcs-stage')! }),
          ...(optionalString(values, 'photocalib-stage') !== undefined && { photoCalibStage: optionalString(values, 'photocalib-stage')! }),
          ...(where !== undefined && { where }),
        };
        if (shards !== undefined) {
          const plan = sharded.planShards(repo, { ...options, shards });
          if (ctx.json) ctx.writeJson(plan);
          else ctx.stdout.write(`${formatPlan(plan)}\n`);
          return;
        }
        pool = await starting;
        if (shard !== undefined) {
          const summary = await runRecompute(ctx, pool, (run) => sharded.recomputeShard(repo, { ...options, ...run, workers, shard }));
          if (ctx.json) ctx.writeJson(summary);
          else ctx.log(formatShard(summary));
        } else {
          const summary = await runRecompute(ctx, pool, (run) => recompute(repo, { ...options, ...run, workers }));
          if (ctx.json) ctx.writeJson(summary);
          else ctx.log(formatRecomputeSummary(summary));
        }
      } finally {
        repo.close();
      }
    } finally {
      // A pool still starting when something above failed is closed too.
      await (pool ?? (await starting?.catch(() => undefined)))?.close();
    }
  },
};

/**
 * Run a recompute on `pool` with a progress bar (finished before the caller
 * prints the summary) and Ctrl-C handling: on SIGINT or SIGTERM the workers
 * stop and the temporary output (file or folder) is removed on exit.
 */
async function runRecompute<T>(
  ctx: CliContext,
  pool: RecomputePool | undefined,
  job: (run: { jobPool?: RecomputePool; onProgress: (p: RecomputeProgress) => void }) => Promise<T>,
): Promise<T> {
  const onSignal = (): void => void (pool?.destroy() ?? Promise.resolve()).finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // The bar is made once the dataIds are resolved and their number is known.
  let progress: Progress | undefined;
  try {
    return await job({
      ...(pool !== undefined && { jobPool: pool }),
      onProgress: (p: RecomputeProgress) => {
        progress ??= createProgress(ctx, 'recompute', p.dataIdsTotal, 'dataIds');
        progress.update(p.dataIdsDone, `${p.rowsDone} rows`);
      },
    });
  } finally {
    progress?.finish();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

function formatMas(v: number): string {
  return Number.isFinite(v) ? v.toFixed(v < 10 ? 2 : 1) : '-';
}

export function formatDiffTable(rows: readonly DataIdDiff[], from: string, to: string): string {
  const width = Math.max(6, ...rows.map((r) => r.dataId.length));
  const lines = [`WCS shift from ${from} to ${to} (milliarcseconds)`, `${'dataId'.padEnd(width)}  ${'points'.padStart(7)}  ${'median'.padStart(8)}  ${'p95'.padStart(8)}  ${'max'.padStart(8)}  at`];
  for (const r of rows) {
    if (r.positions === 'invalid') lines.push(`${r.dataId.padEnd(width)}  ${r.invalid}`);
    else lines.push(`${r.dataId.padEnd(width)}  ${String(r.points).padStart(7)}  ${formatMas(r.medianMas).padStart(8)}  ${formatMas(r.p95Mas).padStart(8)}  ${formatMas(r.maxMas).padStart(8)}  ${r.positions}`);
  }
  return lines.join('\n');
}

const diffCommand: Command = {
  name: 'diff',
  args: 'REPO',
  options: {
    type: { type: 'string', value: 'wcs', description: 'the dataset type to compare (only wcs)' },
    from: { type: 'string', value: 'REF|@STAGE|REF@STAGE', required: true, description: 'the version to compare from' },
    to: { type: 'string', value: 'REF|@STAGE|REF@STAGE', required: true, description: 'the version to compare to' },
    'as-of': AS_OF_OPTION,
    where: WHERE_OPTION,
    plot: { type: 'string', value: 'F.svg|F.png', description: 'also draw the shift over the focal plane' },
  },
  positionals: { min: 1, max: 1 },
  async run(values, [root], ctx) {
    const type = optionalString(values, 'type') ?? 'wcs';
    if (type !== 'wcs') throw errors.usage(`diff: --type ${type} is not supported (only wcs)`);
    const asOf = optionalString(values, 'as-of');
    const from = parseVersionArg(requireString(values, 'from'), 'from', asOf);
    const to = parseVersionArg(requireString(values, 'to'), 'to', asOf);
    const plot = optionalString(values, 'plot');
    if (plot !== undefined && !/\.(svg|png)$/i.test(plot)) throw errors.usage(`--plot ${plot}: expected a .svg or .png file`);
    const whereText = optionalString(values, 'where');
    const where = whereOption(whereText);
    const [{ describeSpec, diffWcsVersions }, { diffPlotSvg }, { plotBytes }, { Repository }] = await Promise.all([
      import('../compare/diffVersions.js'),
      import('../compare/diffPlot.js'),
      import('../plot/png.js'),
      import('../butler/repository.js'),
    ]);
    const repo = Repository.open(root!);
    try {
      const rows = await diffWcsVersions(repo, { from, to, ...(where !== undefined && { where }) });
      if (rows.length === 0) throw errors.notFound(`wcs datasets${whereText ? ` matching ${whereText}` : ''} at ${describeSpec(from)} or ${describeSpec(to)}`);
      if (plot !== undefined) writeFileAtomic(plot, plotBytes(diffPlotSvg(rows, describeSpec(from), describeSpec(to)), plot));
      writeDiff(ctx, rows, describeSpec(from), describeSpec(to), plot);
    } finally {
      repo.close();
    }
  },
};

function writeDiff(ctx: CliContext, rows: readonly DataIdDiff[], from: string, to: string, plot: string | undefined): void {
  if (ctx.json) {
    ctx.writeJson({
      from,
      to,
      unit: 'mas',
      ...(plot !== undefined && { plot }),
      dataIds: rows.map(({ shift: _shift, outline: _outline, ...r }) => ({ ...r, medianMas: finiteOrNull(r.medianMas), p95Mas: finiteOrNull(r.p95Mas), maxMas: finiteOrNull(r.maxMas) })),
    });
  } else {
    ctx.stdout.write(`${formatDiffTable(rows, from, to)}\n`);
    if (plot !== undefined) ctx.log(`wrote ${plot}`);
  }
}

const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

export const recomputeCommands: Command[] = [recomputeCommand, diffCommand];
