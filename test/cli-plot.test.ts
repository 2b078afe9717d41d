import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from './helpers.js';

const run = async (...args: string[]) => {
  const r = await runCli(args);
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
};

test('plot distortion writes an SVG whose subtitle reports the PTF maximum distortion (130 px)', async () => {
  const dir = tempDir();
  try {
    const out = join(dir.path, 'd.svg');
    const r = await run('plot', 'distortion', '--wcs', 'builtin:ptf', '--out', out, '--json');
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.ok(doc.maxDistortionPx > 100 && doc.maxDistortionPx < 200, String(doc.maxDistortionPx));
    assert.match(readFileSync(out, 'utf8'), /max 13\d px/);
    const png = join(dir.path, 'd.png');
    assert.equal((await run('plot', 'distortion', '--wcs', 'builtin:hsc', '--out', png)).status, 0);
    assert.equal(readFileSync(png)[1], 0x50); // "PNG"
  } finally {
    dir.cleanup();
  }
});

test('plot distortion: bad output extension is USAGE, a missing folder is IO, and nothing is left behind', async () => {
  const dir = tempDir();
  try {
    const bad = await run('plot', 'distortion', '--wcs', 'builtin:ptf', '--out', join(dir.path, 'd.jpg'), '--json');
    assert.equal(bad.status, 2);
    assert.equal(JSON.parse(bad.stdout).error.code, 'USAGE');
    const missing = await run('plot', 'distortion', '--wcs', 'builtin:ptf', '--out', join(dir.path, 'nope', 'd.svg'), '--json');
    assert.equal(missing.status, 1);
    assert.equal(JSON.parse(missing.stdout).error.code, 'IO');
    assert.match(JSON.parse(missing.stdout).error.message, /does not exist/);
    assert.equal(existsSync(join(dir.path, 'nope')), false);
    assert.deepEqual(readdirSync(dir.path), []);
  } finally {
    dir.cleanup();
  }
});
