import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { DuckDBInstance } from '@duckdb/node-api';
import { Table, type Vector } from 'apache-arrow';
import { Repository } from '../src/butler/repository.js';
import { readCatalogBatches } from '../src/catalog/read.js';
import { withSkyAndCalibration } from '../src/catalog/views.js';
import { readParquetFooter, rowGroupSpans } from '../src/catalog/parquetStitch.js';
import { recompute, openRecomputePool, META_RECOMPUTE, type RecomputePool } from '../src/recompute/recompute.js';
import { TaskPool } from '../src/parallel/taskPool.js';
import { DATASET_MANIFEST } from '../src/io/atomicOutput.js';
import { buildRepo } from './recompute-repo.js';
import { cliPath, repoRoot, runCli, tempDir } from './helpers.js';

let dir: { path: string; cleanup: () => void };
const pools = new Map<number, RecomputePool>();

before(async () => {
  dir = tempDir('skycal-recompute-parallel-');
  for (const w of [1, 2]) pools.set(w, await openRecomputePool(w));
});

after(async () => {
  for (const p of pools.values()) await p.close();
  dir.cleanup();
});

async function readAll(path: string, format?: 'parquet'): Promise<Table> {
  const batches = [];
  const source = await readCatalogBatches(path, format === undefined ? {} : { format });
  for await (const b of source) batches.push(b);
  return batches.length === 0 ? new Table(source.schema) : new Table(batches);
}

/** The library's in-thread path, per dataId in the repository's order: the catalog read whole, derived with no workers, dataId columns in front. */
async function expected(root: string): Promise<Map<string, unknown[]>> {
  const repo = Repository.open(root);
  const columns = new Map<string, unknown[]>();
  try {
    for (const { dataId: id } of repo.queryDataIds('src', undefined, {})) {
      const keys = Object.fromEntries(id.split(',').map((kv) => kv.split('=') as [string, string]));
      const table = await readAll(repo.getCatalog(id).path, 'parquet');
      const derived = await withSkyAndCalibration(table, repo.getWcs(id).wcs, repo.getPhotoCalib(id).photoCalib, { workers: 0 });
      const put = (name: string, values: unknown[]) => columns.set(name, [...(columns.get(name) ?? []), ...values]);
      for (const k of ['detector', 'instrument', 'visit']) put(k, Array.from({ length: derived.numRows }, () => (k === 'instrument' ? keys[k] : BigInt(keys[k]!))));
      for (const f of derived.schema.fields) put(f.name, [...(derived.getChild(f.name) as Vector)]);
    }
  } finally {
    repo.close();
  }
  return columns;
}

interface Columns {
  names: string[];
  get: (name: string) => unknown[];
}

const columnsOf = (t: Table): Columns => ({ names: t.schema.fields.map((f) => f.name), get: (n) => [...(t.getChild(n) as Vector)] });

function assertSameColumns(actual: Columns, want: Map<string, unknown[]>, what: string): void {
  assert.deepEqual([...actual.names].sort(), [...want.keys()].sort(), `${what}: columns`);
  for (const [name, values] of want) {
    const got = actual.get(name);
    assert.equal(got.length, values.length, `${what}: ${name} rows`);
    // Object.is: bit for bit for doubles (NaN equals NaN, -0 differs from 0).
    for (let i = 0; i < values.length; i++) if (!Object.is(got[i], values[i])) assert.fail(`${what}: ${name}[${i}] = ${String(got[i])}, expected ${String(values[i])}`);
  }
}

/** A partitioned dataset read back part by part in the manifest's order, the partition columns from the paths. */
async function readDataset(path: string): Promise<Columns> {
  const manifest = JSON.parse(readFileSync(join(path, DATASET_MANIFEST), 'utf8')) as { files: { path: string }[] };
  const columns = new Map<string, unknown[]>();
  const put = (name: string, values: unknown[]) => columns.set(name, [...(columns.get(name) ?? []), ...values]);
  for (const f of manifest.files) {
    const part = await readAll(join(path, f.path));
    for (const segment of f.path.split('/').slice(0, -1)) {
      const [k, v] = segment.split('=') as [string, string];
      put(k, Array.from({ length: part.numRows }, () => (k === 'instrument' ? v : BigInt(v))));
    }
    for (const field of part.schema.fields) put(field.name, [...(part.getChild(field.name) as Vector)]);
  }
  return { names: [...columns.keys()], get: (n) => columns.get(n) ?? [] };
}

test('recompute in the workers equals the in-thread library path bit for bit, for 0, 1, 2 workers, single file and partitioned (property over small repositories)', async () => {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        rows: fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 3 }),
        detectorsPerVisit: fc.integer({ min: 1, max: 2 }),
        rowGroupRows: fc.integer({ min: 60, max: 400 }),
        batchRows: fc.integer({ min: 1, max: 600 }),
        seed: fc.integer({ min: 1, max: 1000 }),
      }),
      async (spec) => {
        const root = join(dir.path, `prop-${n++}`);
        buildRepo(join(root, 'repo'), spec);
        const want = await expected(join(root, 'repo'));
        const repo = Repository.open(join(root, 'repo'));
        const csvTexts: string[] = [];
        try {
          for (const workers of [0, 1, 2]) {
            const pool = workers === 0 ? {} : { jobPool: pools.get(workers)! };
            const file = join(root, `out-${workers}.parquet`);
            const s = await recompute(repo, { out: file, workers, ...pool, batchRows: spec.batchRows });
            assert.equal(s.rows, spec.rows.reduce((a, b) => a + b, 0));
            assertSameColumns(columnsOf(await readAll(file)), want, `${workers} workers, one file`);
            const ds = join(root, `ds-${workers}/`);
            await recompute(repo, { out: ds, workers, ...pool, batchRows: spec.batchRows, partitionBy: ['visit', 'detector'] });
            assertSameColumns(await readDataset(ds), want, `${workers} workers, partitioned`);
            const arrow = join(root, `out-${workers}.arrows`);
            await recompute(repo, { out: arrow, workers, ...pool, batchRows: spec.batchRows });
            assertSameColumns(columnsOf(await readAll(arrow)), want, `${workers} workers, .arrows`);
            const csv = join(root, `out-${workers}.csv`);
            await recompute(repo, { out: csv, workers, ...pool, batchRows: spec.batchRows });
            csvTexts.push(readFileSync(csv, 'utf8'));
          }
          // The CSV pieces the jobs write: one header, every row, the same text for every worker count.
          const lines = csvTexts[0]!.split('\n');
          assert.equal(lines[0], [...want.keys()].join(','));
          assert.equal(lines.length, 1 + want.get('x')!.length + 1, 'header, rows, final newline');
          assert.equal(lines.filter((l) => l === lines[0]).length, 1, 'one header row');
          for (const t of csvTexts.slice(1)) assert.equal(t, csvTexts[0]);
        } finally {
          repo.close();
        }
      },
    ),
    { numRuns: 3, seed: 12 },
  );
});

test('a dictionary-encoded source column comes through .arrows and Parquet outputs written by several jobs (each job\'s stream replaces the dictionary), for 0 and 2 workers', async () => {
  const root = join(dir.path, 'dict');
  buildRepo(join(root, 'repo'), { rows: [400, 250], detectorsPerVisit: 2, rowGroupRows: 100, seed: 4, band: true });
  const want = await expected(join(root, 'repo'));
  assert.ok(new Set(want.get('band')).size > 2, 'the catalogs hold several bands');
  const repo = Repository.open(join(root, 'repo'));
  try {
    for (const workers of [0, 2]) {
      for (const ext of ['arrows', 'parquet']) {
        const out = join(root, `out-${workers}.${ext}`);
        await recompute(repo, { out, workers, ...(workers > 0 && { jobPool: pools.get(workers)! }), batchRows: 100 });
        const got = await readAll(out);
        assert.ok(got.schema.fields.find((f) => f.name === 'band')!.type.toString().startsWith('Dictionary'), `${ext}: band stays dictionary-encoded`);
        assertSameColumns(columnsOf(got), want, `${workers} workers, .${ext}`);
      }
    }
  } finally {
    repo.close();
  }
});

test('DuckDB reads the partitioned dataset as one table with the same rows as the single file; each part and the manifest carry the provenance', async () => {
  const root = join(dir.path, 'duck');
  const { dataIds } = buildRepo(join(root, 'repo'), { rows: [900, 500, 0, 700], detectorsPerVisit: 2, rowGroupRows: 300, seed: 5 });
  dataIds.sort();
  const repo = Repository.open(join(root, 'repo'));
  const file = join(root, 'one.parquet');
  const ds = join(root, 'ds');
  try {
    await recompute(repo, { out: file, jobPool: pools.get(2)!, batchRows: 300 });
    const s = await recompute(repo, { out: `${ds}/`, jobPool: pools.get(2)!, batchRows: 300 });
    assert.equal(s.parts, 3 + 2 + 1 + 3);
  } finally {
    repo.close();
  }
  const db = await DuckDBInstance.create(':memory:');
  try {
    const c = await db.connect();
    const q = async (sql: string) => (await c.runAndReadAll(sql)).getRowObjectsJS();
    const dsSql = `read_parquet('${ds}/**/*.parquet', hive_partitioning = true)`;
    const cols = (await q(`describe select * from '${file}'`)).map((r) => `"${r['column_name'] as string}"`).join(', ');
    const [counts] = await q(`select (select count(*) from '${file}') as a, (select count(*) from ${dsSql}) as b`);
    assert.deepEqual(counts, { a: 2100n, b: 2100n });
    for (const [x, y] of [[`'${file}'`, dsSql], [dsSql, `'${file}'`]]) {
      const [d] = await q(`select count(*) as n from (select ${cols} from ${x} except all select ${cols} from ${y})`);
      assert.equal(d!['n'], 0n, `rows of ${x} not in ${y}`);
    }
    // Each part names the versions of its own dataId; the whole file names all of them.
    const manifest = JSON.parse(readFileSync(join(ds, DATASET_MANIFEST), 'utf8'));
    assert.deepEqual(manifest.partitionBy, ['visit', 'detector']);
    assert.equal(manifest.rows, 2100);
    const part = manifest.files[0];
    const kv = await q(`select decode(key) as k, decode(value) as v from parquet_kv_metadata('${join(ds, part.path)}')`);
    const prov = JSON.parse(kv.find((r) => r['k'] === META_RECOMPUTE)!['v'] as string);
    assert.deepEqual(prov.versions.map((v: { dataId: string }) => v.dataId), [part.dataId]);
    const whole = await q(`select decode(value) as v from parquet_kv_metadata('${file}') where decode(key) = '${META_RECOMPUTE}'`);
    assert.deepEqual(JSON.parse(whole[0]!['v'] as string).versions.map((v: { dataId: string }) => v.dataId), dataIds);
  } finally {
    db.closeSync();
  }
  // pyarrow, where installed, reads it as one dataset too.
  const py = spawnSync('python3', ['-c', `import pyarrow.dataset as d, pyarrow.parquet as pq; t = d.dataset('${ds}', format='parquet', partitioning='hive').to_table(); print(t.num_rows, pq.read_table('${file}').num_rows)`], { encoding: 'utf8' });
  if (py.status === 0) assert.equal(py.stdout.trim(), '2100 2100');
});

test('a job that fails mid-recompute (a corrupt row group) leaves no output and no temporary; the next run succeeds', async () => {
  const root = join(dir.path, 'fail');
  const { dataIds } = buildRepo(join(root, 'repo'), { rows: [600, 600, 600], detectorsPerVisit: 3, rowGroupRows: 200, seed: 9 });
  const repo = Repository.open(join(root, 'repo'));
  try {
    const path = repo.getCatalog(dataIds[2]!).path;
    const good = readFileSync(path);
    const span = rowGroupSpans((await readParquetFooter(path)).meta)[1]!;
    const bad = Buffer.from(good);
    bad.fill(0xff, span.start, span.start + 32); // the second row group's first page header
    writeFileSync(path, bad);
    const out = join(root, 'out');
    for (const [workers, target] of [[2, `${out}.parquet`], [2, `${out}/`], [0, `${out}.arrow`], [1, `${out}.parquet`]] as const) {
      await assert.rejects(
        recompute(repo, { out: target, workers, ...(workers > 0 && { jobPool: pools.get(workers)! }), batchRows: 200 }),
        (e: Error & { code?: string }) => e.code === 'BAD_INPUT' && e.message.includes(dataIds[2]!) && /corrupt Parquet/.test(e.message),
      );
      assert.deepEqual(readdirSync(root).sort(), ['repo'], `${workers} workers, ${target}: nothing left beside the repository`);
    }
    writeFileSync(path, good);
    const s = await recompute(repo, { out: `${out}/`, jobPool: pools.get(2)!, batchRows: 200 });
    assert.equal(s.rows, 1800);
  } finally {
    repo.close();
  }
});

test('SIGINT and SIGKILL during a recompute leave no output and no partial dataset; the next run succeeds and clears what SIGKILL left', async () => {
  const root = join(dir.path, 'signals');
  buildRepo(join(root, 'repo'), { rows: [5000, 5000, 5000, 5000], detectorsPerVisit: 2, rowGroupRows: 1000, seed: 3 });
  const outDir = join(root, 'outs');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(outDir);
  for (const [signal, out] of [['SIGINT', 'ds/'], ['SIGKILL', 'one.parquet']] as const) {
    const target = join(outDir, out);
    const child = spawn(process.execPath, [cliPath, 'recompute', join(root, 'repo'), '--out', target, '--workers', '1'], { stdio: 'ignore' });
    const t0 = Date.now();
    // Interrupt once the temporary output exists (the job is under way).
    while (!readdirSync(outDir).some((f) => f.endsWith('.tmp')) && Date.now() - t0 < 20000 && child.exitCode === null) await new Promise((r) => setTimeout(r, 2));
    child.kill(signal);
    const code = await new Promise((r) => child.once('exit', (c, s) => r(c ?? s)));
    const name = out.replace(/\/$/, '');
    assert.equal(existsSync(join(outDir, name)), false, `${signal} ${out}: nothing under the output name (exit ${String(code)})`);
    if (signal === 'SIGINT') assert.deepEqual(readdirSync(outDir), [], `${signal} ${out}: the temporary is removed`);
    // The next run reads what the killed one left on disk: in-process (the same main() and exit code as the bin).
    const again = await runCli(['recompute', join(root, 'repo'), '--out', target, '--workers', '1', '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).rows, 20000);
    assert.deepEqual(readdirSync(outDir), [name], `${signal} ${out}: only the output, no stale temporary`);
    const { rmSync } = await import('node:fs');
    rmSync(target, { recursive: true });
  }
});

test('recompute of a repository several times larger than the heap completes in memory bounded by the job size, not the data', () => {
  const d = tempDir();
  try {
    // Ten dataIds sharing one 300,000-row catalog (the store keeps it once): 3e6 rows out.
    buildRepo(join(d.path, 'repo'), { rows: Array(10).fill(300_000), detectorsPerVisit: 5, rowGroupRows: 65_536, seed: 4, sameCatalog: true });
    const child = spawnSync(process.execPath, ['--max-old-space-size=40', join(repoRoot, 'test', 'fixtures', 'recompute-memory-child.mjs'), d.path, '65536'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.status, 0, child.stderr);
    const report = JSON.parse(child.stdout.trim()) as { rows: number; written: number; dataMB: number; maxRssMB: number };
    assert.equal(report.rows, 3_000_000);
    assert.equal(report.written, report.rows);
    assert.ok(report.dataMB > 8 * 40, `the output's columns (${report.dataMB.toFixed(0)} MiB) are 8x the 40 MiB heap`);
    // Node, the compiled parquet-wasm and one worker with its wasm memory take ~190 MiB before any data (measured: 188 MiB for 1.3e5 rows).
    assert.ok(report.maxRssMB < 0.9 * report.dataMB, `peak RSS ${report.maxRssMB.toFixed(0)} MiB for ${report.dataMB.toFixed(0)} MiB of columns`);
  } finally {
    d.cleanup();
  }
});

test('openRecomputePool starts its workers at once, so that they boot while the caller goes on; a bare TaskPool starts at its first task', async () => {
  const lazy = new TaskPool({ workers: 1, workerUrl: new URL('../src/recompute/recomputeWorker.js', import.meta.url) });
  assert.equal(lazy.threads, 0);
  const pool = await openRecomputePool(2);
  try {
    assert.equal(pool.threads, 2);
  } finally {
    await pool.close();
  }
  assert.equal(pool.threads, 0);
});
