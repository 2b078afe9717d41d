/**
 * recompute onto a full disk (a 1 MiB tmpfs, with an output several times
 * larger): a clear IO error, nothing half-written (no output, no temporary
 * file or folder beside it), and the same job succeeds once there is room.
 * For the single Parquet file and the partitioned dataset. Needs `mount`
 * (CI runs as root); without it the test skips with a loud message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SkycalError } from '../src/errors.js';
import { Repository } from '../src/butler/repository.js';
import { recompute } from '../src/recompute/recompute.js';
import { buildRepo } from './recompute-repo.js';
import { withTmpfs } from './helpers.js';

test('recompute onto a full disk: IO error, no output and no temporary left, then the same job succeeds with room', async (t) => {
  await withTmpfs(t, '1m', 'the recompute full-disk test', async (small, scratch) => {
    // 4 dataIds x 20,000 rows: ~11 MB of output, eleven times the disk.
    buildRepo(join(scratch, 'repo'), { rows: [20_000, 20_000, 20_000, 20_000], detectorsPerVisit: 2, rowGroupRows: 5_000, seed: 3 });
    const repo = Repository.open(join(scratch, 'repo'));
    try {
      for (const out of [join(small, 'all.parquet'), `${join(small, 'dataset')}/`]) {
        await assert.rejects(recompute(repo, { out, workers: 1 }), (e: unknown) => {
          assert.ok(SkycalError.isSkycalError(e), `expected a SkycalError, got ${String(e)}`);
          assert.equal(e.code, 'IO', e.message);
          return true;
        }, out);
        assert.deepEqual(readdirSync(small), [], `nothing is left on the full disk after ${out}`);
      }
      // Room again (the same mount, made larger): the same jobs now succeed.
      const r = spawnSync('mount', ['-o', 'remount,size=64m', small], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const file = await recompute(repo, { out: join(small, 'all.parquet'), workers: 1 });
      const ds = await recompute(repo, { out: `${join(small, 'dataset')}/`, workers: 1 });
      assert.equal(file.rows, 80_000);
      assert.equal(ds.rows, 80_000);
      assert.deepEqual(readdirSync(small).sort(), ['all.parquet', 'dataset']);
    } finally {
      repo.close();
    }
  });
});
