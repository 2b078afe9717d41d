/**
 * The PostgreSQL registry's own contract (issue 13): where a repository names
 * it, what init refuses, read-only opens, and faults with real processes and
 * a real server: a SIGKILLed committing client and a server restart in the
 * middle of a job leave the repository all-or-nothing, and the client gets
 * an IO error naming the registry, never a hang (every wait is bounded).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Repository } from '../src/butler/repository.js';
import { verifyRepository } from '../src/butler/maintenance.js';
import { childScript, errorCodeOf, tempDir } from './helpers.js';
import { photoCalibJson } from './butler-fixtures.js';
import { fails, ok } from './repoCli.js';
import { adminSql, freshDatabaseUrl, postgresBin, skipWithoutPostgres, startCluster, type Cluster } from './postgres.js';
import { POSTGRES_CHILD_DATASETS } from './butler-postgres-child.js';

const child = childScript('butler-postgres-child');
const enc = (s: string) => new TextEncoder().encode(s);

test('init --registry: the URL is kept in registry.json; a password in it is USAGE and nothing is written; a database holding a registry is CONFLICT', async (t) => {
  if (skipWithoutPostgres(t)) return;
  const tmp = tempDir();
  try {
    const url = freshDatabaseUrl();
    const root = join(tmp.path, 'repo');
    assert.deepEqual(await ok('init', root, '--registry', url), { repository: root, registry: url });
    assert.deepEqual(JSON.parse(readFileSync(join(root, 'registry.json'), 'utf8')), { registry: url });
    assert.equal(existsSync(join(root, 'registry.sqlite')), false);
    const withPassword = url.replace('postgres@', 'postgres:secret@');
    const refused = await fails('init', join(tmp.path, 'pw'), '--registry', withPassword);
    assert.equal(refused.code, 2);
    assert.equal(refused.error.code, 'USAGE');
    assert.doesNotMatch(refused.error.message, /secret/);
    assert.equal(existsSync(join(tmp.path, 'pw')), false);
    assert.equal((await fails('init', join(tmp.path, 'pw2'), '--registry', `${url}?password=secret`)).error.code, 'USAGE');
    assert.equal((await fails('init', join(tmp.path, 'bad'), '--registry', 'mysql://h/db')).error.code, 'USAGE');
    // A second repository on the same database would share (and corrupt) the first one's registry.
    const again = await fails('init', join(tmp.path, 'other'), '--registry', url);
    assert.equal(again.error.code, 'CONFLICT');
    assert.equal(existsSync(join(tmp.path, 'other', 'registry.json')), false);
    assert.deepEqual((await ok('log', root)).runs, []);
    // A hand-edited registry.json with a password is refused at open, never used.
    writeFileSync(join(root, 'registry.json'), JSON.stringify({ registry: withPassword }));
    assert.equal((await fails('log', root)).error.code, 'BAD_INPUT');
  } finally {
    tmp.cleanup();
  }
});

test('a read-only open reads and refuses writes with IO naming the registry', (t) => {
  if (skipWithoutPostgres(t)) return;
  const tmp = tempDir();
  try {
    const url = freshDatabaseUrl();
    const root = join(tmp.path, 'repo');
    const repo = Repository.init(root, { registry: url });
    const run = repo.begin({ stage: 'a' });
    repo.put(run.id, 'photoCalib', 'visit=1', enc(photoCalibJson(2)));
    repo.commit(run.id);
    repo.close();
    const ro = Repository.open(root, { readonly: true });
    try {
      assert.equal(ro.registry.readOnly, true);
      assert.equal(ro.get('photoCalib', 'visit=1').entry.runId, run.id);
      assert.throws(() => ro.begin({ stage: 'b' }), (e: Error & { code?: string }) => e.code === 'IO' && e.message.startsWith(url));
    } finally {
      ro.close();
    }
  } finally {
    tmp.cleanup();
  }
});

interface ChildRun { committed: string[]; error?: { code: string; message: string }; exit: number | null; signal: string | null }

/** Start the job; `during(go)` runs once it has opened the repository; resolves when it exits (bounded by `limitMs`). */
function job(root: string, limitMs: number, during: (kill: () => void) => void): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child], { env: { ...process.env, SKYCAL_PG_CHILD_REPO: root }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: ChildRun = { committed: [], exit: null, signal: null };
    let buffer = '';
    let err = '';
    const bound = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`the job did not finish within ${limitMs} ms (a hang): ${err}`));
    }, limitMs);
    p.stderr.on('data', (d) => (err += d));
    p.stdout.on('data', (d) => {
      buffer += d;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line === 'go') during(() => p.kill('SIGKILL'));
        else if (line.startsWith('committed ')) out.committed.push(line.slice('committed '.length));
        else if (line.startsWith('error ')) out.error = JSON.parse(line.slice('error '.length)) as ChildRun['error'];
      }
    });
    p.on('exit', (code, signal) => {
      clearTimeout(bound);
      out.exit = code;
      out.signal = signal;
      resolve(out);
    });
  });
}

/** All or nothing: every committed job run holds all its datasets, which read back; no open run is visible; verify is clean. */
function checkAllOrNothing(root: string, reported: readonly string[]): number {
  const repo = Repository.open(root);
  try {
    const committed = repo.registry.runsByState('committed').filter((r) => r.stage === 'job');
    const ids = new Set(committed.map((r) => r.id));
    for (const id of reported) assert.ok(ids.has(id), `run ${id} was reported committed but is not`);
    for (const r of committed) {
      const entries = repo.registry.runEntries(r.id);
      assert.equal(entries.length, POSTGRES_CHILD_DATASETS, `run ${r.id}`);
      for (const e of entries) assert.ok(repo.get('photoCalib', e.dataId).bytes.length > 0);
    }
    for (const r of repo.registry.runsByState('open')) {
      for (const e of repo.registry.runEntries(r.id)) {
        assert.equal(errorCodeOf(() => repo.resolve('photoCalib', e.dataId)), 'NOT_FOUND', `open run ${r.id}'s ${e.dataId} is visible`);
      }
    }
    assert.deepEqual(verifyRepository(repo, { minAgeMs: 0 }).problems, []);
    // The killed client's lock went with its connection: a commit now lands at once.
    const t0 = Date.now();
    const run = repo.begin({ stage: 'after' });
    repo.put(run.id, 'photoCalib', `after=${t0}`, enc(photoCalibJson(7)));
    repo.commit(run.id);
    assert.ok(Date.now() - t0 < 5000, `a commit after the fault took ${Date.now() - t0} ms`);
    return committed.length;
  } finally {
    repo.close();
  }
}

test('SIGKILL of a committing client at random moments: the repository stays all-or-nothing and the lock is released', async (t) => {
  if (skipWithoutPostgres(t)) return;
  const tmp = tempDir();
  try {
    const root = join(tmp.path, 'repo');
    Repository.init(root, { registry: freshDatabaseUrl() }).close();
    let committedRuns = 0;
    for (let k = 0; k < 6; k++) {
      const r = await job(root, 60_000, (kill) => setTimeout(kill, 30 + Math.random() * 300));
      assert.equal(r.signal, 'SIGKILL', `job exited on its own: ${JSON.stringify(r.error)}`);
      committedRuns = checkAllOrNothing(root, r.committed);
    }
    t.diagnostic(`${committedRuns} job runs committed across 6 kills`);
  } finally {
    tmp.cleanup();
  }
});

test('a PostgreSQL restart (pg_ctl restart -m fast) in the middle of a job: the job gets IO naming the registry, never a hang; all-or-nothing after', async (t) => {
  if (postgresBin() === undefined && skipWithoutPostgres(t)) return;
  if (postgresBin() === undefined) return;
  let cluster: Cluster | undefined;
  const tmp = tempDir();
  try {
    cluster = startCluster();
    const url = cluster.url('restart');
    adminSql('CREATE DATABASE restart', cluster.url('postgres'));
    const root = join(tmp.path, 'repo');
    Repository.init(root, { registry: url }).close();
    const started = Date.now();
    const r = await job(root, 60_000, () => {
      setTimeout(() => {
        const restarted = cluster!.pgCtl('-m', 'fast', '-w', '-t', '30', 'restart');
        assert.equal(restarted.status, 0, restarted.stderr);
      }, 300);
    });
    t.diagnostic(`the job ended ${Date.now() - started} ms after it started, with ${r.committed.length} commits and ${JSON.stringify(r.error)}`);
    assert.equal(r.exit, 3);
    assert.equal(r.error?.code, 'IO');
    assert.ok(r.error!.message.startsWith(`${url}: `), r.error!.message);
    checkAllOrNothing(root, r.committed);
    // A stopped server is IO at once (connection refused), not a wait.
    assert.equal(cluster.pgCtl('-m', 'fast', '-w', 'stop').status, 0);
    const t0 = Date.now();
    assert.equal(errorCodeOf(() => Repository.open(root)), 'IO');
    assert.ok(Date.now() - t0 < 15_000);
  } finally {
    cluster?.stop();
    tmp.cleanup();
  }
});
