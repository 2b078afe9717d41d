/**
 * Catalog and pool commands: `bench pool` (pixel -> sky throughput in-thread
 * and per worker count) and `bench catalog` (reading stored coordinates vs
 * deriving them on the fly from a Parquet catalog).
 */
import { SkycalError } from '../errors.js';
import { benchPool } from '../parallel/benchPool.js';
import { benchCatalog } from '../catalog/benchCatalog.js';
import { defaultWorkerCount } from '../parallel/pool.js';
import { optionalString, parseIntegerOption, parseNumberOption } from './args.js';
import type { Command } from './command.js';
import { workersOption } from './catalogCommand.js';
import { WCS_OPTIONS, wcsFromOptions } from './wcs.js';

function rowsOption(text: string | undefined, fallback: number): number {
  const n = parseNumberOption(text, 'n', fallback);
  if (!Number.isInteger(n) || n < 1) throw new SkycalError('USAGE', `--n: expected a positive integer, got ${text}`);
  return n;
}

function workerList(text: string | undefined): number[] {
  if (text === undefined) return [1, defaultWorkerCount()].filter((w, i, a) => a.indexOf(w) === i);
  return text.split(',').map((part) => parseIntegerOption(part.trim(), 'workers', undefined, 1));
}

const rate = (r: number): string => `${(r / 1e6).toFixed(2)} M/s`;

const benchPoolCommand: Command = {
  name: 'bench pool',
  summary: 'pixel -> sky throughput in-thread and on pools of each worker count',
  usage: '--wcs H.hdr|F.fits|builtin:hsc [--hdu N] [--n N] [--workers 1,2,...] [--iterations K] [--json]',
  options: { ...WCS_OPTIONS, n: { type: 'string' }, workers: { type: 'string' }, iterations: { type: 'string' } },
  async run(values, _p, ctx) {
    const wcs = wcsFromOptions(values);
    const n = rowsOption(optionalString(values, 'n'), 10_000_000);
    const iterations = parseIntegerOption(optionalString(values, 'iterations'), 'iterations', 5, 1);
    const box = wcs.bbox;
    const r = await benchPool(wcs.toKernelModel(), n, workerList(optionalString(values, 'workers')), {
      iterations,
      ...(box ? { width: box.maxX - box.minX + 1, height: box.maxY - box.minY + 1 } : {}),
    });
    if (ctx.json) {
      ctx.writeJson(r);
      return;
    }
    const cpu = (ns: number): string => `${ns.toFixed(1)} ns CPU/point`;
    const lines = [`pixel -> sky, ${n} points, median of ${iterations} runs`, `  in-thread   ${rate(r.inThread.pointsPerSecond)}  ${cpu(r.inThread.cpuNsPerPoint)}`];
    for (const w of r.results) {
      lines.push(`  ${String(w.workers).padStart(2)} worker(s) ${rate(w.pointsPerSecond)}  (${(w.pointsPerSecond / r.inThread.pointsPerSecond).toFixed(2)}x in-thread)  ${cpu(w.cpuNsPerPoint)}`);
    }
    ctx.stdout.write(`${lines.join('\n')}\n`);
  },
};

const benchCatalogCommand: Command = {
  name: 'bench catalog',
  summary: 'reading stored coord_ra/coord_dec from Parquet vs reading x, y and deriving them on the pool',
  usage: '--wcs H.hdr|F.fits|builtin:hsc [--hdu N] [--n N] [--workers N] [--iterations K] [--json]',
  options: { ...WCS_OPTIONS, n: { type: 'string' }, workers: { type: 'string' }, iterations: { type: 'string' } },
  async run(values, _p, ctx) {
    const wcs = wcsFromOptions(values);
    const n = rowsOption(optionalString(values, 'n'), 5_000_000);
    const iterations = parseIntegerOption(optionalString(values, 'iterations'), 'iterations', 3, 1);
    const r = await benchCatalog(wcs, n, { workers: workersOption(values), iterations });
    if (ctx.json) {
      ctx.writeJson(r);
      return;
    }
    ctx.stdout.write(
      [
        `Parquet catalog, ${n} rows, ${r.workers} worker(s), median of ${iterations} runs`,
        `  read stored coord_ra, coord_dec   ${rate(r.readPersisted.rowsPerSecond)} rows`,
        `  read x, y and derive on the pool  ${rate(r.deriveOnTheFly.rowsPerSecond)} rows  (${(r.deriveOnTheFly.rowsPerSecond / r.readPersisted.rowsPerSecond).toFixed(2)}x)`,
      ].join('\n') + '\n',
    );
  },
};

export const catalogCommands: Command[] = [benchPoolCommand, benchCatalogCommand];
