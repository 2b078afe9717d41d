/**
 * Sharded recompute under Slurm (issue 13), on the one-host cluster of
 * scripts/slurm-one-host.sh (.ci/run starts it and exports SLURM_CONF; by
 * hand: `scripts/slurm-one-host.sh start`, then this file finds its config).
 * Skipped with a loud message when `sinfo` cannot reach a cluster, except
 * under CI, where it fails instead.
 *
 * - the job template's command line (no cluster needed);
 * - the cluster, the template, the driver and requeue with a stand-in for the
 *   skycal CLI (test/slurm-standin.ts): stays, it tests the Slurm mechanics;
 * - the real thing: `skycal recompute --plan/--shard` (branch shard) as a
 *   4-task array, its union equal to a single-process recompute bit for bit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { cliPath, repoRoot, runCli, tempDir } from './helpers.js';
import { buildRepo } from './recompute-repo.js';
import { partName, standInPart, standInRunId } from './slurm-standin.js';
import { recomputeCommands } from '../src/cli/recompute.js';

const TEMPLATE = join(repoRoot, 'scripts', 'slurm', 'recompute-array.sbatch');
const DRIVER = join(repoRoot, 'scripts', 'slurm', 'recompute.sh');
const STANDIN = join(repoRoot, 'dist', 'test', 'slurm-standin.js');
const SLURM_CONF = process.env['SLURM_CONF'] ?? join(process.env['SKYCAL_SLURM_DIR'] ?? '/tmp/skycal-slurm', 'etc', 'slurm.conf');
const slurmEnv = { PATH: `${process.env['PATH'] ?? '/usr/bin:/bin'}:/usr/sbin`, HOME: process.env['HOME'] ?? '/tmp', SLURM_CONF };

/** A Slurm client command, bounded (a controller that does not answer is a failure, not a hang). */
function slurm(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { env: slurmEnv, encoding: 'utf8', timeout: 15_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function slurmUnusable(): string | undefined {
  const r = slurm('sinfo', ['-h', '-o', '%T']);
  if (r.status !== 0) return `sinfo failed (SLURM_CONF=${SLURM_CONF}): ${r.stderr.trim() || `exit ${r.status}`}`;
  if (!/^(idle|mixed|allocated)/m.test(r.stdout)) return `no usable node: sinfo says ${JSON.stringify(r.stdout.trim())}`;
  return undefined;
}

const unusable = slurmUnusable();
if (unusable !== undefined && !process.env['CI']) {
  process.stderr.write(`\n!!! slurm tests SKIPPED: ${unusable}. Start the one-host cluster: scripts/slurm-one-host.sh start (.ci/run does) !!!\n\n`);
}
const skip = unusable !== undefined && !process.env['CI'] ? unusable : false;

const shardCli = recomputeCommands.find((c) => c.name === 'recompute')?.options['shard'] !== undefined;
if (!shardCli) {
  process.stderr.write('\n!!! slurm end-to-end test SKIPPED: this build has no `skycal recompute --shard I/N` (issue 13, branch shard) !!!\n\n');
}

interface TaskState {
  state: string;
  reason: string;
  restarts: number;
}

/** One array task's state, from scontrol (which keeps finished jobs MinJobAge seconds). */
function taskState(job: string, index: number): TaskState {
  const r = slurm('scontrol', ['-o', 'show', 'job', `${job}_${index}`]);
  assert.equal(r.status, 0, `scontrol show job ${job}_${index}: ${r.stderr}`);
  const field = (k: string): string => new RegExp(`(?:^| )${k}=(\\S+)`).exec(r.stdout)?.[1] ?? '?';
  return { state: field('JobState'), reason: field('Reason'), restarts: Number(field('Restarts')) };
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > until) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * `scontrol requeue` one task (killing it if it runs), then shorten the ~2
 * minute hold Slurm puts on a requeued job (Reason=BeginTime) to 2 s: not to
 * 0, since slurmd refuses a job launched in the same second as it revoked the
 * killed attempt's credential ("Job credential revoked": the task FAILS).
 */
async function requeue(job: string, index: number): Promise<void> {
  const r = slurm('scontrol', ['requeue', `${job}_${index}`]);
  assert.equal(r.status, 0, `scontrol requeue ${job}_${index}: ${r.stderr}`);
  await waitFor(`${job}_${index} pending after requeue`, 30_000, () => (taskState(job, index).state === 'PENDING' ? true : undefined));
  const u = slurm('scontrol', ['update', `jobid=${job}_${index}`, 'StartTime=now+2']);
  assert.equal(u.status, 0, `scontrol update StartTime=now+2: ${u.stderr}`);
}

/** The driver, running: its job id once submitted, and its exit. */
function startDriver(args: string[], env: Record<string, string>): { job: Promise<string>; exit: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn('bash', [DRIVER, ...args], { env: { ...slurmEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let onJob: (id: string) => void = () => {};
  const job = new Promise<string>((resolve) => (onJob = resolve));
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    const m = /submitted job (\d+)/.exec(stdout);
    if (m) onJob(m[1]!);
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  const exit = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      onJob('none');
      resolve({ code, stdout, stderr });
    }),
  );
  return { job, exit };
}

/** sha256 of every file under `dir` whose name matches, by relative path. */
function hashes(dir: string, match: RegExp): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (match.test(name)) out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

test('the job template runs `recompute REPO --at RUNID --shard I/N --out OUT/` for its array task, and refuses an array that is not 0..N-1', () => {
  const run = (env: Record<string, string>, args: string[]) => spawnSync('bash', [TEMPLATE, ...args], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', SKYCAL: 'printf %s|', ...env }, encoding: 'utf8' });
  const task = { SLURM_ARRAY_JOB_ID: '7', SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '3', SLURM_CPUS_PER_TASK: '3' };
  const fromArgs = run(task, ['/data/repo', 'run-abc', '/data/out/']);
  assert.equal(fromArgs.status, 0, fromArgs.stderr);
  assert.equal(fromArgs.stdout.split('\n').pop(), 'recompute|/data/repo|--at|run-abc|--shard|2/4|--out|/data/out/|--workers|3|');
  const fromEnv = run({ ...task, REPO: '/r', RUNID: 'run-x', OUT: '/o/' }, []);
  assert.equal(fromEnv.stdout.split('\n').pop(), 'recompute|/r|--at|run-x|--shard|2/4|--out|/o/|--workers|3|');
  // A resubmission of tasks 1-2 only: their index over the array size would be the wrong shard.
  const subset = run({ ...task, SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '2', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '2' }, ['/r', 'run-x', '/o/']);
  assert.equal(subset.status, 2);
  assert.match(subset.stderr, /not 0-\(N-1\).*set SHARDS=N/);
  const withShards = run({ ...task, SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '2', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '2', SHARDS: '4' }, ['/r', 'run-x', '/o/']);
  assert.match(withShards.stdout, /--shard\|1\/4\|/);
  const missing = run(task, ['/r']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /REPO, RUNID and OUT are required/);
  const notArray = run({}, ['/r', 'run-x', '/o/']);
  assert.equal(notArray.status, 2);
  assert.match(notArray.stderr, /not an array task/);
});

test('one-host Slurm: the driver plans, submits a 4-task array of the template and waits; a task killed by scontrol requeue reruns to the same part, and so does a finished one (stand-in CLI)', { skip, timeout: 180_000 }, async (t) => {
  assert.equal(unusable, undefined, unusable);
  const tmp = tempDir('skycal-slurm-');
  try {
    const repo = join(tmp.path, 'repo');
    const out = join(tmp.path, 'out');
    const logs = join(tmp.path, 'logs');
    const attempts = join(tmp.path, 'attempts.log');
    // Plan options go to the plan (the shards take them from it), those after -- to sbatch.
    const driver = startDriver([repo, 'main', `${out}/`, '4', '--skip-invalid', '--where', 'visit=1000', '--', '--comment=skycal-slurm-test'], {
      SKYCAL: `${process.execPath} ${STANDIN}`,
      SKYCAL_SLURM_LOGS: logs,
      SKYCAL_SLURM_POLL_S: '0.2',
      SKYCAL_SLURM_TIMEOUT_S: '120',
      SKYCAL_STANDIN_LOG: attempts,
      SKYCAL_STANDIN_HOLD: '1',
    });
    const job = await driver.job;
    if (job === 'none') assert.fail(`the driver did not submit: ${JSON.stringify(await driver.exit)}`);
    // Shard 1's first attempt is held after it started: kill it there and resubmit it.
    await waitFor('shard 1 to start', 60_000, () => (existsSync(attempts) && readFileSync(attempts, 'utf8').includes('shard 1/4 attempt 1 start') ? true : undefined));
    assert.equal(taskState(job, 1).state, 'RUNNING');
    await requeue(job, 1);
    const done = await driver.exit;
    assert.equal(done.code, 0, `driver: ${done.stdout}\n${done.stderr}`);
    const runId = standInRunId(repo, 'main');
    assert.match(done.stdout, new RegExp(`plan: 4 shards of .* at ${runId} \\(main\\)`));

    // Every part is the shard's own bytes; the published dataset lists all four.
    const expected = (i: number) => createHash('sha256').update(standInPart(repo, runId, i, 4)).digest('hex');
    const before = hashes(out, /\.bin$/);
    assert.deepEqual(before, Object.fromEntries([0, 1, 2, 3].map((i) => [partName(i, 4), expected(i)])));
    assert.deepEqual(JSON.parse(readFileSync(join(out, '_skycal_dataset.json'), 'utf8')), { at: runId, options: { skipInvalid: true, where: 'visit=1000' }, parts: [0, 1, 2, 3].map((i) => partName(i, 4)) });
    assert.match(slurm('scontrol', ['-o', 'show', 'job', `${job}_3`]).stdout, / Comment=skycal-slurm-test /);
    // Shard 1 ran twice (the first attempt killed before its end), the others once.
    const lines = readFileSync(attempts, 'utf8').trim().split('\n').sort();
    assert.deepEqual(lines, ['shard 0/4 attempt 1 end', 'shard 0/4 attempt 1 start', 'shard 1/4 attempt 1 start', 'shard 1/4 attempt 2 end', 'shard 1/4 attempt 2 start', 'shard 2/4 attempt 1 end', 'shard 2/4 attempt 1 start', 'shard 3/4 attempt 1 end', 'shard 3/4 attempt 1 start']);
    // Per-task logs, both attempts of task 1 in its files (appended, not truncated).
    assert.deepEqual(readdirSync(logs).sort(), [0, 1, 2, 3].flatMap((i) => [`skycal-recompute-${job}_${i}.err`, `skycal-recompute-${job}_${i}.out`]));
    const log1 = readFileSync(join(logs, `skycal-recompute-${job}_1.out`), 'utf8');
    assert.match(log1, new RegExp(`^skycal-recompute: shard 1/4 of job ${job}, attempt 1, .*\nskycal-recompute: shard 1/4 of job ${job}, attempt 2, .*\n$`));
    assert.match(readFileSync(join(logs, `skycal-recompute-${job}_1.err`), 'utf8'), /CANCELLED .* DUE TO JOB REQUEUE/);
    assert.deepEqual(taskState(job, 1), { state: 'COMPLETED', reason: 'None', restarts: 1 });

    // A finished task requeued: it runs again and the dataset's bytes stay the same.
    await requeue(job, 2);
    await waitFor(`${job}_2 to complete again`, 60_000, () => {
      const s = taskState(job, 2);
      if (s.state === 'FAILED' || s.state === 'CANCELLED') assert.fail(`${job}_2 ${s.state}`);
      return s.state === 'COMPLETED' ? s : undefined;
    });
    assert.match(readFileSync(attempts, 'utf8'), /shard 2\/4 attempt 2 end/);
    assert.deepEqual(hashes(out, /\.bin$/), before);
    t.diagnostic(`job ${job}: 4 tasks, task 1 requeued while running, task 2 after it finished`);
  } finally {
    tmp.cleanup();
  }
});

/** Every row of a Hive-partitioned Parquet dataset, sorted, with its column names and types, as DuckDB reads it. */
async function datasetRows(dir: string): Promise<{ columns: string[]; types: string[]; rows: unknown[][] }> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    const r = await c.runAndReadAll(`SELECT * FROM read_parquet('${dir}/**/*.parquet', hive_partitioning = true) ORDER BY ALL`);
    return { columns: r.columnNames(), types: r.columnTypes().map(String), rows: r.getRowsJS() };
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

test('a 4-task Slurm array of `skycal recompute --shard` equals a single-process recompute of the same run id row for row and bit for bit; a requeued task (killed while running, or finished) leaves the same parts', { skip: skip || (!shardCli && 'needs `skycal recompute --shard` (branch shard)'), timeout: 180_000 }, async (t) => {
  assert.equal(unusable, undefined, unusable);
  const tmp = tempDir('skycal-slurm-');
  try {
    const repo = join(tmp.path, 'repo');
    const out = join(tmp.path, 'sharded');
    // 3 visits x 4 detectors, uneven catalogs spanning several row groups.
    buildRepo(repo, { rows: [900, 300, 1200, 50, 700, 700, 10, 1500, 400, 800, 600, 250], detectorsPerVisit: 4, rowGroupRows: 256, seed: 13 });
    const driver = startDriver([repo, 'main', `${out}/`, '4'], {
      SKYCAL: `${process.execPath} ${cliPath}`,
      SKYCAL_SLURM_LOGS: join(tmp.path, 'logs'),
      SKYCAL_SLURM_POLL_S: '0.2',
      SKYCAL_SLURM_TIMEOUT_S: '120',
    });
    const job = await driver.job;
    if (job === 'none') assert.fail(`the driver did not submit: ${JSON.stringify(await driver.exit)}`);
    // Kill task 1 as soon as it runs (it may already have finished: requeue runs it again either way).
    const seen = await waitFor(`${job}_1 to start`, 60_000, () => {
      const s = taskState(job, 1).state;
      return s === 'RUNNING' || s === 'COMPLETED' ? s : undefined;
    });
    await requeue(job, 1);
    const done = await driver.exit;
    assert.equal(done.code, 0, `driver: ${done.stdout}\n${done.stderr}`);
    assert.deepEqual(taskState(job, 1), { state: 'COMPLETED', reason: 'None', restarts: 1 });
    const runId = /plan: 4 shards of .* at (\S+) \(main\)/.exec(done.stdout)?.[1];
    assert.ok(runId !== undefined, done.stdout);

    const single = join(tmp.path, 'single');
    const r = await runCli(['recompute', repo, '--at', runId, '--out', `${single}/`]);
    assert.equal(r.code, 0, r.stderr);
    const a = await datasetRows(out);
    const b = await datasetRows(single);
    assert.deepEqual(a.columns, b.columns);
    assert.deepEqual(a.types, b.types);
    assert.equal(a.rows.length, 7410);
    // deepStrictEqual compares values with Object.is: NaN is NaN, -0 is not 0.
    assert.deepStrictEqual(a.rows, b.rows);

    const before = hashes(out, /\.parquet$/);
    assert.ok(Object.keys(before).length >= 12, `parts: ${Object.keys(before).join(', ')}`);
    await requeue(job, 2);
    await waitFor(`${job}_2 to complete again`, 60_000, () => {
      const s = taskState(job, 2);
      if (s.state === 'FAILED' || s.state === 'CANCELLED') assert.fail(`${job}_2 ${s.state}`);
      return s.state === 'COMPLETED' && s.restarts === 1 ? s : undefined;
    });
    assert.deepEqual(hashes(out, /\.parquet$/), before);
    t.diagnostic(`job ${job}: task 1 requeued while ${seen}, task 2 after it finished; ${a.rows.length} rows`);
  } finally {
    tmp.cleanup();
  }
});
