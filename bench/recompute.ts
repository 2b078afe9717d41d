/**
 * End-to-end recompute throughput (issue 6): the demo repository scaled to
 * N sources, then `recompute` at the tip from the stored Parquet catalogs to
 * one Parquet file, for each worker count. Rows per second are end to end:
 * resolve, read Parquet, derive on the pool, write Parquet.
 * Usage: node dist/bench/recompute.js [--sources N_TOTAL] [--workers 1,2,...] [--runs K] [--dir D] [--json]
 */
import { parseArgs } from 'node:util';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runDemo } from '../src/demo/demo.js';
import { Repository } from '../src/butler/repository.js';
import { recompute } from '../src/recompute/recompute.js';
import { KernelPool } from '../src/parallel/pool.js';
import { median } from '../src/stats.js';

const { values } = parseArgs({
  options: {
    sources: { type: 'string', default: '10000000' },
    workers: { type: 'string' },
    runs: { type: 'string', default: '3' },
    dir: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const CCDS = 18; // 3 visits x 6 detectors, as the demo
const perCcd = Math.ceil(Number(values.sources) / CCDS);
const cores = availableParallelism();
const counts = values.workers ? values.workers.split(',').map(Number) : [...new Set([1, 2, cores])].filter((w) => w <= cores);
const runs = Number(values.runs);

const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'skycal-bench-recompute-'));
const log = (s: string) => { if (!values.json) process.stderr.write(`${s}\n`); };
log(`building the demo repository with ${perCcd.toLocaleString('en-US')} sources per CCD in ${dir} ...`);
const t0 = performance.now();
const demo = await runDemo(join(dir, 'demo'), { sourcesPerCcd: perCcd, workers: Math.min(2, cores) });
log(`  built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const repo = Repository.open(demo.repository);
const results: { workers: number; rowsPerSecond: number; seconds: number; rows: number; outputBytes: number }[] = [];
try {
  for (const workers of counts) {
    const pool = new KernelPool({ workers });
    const rates: number[] = [];
    let last = { rows: 0, seconds: 0, bytes: 0 };
    for (let r = 0; r < runs; r++) {
      const out = join(dir, `out-${workers}.parquet`);
      const s = await recompute(repo, { out, pool, skipInvalid: true });
      rates.push(s.rowsPerSecond);
      last = { rows: s.rows, seconds: s.seconds, bytes: statSync(out).size };
      rmSync(out);
    }
    await pool.close();
    results.push({ workers, rowsPerSecond: median(rates), seconds: last.seconds, rows: last.rows, outputBytes: last.bytes });
    log(`  workers ${workers}: ${Math.round(median(rates)).toLocaleString('en-US')} rows/s (median of ${runs}; ${last.rows.toLocaleString('en-US')} rows)`);
  }
} finally {
  repo.close();
  if (values.dir === undefined) rmSync(dir, { recursive: true, force: true });
}
const report = { sources: perCcd * CCDS, cores, loadavg: loadavg()[0], results };
if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
