/**
 * Which temporaries are taken for leftovers: the next writer of an output
 * (removeStaleTemporaries) and the repository's verify (the datastore's
 * tmp/) decide it alike (temporaryOwnerGone). On a file system shared by
 * several hosts (a sharded recompute on a cluster, a store beside a
 * PostgreSQL registry) a pid is only meaningful on the host that wrote it,
 * so another host's temporary is left alone until it has gone unmodified
 * for a day.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { FOREIGN_TEMP_MAX_IDLE_MS, TEMP_HOST, oldEnough, temporaryPathFor } from '../src/io/atomicFile.js';
import { AtomicFolder, removeStaleTemporaries } from '../src/io/atomicOutput.js';
import { Datastore } from '../src/butler/datastore.js';
import { Repository } from '../src/butler/repository.js';
import { exportBundle } from '../src/butler/bundle.js';
import { wcsHeaderText } from './butler-fixtures.js';
import { errorCodeOf, tempDir } from './helpers.js';

/** A pid that ran here and has exited. */
function deadPid(): number {
  const p = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(p.stdout);
}

test('stale temporaries: this host\'s are removed once their process is gone, another host\'s only after a day unmodified; other names are never touched', () => {
  const tmp = tempDir();
  try {
    const target = join(tmp.path, 'out.parquet');
    const dead = deadPid();
    const names = {
      mineLive: basename(temporaryPathFor(target)), // this process: alive
      mineDead: `.out.parquet.${TEMP_HOST}.${dead}.0badc0de.tmp`,
      oldFormatDead: `.out.parquet.${dead}.0badc0de.tmp`, // written before temporaries named their host
      foreignFresh: `.out.parquet.other-node-7.${dead}.0badc0de.tmp`,
      foreignIdle: `.out.parquet.other-node-7.${dead + 1}.0badc0de.tmp`,
      otherTarget: `.other.parquet.${TEMP_HOST}.${dead}.0badc0de.tmp`,
      folderTemp: `.out.parquet.${TEMP_HOST}.${dead}.feedface.tmp`, // an AtomicFolder's temporary is a folder
    };
    assert.match(names.mineLive, new RegExp(`^\\.out\\.parquet\\.${TEMP_HOST}\\.${process.pid}\\.[0-9a-f]+\\.tmp$`));
    for (const [key, name] of Object.entries(names)) {
      if (key === 'folderTemp') mkdirSync(join(tmp.path, name));
      else writeFileSync(join(tmp.path, name), 'x');
    }
    const now = Date.now();
    const idle = new Date(now - FOREIGN_TEMP_MAX_IDLE_MS - 60_000);
    utimesSync(join(tmp.path, names.foreignIdle), idle, idle);
    removeStaleTemporaries(target, now);
    assert.deepEqual(readdirSync(tmp.path).sort(), [names.mineLive, names.foreignFresh, names.otherTarget].sort());
  } finally {
    tmp.cleanup();
  }
});

test('the datastore\'s leftover temporaries (what verify removes): older than the minimum age, and this host\'s writer gone or another host\'s idle for a day; a live writer\'s staged file is kept', () => {
  const tmp = tempDir();
  try {
    const store = new Datastore(tmp.path);
    store.init();
    const dead = deadPid();
    const staged = store.stage(new TextEncoder().encode('a put in flight'));
    const names = {
      mineLive: basename(staged.tempPath!), // this process: alive
      mineDead: `${TEMP_HOST}.${dead}.0badc0de0bad`,
      mineDeadYoung: `${TEMP_HOST}.${dead}.feedfacefeed`,
      oldFormatDead: `${dead}-0badc0de0bad`, // staged before temporaries named their host
      foreignRecent: `other-node-7.${dead}.0badc0de0bad`, // another host's put, an hour old: its pid means nothing here
      foreignIdle: `other-node-7.${dead + 1}.0badc0de0bad`,
      noWriter: 'left-by-hand',
    };
    assert.match(names.mineLive, new RegExp(`^${TEMP_HOST}\\.${process.pid}\\.[0-9a-f]{12}$`));
    for (const [key, name] of Object.entries(names)) if (key !== 'mineLive') writeFileSync(join(store.tmpDir, name), 'x');
    const now = Date.now();
    const age = (name: string, ms: number) => utimesSync(join(store.tmpDir, name), new Date(now - ms), new Date(now - ms));
    for (const name of [names.mineLive, names.mineDead, names.oldFormatDead, names.foreignRecent, names.noWriter]) age(name, 3600_000);
    age(names.foreignIdle, FOREIGN_TEMP_MAX_IDLE_MS + 60_000);
    const minAgeMs = 600_000;
    assert.deepEqual(store.leftoverTemps(minAgeMs, now).sort(), [names.mineDead, names.oldFormatDead, names.foreignIdle, names.noWriter].sort());
    // With no minimum age the young dead writer's file is a leftover too; the live and the foreign recent ones never.
    assert.deepEqual(store.leftoverTemps(0, now).sort(), [names.mineDead, names.mineDeadYoung, names.oldFormatDead, names.foreignIdle, names.noWriter].sort());
    store.place(staged);
    assert.equal(readdirSync(store.tmpDir).includes(names.mineLive), false, 'placing moved the staged file out of tmp/');
  } finally {
    tmp.cleanup();
  }
});

test('a folder bundle export builds under the one temporary name: a killed export\'s folder is removed by the next export to the same place, which writes the bundle whole', async () => {
  const tmp = tempDir();
  try {
    const repo = Repository.init(join(tmp.path, 'repo'));
    const run = repo.begin({ stage: 'a' });
    repo.put(run.id, 'wcs', 'visit=1', new TextEncoder().encode(wcsHeaderText(1)));
    repo.commit(run.id);
    const out = join(tmp.path, 'bundle');
    const killed = join(tmp.path, `.bundle.${TEMP_HOST}.${deadPid()}.0badc0de0bad.tmp`);
    mkdirSync(join(killed, 'files'), { recursive: true });
    writeFileSync(join(killed, 'files', 'half'), 'x');
    await exportBundle(repo, out);
    repo.close();
    assert.deepEqual(readdirSync(tmp.path).sort(), ['bundle', 'repo']);
    assert.ok(readdirSync(join(out, 'files')).length === 1 && readdirSync(out).includes('manifest.json'));
  } finally {
    tmp.cleanup();
  }
});

test('a folder made by AtomicFolder.createNew (a bundle export) replaces nothing: CONFLICT when the target exists at the start, or appears before commit, and the other folder is left as it was', () => {
  const tmp = tempDir();
  try {
    const target = join(tmp.path, 'bundle');
    mkdirSync(target);
    assert.equal(errorCodeOf(() => AtomicFolder.createNew(target)), 'CONFLICT');
    assert.deepEqual(readdirSync(tmp.path), ['bundle']);

    const late = join(tmp.path, 'late');
    const folder = AtomicFolder.createNew(late);
    writeFileSync(join(folder.path, 'manifest.json'), '{}');
    mkdirSync(late); // another process's export, empty so far: a plain rename would replace it
    assert.equal(errorCodeOf(() => folder.commit()), 'CONFLICT');
    folder.abort();
    assert.deepEqual(readdirSync(late), []);
    assert.deepEqual(readdirSync(tmp.path).sort(), ['bundle', 'late']);
  } finally {
    tmp.cleanup();
  }
});

test('a minimum age of 0 takes a leftover modified within the current millisecond (its mtime has a fraction Date.now() lacks; verify --min-age 0 left such files, and this file\'s datastore test failed once under load)', () => {
  const tmp = tempDir();
  try {
    const store = new Datastore(tmp.path);
    store.init();
    const name = `${TEMP_HOST}.${deadPid()}.0badc0de0bad`;
    writeFileSync(join(store.tmpDir, name), 'x');
    const now = Date.now();
    utimesSync(join(store.tmpDir, name), (now + 0.5) / 1000, (now + 0.5) / 1000); // 0.5 ms after `now`
    assert.ok(statSync(join(store.tmpDir, name)).mtimeMs > now, 'the file system keeps sub-millisecond mtimes');
    assert.deepEqual(store.leftoverTemps(0, now), [name]);
    assert.deepEqual(store.leftoverTemps(1, now), []);
    assert.equal(oldEnough(now + 0.5, 0, now), true);
    assert.equal(oldEnough(now - 999, 1000, now), false);
    assert.equal(oldEnough(now - 1000, 1000, now), true);
  } finally {
    tmp.cleanup();
  }
});
