/**
 * The worker pool's scaling and the derived-vs-stored catalog comparison,
 * checked against the targets of issue 4 (benchmarks, not timed tests):
 *   two workers >= 1.7x one worker, one worker >= 0.9x in-thread,
 *   deriving coordinates >= 0.8x reading stored ones (Parquet, 5e6 rows);
 * beside them DuckDB reading the same stored coordinates (issue 12), on 1
 * thread and on all cores: a faster reader lowers that ratio.
 * Usage: node dist/bench/pool.js [--wcs H|builtin:hsc] [--n N] [--rows R] [--workers 1,2,...] [--runs K] [--json]
 * Each figure is the median of K runs (each itself a median of timed repetitions).
 */
import { parseArgs } from 'node:util';
import { availableParallelism, loadavg } from 'node:os';
import { loadWcs } from '../src/wcs/load.js';
import { benchPool } from '../src/bench/pool.js';
import { DuckDBInstance } from '@duckdb/node-api';
import { benchCatalog, type CatalogReader } from '../src/bench/catalog.js';
import { median } from '../src/stats.js';

const { values } = parseArgs({
  options: {
    wcs: { type: 'string', default: 'builtin:hsc' },
    n: { type: 'string', default: '10000000' },
    rows: { type: 'string', default: '5000000' },
    workers: { type: 'string' },
    runs: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const wcs = loadWcs(values.wcs!);
const cores = availableParallelism();
const counts = values.workers ? values.workers.split(',').map(Number) : [...new Set([1, 2, cores])].filter((w) => w <= cores);
const runs = Number(values.runs);

const inThread: number[] = [], inThreadCpu: number[] = [];
const cpuPerWorkers = new Map<number, number[]>(counts.map((w) => [w, []]));
const perWorkers = new Map<number, number[]>(counts.map((w) => [w, []]));
const read: number[] = [], derive: number[] = [];
// DuckDB reading the same stored coord_ra, coord_dec (decoding both: their sums), on 1 thread and on all cores.
const duck = await DuckDBInstance.create(':memory:');
const db = await duck.connect();
const duckReader = (threads: number): CatalogReader => ({
  name: `DuckDB, ${threads} thread${threads > 1 ? 's' : ''}`,
  async read(path, columns) {
    await db.run(`SET threads = ${threads}`);
    const rows = (await db.runAndReadAll(`SELECT count(*), ${columns.map((c) => `sum(${c})`).join(', ')} FROM read_parquet('${path.replace(/'/g, "''")}')`)).getRowsJS();
    return Number(rows[0]![0]);
  },
});
const readers = [...new Set([1, cores])].map(duckReader);
const others = new Map<string, number[]>(readers.map((r) => [r.name, []]));
for (let r = 0; r < runs; r++) {
  const p = await benchPool(wcs.toKernelModel(), Number(values.n), counts, { iterations: 3, width: 2048, height: 4176 });
  inThread.push(p.inThread.pointsPerSecond);
  inThreadCpu.push(p.inThread.cpuNsPerPoint);
  for (const w of p.results) {
    perWorkers.get(w.workers)!.push(w.pointsPerSecond);
    cpuPerWorkers.get(w.workers)!.push(w.cpuNsPerPoint);
  }
  const c = await benchCatalog(wcs, Number(values.rows), { iterations: 1, readers });
  read.push(c.readPersisted.rowsPerSecond);
  derive.push(c.deriveOnTheFly.rowsPerSecond);
  for (const o of c.otherReaders ?? []) others.get(o.name)!.push(o.rowsPerSecond);
}
duck.closeSync();
const otherReaders = [...others].map(([name, rates]) => ({ name, rowsPerSecond: median(rates) }));
const results = counts.map((w) => ({ workers: w, pointsPerSecond: median(perWorkers.get(w)!), cpuNsPerPoint: median(cpuPerWorkers.get(w)!) }));
const one = results.find((r) => r.workers === 1)?.pointsPerSecond;
const two = results.find((r) => r.workers === 2)?.pointsPerSecond;
const summary = {
  cores,
  loadAverage1m: loadavg()[0],
  pool: { n: Number(values.n), inThread: { pointsPerSecond: median(inThread), cpuNsPerPoint: median(inThreadCpu) }, results },
  catalog: { n: Number(values.rows), readPersisted: { rowsPerSecond: median(read) }, deriveOnTheFly: { rowsPerSecond: median(derive) }, otherReaders },
  ratios: {
    oneWorkerOverInThread: one ? one / median(inThread) : null,
    twoWorkersOverOne: one && two ? two / one : null,
    deriveOverPersisted: median(derive) / median(read),
    deriveOverOtherReaders: Object.fromEntries(otherReaders.map((o) => [o.name, median(derive) / o.rowsPerSecond])),
  },
};
if (values.json) console.log(JSON.stringify(summary, null, 2));
else {
  const m = (x: number) => `${(x / 1e6).toFixed(2)} M/s`;
  console.log(`${cores} cores, load average ${summary.loadAverage1m.toFixed(2)}; medians of ${runs} runs`);
  console.log(`pixel -> sky, ${values.n} points: in-thread ${m(summary.pool.inThread.pointsPerSecond)}`);
  for (const r of results) console.log(`  ${r.workers} worker(s): ${m(r.pointsPerSecond)}, ${r.cpuNsPerPoint.toFixed(1)} ns CPU/point (in-thread ${summary.pool.inThread.cpuNsPerPoint.toFixed(1)})`);
  console.log(`  1 worker / in-thread ${summary.ratios.oneWorkerOverInThread?.toFixed(2)} (target >= 0.9); 2 / 1 workers ${summary.ratios.twoWorkersOverOne?.toFixed(2)} (target >= 1.7)`);
  console.log(`Parquet, ${values.rows} rows: stored coords ${m(summary.catalog.readPersisted.rowsPerSecond)}, derived ${m(summary.catalog.deriveOnTheFly.rowsPerSecond)}, ratio ${summary.ratios.deriveOverPersisted.toFixed(2)} (target >= 0.8)`);
  for (const o of otherReaders) console.log(`  ${o.name} reading the stored coords: ${m(o.rowsPerSecond)}; skycal deriving / it ${(median(derive) / o.rowsPerSecond).toFixed(2)}`);
}
