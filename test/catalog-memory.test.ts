import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot, tempDir } from './helpers.js';

test('deriving columns for a catalog several times larger than the heap completes, streamed, in bounded memory', () => {
  const dir = tempDir();
  try {
    const rows = 10_000_000;
    const heapMB = 48;
    const child = spawnSync(process.execPath, [`--max-old-space-size=${heapMB}`, join(repoRoot, 'test', 'fixtures', 'memory-child.mjs'), dir.path, String(rows)], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(child.status, 0, child.stderr);
    const report = JSON.parse(child.stdout.trim()) as { rows: number; checked: number; written: number; maxRssMB: number };
    assert.equal(report.checked, rows);
    assert.equal(report.written, rows);
    // In memory the catalog is x, y in (16 B/row) plus u, v, status out (17 B/row) = 49 B/row ~ 470 MiB,
    // ~10x the heap allowed. The whole process (Node, parquet-wasm, one worker; ~150-270 MiB measured) must stay well below it.
    const dataMB = (rows * 49) / 2 ** 20;
    assert.ok(report.maxRssMB < 0.65 * dataMB, `peak RSS ${report.maxRssMB.toFixed(0)} MiB for ${dataMB.toFixed(0)} MiB of columns`);
  } finally {
    dir.cleanup();
  }
});
