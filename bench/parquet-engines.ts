/**
 * Parquet engines side by side (issue 12), on one recomputed demo file (15
 * columns: dataId, catalog and derived): decode and encode rows/s per thread,
 * and in total with N threads each doing the same work at once.
 *  - parquet-wasm 0.8 (what skycal uses), decode = readParquet + IPC into
 *    Arrow JS; encode = Arrow JS -> IPC -> writeParquet, Snappy, with
 *    dictionary on/off and statistics None/Chunk/Page;
 *  - skycal's typed-array writer (src/catalog/parquetWrite.ts, what recompute
 *    uses now): encode straight from the Arrow JS columns, uncompressed;
 *  - hyparquet-writer 0.17 (pure JS): encode from the same columns (typed
 *    arrays where it takes them), uncompressed and Snappy, statistics on;
 *  - DuckDB (@duckdb/node-api), decode = a scan that reads every column,
 *    encode = COPY of an in-memory table TO parquet (Snappy), threads 1..N.
 * Encoders report the output size. nodejs-polars is not measured (not installed).
 * Usage: node dist/bench/parquet-engines.js [--rows N] [--threads 1,2] [--repeat K] [--json]
 */
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { runDemo } from '../src/demo/demo.js';
import type { EngineTask } from './parquetEnginesWorker.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '524288' },
    threads: { type: 'string' },
    repeat: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const cores = availableParallelism();
const threads = values.threads ? values.threads.split(',').map(Number) : [...new Set([1, 2, cores])].filter((n) => n <= cores);
const repeat = Number(values.repeat);
const dir = mkdtempSync(join(tmpdir(), 'skycal-bench-engines-'));
const log = (s: string) => {
  if (!values.json) process.stderr.write(`${s}\n`);
};

/** N workers do the same task at once: all prepare, then start together; total rows over the wall time. */
async function inWorkers(task: EngineTask, n: number): Promise<{ rowsPerSecond: number; bytes: number }> {
  const workers = Array.from({ length: n }, () => new Worker(new URL('./parquetEnginesWorker.js', import.meta.url), { workerData: task }));
  const message = (w: Worker) => new Promise<unknown>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  await Promise.all(workers.map(message)); // 'ready'
  const t = performance.now();
  const done = workers.map(message);
  for (const w of workers) w.postMessage('go');
  const rs = (await Promise.all(done)) as { rows: number; bytes: number }[];
  const seconds = (performance.now() - t) / 1000;
  await Promise.all(workers.map((w) => w.terminate()));
  return { rowsPerSecond: rs.reduce((a, r) => a + r.rows, 0) / seconds, bytes: rs[0]!.bytes };
}

let rowsOfFile = 1;
const results: { engine: string; op: string; settings: string; threads: number; rowsPerSecond: number; bytes?: number }[] = [];
try {
  // One visit x 2 detectors of the demo, recomputed in-thread: a realistic 15-column file.
  const demo = await runDemo(join(dir, 'demo'), { sourcesPerCcd: Math.ceil(Number(values.rows) / 5), visits: 1, workers: 0 });
  const file = demo.recompute.out;
  rowsOfFile = demo.recompute.rows;
  log(`file: ${file} (${demo.recompute.rows.toLocaleString('en-US')} rows)`);
  const settings: EngineTask['settings'][] = [
    { dictionary: true, statistics: 'Page' },
    { dictionary: false, statistics: 'Page' },
    { dictionary: false, statistics: 'Chunk' },
    { dictionary: false, statistics: 'None' },
  ];
  for (const n of threads) {
    results.push({ engine: 'parquet-wasm', op: 'decode', settings: '', threads: n, rowsPerSecond: (await inWorkers({ op: 'decode', file, repeat, settings: settings[0]! }, n)).rowsPerSecond });
    for (const s of settings) {
      results.push({ engine: 'parquet-wasm', op: 'encode', settings: `Snappy, dictionary ${s.dictionary ? 'on' : 'off'}, statistics ${s.statistics}`, threads: n, ...(await inWorkers({ op: 'encode', file, repeat, settings: s }, n)) });
    }
    results.push({ engine: 'parquet-wasm', op: 'encode', settings: 'uncompressed, dictionary off, statistics Chunk', threads: n, ...(await inWorkers({ op: 'encode', file, repeat, settings: { dictionary: false, statistics: 'Chunk', snappy: false } }, n)) });
    log(`  parquet-wasm, ${n} thread(s): done`);
    results.push({ engine: 'skycal parquetWrite', op: 'encode', settings: 'uncompressed, dictionary where few runs, statistics Chunk', threads: n, ...(await inWorkers({ op: 'encode-typed', file, repeat, settings: { dictionary: true, statistics: 'Chunk' } }, n)) });
    for (const snappy of [false, true]) {
      results.push({ engine: 'hyparquet-writer', op: 'encode', settings: `${snappy ? 'Snappy' : 'uncompressed'}, its defaults (dictionary where it pays), statistics on`, threads: n, ...(await inWorkers({ op: 'encode-hyparquet', file, repeat, settings: { dictionary: true, statistics: 'Chunk', snappy } }, n)) });
    }
    log(`  typed-array writer and hyparquet-writer, ${n} thread(s): done`);
  }
  const db = await DuckDBInstance.create(':memory:');
  try {
    const c = await db.connect();
    await c.run(`CREATE TABLE t AS SELECT * FROM '${file}'`);
    const cols = (await c.runAndReadAll(`DESCRIBE t`)).getRowsJS().map((r) => String(r[0]));
    const rows = Number((await c.runAndReadAll(`SELECT count(*) FROM t`)).getRowsJS()[0]![0]);
    // Every column is read: a max() over each (strings by length).
    const scan = cols.map((n) => (n === 'instrument' ? `max(length("${n}"))` : `max("${n}")`)).join(', ');
    for (const n of [...new Set([1, ...threads])]) {
      await c.run(`SET threads = ${n}`);
      let t = performance.now();
      for (let i = 0; i < repeat; i++) await c.run(`SELECT ${scan} FROM '${file}'`);
      results.push({ engine: 'DuckDB', op: 'decode', settings: '', threads: n, rowsPerSecond: (rows * repeat) / ((performance.now() - t) / 1000) });
      t = performance.now();
      for (let i = 0; i < repeat; i++) await c.run(`COPY t TO '${join(dir, 'duck.parquet')}' (FORMAT parquet, COMPRESSION snappy)`);
      results.push({ engine: 'DuckDB', op: 'encode', settings: 'defaults (dictionary where it pays)', threads: n, rowsPerSecond: (rows * repeat) / ((performance.now() - t) / 1000) });
    }
  } finally {
    db.closeSync();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (values.json) process.stdout.write(`${JSON.stringify({ cores, loadavg: loadavg(), results }, null, 2)}\n`);
else {
  const lines = ['| engine | op | settings | threads | M rows/s (all threads) | M rows/s per thread | output bytes/row |', '|---|---|---|---|---|---|---|'];
  for (const r of results) lines.push(`| ${r.engine} | ${r.op} | ${r.settings} | ${r.threads} | ${(r.rowsPerSecond / 1e6).toFixed(2)} | ${(r.rowsPerSecond / 1e6 / r.threads).toFixed(2)} | ${r.bytes === undefined ? '' : (r.bytes / rowsOfFile).toFixed(1)} |`);
  process.stdout.write(`${lines.join('\n')}\n(load average ${loadavg().map((l) => l.toFixed(2)).join(' ')})\n`);
}
