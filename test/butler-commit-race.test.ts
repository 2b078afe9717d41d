/**
 * Commits racing on one branch from many processes (issue 13): 16 processes
 * on PostgreSQL, 8 on SQLite, COMMITS each (50 in the soak, see below). Every commit either lands or
 * is CONFLICT (its tip moved) and then lands by merge; afterwards main's
 * history holds every dataset exactly once (counted), every run is
 * committed, and verify is clean. A lost update (two commits moving main
 * from the same tip) would drop a dataset from the history.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Repository } from '../src/butler/repository.js';
import { verifyRepository } from '../src/butler/maintenance.js';
import { childScript, tempDir } from './helpers.js';
import { backends } from './butler-fixtures.js';
import { skipWithoutPostgres } from './postgres.js';

const child = childScript('butler-commit-race-child');
/**
 * Commits per process: the 50 with SKYCAL_COMMIT_RACE_N=50 (a soak: on a loaded 2-core machine
 * 16 x 50 on PostgreSQL takes over a minute, since nearly every commit loses its tip and merges, and a
 * merge's cost grows with the history); 10 in the suite, which keeps its time.
 */
const COMMITS = Number(process.env['SKYCAL_COMMIT_RACE_N'] ?? 10);

interface ChildReport { id: number; dataIds: string[]; direct: number; merged: number }

function racer(root: string, id: number): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child], {
      env: { ...process.env, SKYCAL_COMMIT_RACE_REPO: root, SKYCAL_COMMIT_RACE_N: String(COMMITS), SKYCAL_COMMIT_RACE_ID: String(id) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as ChildReport) : reject(new Error(`racer ${id} failed (${code}): ${err}`))));
  });
}

for (const backend of backends) {
  const processes = backend.name === 'postgresql' ? 16 : 8;
  test(`${processes} processes x ${COMMITS} commits racing on main [${backend.name}]: each lands or is CONFLICT then merged; history holds every dataset once; verify is clean`, async (t) => {
    if (backend.name === 'postgresql' && skipWithoutPostgres(t)) return;
    const tmp = tempDir();
    try {
      const root = join(tmp.path, 'repo');
      backend.init(root).close();
      const started = Date.now();
      const reports = await Promise.all(Array.from({ length: processes }, (_, i) => racer(root, i)));
      const elapsedMs = Date.now() - started;
      for (const r of reports) assert.equal(r.direct + r.merged, COMMITS, `racer ${r.id}`);
      const merged = reports.reduce((s, r) => s + r.merged, 0);
      t.diagnostic(`${processes * COMMITS} commits in ${elapsedMs} ms: ${processes * COMMITS - merged} landed directly, ${merged} by merge after CONFLICT`);
      const repo = Repository.open(root);
      try {
        const history = repo.log();
        const runs = history.filter((r) => r.stage === 'race');
        assert.equal(runs.length, processes * COMMITS, 'every race run is in main\'s history');
        assert.equal(history.filter((r) => r.stage === 'merge').length, merged, 'one merge run per CONFLICT');
        const written = runs.flatMap((r) => repo.registry.runEntries(r.id).map((e) => e.dataId));
        assert.equal(written.length, processes * COMMITS);
        assert.equal(new Set(written).size, processes * COMMITS, 'no dataset twice');
        const expected = reports.flatMap((r) => r.dataIds).sort();
        assert.deepEqual([...written].sort(), expected);
        assert.deepEqual(repo.queryDataIds('photoCalib', undefined).map((x) => x.dataId).sort(), expected, 'every dataset resolves at main');
        assert.deepEqual(repo.registry.runsByState('open'), []);
        const report = verifyRepository(repo, { minAgeMs: 0 });
        assert.deepEqual(report.problems, []);
        assert.equal(report.checkedFiles, processes * COMMITS);
      } finally {
        repo.close();
      }
    } finally {
      tmp.cleanup();
    }
  });
}
