/**
 * The `bench` commands. Their code lives in src/bench/ and is loaded only
 * when a bench command runs (the command table loads this module lazily).
 * Every size an argument gives is bounded, so that a typo cannot ask for
 * gigabytes: `--n` at most what fits in about 2 GB, `--workers` at most
 * a small multiple of the cores.
 */
import { defaultWorkerCount } from '../parallel/pool.js';
import { benchWcs } from '../bench/wcs.js';
import { benchPool } from '../bench/pool.js';
import { benchCatalog } from '../bench/catalog.js';
import { benchCalibrate } from '../bench/calibrate.js';
import { benchRepoBackends } from '../bench/repo.js';
import { checkPostgresUrl } from '../butler/registryUrl.js';
import { WORKERS_OPTION, maxWorkers, optionalString, parseBBoxOption, parseIntegerOption } from './args.js';
import type { CliContext, Command, OptionDef } from './command.js';
import { workersOption } from './catalogCommand.js';
import { WCS_OPTIONS, wcsFromOptions } from './wcs.js';

/** The largest --n per bench (bytes per point: wcs ~56, pool ~40, catalog a Parquet file of ~24, calibrate ~64). */
export const MAX_POINTS = { wcs: 20_000_000, pool: 50_000_000, catalog: 50_000_000, calibrate: 20_000_000 } as const;
const MAX_TIME_MS = 600_000;
const MAX_ITERATIONS = 1000;

const nOption = (what: string, fallback: number, max: number): OptionDef => ({
  type: 'string', value: 'N', description: `${what} (default ${fallback.toLocaleString('en-US')}, at most ${max.toLocaleString('en-US')})`,
});
const TIME_OPTION: OptionDef = { type: 'string', value: 'MS', description: 'time per measurement in milliseconds (default 1000)' };
const ITERATIONS_OPTION: OptionDef = { type: 'string', value: 'K', description: 'timed runs; the median is reported' };

const rate = (r: number): string => `${(r / 1e6).toFixed(2)} M/s`;

function write(ctx: CliContext, text: string): void {
  ctx.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export const benchWcsCommand: Command = {
  name: 'bench wcs',
  options: {
    ...WCS_OPTIONS,
    n: nOption('random points in the bbox', 100_000, MAX_POINTS.wcs),
    bbox: { type: 'string', value: 'x0,y0,x1,y1', description: 'the pixel box the points are drawn from (default: the image)' },
    time: TIME_OPTION,
  },
  async run(values, _p, ctx) {
    const wcs = wcsFromOptions(values);
    const n = parseIntegerOption(optionalString(values, 'n'), 'n', 100_000, 1, MAX_POINTS.wcs);
    const timeMs = parseIntegerOption(optionalString(values, 'time'), 'time', 1000, 1, MAX_TIME_MS);
    const r = await benchWcs(wcs, n, parseBBoxOption(optionalString(values, 'bbox')) ?? wcs.bbox, timeMs);
    if (ctx.json) return ctx.writeJson({ pixelToSky: r.pixelToSky, skyToPixel: r.skyToPixel, n });
    write(ctx, `pixelToSky  ${r.pixelToSky.pointsPerSecond.toExponential(3)} points/s\nskyToPixel  ${r.skyToPixel.pointsPerSecond.toExponential(3)} points/s (exact, 1e-10 px)`);
  },
};

export const benchCalibrateCommand: Command = {
  name: 'bench calibrate',
  options: { n: nOption('rows', 1_000_000, MAX_POINTS.calibrate), time: TIME_OPTION },
  async run(values, _positionals, ctx) {
    const n = parseIntegerOption(optionalString(values, 'n'), 'n', 1_000_000, 1, MAX_POINTS.calibrate);
    const timeMs = parseIntegerOption(optionalString(values, 'time'), 'time', 1000, 1, MAX_TIME_MS);
    const r = await benchCalibrate(n, { timeMs });
    if (ctx.json) ctx.writeJson({ calibrate: { rowsPerSecond: r.rowsPerSecond, n: r.n, medianMs: r.medianMs, samples: r.samples } });
    else write(ctx, `calibrate: ${(r.rowsPerSecond / 1e6).toFixed(2)} M rows/s (${((r.medianMs * 1e6) / n).toFixed(2)} ns/row, median of ${r.samples} runs of ${n} rows)`);
  },
};

/** `--workers 1,2,...` for the pool bench: each at least 1 and at most maxWorkers(). */
function workerList(text: string | undefined): number[] {
  if (text === undefined) return [1, defaultWorkerCount()].filter((w, i, a) => a.indexOf(w) === i);
  return text.split(',').map((part) => parseIntegerOption(part.trim(), 'workers', undefined, 1, maxWorkers()));
}

export const benchPoolCommand: Command = {
  name: 'bench pool',
  options: {
    ...WCS_OPTIONS,
    n: nOption('points', 10_000_000, MAX_POINTS.pool),
    workers: { type: 'string', value: '1,2,...', description: 'the pool sizes to measure (default 1 and the number of cores; each at most 4 per core)' },
    iterations: ITERATIONS_OPTION,
  },
  async run(values, _p, ctx) {
    const wcs = wcsFromOptions(values);
    const n = parseIntegerOption(optionalString(values, 'n'), 'n', 10_000_000, 1, MAX_POINTS.pool);
    const iterations = parseIntegerOption(optionalString(values, 'iterations'), 'iterations', 5, 1, MAX_ITERATIONS);
    const box = wcs.bbox;
    const r = await benchPool(wcs.toKernelModel(), n, workerList(optionalString(values, 'workers')), {
      iterations,
      ...(box ? { width: box.maxX - box.minX + 1, height: box.maxY - box.minY + 1 } : {}),
    });
    if (ctx.json) return ctx.writeJson(r);
    const cpu = (ns: number): string => `${ns.toFixed(1)} ns CPU/point`;
    const lines = [`pixel -> sky, ${n} points, median of ${iterations} runs`, `  in-thread   ${rate(r.inThread.pointsPerSecond)}  ${cpu(r.inThread.cpuNsPerPoint)}`];
    for (const w of r.results) {
      lines.push(`  ${String(w.workers).padStart(2)} worker(s) ${rate(w.pointsPerSecond)}  (${(w.pointsPerSecond / r.inThread.pointsPerSecond).toFixed(2)}x in-thread)  ${cpu(w.cpuNsPerPoint)}`);
    }
    write(ctx, lines.join('\n'));
  },
};

export const benchCatalogCommand: Command = {
  name: 'bench catalog',
  options: { ...WCS_OPTIONS, n: nOption('Parquet rows', 5_000_000, MAX_POINTS.catalog), workers: WORKERS_OPTION, iterations: ITERATIONS_OPTION },
  async run(values, _p, ctx) {
    const wcs = wcsFromOptions(values);
    const n = parseIntegerOption(optionalString(values, 'n'), 'n', 5_000_000, 1, MAX_POINTS.catalog);
    const iterations = parseIntegerOption(optionalString(values, 'iterations'), 'iterations', 3, 1, MAX_ITERATIONS);
    const r = await benchCatalog(wcs, n, { workers: workersOption(values), iterations });
    if (ctx.json) return ctx.writeJson(r);
    write(ctx, [
      `Parquet catalog, ${n} rows, ${r.workers} worker(s), median of ${iterations} runs`,
      `  read stored coord_ra, coord_dec   ${rate(r.readPersisted.rowsPerSecond)} rows`,
      `  read x, y and derive on the pool  ${rate(r.deriveOnTheFly.rowsPerSecond)} rows  (${(r.deriveOnTheFly.rowsPerSecond / r.readPersisted.rowsPerSecond).toFixed(2)}x)`,
    ].join('\n'));
  },
};

export const benchRepoCommand: Command = {
  name: 'bench repo',
  options: {
    runs: { type: 'string', value: 'N', description: 'runs in the long history (default 1000, at least 11, at most 100,000)' },
    datasets: { type: 'string', value: 'N', description: 'datasets in the big run (default 10,000, at most 1,000,000)' },
    time: TIME_OPTION,
    registry: {
      type: 'string', value: 'postgresql://USER@HOST[:PORT]/postgres',
      description: 'also run it on PostgreSQL registries on this server (a database per repository, created and dropped: CREATEDB needed), beside SQLite',
    },
  },
  notes: 'Gets/s and commits/s are summed over 1, 4 and 16 concurrent client processes on one repository; a commit that loses its tip is merged.',
  async run(values, _p, ctx) {
    const registry = optionalString(values, 'registry');
    if (registry !== undefined) checkPostgresUrl(registry);
    const r = await benchRepoBackends({
      largeRuns: parseIntegerOption(optionalString(values, 'runs'), 'runs', 1000, 11, 100_000),
      commitDatasets: parseIntegerOption(optionalString(values, 'datasets'), 'datasets', 10_000, 1, 1_000_000),
      timeMs: parseIntegerOption(optionalString(values, 'time'), 'time', 1000, 1, MAX_TIME_MS),
      log: ctx.json ? () => {} : ctx.log,
      registry,
    });
    if (ctx.json) return ctx.writeJson({ repo: r.sqlite, ...(r.postgresql !== undefined && { postgresql: r.postgresql }) });
    const lines = (name: string, b: typeof r.sqlite) => [
      `${name}:`,
      ...b.gets.map((g) => `  ${String(g.runs).padStart(5)}-run history: ${Math.round(g.getsPerSecond)} gets/s (${Math.round(g.resolvesPerSecond)} resolves/s without reading the file)`),
      `  slowdown at ${b.gets[1]!.runs} runs: ${b.slowdownAt1000.toFixed(2)}x`,
      `  run of ${b.bigCommit.datasets} datasets: puts ${b.bigCommit.putSeconds.toFixed(2)} s, commit ${b.bigCommit.commitSeconds.toFixed(3)} s`,
      ...b.concurrent.map((c) => `  ${String(c.clients).padStart(2)} client process(es): ${Math.round(c.getsPerSecond)} gets/s, ${Math.round(c.commitsPerSecond)} commits/s`),
    ];
    write(ctx, [...lines('sqlite', r.sqlite), ...(r.postgresql === undefined ? [] : lines('postgresql', r.postgresql))].join('\n'));
  },
};
