/**
 * recompute and diff resolve every dataId from one snapshot of the registry
 * (ButlerAdapter.snapshot): a commit that lands on the branch while the
 * dataIds are being resolved changes none of them, on either backend. Before,
 * each lookup read the branch anew, so a jointcal commit mid-planning gave an
 * output whose first dataIds had one WCS version and the rest another.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Repository } from '../src/butler/repository.js';
import type { ButlerAdapter } from '../src/butler/adapter.js';
import { recompute } from '../src/recompute/recompute.js';
import { diffWcsVersions } from '../src/compare/diffVersions.js';
import { describeBackends } from './butler-fixtures.js';
import { buildRepo } from './recompute-repo.js';
import { tempDir } from './helpers.js';

/** `repo`, except that its first getWcs first runs `before` (another client committing). */
function commitDuringFirstLookup(repo: Repository, before: () => void): ButlerAdapter {
  let done = false;
  return new Proxy(repo, {
    get(target, prop) {
      if (prop === 'getWcs') {
        return (...args: Parameters<Repository['getWcs']>) => {
          if (!done) {
            done = true;
            before();
          }
          return target.getWcs(...args);
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describeBackends('recompute resolves from one snapshot', (backend) => {
  test('a commit landing on main while recompute resolves its dataIds changes none of them; the next recompute sees it for all', async () => {
    const tmp = tempDir();
    try {
      const root = join(tmp.path, 'repo');
      const { dataIds } = buildRepo(root, { rows: [40, 40, 40, 40, 40, 40], detectorsPerVisit: 3, rowGroupRows: 40, seed: 11 }, backend.init);
      const repo = Repository.open(root);
      const other = Repository.open(root); // a second client: its own registry connection
      try {
        const first = repo.runIdAt({});
        const jointcal = other.begin({ stage: 'jointcal' });
        for (const id of dataIds) other.put(jointcal.id, 'wcs', id, new TextEncoder().encode(other.getWcs(id).headerText));
        let landed = false;
        const adapter = commitDuringFirstLookup(repo, () => {
          other.commit(jointcal.id);
          landed = true;
        });
        const s = await recompute(adapter, { out: join(tmp.path, 'a.parquet'), workers: 0 });
        assert.equal(landed, true, 'the commit landed during the resolution');
        assert.equal(other.runIdAt({}), jointcal.id, 'main moved');
        assert.deepEqual(s.dataIds.map((d) => d.wcsRun), dataIds.map(() => first), 'every dataId from the tip recompute started at');
        const again = await recompute(repo, { out: join(tmp.path, 'b.parquet'), workers: 0 });
        assert.deepEqual(again.dataIds.map((d) => d.wcsRun), dataIds.map(() => jointcal.id));
      } finally {
        other.close();
        repo.close();
      }
    } finally {
      tmp.cleanup();
    }
  });

  test('a commit landing on main while diff resolves its dataIds changes none of them', async () => {
    const tmp = tempDir();
    try {
      const root = join(tmp.path, 'repo');
      const { dataIds } = buildRepo(root, { rows: [40, 40, 40, 40], detectorsPerVisit: 2, rowGroupRows: 40, seed: 12 }, backend.init);
      const repo = Repository.open(root);
      const other = Repository.open(root);
      try {
        const first = repo.runIdAt({});
        const jointcal = other.begin({ stage: 'jointcal' });
        for (const id of dataIds) other.put(jointcal.id, 'wcs', id, new TextEncoder().encode(other.getWcs(id).headerText));
        const adapter = commitDuringFirstLookup(repo, () => other.commit(jointcal.id));
        const rows = await diffWcsVersions(adapter, { from: { stage: 'singleFrame' }, to: { at: 'main' } });
        assert.equal(other.runIdAt({}), jointcal.id, 'main moved during the diff');
        assert.deepEqual(rows.map((r) => r.toRun), dataIds.map(() => first), 'every dataId from the tip diff started at');
        assert.deepEqual(rows.map((r) => r.positions), dataIds.map(() => 'src'));
      } finally {
        other.close();
        repo.close();
      }
    } finally {
      tmp.cleanup();
    }
  });
});
