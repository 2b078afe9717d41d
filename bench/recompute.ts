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
 * skycal is measured twice per worker count:
 *  - cold: a fresh `skycal recompute --json` process, as a user runs it
 *    (its summary's rows/s: the job, without Node's start and module loading,
 *    as the Python pipeline times itself); every thread's JIT starts cold;
 *  - steady: the same job again in this process through one pool kept
 *    across runs (a warm-up pass first): what a long job approaches once V8
 *    has compiled the hot code in every worker.
 * The difference is the fixed per-process warm-up (TurboFan compiling the
 * same hot code once per worker isolate), which a 1e7-row job still feels.
 * Beside N workers (N >= 2), what the machine gives N copies of the job that
 * share nothing: N independent 1-worker processes at once, each doing the
 * whole job into its own file (cold; their rows over the span of their
 * jobs). It is a reference, not a strict bound: the N processes also run N
 * main threads and warm up 2N isolates where one N-worker job runs one and N.
 * Every skycal row also gives the cores it kept busy (the summary's
 * cpuSeconds over seconds) and its CPU seconds per million rows; from them,
 * the most N workers could gain over one on this machine with the CPU per
 * row they needed, had they kept every core busy.
 * Runs are interleaved (skycal at every worker count, DuckDB, Python, then
 * again), so that a change in the machine's load hits every column alike;
 * each column is the median of its runs.
 *
 * Python: --python PY (or SKYCAL_BENCH_PYTHON) names a python3 that has
 * pyarrow, astropy and numpy. Else /usr/bin/python3 (Debian's, with its
 * astropy) if it has pyarrow too; else a virtualenv over it with
 * --system-site-packages at --venv DIR (or SKYCAL_BENCH_VENV; default
 * D/venv), pyarrow installed there by pip when missing (pip honours
 * PIP_INDEX_URL, e.g. PIP_INDEX_URL=file:///opt/pypi/simple for a local
 * wheel index). A `python3` on PATH is not used: pyenv's has no astropy.
 *
 * Usage: node dist/bench/recompute.js [--sources N_TOTAL] [--workers 0,1,2,...] [--runs K] [--dir D]
 *        [--python PY | --venv DIR] [--skycal-only] [--partitioned] [--json]
 * Profile one worker: node --cpu-prof --cpu-prof-dir P dist/bench/recompute.js --workers 1 --runs 1 --skycal-only
 */
import { parseArgs } from 'node:util';
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { runDemo } from '../src/demo/demo.js';
import { Repository } from '../src/butler/repository.js';
import { parseDataId } from '../src/butler/dataId.js';
import { openRecomputePool, recompute, type RecomputePool } from '../src/recompute/recompute.js';
import { median } from '../src/stats.js';

const { values } = parseArgs({
  options: {
    sources: { type: 'string', default: '10000000' },
    workers: { type: 'string' },
    runs: { type: 'string', default: '3' },
    dir: { type: 'string' },
    partitioned: { type: 'boolean', default: false },
    python: { type: 'string' },
    venv: { type: 'string' },
    'skycal-only': { type: 'boolean', default: false },
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

/** A python3 with pyarrow, astropy and numpy (see the header). */
function findPython(): { python?: string; why?: string } {
  const ok = (py: string) => spawnSync(py, ['-c', 'import pyarrow, astropy, numpy'], { encoding: 'utf8' }).status === 0;
  const named = values.python ?? process.env.SKYCAL_BENCH_PYTHON;
  if (named !== undefined) return ok(named) ? { python: named } : { why: `${named} cannot import pyarrow, astropy and numpy` };
  const base = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  if (ok(base)) return { python: base };
  const venv = values.venv ?? process.env.SKYCAL_BENCH_VENV ?? join(dir, 'venv');
  const py = join(venv, 'bin', 'python');
  if (!existsSync(py) && spawnSync(base, ['-m', 'venv', '--system-site-packages', venv], { encoding: 'utf8' }).status !== 0) return { why: `${base} -m venv failed (is python3-venv installed?)` };
  if (ok(py)) return { python: py };
  const pip = spawnSync(py, ['-m', 'pip', 'install', '--quiet', '--retries', '0', '--timeout', '10', 'pyarrow'], { encoding: 'utf8', timeout: 300_000 });
  if (ok(py)) return { python: py };
  const astropy = spawnSync(py, ['-c', 'import astropy'], { encoding: 'utf8' }).status === 0;
  return { why: `${astropy ? '' : 'astropy is not installed (apt install python3-astropy); '}pip install pyarrow failed (${/Name or service not known|Failed to establish/.test(pip.stderr) ? 'PyPI is not reachable; set PIP_INDEX_URL to a wheel index' : (pip.stderr || pip.stdout).trim().split('\n').pop()?.slice(0, 160) ?? ''})` };
}

log(`building the demo repository with ${perCcd.toLocaleString('en-US')} sources per CCD in ${dir} ...`);
const t0 = performance.now();
const demo = await runDemo(join(dir, 'demo'), { sourcesPerCcd: perCcd, workers: Math.min(2, cores) });
rmSync(join(dir, 'demo', 'recomputed.parquet'), { force: true });
log(`  built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const repo = Repository.open(demo.repository);
/** coresBusy: CPU seconds over wall seconds of the job (skycal's summary; the processes' sum for the independent ones). */
type Row = { path: string; threads: number; rowsPerSecond: number; coresBusy?: number; rows: number; outputBytes: number };
const results: Row[] = [];
let python: { skipped?: string; rowsPerSecond?: number } = {};
const loads: number[] = [];
try {
  // The reference output, for DuckDB's copy; the jobs of the Python pipeline.
  const ref = join(dir, 'ref.parquet');
  await recompute(repo, { out: ref, skipInvalid: true });
  // The bin as users start it: package.json's (the bundled CLI).
  const cli = join(projectRoot, (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { bin: { skycal: string } }).bin.skycal);
  type CliSummary = { rows: number; rowsPerSecond: number; seconds: number; cpuSeconds: number };
  /** `skycal recompute` as a user runs it: a new process, every isolate cold; its summary, and when it exited (ms after `t0`). */
  const recomputeInFreshProcess = (out: string, workers: number, t0 = performance.now()) =>
    new Promise<CliSummary & { exitedMs: number }>((resolve, reject) => {
      const p = spawn(process.execPath, [cli, 'recompute', demo.repository, '--out', out, '--workers', String(workers), '--skip-invalid', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d));
      p.stderr.on('data', (d: Buffer) => (stderr += d));
      p.on('error', reject);
      p.on('close', (code) => {
        if (code !== 0) reject(new Error(`skycal recompute --workers ${workers} failed: ${stderr.trim()}`));
        else resolve({ ...(JSON.parse(stdout) as CliSummary), exitedMs: performance.now() - t0 });
      });
    });
  /**
   * N independent `skycal recompute --workers 1` processes started at once,
   * each doing the whole job into its own file, sharing nothing (no pool, no
   * output file, no main thread): their rows over the span from the first
   * job's start (a process's exit less its summary's seconds) to the last exit.
   */
  const independentProcesses = async (n: number) => {
    const t0 = performance.now();
    const outs = Array.from({ length: n }, (_, i) => join(dir, `independent-${i}.parquet`));
    const done = await Promise.all(outs.map((out) => recomputeInFreshProcess(out, 1, t0).finally(() => rmSync(out, { force: true }))));
    const span = (Math.max(...done.map((e) => e.exitedMs)) - Math.min(...done.map((e) => e.exitedMs - e.seconds * 1000))) / 1000;
    const rows = done.reduce((a, e) => a + e.rows, 0);
    return { rows, rowsPerSecond: rows / span, seconds: span, cpuSeconds: done.reduce((a, e) => a + e.cpuSeconds, 0) };
  };
  /** The same job through one pool kept across runs, after one warm-up pass: compiled code everywhere. */
  const pools = new Map<number, RecomputePool | undefined>();
  const recomputeSteady = async (out: string, workers: number) => {
    if (!pools.has(workers)) {
      pools.set(workers, workers > 0 ? await openRecomputePool(workers) : undefined);
      await recompute(repo, { out, workers, skipInvalid: true, ...(pools.get(workers) && { jobPool: pools.get(workers) }) });
      rmSync(out, { recursive: true });
    }
    const pool = pools.get(workers);
    return recompute(repo, { out, workers, skipInvalid: true, ...(pool && { jobPool: pool }) });
  };
  const py = values['skycal-only'] ? { why: '--skycal-only' } : findPython();
  if (py.python === undefined) {
    python = { skipped: py.why! };
    log(`  Python pipeline: skipped: ${py.why}`);
  }
  const jobsFile = join(dir, 'jobs.json');
  if (py.python !== undefined) {
    const jobs = repo.queryDataIds('src', undefined, {}).filter((d) => d.invalid === undefined).flatMap(({ dataId }) => {
      try {
        return [{ dataId: parseDataId(dataId), catalog: repo.getCatalog(dataId).path, header: repo.getWcs(dataId).headerText, photoCalib: repo.getPhotoCalib(dataId).json }];
      } catch {
        return []; // invalid at the tip (e.g. jointcal failed it): skycal skips it too
      }
    });
    writeFileSync(jobsFile, JSON.stringify(jobs));
  }
  const db = values['skycal-only'] ? undefined : await DuckDBInstance.create(':memory:');
  const c = await db?.connect();
  const rates = new Map<string, { row: Omit<Row, 'rowsPerSecond' | 'coresBusy'>; rates: number[]; cores: number[] }>();
  const put = (row: Omit<Row, 'rowsPerSecond' | 'coresBusy'>, rate: number, job?: { seconds: number; cpuSeconds: number }) => {
    const key = `${row.path}/${row.threads}`;
    const entry = rates.get(key) ?? { row, rates: [], cores: [] };
    entry.rates.push(rate);
    if (job !== undefined) entry.cores.push(job.cpuSeconds / job.seconds);
    entry.row = row;
    rates.set(key, entry);
  };
  try {
    for (let r = 0; r < runs; r++) {
      loads.push(loadavg()[0]!);
      for (const workers of counts) {
        const out = values.partitioned ? join(dir, `out-${workers}/`) : join(dir, `out-${workers}.parquet`);
        const name = workers === 0 ? 'skycal in-thread' : `skycal ${workers} worker${workers > 1 ? 's' : ''}`;
        for (const state of ['cold', 'steady'] as const) {
          const s = state === 'cold' ? await recomputeInFreshProcess(out, workers) : await recomputeSteady(out, workers);
          put({ path: `${name}, ${state}`, threads: Math.max(1, workers), rows: s.rows, outputBytes: values.partitioned ? 0 : statSync(out).size }, s.rowsPerSecond, s);
          rmSync(out, { recursive: true });
          log(`  run ${r + 1}: skycal ${workers} workers, ${state}: ${Math.round(s.rowsPerSecond).toLocaleString('en-US')} rows/s`);
        }
      }
      for (const n of counts.filter((w) => w >= 2)) {
        const s = await independentProcesses(n);
        put({ path: `${n} independent 1-worker processes (nothing shared), cold`, threads: n, rows: s.rows, outputBytes: 0 }, s.rowsPerSecond, s);
        log(`  run ${r + 1}: ${n} independent 1-worker processes, cold: ${Math.round(s.rowsPerSecond).toLocaleString('en-US')} rows/s`);
      }
      if (c !== undefined) {
        for (const threads of [...new Set([1, cores])]) {
          await c.run(`SET threads = ${threads}`);
          const out = join(dir, 'duck.parquet');
          const t = performance.now();
          await c.run(`COPY (SELECT * FROM '${ref}') TO '${out}' (FORMAT parquet, COMPRESSION snappy, DICTIONARY_SIZE_LIMIT 1)`);
          const seconds = (performance.now() - t) / 1000;
          const rows = Number((await c.runAndReadAll(`SELECT count(*) FROM '${out}'`)).getRowsJS()[0]![0]);
          put({ path: 'DuckDB copy, same columns', threads, rows, outputBytes: statSync(out).size }, rows / seconds);
          rmSync(out);
          log(`  run ${r + 1}: DuckDB copy (${threads} thread${threads > 1 ? 's' : ''}): ${Math.round(rows / seconds).toLocaleString('en-US')} rows/s`);
        }
      }
      if (py.python !== undefined && python.skipped === undefined) {
        const out = join(dir, 'python.parquet');
        const p = spawnSync(py.python, [join(projectRoot, 'bench', 'recompute_pipeline.py'), jobsFile, out], { encoding: 'utf8' });
        if (p.status !== 0) python = { skipped: `the pipeline failed: ${p.stderr.trim().split('\n').pop()}` };
        else {
          const rate = (JSON.parse(p.stdout) as { rowsPerSecond: number }).rowsPerSecond;
          put({ path: 'Python pipeline', threads: 1, rows: 0, outputBytes: statSync(out).size }, rate);
          log(`  run ${r + 1}: Python pipeline (1 thread): ${Math.round(rate).toLocaleString('en-US')} rows/s`);
        }
        rmSync(out, { force: true });
      }
    }
  } finally {
    db?.closeSync();
    for (const p of pools.values()) await p?.close();
  }
  for (const { row, rates: rs, cores: busy } of rates.values()) {
    if (row.path === 'Python pipeline') python = { rowsPerSecond: median(rs) };
    else results.push({ ...row, rowsPerSecond: median(rs), ...(busy.length > 0 && { coresBusy: median(busy) }) });
  }
} finally {
  repo.close();
  if (values.dir === undefined) rmSync(dir, { recursive: true, force: true });
}

const one = results.find((r) => r.path === 'skycal 1 worker, cold');
const oneSteady = results.find((r) => r.path === 'skycal 1 worker, steady');
/** CPU seconds per million rows (the medians' ratio). */
const cpuPerMillionRows = (r: Row) => (r.coresBusy! / r.rowsPerSecond) * 1e6;
const duck1 = results.find((r) => r.path.startsWith('DuckDB') && r.threads === 1);
const report = { sources: perCcd * CCDS, cores, runs, loadavgAtEachRun: loads, loadavg: loadavg(), python, results };
if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
else {
  const ratio = (a: number, b: number | undefined) => (b === undefined ? '-' : (a / b).toFixed(2));
  const lines = ['| path | threads | M rows/s (median) | / Python 1 thread | / DuckDB copy 1 thread | / skycal 1 worker (same state) | cores busy | CPU s per M rows | output MB |', '|---|---|---|---|---|---|---|---|---|'];
  for (const r of results) {
    const base = r.path.endsWith('steady') ? oneSteady : one;
    lines.push(`| ${r.path} | ${r.threads} | ${(r.rowsPerSecond / 1e6).toFixed(2)} | ${ratio(r.rowsPerSecond, python.rowsPerSecond)} | ${ratio(r.rowsPerSecond, duck1?.rowsPerSecond)} | ${r.path.startsWith('skycal') ? ratio(r.rowsPerSecond, base?.rowsPerSecond) : ratio(r.rowsPerSecond, one?.rowsPerSecond)} | ${r.coresBusy?.toFixed(2) ?? ''} | ${r.coresBusy === undefined ? '' : cpuPerMillionRows(r).toFixed(3)} | ${r.outputBytes ? (r.outputBytes / 1e6).toFixed(0) : ''} |`);
  }
  if (python.rowsPerSecond !== undefined) lines.push(`| Python pipeline | 1 | ${(python.rowsPerSecond / 1e6).toFixed(2)} | 1.00 | ${ratio(python.rowsPerSecond, duck1?.rowsPerSecond)} | ${ratio(python.rowsPerSecond, one?.rowsPerSecond)} | | | |`);
  else lines.push(`| Python pipeline | 1 | skipped: ${python.skipped} | | | | | | |`);
  // N workers are S = (busy_N / busy_1) x (cpu_1 / cpu_N) times one worker (cpu: CPU seconds per row); with
  // every core busy that is at most (cores / busy_1) x (cpu_1 / cpu_N): what the CPU per row they needed allows here.
  for (const r of results) {
    const base = r.path.endsWith('steady') ? oneSteady : one;
    if (!r.path.startsWith('skycal') || r.threads < 2 || r.coresBusy === undefined || base?.coresBusy === undefined) continue;
    const most = (cores / base.coresBusy) * (cpuPerMillionRows(base) / cpuPerMillionRows(r));
    lines.push(`${r.path}: ${ratio(r.rowsPerSecond, base.rowsPerSecond)}x one worker; at most ${most.toFixed(2)}x on ${cores} cores with the CPU per row it needed (${cores} / ${base.coresBusy.toFixed(2)} cores busy with one x ${cpuPerMillionRows(base).toFixed(3)} / ${cpuPerMillionRows(r).toFixed(3)} CPU s per M rows)`);
  }
  process.stdout.write(`${lines.join('\n')}\n(${report.sources.toLocaleString('en-US')} sources, ${cores} cores, median of ${runs} interleaved runs, 1-minute load average at each run ${loads.map((l) => l.toFixed(2)).join(', ')}; now ${loadavg().map((l) => l.toFixed(2)).join(' ')})\n`);
}
