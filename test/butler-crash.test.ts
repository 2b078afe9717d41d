import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Repository } from '../src/butler/repository.js';
import { verifyRepository } from '../src/butler/maintenance.js';
import { childScript, tempDir } from './helpers.js';
import { DATASETS_PER_RUN } from './butler-crash-child.js';

const child = childScript('butler-crash-child');

/** Start the child, let it work for `ms` after it is ready, then SIGKILL it. */
function runAndKill(root: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child], { env: { ...process.env, SKYCAL_CRASH_REPO: root }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.stdout.once('data', () => setTimeout(() => p.kill('SIGKILL'), ms));
    p.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited on its own: ${err}`))));
  });
}

test('a process SIGKILLed at random points of put and commit leaves no partial run and nothing verify cannot explain', async () => {
  const tmp = tempDir();
  try {
    const root = join(tmp.path, 'repo');
    Repository.init(root).close();
    let committedSeen = 0;
    for (let round = 0; round < 6; round++) {
      await runAndKill(root, 40 + Math.floor(Math.random() * 400));
      const repo = Repository.open(root);
      try {
        const report = verifyRepository(repo, { minAgeMs: 0 });
        assert.deepEqual(report.problems, [], `round ${round}`);
        const committed = repo.registry.runsByState('committed');
        for (const run of committed) {
          // Whole runs only: every committed run has all its datasets, each file present (verify checked the checksums).
          assert.equal(repo.registry.runEntries(run.id).filter((e) => e.kind === 'dataset').length, DATASETS_PER_RUN, `run ${run.id}`);
        }
        // What main shows is exactly the committed runs; open (killed) runs are invisible.
        assert.equal(repo.log().length, committed.length);
        for (const run of repo.registry.runsByState('open')) {
          for (const e of repo.registry.runEntries(run.id)) {
            assert.throws(() => repo.resolve('src', e.dataId), /not found/);
          }
        }
        // After verify, every file in the store is named by the registry.
        assert.deepEqual(verifyRepository(repo, { dryRun: true, minAgeMs: 0 }).leftovers, { tempFiles: [], unreferencedFiles: [] });
        repo.recover(undefined, { force: true });
        committedSeen = committed.length;
      } finally {
        repo.close();
      }
    }
    assert.ok(committedSeen > 0, "the child committed some runs before it was killed");
  } finally {
    tmp.cleanup();
  }
});
