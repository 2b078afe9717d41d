/**
 * Concurrency with real processes: four processes interleave put + commit,
 * import, gc and verify (which removes leftovers with no safe age) for a
 * bounded time over one repository, sharing file contents between live runs
 * and collectable ones. Afterwards every dataset a process committed reads
 * back with its checksum and verify is clean: a file a committed entry names
 * is never removed, whatever the interleaving (issue 11 item 5).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Repository } from '../src/butler/repository.js';
import { exportBundle } from '../src/butler/bundle.js';
import { verifyRepository } from '../src/butler/maintenance.js';
import { sha256Hex } from '../src/butler/hash.js';
import { childScript, tempDir } from './helpers.js';
import { poolCatalog } from './butler-race-child.js';

const child = childScript('butler-race-child');
const PROCESSES = 4;
const RACE_MS = Number(process.env['SKYCAL_RACE_MS'] ?? 3000);

function race(root: string, bundle: string): Promise<{ out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child], {
      env: { ...process.env, SKYCAL_RACE_REPO: root, SKYCAL_RACE_MS: String(RACE_MS), SKYCAL_RACE_BUNDLE: bundle },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => (code === 0 ? resolve({ out, err }) : reject(new Error(`race child failed (${code}): ${err}`))));
  });
}

test(`${PROCESSES} processes interleaving put, commit, import, gc and verify for ${RACE_MS} ms: every committed dataset reads back, verify is clean`, async () => {
  const tmp = tempDir();
  try {
    const source = Repository.init(join(tmp.path, 'source'));
    const run = source.begin({ stage: 'up' });
    source.put(run.id, 'src', 'proc=bundle,n=0,d=0', poolCatalog(0)); // shares its file with the pool
    source.put(run.id, 'src', 'proc=bundle,n=0,d=1', poolCatalog(3));
    source.commit(run.id);
    const bundle = join(tmp.path, 'bundle');
    await exportBundle(source, bundle);
    source.close();
    const root = join(tmp.path, 'repo');
    Repository.init(root).close();
    const results = await Promise.all(Array.from({ length: PROCESSES }, () => race(root, bundle)));
    const committed = results.flatMap((r) => r.out.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { at: string; dataId: string; pool: number }));
    const counts = results.map((r) => r.err.trim());
    assert.ok(committed.length > 0, `nothing committed: ${counts.join(' ')}`);
    for (const c of counts) assert.match(c, /"gc":[1-9]/, `a process never collected: ${c}`);
    const repo = Repository.open(root);
    try {
      for (const c of committed) {
        const got = repo.get('src', c.dataId, { at: c.at }); // checks the sha256 of the stored file
        assert.equal(sha256Hex(got.bytes), sha256Hex(poolCatalog(c.pool)), `${c.at} ${c.dataId}`);
      }
      const report = verifyRepository(repo, { minAgeMs: 0 });
      assert.deepEqual(report.problems, []);
      assert.ok(report.checkedFiles > 0);
    } finally {
      repo.close();
    }
  } finally {
    tmp.cleanup();
  }
});
