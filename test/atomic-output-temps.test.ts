/**
 * Which temporaries the next writer of an output removes (removeStaleTemporaries):
 * on a file system shared by several hosts (a sharded recompute on a cluster)
 * a pid is only meaningful on the host that wrote it, so another host's
 * temporary is left alone until it has gone unmodified for a day.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { TEMP_HOST, temporaryPathFor } from '../src/io/atomicFile.js';
import { FOREIGN_TEMP_MAX_IDLE_MS, removeStaleTemporaries } from '../src/io/atomicOutput.js';
import { tempDir } from './helpers.js';

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
