/**
 * Errors are made in one place: the factory table `errors` in src/errors.ts,
 * so that every message keeps its one shape (`WHERE: what is wrong`). This
 * scans src/ for `new SkycalError(` elsewhere, as layers.test.ts scans imports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { errors, SkycalError } from '../src/errors.js';
import { formatCard, formatReal } from '../src/fits/header.js';
import { PhotoCalib } from '../src/photocalib/photoCalib.js';
import { repoRoot, tempDir } from './helpers.js';
import { filesUnder } from './imports.js';

/** Files that may construct a SkycalError: the table itself and the subclasses' files. */
const MAKERS = new Set(['src/errors.ts', 'src/wcs/errors.ts']);

const NEW_ERROR = /\bnew\s+SkycalError\s*\(/g;

/** `path:line` of every `new SkycalError(` under root/src outside the factory table. */
export function adHocErrors(root: string): string[] {
  const out: string[] = [];
  for (const file of filesUnder(join(root, 'src'), '.ts')) {
    const rel = relative(root, file).split(sep).join('/');
    if (MAKERS.has(rel)) continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(NEW_ERROR)) out.push(`${rel}:${text.slice(0, m.index).split('\n').length}`);
  }
  return out;
}

test('errors are made only by the factory table in src/errors.ts (no new SkycalError( elsewhere in src/)', () => {
  assert.ok(filesUnder(join(repoRoot, 'src'), '.ts').length > 50);
  assert.deepEqual(adHocErrors(repoRoot), []);
});

test('the scan finds new SkycalError( in a library file, spread over lines too, and not in the table', () => {
  const d = tempDir();
  try {
    for (const dir of ['src/wcs', 'src/fits', 'src/recompute']) mkdirSync(join(d.path, dir), { recursive: true });
    writeFileSync(join(d.path, 'src', 'errors.ts'), "export const errors = { usage: (m) => new SkycalError('USAGE', m) };\n");
    writeFileSync(join(d.path, 'src', 'recompute', 'run.ts'), "throw new SkycalError('IO', 'x');\n");
    writeFileSync(join(d.path, 'src', 'fits', 'header.ts'), "const a = 1;\nthrow new SkycalError(\n  'BAD_INPUT', 'x');\nthrow errors.badInput('card', 'y');\n");
    writeFileSync(join(d.path, 'src', 'wcs', 'load.ts'), "throw new  SkycalError ('USAGE', 'z');\n");
    assert.deepEqual(adHocErrors(d.path).sort(), ['src/fits/header.ts:2', 'src/recompute/run.ts:1', 'src/wcs/load.ts:1']);
  } finally {
    d.cleanup();
  }
});

test('the factories keep one shape: the input named first, codes stable, causes and details kept', () => {
  const bad = errors.badInput('FITS header card 3', 'illegal keyword "a b"');
  assert.equal(bad.code, 'BAD_INPUT');
  assert.equal(bad.message, 'FITS header card 3: illegal keyword "a b"');
  assert.equal('cause' in bad, false, 'no cause unless one is given');

  const enoent = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
  const io = errors.io('/tmp/x.csv', enoent);
  assert.deepEqual([io.code, io.message, io.cause], ['IO', '/tmp/x.csv: ENOENT: no such file', enoent]);
  const sentence = errors.io('verify', '2 problem(s)', { details: { report: { ok: false } } });
  assert.equal(sentence.message, 'verify: 2 problem(s)');
  assert.equal('cause' in sentence, false, 'a sentence is the message, not a cause');
  assert.deepEqual(sentence.toJSON(), { report: { ok: false }, code: 'IO', message: 'verify: 2 problem(s)' });
  const folder = errors.io('/o/out.parquet', 'output folder /o does not exist', { cause: enoent });
  assert.equal(folder.cause, enoent);

  const inner = errors.conflict('ref main moved', { expected: 'a', actual: 'b' });
  const named = errors.within('repo.sqlite', inner);
  assert.ok(SkycalError.isSkycalError(named));
  assert.deepEqual([named.code, named.message, named.cause], ['CONFLICT', 'repo.sqlite: ref main moved', inner]);
  assert.deepEqual(named.details, { expected: 'a', actual: 'b' });

  const usage = errors.usage('--where: bad', { cause: bad });
  assert.deepEqual([usage.code, usage.cause], ['USAGE', bad]);
  assert.equal(errors.notFound('branch dev').message, 'not found: branch dev');
});

test('messages that had no input named first now have one (FITS card writers, PhotoCalib checks)', () => {
  const bad = (message: string) => ({ code: 'BAD_INPUT', message });
  assert.throws(() => formatCard('LONGERKEY', 1), bad('FITS keyword LONGERKEY: longer than 8 characters'));
  assert.throws(() => formatReal(Number.NaN), bad('FITS card: cannot write non-finite value NaN'));
  assert.throws(() => PhotoCalib.constant(-1), bad('PhotoCalib: calibrationMean must not be negative, got -1'));
  assert.throws(() => PhotoCalib.fromFluxMag0(0), bad('PhotoCalib: FLUXMAG0 must be positive, got 0'));
});
