/**
 * Bundle fuzzing (fast-check): hostile tar archives and folders fed to
 * import — `..` and absolute paths, links, devices, FIFOs, checksum
 * mismatches, duplicated entries, lying and huge size fields, flipped bytes,
 * truncations, mutated manifest fields. Law: import either succeeds or
 * throws a SkycalError with a documented code; nothing is ever written
 * outside the repository, and a refused import adds nothing to store/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SkycalError } from '../src/errors.js';
import { Repository } from '../src/butler/repository.js';
import { exportBundle, importBundle } from '../src/butler/bundle.js';
import { verifyRepository } from '../src/butler/maintenance.js';
import { tempDir, fuzzSeed } from './helpers.js';
import { arrowCatalog, wcsHeaderText } from './butler-fixtures.js';
import { writeTar, type RawTarEntry } from './butler-fixtures.js';

const CODES = new Set(['BAD_INPUT', 'CONFLICT', 'NOT_FOUND']);

function storeFiles(root: string): string[] {
  const store = join(root, 'store');
  return existsSync(store) ? readdirSync(store).flatMap((d) => readdirSync(join(store, d))).sort() : [];
}

async function attempt(repo: Repository, bundle: string, outside: string, outsideBefore: string[]): Promise<void> {
  const before = storeFiles(repo.root);
  let refused = false;
  try {
    await importBundle(repo, bundle, { as: `fz-${Math.random().toString(36).slice(2, 10)}` });
  } catch (e) {
    assert.ok(SkycalError.isSkycalError(e), `not a SkycalError: ${String(e)} ${(e as Error).stack}`);
    assert.ok(CODES.has(e.code), `undocumented code ${e.code}: ${e.message}`);
    refused = true;
  }
  if (refused) assert.deepEqual(storeFiles(repo.root), before, 'a refused import placed files');
  assert.deepEqual(readdirSync(repo.store.tmpDir), [], 'staged files left behind');
  assert.deepEqual(readdirSync(outside).sort(), outsideBefore, 'something was written outside the repository');
  assert.equal(existsSync('/tmp/skycal-escaped.txt'), false);
}

test('fuzzed tar bundles: only documented SkycalErrors, nothing outside the repository, nothing placed when refused', async () => {
  const tmp = tempDir();
  try {
    const src = Repository.init(join(tmp.path, 'src'));
    const run = src.begin({ stage: 'a' });
    src.put(run.id, 'wcs', 'visit=1', new TextEncoder().encode(wcsHeaderText(1)));
    src.put(run.id, 'src', 'visit=1', arrowCatalog(Buffer.alloc(700, 5)));
    src.commit(run.id);
    const good = join(tmp.path, 'good.tar');
    await exportBundle(src, good);
    src.close();
    const goodBytes = readFileSync(good);
    // The valid bundle's entries, to recombine.
    const folder = join(tmp.path, 'goodfolder');
    const s2 = Repository.open(join(tmp.path, 'src'));
    await exportBundle(s2, folder);
    s2.close();
    const manifest = readFileSync(join(folder, 'manifest.json'));
    const files = readdirSync(join(folder, 'files')).map((n) => ({ path: `files/${n}`, bytes: readFileSync(join(folder, 'files', n)) }));
    const outside = join(tmp.path, 'outside');
    mkdirSync(outside);
    const repo = Repository.init(join(outside, 'repo'));
    const outsideBefore = readdirSync(outside).sort();
    const bundle = join(tmp.path, 'fuzz.tar');
    const entry: fc.Arbitrary<RawTarEntry> = fc.record({
      path: fc.oneof(
        fc.constantFrom('manifest.json', files[0]!.path, files[1]!.path, '../escaped.txt', '/tmp/skycal-escaped.txt', 'files/../../x',
          'a/../../b', './manifest.json', 'files/', 'files\\x', 'C:/x', `files/${'0'.repeat(64)}`, 'x'.repeat(99)),
        fc.string({ maxLength: 20 })),
      bytes: fc.oneof(fc.constant(manifest), fc.constant(files[0]!.bytes), fc.uint8Array({ maxLength: 600 })),
      flag: fc.constantFrom('0', '0', '0', '1', '2', '3', '4', '5', '6', 'x', 'L', 'g'),
      sizeField: fc.option(fc.constantFrom('77777777777\0', '99999999999\0', '-1\0', '', '1e9\0', '00000001000\0'), { nil: undefined }),
      linkname: fc.option(fc.constantFrom('/etc/passwd', '../..', 'manifest.json'), { nil: undefined }),
    });
    const archive = fc.oneof(
      // Recombined and hostile entries.
      fc.array(entry, { maxLength: 5 }).map((extra) => writeTar([{ path: 'manifest.json', bytes: manifest }, ...files, ...extra])),
      fc.array(entry, { minLength: 1, maxLength: 6 }).map((es) => writeTar(es)),
      // Flipped bytes and truncations of the valid archive.
      fc.tuple(fc.array(fc.tuple(fc.nat(goodBytes.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(goodBytes.length))
        .map(([flips, cut]) => {
          const b = Buffer.from(goodBytes);
          for (const [at, x] of flips) b[at]! ^= x;
          return b.subarray(0, Math.max(cut, 0));
        }),
    );
    await fc.assert(fc.asyncProperty(archive, async (bytes) => {
      writeFileSync(bundle, bytes);
      await attempt(repo, bundle, outside, outsideBefore);
    }), { numRuns: Number(process.env['SKYCAL_FUZZ_RUNS'] ?? 150), ...fuzzSeed() });
    assert.deepEqual(verifyRepository(repo, { minAgeMs: 0 }).problems, []);
    repo.close();
  } finally {
    tmp.cleanup();
  }
});

test('fuzzed folder bundles: links, FIFOs, mismatched and extra files, mutated manifest fields', async () => {
  const tmp = tempDir();
  try {
    const src = Repository.init(join(tmp.path, 'src'));
    const run = src.begin({ stage: 'a', config: { order: 2 } });
    src.put(run.id, 'wcs', 'visit=1', new TextEncoder().encode(wcsHeaderText(1)));
    src.fail(run.id, 'photoCalib', 'visit=1', 'no stars');
    src.commit(run.id);
    const good = join(tmp.path, 'good');
    await exportBundle(src, good);
    src.close();
    const manifest = JSON.parse(readFileSync(join(good, 'manifest.json'), 'utf8'));
    const outside = join(tmp.path, 'outside');
    mkdirSync(outside);
    writeFileSync(join(tmp.path, 'secret'), 'not yours');
    const repo = Repository.init(join(outside, 'repo'));
    const outsideBefore = readdirSync(outside).sort();
    const bundle = join(tmp.path, 'fuzz');
    // Paths into the manifest and values to put there.
    const paths: (string | number)[][] = [];
    const walk = (v: unknown, at: (string | number)[]) => {
      paths.push(at);
      if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...at, i]));
      else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) walk(x, [...at, k]);
    };
    walk(manifest, []);
    const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('../../evil', '', 'r-0123456789ab', 'main', '__proto__', 'toString', null, -1, 1e309, 'yesterday', '{not json', 2 ** 53 + 2));
    const layout = fc.constantFrom('plain', 'symlink-file', 'symlink-dir', 'fifo', 'extra', 'missing', 'mismatch', 'nested');
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom(...paths), value), { maxLength: 3 }), layout, async (edits, kind) => {
      rmSync(bundle, { recursive: true, force: true });
      cpSync(good, bundle, { recursive: true });
      const m = structuredClone(manifest);
      for (const [path, v] of edits) {
        if (path.length === 0) continue;
        let o = m;
        for (const k of path.slice(0, -1)) o = o?.[k];
        if (typeof o === 'object' && o !== null) o[path.at(-1)!] = v;
      }
      writeFileSync(join(bundle, 'manifest.json'), JSON.stringify(m));
      const fileName = readdirSync(join(bundle, 'files'))[0]!;
      if (kind === 'symlink-file') symlinkSync(join(tmp.path, 'secret'), join(bundle, 'files', 'link'));
      if (kind === 'symlink-dir') symlinkSync(tmp.path, join(bundle, 'up'));
      if (kind === 'fifo') spawnSync('mkfifo', [join(bundle, 'files', 'pipe')]);
      if (kind === 'extra') writeFileSync(join(bundle, 'files', 'a'.repeat(64)), 'extra');
      if (kind === 'missing') rmSync(join(bundle, 'files', fileName));
      if (kind === 'mismatch') writeFileSync(join(bundle, 'files', fileName), 'changed');
      if (kind === 'nested') mkdirSync(join(bundle, 'files', 'sub', '..x'), { recursive: true });
      await attempt(repo, bundle, outside, outsideBefore);
    }), { numRuns: Math.ceil(Number(process.env['SKYCAL_FUZZ_RUNS'] ?? 150) / 3), ...fuzzSeed() });
    assert.deepEqual(verifyRepository(repo, { minAgeMs: 0 }).problems, []);
    repo.close();
  } finally {
    tmp.cleanup();
  }
});
