import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { readFileBounded, readStreamBounded } from '../src/io/readBounded.js';
import { tempDir } from './helpers.js';

const code = (f: () => unknown): string => {
  try {
    f();
    return 'none';
  } catch (e) {
    return (e as { code: string }).code;
  }
};

test('readFileBounded: a file of exactly maxBytes reads whole; one byte more is BAD_INPUT naming the argument; missing is NOT_FOUND; a folder is BAD_INPUT', () => {
  const d = tempDir();
  try {
    const p = join(d.path, 'ten');
    writeFileSync(p, '0123456789');
    assert.equal(readFileBounded(p, { label: '--config', maxBytes: 10 }).toString(), '0123456789');
    writeFileSync(p, '0123456789!');
    assert.throws(() => readFileBounded(p, { label: '--config', maxBytes: 10 }), (e: Error) => (e as { code?: string }).code === 'BAD_INPUT' && e.message.startsWith(`--config ${p}: larger than`));
    assert.equal(code(() => readFileBounded(join(d.path, 'nope'), { label: 'FILE', maxBytes: 10 })), 'NOT_FOUND');
    mkdirSync(join(d.path, 'dir'));
    assert.equal(code(() => readFileBounded(join(d.path, 'dir'), { label: 'FILE', maxBytes: 10 })), 'BAD_INPUT');
    // A device of unknown size is read up to the stream bound only.
    assert.equal(code(() => readFileBounded('/dev/zero', { label: 'FILE', maxBytes: 1 << 30, maxStreamBytes: 1 << 16 })), 'BAD_INPUT');
    assert.equal(readFileBounded('/dev/null', { label: 'FILE', maxBytes: 10 }).length, 0);
  } finally {
    d.cleanup();
  }
});

test('readStreamBounded: stdin up to maxBytes, BAD_INPUT past it', async () => {
  assert.equal((await readStreamBounded(Readable.from([Buffer.from('abc'), Buffer.from('de')]), 'stdin', { label: '--in', maxBytes: 5 })).toString(), 'abcde');
  await assert.rejects(readStreamBounded(Readable.from([Buffer.from('abc'), Buffer.from('def')]), 'stdin', { label: '--in', maxBytes: 5 }), { code: 'BAD_INPUT' });
});
