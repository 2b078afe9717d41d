import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Table, type Vector } from 'apache-arrow';
import { Repository } from '../src/butler/repository.js';
import { readCatalogBatches } from '../src/catalog/read.js';
import { makeTanSipWcs } from '../src/wcs/index.js';
import { recompute, openRecomputePool, type RecomputePool } from '../src/recompute/recompute.js';
import { planShards, recomputeShard, finishShards } from '../src/recompute/sharded.js';
import { stagingOf } from '../src/recompute/shardStaging.js';
import { DATASET_MANIFEST } from '../src/io/atomicOutput.js';
import { buildRepo } from './recompute-repo.js';
import { cliPath, runCli, tempDir } from './helpers.js';

let dir: { path: string; cleanup: () => void };
let pool: RecomputePool;
/** A repository of 7 dataIds (one empty catalog), several row groups each, built once. */
let repoPath: string;
let dataIds: string[];

before(async () => {
  dir = tempDir('skycal-shards-');
  pool = await openRecomputePool(2);
  repoPath = join(dir.path, 'repo');
  ({ dataIds } = buildRepo(repoPath, { rows: [900, 500, 0, 700, 300, 1200, 450], detectorsPerVisit: 3, rowGroupRows: 300, seed: 21 }));
});

after(async () => {
  await pool.close();
  dir.cleanup();
});

const cli = async (...args: string[]) => {
  const r = await runCli(args);
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) as Record<string, unknown> };
};

const errorOf = (r: { stdout: string }) => (JSON.parse(r.stdout) as { error: { code: string; message: string } }).error;

/** Every file under `root` (relative path -> bytes). */
function tree(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.set(relative(root, join(d, e.name)), readFileSync(join(d, e.name)));
    }
  };
  walk(root);
  return out;
}

/** The sharded dataset is the single-process one file for file, byte for byte; the manifests differ only by the plan. */
function assertSameDataset(sharded: string, single: string, what: string): void {
  const a = tree(sharded);
  const b = tree(single);
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort(), `${what}: the same files`);
  for (const [path, bytes] of b) {
    if (path === DATASET_MANIFEST) continue;
    assert.ok(a.get(path)!.equals(bytes), `${what}: ${path} differs`);
  }
  const { shards, ...manifest } = JSON.parse(a.get(DATASET_MANIFEST)!.toString()) as Record<string, unknown>;
  assert.deepEqual(manifest, JSON.parse(b.get(DATASET_MANIFEST)!.toString()), `${what}: manifest`);
  assert.equal((shards as { format: string }).format, 'skycal.shard-plan/1');
}

/** A dataset read by our reader, part by part, the partition columns from the paths, rows sorted by dataId and source id. */
async function readSorted(path: string): Promise<Record<string, unknown>[]> {
  const manifest = JSON.parse(readFileSync(join(path, DATASET_MANIFEST), 'utf8')) as { files: { path: string; dataId: string }[] };
  const rows: Record<string, unknown>[] = [];
  for (const f of manifest.files) {
    const batches = [];
    for await (const b of await readCatalogBatches(join(path, f.path))) batches.push(b);
    if (batches.length === 0) continue;
    const t = new Table(batches);
    const cols = t.schema.fields.map((x) => [x.name, [...(t.getChild(x.name) as Vector)]] as const);
    for (let i = 0; i < t.numRows; i++) rows.push({ dataId: f.dataId, ...Object.fromEntries(cols.map(([n, v]) => [n, v[i]])) });
  }
  return rows.sort((x, y) => (x['dataId'] as string).localeCompare(y['dataId'] as string) || Number((x['id'] as bigint) - (y['id'] as bigint)));
}

function assertSameRows(a: Record<string, unknown>[], b: Record<string, unknown>[], what: string): void {
  assert.equal(a.length, b.length, `${what}: rows`);
  for (let i = 0; i < a.length; i++) {
    assert.deepEqual(Object.keys(a[i]!), Object.keys(b[i]!), `${what}: columns`);
    // Object.is: bit for bit for doubles (NaN equals NaN, -0 differs from 0).
    for (const k of Object.keys(a[i]!)) if (!Object.is(a[i]![k], b[i]![k])) assert.fail(`${what}: row ${i} ${k} = ${String(a[i]![k])}, expected ${String(b[i]![k])}`);
  }
}

/** Rows of `a` not in `b` and of `b` not in `a` (multisets), and rows that differ when both are ordered by visit, detector and source id. */
async function duckCompare(a: string, b: string): Promise<{ rows: bigint; onlyA: bigint; onlyB: bigint; differInOrder: bigint }> {
  const db = await DuckDBInstance.create(':memory:');
  try {
    const c = await db.connect();
    const q = async (sql: string) => (await c.runAndReadAll(sql)).getRowObjectsJS();
    const ra = `read_parquet('${a}/**/*.parquet', hive_partitioning = true)`;
    const rb = `read_parquet('${b}/**/*.parquet', hive_partitioning = true)`;
    const cols = (await q(`describe select * from ${rb}`)).map((r) => `"${r['column_name'] as string}"`).join(', ');
    const [n] = await q(`select count(*) as n from ${ra}`);
    const [x] = await q(`select count(*) as n from (select ${cols} from ${ra} except all select ${cols} from ${rb})`);
    const [y] = await q(`select count(*) as n from (select ${cols} from ${rb} except all select ${cols} from ${ra})`);
    // Row by row in dataId and source id order too (IS NOT DISTINCT FROM: NaN and NULL compare equal to themselves).
    const [z] = await q(`select count(*) as n from (select row_number() over (order by visit, detector, id) as k, ${cols} from ${ra}) s
      full join (select row_number() over (order by visit, detector, id) as k, ${cols} from ${rb}) t using (k)
      where ${cols.split(', ').map((col) => `s.${col} is distinct from t.${col}`).join(' or ')}`);
    return { rows: n!['n'] as bigint, onlyA: x!['n'] as bigint, onlyB: y!['n'] as bigint, differInOrder: z!['n'] as bigint };
  } finally {
    db.closeSync();
  }
}

const tipOf = (root: string): string => {
  const r = Repository.open(root);
  try {
    return r.resolveRef('main')!;
  } finally {
    r.close();
  }
};

test('the union of N shards is the single-process --out DIR/ recompute bit for bit, for N = 1, 2, 3, 4 and 9 (> 7 dataIds); with and without a --plan step', async () => {
  const runId = tipOf(repoPath);
  const repo = Repository.open(repoPath);
  try {
    const single = join(dir.path, 'single');
    const s = await recompute(repo, { at: runId, out: `${single}/`, jobPool: pool, batchRows: 300 });
    assert.equal(s.rows, 4050);
    assert.equal(s.parts, 3 + 2 + 1 + 3 + 1 + 4 + 2);
    const want = await readSorted(single);
    assert.equal(want.length, 4050);
    for (const [n, planned] of [[1, true], [2, false], [3, true], [4, true], [9, true]] as const) {
      const out = join(dir.path, `sharded-${n}`);
      if (planned) {
        const plan = planShards(repo, { at: 'main', out: `${out}/`, shards: n, batchRows: 300 });
        assert.equal(plan.at, runId);
        assert.deepEqual(plan.plan.flatMap((p) => p.dataIds).sort(), [...dataIds].sort());
      }
      // Shards in any order; the last one publishes; nothing under DIR until then.
      const order = Array.from({ length: n }, (_, i) => (i * 5 + 3) % n);
      for (const [k, i] of order.entries()) {
        assert.equal(existsSync(out), false, `N=${n}: ${out} before shard ${k + 1} of ${n}`);
        const r = await recomputeShard(repo, { at: runId, out: `${out}/`, shard: { index: i, count: n }, jobPool: pool, ...(planned ? {} : { batchRows: 300 }) });
        assert.equal(r.shard.published, k === n - 1, `N=${n}: published after shard ${k + 1}`);
      }
      assert.equal(existsSync(stagingOf(out)), false, `N=${n}: the staging area is removed`);
      assertSameDataset(out, single, `N=${n}`);
      assertSameRows(await readSorted(out), want, `N=${n}, our reader`);
      assert.deepEqual(await duckCompare(out, single), { rows: 4050n, onlyA: 0n, onlyB: 0n, differInOrder: 0n }, `N=${n}, DuckDB`);
    }
  } finally {
    repo.close();
  }
});

test('no reader sees DIR/ before every shard is written; --finish names the missing shards, then publishes; the CLI prints the plan as documented', async () => {
  const out = join(dir.path, 'partial');
  const plan = await cli('recompute', repoPath, '--at', 'main', '--plan', '3', '--out', `${out}/`, '--json');
  assert.equal(plan.code, 0, plan.stderr);
  const p = plan.json() as { at: string; shards: number; out: string; plan: { shard: number; dataIds: string[] }[] };
  assert.equal(p.at, tipOf(repoPath));
  assert.equal(p.shards, 3);
  assert.equal(p.out, `${out}/`);
  assert.deepEqual(p.plan.map((s) => s.shard), [0, 1, 2]);
  for (const i of [0, 2]) {
    const r = await cli('recompute', repoPath, '--at', p.at, '--shard', `${i}/3`, '--out', `${out}/`, '--workers', '0', '--json');
    assert.equal(r.code, 0, r.stdout);
    assert.equal((r.json()['shard'] as { published: boolean }).published, false);
  }
  assert.equal(existsSync(out), false);
  const staging = stagingOf(out);
  assert.deepEqual(readdirSync(staging).sort(), ['plan.json', 'shard-0-of-3', 'shard-2-of-3']);
  const db = await DuckDBInstance.create(':memory:');
  try {
    const c = await db.connect();
    await assert.rejects(c.runAndReadAll(`select count(*) from read_parquet('${out}/**/*.parquet', hive_partitioning = true)`), /No files found/);
  } finally {
    db.closeSync();
  }
  const early = await cli('recompute', '--finish', `${out}/`, '--json');
  assert.equal(early.code, 1);
  assert.equal(errorOf(early).code, 'NOT_FOUND');
  assert.match(errorOf(early).message, /shard 1 of 3/);
  assert.equal(existsSync(out), false);
  // The last shard is written by a run that does not publish (as if killed right after): --finish does it.
  const repo = Repository.open(repoPath);
  try {
    const r = await recomputeShard(repo, { at: p.at, out: `${out}/`, shard: { index: 1, count: 3 }, jobPool: pool });
    assert.equal(r.shard.published, true);
  } finally {
    repo.close();
  }
  const again = await cli('recompute', '--finish', `${out}/`, '--json');
  assert.equal(again.code, 0, again.stdout);
  assert.deepEqual(again.json(), { out, at: p.at, shards: 3, rows: 4050, parts: 7, published: false });
  const human = await cli('recompute', repoPath, '--plan', '2', '--out', join(dir.path, 'human/'));
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^plan of 2 shard\(s\) at run r-\w+ \(main\) for .*human\/, recorded in .*\.human\.skycal-shards:\n  shard 0: \d dataId\(s\), \d+ catalog bytes\n  shard 1: /);
  assert.match(human.stdout, /--shard I\/2 --out/);
});

test('the branch moving between the plan and the shards changes nothing they compute; a shard given the moved branch is a CONFLICT', async () => {
  const root = join(dir.path, 'moving');
  buildRepo(join(root, 'repo'), { rows: [400, 300, 500], detectorsPerVisit: 3, rowGroupRows: 200, seed: 8 });
  const r1 = tipOf(join(root, 'repo'));
  const before = join(root, 'before');
  const repo = Repository.open(join(root, 'repo'));
  try {
    await recompute(repo, { at: r1, out: `${before}/`, jobPool: pool });
    const out = join(root, 'out');
    planShards(repo, { at: 'main', out: `${out}/`, shards: 2 });
    // A new WCS for every dataId lands on main: 1 arcsecond east of the old one.
    const run = repo.begin({ stage: 'jointcal' });
    for (const { dataId } of repo.queryDataIds('src', undefined)) {
      const w = repo.getWcs(dataId).wcs;
      const moved = makeTanSipWcs({ crpix: w.crpix, crval: [w.crval.ra + 1 / 3600, w.crval.dec], cd: w.cd, bbox: { minX: 0, minY: 0, maxX: 2047, maxY: 4095 } });
      repo.put(run.id, 'wcs', dataId, new TextEncoder().encode(moved.toFitsHeader()));
    }
    repo.commit(run.id);
    const r2 = tipOf(join(root, 'repo'));
    assert.notEqual(r2, r1);
    await assert.rejects(
      recomputeShard(repo, { at: 'main', out: `${out}/`, shard: { index: 0, count: 2 }, jobPool: pool }),
      (e: Error & { code?: string }) => e.code === 'CONFLICT' && e.message.includes(`is now run ${r2}`) && e.message.includes(`--at ${r1}`),
    );
    for (const i of [1, 0]) await recomputeShard(repo, { at: r1, out: `${out}/`, shard: { index: i, count: 2 }, jobPool: pool });
    assertSameDataset(out, before, 'plan at r1, shards after main moved to r2');
    const now = join(root, 'now');
    await recompute(repo, { at: 'main', out: `${now}/`, jobPool: pool });
    // What the shards would have computed from main now: every row with a position differs (its WCS moved).
    const moved = (await readSorted(now)).filter((r) => Number.isFinite(r['coord_ra'])).length;
    assert.ok(moved > 1000);
    const d = await duckCompare(out, now);
    assert.deepEqual([d.onlyA, d.differInOrder], [BigInt(moved), BigInt(moved)]);
    assert.deepEqual(await duckCompare(out, before), { rows: 1200n, onlyA: 0n, onlyB: 0n, differInOrder: 0n });
  } finally {
    repo.close();
  }
});

test('re-running a shard writes the same bytes and succeeds, before and after DIR/ is published; a published part that differs is a CONFLICT', async () => {
  const out = join(dir.path, 'rerun');
  const runId = tipOf(repoPath);
  const repo = Repository.open(repoPath);
  const shard = (index: number) => recomputeShard(repo, { at: runId, out: `${out}/`, shard: { index, count: 2 }, jobPool: pool, batchRows: 300 });
  try {
    await shard(0);
    const first = tree(join(stagingOf(out), 'shard-0-of-2'));
    await shard(0);
    const second = tree(join(stagingOf(out), 'shard-0-of-2'));
    assert.deepEqual([...second.keys()], [...first.keys()]);
    for (const [k, v] of first) assert.ok(second.get(k)!.equals(v), `rerun before publishing: ${k}`);
    assert.equal((await shard(1)).shard.published, true);
    const published = tree(out);
    const inode = statSync(join(out, DATASET_MANIFEST)).ino;
    for (const i of [0, 1]) {
      const r = await shard(i);
      assert.deepEqual([r.shard.published, r.shard.verified], [true, true], `shard ${i} after publishing`);
    }
    assert.equal(statSync(join(out, DATASET_MANIFEST)).ino, inode, 'DIR/ is left as it was');
    assert.deepEqual(readdirSync(dir.path).filter((n) => n.startsWith('.rerun')), [], 'no staging area or verify folder left');
    const now = tree(out);
    for (const [k, v] of published) assert.ok(now.get(k)!.equals(v), k);
    // Flip one byte of a published part of shard 0: its re-run says so.
    const manifest = JSON.parse(published.get(DATASET_MANIFEST)!.toString()) as { files: { path: string; dataId: string }[]; shards: { plan: { dataIds: string[] }[] } };
    const part = manifest.files.find((f) => manifest.shards.plan[0]!.dataIds.includes(f.dataId))!;
    const bytes = Buffer.from(published.get(part.path)!);
    bytes[100] ^= 1;
    writeFileSync(join(out, part.path), bytes);
    await assert.rejects(shard(0), (e: Error & { code?: string }) => e.code === 'CONFLICT' && e.message.includes(part.path));
  } finally {
    repo.close();
  }
});

test('every bad argument is a clear USAGE or CONFLICT naming it', async () => {
  const out = `${join(dir.path, 'bad')}/`;
  const usage: [string[], RegExp][] = [
    [['--shard', '4/4'], /--shard 4\/4: .*zero-based/],
    [['--shard=-1/4'], /--shard -1\/4/],
    [['--shard', '0/0'], /--shard 0\/0/],
    [['--shard', 'junk'], /--shard junk/],
    [['--shard', '1/2/3'], /--shard 1\/2\/3/],
    [['--plan', '0'], /--plan 0: expected a number of shards/],
    [['--plan', 'x'], /--plan x/],
    [['--plan', '3', '--shard', '0/3'], /--plan and --shard/],
  ];
  for (const [args, message] of usage) {
    const r = await cli('recompute', repoPath, '--out', out, ...args, '--json');
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(errorOf(r).code, 'USAGE', args.join(' '));
    assert.match(errorOf(r).message, message, args.join(' '));
  }
  for (const [args, message] of [
    [['recompute', repoPath, '--plan', '2', '--out', join(dir.path, 'one.parquet')], /--plan writes a partitioned dataset: --out .*one\.parquet must be a folder/],
    [['recompute', repoPath, '--shard', '0/2', '--out', join(dir.path, 'one.parquet')], /--shard writes a partitioned dataset/],
    [['recompute', '--finish', out, '--at', 'main'], /--finish .*takes no --at/],
    [['recompute', '--out', out], /REPO is required/],
  ] as [string[], RegExp][]) {
    const r = await cli(...args, '--json');
    assert.equal(errorOf(r).code, 'USAGE', args.join(' '));
    assert.match(errorOf(r).message, message);
  }
  assert.equal(errorOf(await cli('recompute', '--finish', out, '--json')).code, 'NOT_FOUND');
  // Against a recorded plan: another N, another selection, another plan over it.
  assert.equal((await cli('recompute', repoPath, '--plan', '3', '--out', out, '--json')).code, 0);
  const conflicts: [string[], RegExp][] = [
    [['--shard', '0/4'], /N = 4 differs from the plan of 3 shard/],
    [['--shard', '0/3', '--where', 'visit=1000'], /--where .* differs from the plan/],
    [['--shard', '0/3', '--partition-by', 'detector'], /--partition-by detector differs/],
    [['--plan', '2'], /has a plan in progress at run r-\w+ \(3 shards, 0 written\)/],
  ];
  for (const [args, message] of conflicts) {
    const r = await cli('recompute', repoPath, '--out', out, ...args, '--workers', '0', '--json');
    assert.equal(r.code, 1, args.join(' '));
    assert.equal(errorOf(r).code, 'CONFLICT', args.join(' '));
    assert.match(errorOf(r).message, message);
  }
  assert.equal(existsSync(out), false);
});

test('a shard SIGKILLed mid-write and run again writes the same part; four shard processes started at once publish DIR/ once, whole', async () => {
  const root = join(dir.path, 'kill');
  // One 20,000-row catalog under 8 dataIds (stored once): cheap to build, a few hundred ms of work per shard.
  buildRepo(join(root, 'repo'), { rows: Array(8).fill(20_000), detectorsPerVisit: 4, rowGroupRows: 5000, seed: 31, sameCatalog: true });
  const runId = tipOf(join(root, 'repo'));
  const single = join(root, 'single');
  const repo = Repository.open(join(root, 'repo'));
  try {
    await recompute(repo, { at: runId, out: `${single}/`, jobPool: pool });
  } finally {
    repo.close();
  }
  const outs = join(root, 'outs');
  mkdirSync(outs);
  const out = join(outs, 'ds');
  const args = (i: number, n: number) => [cliPath, 'recompute', join(root, 'repo'), '--at', runId, '--shard', `${i}/${n}`, '--out', `${out}/`, '--workers', '0'];
  const child = spawn(process.execPath, args(1, 2), { stdio: 'ignore' });
  const staging = stagingOf(out);
  // Kill once the shard's temporary folder holds a part (some of its parts are written, not all).
  const t0 = Date.now();
  const partsIn = (d: string) => {
    try {
      return readdirSync(d, { recursive: true }).filter((f) => String(f).endsWith('.parquet')).length;
    } catch {
      return 0; // renamed away between two looks
    }
  };
  const temp = () => (existsSync(staging) ? readdirSync(staging).find((n) => n.startsWith('.shard-1-of-2.')) : undefined);
  while (!(temp() !== undefined && partsIn(join(staging, temp()!)) > 0) && Date.now() - t0 < 30_000 && child.exitCode === null) await new Promise((r) => setTimeout(r, 2));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  assert.ok(temp() !== undefined, 'killed while its temporary folder was there');
  assert.ok(partsIn(join(staging, temp()!)) < 4, 'killed before all of its 4 parts were written');
  assert.equal(existsSync(join(staging, 'shard-1-of-2')), false, 'no shard folder from the killed run');
  assert.equal(existsSync(out), false);
  const again = spawnSync(process.execPath, [...args(1, 2), '--json'], { encoding: 'utf8' });
  assert.equal(again.status, 0, again.stderr);
  assert.equal(temp(), undefined, 'the killed run\'s temporary is removed');
  const part = tree(join(staging, 'shard-1-of-2'));
  const want = tree(single);
  for (const [k, v] of part) if (k !== DATASET_MANIFEST) assert.ok(want.get(k)!.equals(v), `shard 1 re-run: ${k}`);
  assert.equal(part.size - 1, 4);
  // Now a fresh set of four shard processes at once (no plan step): one publishes, every one succeeds.
  const out4 = join(outs, 'ds4');
  const runs = await Promise.all([0, 1, 2, 3].map((i) => new Promise<{ code: number | null; stdout: string }>((resolve) => {
    const c = spawn(process.execPath, [cliPath, 'recompute', join(root, 'repo'), '--at', runId, '--shard', `${i}/4`, '--out', `${out4}/`, '--workers', '0', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.once('exit', (code) => resolve({ code, stdout }));
  })));
  for (const r of runs) assert.equal(r.code, 0, r.stdout);
  assert.ok(runs.some((r) => JSON.parse(r.stdout).shard.published), 'one of them published');
  assertSameDataset(out4, single, '4 concurrent shard processes');
  assert.deepEqual(readdirSync(outs).sort(), ['.ds.skycal-shards', 'ds4']);
});
