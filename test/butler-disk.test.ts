/**
 * Real file systems the repository must survive: a full disk (a 2 MiB tmpfs)
 * during put and import gives a clear IO error, leaves nothing half-written,
 * and the repository works again once space is freed; a read-only mount can
 * still be read (get, log, status, verify --dry-run). Both need `mount`
 * (CI runs as root); without it they skip with a loud message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SkycalError } from '../src/errors.js';
import { Repository } from '../src/butler/repository.js';
import { exportBundle, importBundle } from '../src/butler/bundle.js';
import { verifyRepository } from '../src/butler/maintenance.js';
import { withTmpfs } from './helpers.js';
import { arrowCatalog, wcsHeaderText } from './butler-fixtures.js';
import { freshDatabaseUrl, skipWithoutPostgres } from './postgres.js';


const catalog = (n: number, seed: number) => arrowCatalog(Buffer.alloc(n, seed));

function ioCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(SkycalError.isSkycalError(e), `expected a SkycalError, got ${String(e)}`);
    return e.code;
  }
  return 'none';
}

test('a full disk during put and import: a clear IO error, nothing half-written, usable once space is freed', async (t) => {
  await withTmpfs(t, '2m', 'the full-disk test', async (mnt, scratch) => {
    const root = join(mnt, 'repo');
    const repo = Repository.init(root);
    // What the user deletes to free space afterwards.
    const filler = join(mnt, 'filler');
    writeFileSync(filler, Buffer.alloc(600 * 1024));
    try {
      const run = repo.begin({ stage: 'fill' });
      let landed = 0;
      let code = 'none';
      for (let i = 0; i < 40 && code === 'none'; i++) {
        code = ioCode(() => repo.put(run.id, 'src', `visit=${i}`, catalog(200 * 1024, i)));
        if (code === 'none') landed++;
      }
      assert.equal(code, 'IO', 'a put on a full disk is IO');
      assert.ok(landed > 0 && landed < 40);
      assert.deepEqual(readdirSync(repo.store.tmpDir), [], 'no temp file left behind');
      assert.equal(repo.registry.runEntries(run.id).length, landed);
      for (const e of repo.registry.runEntries(run.id)) repo.store.read(e.fileHash!); // every landed file whole
      // An import into the full disk fails the same way and adds nothing.
      const src = Repository.init(join(scratch, 'src'));
      const r2 = src.begin({ stage: 'up' });
      for (let i = 0; i < 4; i++) src.put(r2.id, 'src', `visit=${100 + i}`, catalog(300 * 1024, 100 + i));
      src.put(r2.id, 'wcs', 'visit=1', new TextEncoder().encode(wcsHeaderText(1)));
      src.commit(r2.id);
      const bundle = join(scratch, 'b.tar');
      await exportBundle(src, bundle);
      src.close();
      let importCode = 'none';
      try {
        await importBundle(repo, bundle, { as: 'upstream' });
      } catch (e) {
        importCode = SkycalError.isSkycalError(e) ? e.code : String(e);
      }
      assert.equal(importCode, 'IO');
      assert.equal(repo.registry.ref('upstream'), undefined);
      assert.deepEqual(readdirSync(repo.store.tmpDir), []);
      assert.deepEqual(verifyRepository(repo, { minAgeMs: 0 }).problems, []);
      // Free the space; then the repository works: abandon and collect the run, put, import.
      rmSync(filler);
      repo.abort(run.id);
      const { collectGarbage } = await import('../src/butler/maintenance.js');
      collectGarbage(repo);
      const again = repo.begin({ stage: 'after' });
      repo.put(again.id, 'src', 'visit=999', catalog(100 * 1024, 9));
      repo.commit(again.id);
      assert.equal((await importBundle(repo, bundle, { as: 'upstream' })).runs, 1);
      assert.deepEqual(verifyRepository(repo, { minAgeMs: 0 }).problems, []);
    } finally {
      repo.close();
    }
  });
});

test('a read-only repository can be read: get, log, status, queryDataIds and verify --dry-run work', async (t) => {
  await withTmpfs(t, '8m', 'the read-only test', async (mnt) => {
    const root = join(mnt, 'repo');
    const repo = Repository.init(root);
    const run = repo.begin({ stage: 'a' });
    repo.put(run.id, 'wcs', 'visit=1', new TextEncoder().encode(wcsHeaderText(1)));
    repo.commit(run.id);
    repo.close();
    execFileSync('mount', ['-o', 'remount,ro', mnt]);
    assert.throws(() => writeFileSync(join(mnt, 'x'), 'x'), /EROFS|read-only/);
    const ro = Repository.open(root);
    try {
      assert.equal(ro.registry.readOnly, true);
      assert.equal(new TextDecoder().decode(ro.get('wcs', 'visit=1').bytes), wcsHeaderText(1));
      assert.equal(ro.log().length, 1);
      assert.equal(ro.status().open.length, 0);
      assert.equal(ro.queryDataIds('wcs', undefined).length, 1);
      assert.deepEqual(verifyRepository(ro, { dryRun: true }).problems, []);
      assert.equal(ioCode(() => ro.begin({ stage: 'b' })), 'IO');
    } finally {
      ro.close(); // use counts are dropped, not an error
    }
  });
});

/** Fill the mount so that about `freeBytes` stay free (tmpfs counts whole pages). */
function fillLeaving(mnt: string, freeBytes: number): string {
  const s = statfsSync(mnt);
  const filler = join(mnt, 'filler');
  writeFileSync(filler, Buffer.alloc(Math.max(0, s.bavail * s.bsize - freeBytes)));
  return filler;
}

test('init on a full disk, at every fill from 0 to 256 KiB free: a whole repository or IO and nothing at all; then the same init succeeds [sqlite]', async (t) => {
  await withTmpfs(t, '2m', 'the full-disk init test', async (mnt) => {
    const root = join(mnt, 'repo');
    const outcomes = { whole: 0, refused: 0 };
    for (let free = 0; free <= 256 * 1024; free += 8 * 1024) {
      const filler = fillLeaving(mnt, free);
      const code = ioCode(() => Repository.init(root).close());
      rmSync(filler);
      if (code === 'none') {
        outcomes.whole++;
        const repo = Repository.open(root);
        assert.deepEqual(verifyRepository(repo, { minAgeMs: 0 }).problems, [], `${free} B free: a whole repository`);
        assert.equal(repo.registry.ref('main')?.runId, null);
        repo.close();
        rmSync(root, { recursive: true });
      } else {
        outcomes.refused++;
        assert.equal(code, 'IO', `${free} B free`);
        assert.equal(existsSync(root), false, `${free} B free: nothing left of the failed init`);
        // The same init with room succeeds (it does not meet "already a repository").
        Repository.init(root).close();
        rmSync(root, { recursive: true });
      }
    }
    assert.ok(outcomes.whole > 0 && outcomes.refused > 0, `the sweep crosses the size an init needs (${JSON.stringify(outcomes)})`);
  });
});

test('init with a PostgreSQL registry on a full disk: IO, no folder and no schema left; the same init with the same database then succeeds [postgresql]', async (t) => {
  if (skipWithoutPostgres(t)) return;
  await withTmpfs(t, '1m', 'the full-disk PostgreSQL init test', async (mnt) => {
    const root = join(mnt, 'repo');
    const url = freshDatabaseUrl();
    const filler = fillLeaving(mnt, 0);
    assert.equal(ioCode(() => Repository.init(root, { registry: url }).close()), 'IO');
    assert.equal(existsSync(root), false, 'no folder left');
    rmSync(filler);
    const repo = Repository.init(root, { registry: url }); // the schema was dropped: not CONFLICT
    assert.deepEqual(verifyRepository(repo, { minAgeMs: 0 }).problems, []);
    repo.close();
  });
});
