/**
 * End-to-end recompute throughput (issue 12), in one run, as ratios: the
 * demo repository scaled to N sources, then `recompute` at the tip from the
 * stored Parquet catalogs into one Parquet file, in-thread and on 1, 2, ...
 * workers; beside it the Python pipeline it replaces (pyarrow read_table ->
 * astropy all_pix2world -> numpy chebval2d -> ParquetWriter, one thread;
 * bench/recompute_pipeline.py, run by a virtualenv over Debian's python3
 * with --system-site-packages, skipped with a message where pyarrow or
 * astropy cannot be had) and DuckDB copying the same 15 columns Parquet ->
 * Parquet (the I/O floor), on 1 thread and on all cores.
 * Rows per second are end to end: resolve, read, derive, encode, fsync, rename.
 * Usage: node dist/bench/recompute.js [--sources N_TOTAL] [--workers 0,1,2,...] [--runs K] [--dir D] [--partitioned] [--json]
 */
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { runDemo } from '../src/demo/demo.js';
import { Repository } from '../src/butler/repository.js';
import { parseDataId } from '../src/butler/dataId.js';
import { recompute } from '../src/recompute/recompute.js';
import { median } from '../src/stats.js';

const { values } = parseArgs({
  options: {
    sources: { type: 'string', default: '10000000' },
    workers: { type: 'string' },
    runs: { type: 'string', default: '3' },
    dir: { type: 'string' },
    partitioned: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const CCDS = 18; // 3 visits x 6 detectors, as the demo
const perCcd = Math.ceil(Number(values.sources) / CCDS);
const cores = availableParallelism();
const counts = values.workers ? values.workers.split(',').map(Number) : [...new Set([0, 1, 2, cores])].filter((w) => w <= cores);
const runs = Number(values.runs);
const here = dirname(fileURLToPath(import.meta.url));
const projectRoot = join(here, '..', '..');

const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'skycal-bench-recompute-'));
const log = (s: string) => {
  if (!values.json) process.stderr.write(`${s}\n`);
};

/** A python3 with pyarrow and astropy: Debian's, or a virtualenv over it (--system-site-packages) with pyarrow from pip. */
function findPython(): { python?: string; why?: string } {
  const ok = (py: string) => spawnSync(py, ['-c', 'import pyarrow, astropy, numpy'], { encoding: 'utf8' }).status === 0;
  if (ok('python3')) return { python: 'python3' };
  const venv = join(dir, 'venv');
  const py = join(venv, 'bin', 'python');
  if (!existsSync(py) && spawnSync('python3', ['-m', 'venv', '--system-site-packages', venv], { encoding: 'utf8' }).status !== 0) return { why: 'python3 -m venv failed (is python3-venv installed?)' };
  if (ok(py)) return { python: py };
  const pip = spawnSync(py, ['-m', 'pip', 'install', '--quiet', '--retries', '0', '--timeout', '10', 'pyarrow'], { encoding: 'utf8', timeout: 300_000 });
  if (ok(py)) return { python: py };
  const astropy = spawnSync(py, ['-c', 'import astropy'], { encoding: 'utf8' }).status === 0;
  return { why: `${astropy ? '' : 'astropy is not installed (apt install python3-astropy); '}pip install pyarrow failed (${/Name or service not known|Failed to establish/.test(pip.stderr) ? 'PyPI is not reachable' : (pip.stderr || pip.stdout).trim().split('\n').pop()?.slice(0, 160) ?? ''})` };
}

log(`building the demo repository with ${perCcd.toLocaleString('en-US')} sources per CCD in ${dir} ...`);
const t0 = performance.now();
const demo = await runDemo(join(dir, 'demo'), { sourcesPerCcd: perCcd, workers: Math.min(2, cores) });
rmSync(join(dir, 'demo', 'recomputed.parquet'), { force: true });
log(`  built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const repo = Repository.open(demo.repository);
type Row = { path: string; threads: number; rowsPerSecond: number; rows: number; outputBytes: number };
const results: Row[] = [];
let python: { skipped?: string; rowsPerSecond?: number } = {};
try {
  for (const workers of counts) {
    const rates: number[] = [];
    let last = { rows: 0, bytes: 0 };
    for (let r = 0; r < runs; r++) {
      const out = values.partitioned ? join(dir, `out-${workers}/`) : join(dir, `out-${workers}.parquet`);
      const s = await recompute(repo, { out, workers, skipInvalid: true });
      rates.push(s.rowsPerSecond);
      last = { rows: s.rows, bytes: values.partitioned ? 0 : statSync(out).size };
      rmSync(out, { recursive: true });
    }
    results.push({ path: workers === 0 ? 'skycal in-thread' : `skycal ${workers} worker${workers > 1 ? 's' : ''}`, threads: Math.max(1, workers), rowsPerSecond: median(rates), rows: last.rows, outputBytes: last.bytes });
    log(`  ${results.at(-1)!.path}: ${Math.round(median(rates)).toLocaleString('en-US')} rows/s (median of ${runs}; ${last.rows.toLocaleString('en-US')} rows)`);
  }

  // The reference output, for DuckDB's copy and the jobs of the Python pipeline.
  const ref = join(dir, 'ref.parquet');
  await recompute(repo, { out: ref, skipInvalid: true });
  const db = await DuckDBInstance.create(':memory:');
  try {
    const c = await db.connect();
    for (const threads of [...new Set([1, cores])]) {
      await c.run(`SET threads = ${threads}`);
      const rates: number[] = [];
      let rows = 0;
      for (let r = 0; r < runs; r++) {
        const out = join(dir, 'duck.parquet');
        const t = performance.now();
        await c.run(`COPY (SELECT * FROM '${ref}') TO '${out}' (FORMAT parquet, COMPRESSION snappy, DICTIONARY_SIZE_LIMIT 1)`);
        const seconds = (performance.now() - t) / 1000;
        rows = Number((await c.runAndReadAll(`SELECT count(*) FROM '${out}'`)).getRowsJS()[0]![0]);
        rates.push(rows / seconds);
        rmSync(out);
      }
      results.push({ path: `DuckDB copy, same columns`, threads, rowsPerSecond: median(rates), rows, outputBytes: 0 });
      log(`  DuckDB copy (${threads} thread${threads > 1 ? 's' : ''}): ${Math.round(median(rates)).toLocaleString('en-US')} rows/s`);
    }
  } finally {
    db.closeSync();
  }

  const py = findPython();
  if (py.python === undefined) {
    python = { skipped: py.why! };
    log(`  Python pipeline: skipped: ${py.why}`);
  } else {
    const jobs = repo.queryDataIds('src', undefined, {}).filter((d) => d.invalid === undefined).flatMap(({ dataId }) => {
      try {
        return [{ dataId: parseDataId(dataId), catalog: repo.getCatalog(dataId).path, header: repo.getWcs(dataId).headerText, photoCalib: repo.getPhotoCalib(dataId).json }];
      } catch {
        return []; // invalid at the tip (e.g. jointcal failed it): skycal skips it too
      }
    });
    const jobsFile = join(dir, 'jobs.json');
    writeFileSync(jobsFile, JSON.stringify(jobs));
    const rates: number[] = [];
    for (let r = 0; r < runs; r++) {
      const out = join(dir, 'python.parquet');
      const p = spawnSync(py.python, [join(projectRoot, 'bench', 'recompute_pipeline.py'), jobsFile, out], { encoding: 'utf8' });
      if (p.status !== 0) {
        python = { skipped: `the pipeline failed: ${p.stderr.trim().split('\n').pop()}` };
        break;
      }
      rates.push(JSON.parse(p.stdout).rowsPerSecond);
      rmSync(out, { force: true });
    }
    if (rates.length > 0) python = { rowsPerSecond: median(rates) };
    log(`  Python pipeline (1 thread): ${python.rowsPerSecond !== undefined ? `${Math.round(python.rowsPerSecond).toLocaleString('en-US')} rows/s` : python.skipped}`);
  }
} finally {
  repo.close();
  if (values.dir === undefined) rmSync(dir, { recursive: true, force: true });
}

const one = results.find((r) => r.path === 'skycal 1 worker');
const duck1 = results.find((r) => r.path.startsWith('DuckDB') && r.threads === 1);
const report = { sources: perCcd * CCDS, cores, loadavg: loadavg(), python, results };
if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
else {
  const ratio = (a: number, b: number | undefined) => (b === undefined ? '-' : (a / b).toFixed(2));
  const lines = ['| path | threads | M rows/s | / Python 1 thread | / DuckDB copy 1 thread | / skycal 1 worker |', '|---|---|---|---|---|---|'];
  for (const r of results) {
    lines.push(`| ${r.path} | ${r.threads} | ${(r.rowsPerSecond / 1e6).toFixed(2)} | ${ratio(r.rowsPerSecond, python.rowsPerSecond)} | ${ratio(r.rowsPerSecond, duck1?.rowsPerSecond)} | ${ratio(r.rowsPerSecond, one?.rowsPerSecond)} |`);
  }
  if (python.rowsPerSecond !== undefined) lines.push(`| Python pipeline | 1 | ${(python.rowsPerSecond / 1e6).toFixed(2)} | 1.00 | ${ratio(python.rowsPerSecond, duck1?.rowsPerSecond)} | ${ratio(python.rowsPerSecond, one?.rowsPerSecond)} |`);
  else lines.push(`| Python pipeline | 1 | skipped: ${python.skipped} | | | |`);
  process.stdout.write(`${lines.join('\n')}\n(${report.sources.toLocaleString('en-US')} sources, ${cores} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')})\n`);
}
