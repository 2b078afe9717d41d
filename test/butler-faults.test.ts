/**
 * One test per repository fault of issues 10 and 11: each failed on the
 * main before these fixes (noted per test), and passes now.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { SkycalError } from '../src/errors.js';
import { Repository } from '../src/butler/repository.js';
import { mergeInto } from '../src/butler/merge.js';
import { collectGarbage, verifyRepository } from '../src/butler/maintenance.js';
import { exportBundle, importBundle } from '../src/butler/bundle.js';
import { parseDataId } from '../src/butler/dataId.js';
import { tempDir, errorCodeOf } from './helpers.js';
import { arrowCatalog, describeBackends, parquetCatalog, photoCalibJson, wcsHeaderText, writeFixture } from './butler-fixtures.js';
import { fails, ok, cli } from './repoCli.js';

const enc = (s: string) => new TextEncoder().encode(s);
const det = (d: number) => `instrument=HSC,visit=903334,detector=${d}`;

async function withTmp(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const tmp = tempDir();
  try {
    await fn(tmp.path);
  } finally {
    tmp.cleanup();
  }
}

const codeOf = errorCodeOf;

async function codeOfAsync(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    assert.ok(SkycalError.isSkycalError(e), `expected a SkycalError, got ${String(e)}`);
    return e.code;
  }
  assert.fail('expected an error');
}

function committed(repo: Repository, stage: string, puts: [string, string, string][], branch = 'main'): string {
  const r = repo.begin({ stage, branch });
  for (const [type, dataId, content] of puts) repo.put(r.id, type, dataId, enc(content));
  repo.commit(r.id);
  return r.id;
}

function storeFiles(root: string): string[] {
  const store = join(root, 'store');
  if (!existsSync(store)) return [];
  return readdirSync(store).flatMap((d) => readdirSync(join(store, d)));
}

function parseDataIdText(text: string): string {
  const id = parseDataId(text);
  return Object.keys(id).sort().map((k) => `${k}=${id[k]}`).join(',');
}

// The tests below run on each registry backend (bodies not re-indented, to keep merges small).
describeBackends('repository faults', (backend) => {
// -- issue 10 item 6 (old main: the retry was CONFLICT)
test('a put retried with the same bytes succeeds without a second entry; different bytes stay CONFLICT (through the CLI)', async () => {
  await withTmp(async (dir) => {
    const repo = join(dir, 'repo');
    await ok('init', repo, ...backend.initArgs());
    const run = (await ok('begin', repo, '--stage', 'a')).run;
    const v1 = writeFixture(dir, 'v1.hdr', wcsHeaderText(1));
    const first = await ok('put', repo, '--run', run, '--type', 'wcs', '--data-id', det(1), v1);
    const again = await ok('put', repo, '--run', run, '--type', 'wcs', '--data-id', det(1), v1);
    assert.equal(again.sha256, first.sha256);
    const other = await fails('put', repo, '--run', run, '--type', 'wcs', '--data-id', det(1), writeFixture(dir, 'v2.hdr', wcsHeaderText(2)));
    assert.equal(other.error.code, 'CONFLICT');
    const r = Repository.open(repo);
    try {
      assert.equal(r.registry.runEntries(run).length, 1);
    } finally {
      r.close();
    }
  });
});

// -- issue 10 item 7 (old main: no way to resolve; --force changed nothing)
test('merge conflicts are listed in the error and resolved by --prefer (all or per type) or --rebase', async () => {
  await withTmp(async (dir) => {
    const root = join(dir, 'repo');
    const repo = backend.init(root);
    committed(repo, 'base', [['wcs', det(1), wcsHeaderText(0)], ['photoCalib', det(1), photoCalibJson(10)]]);
    repo.createBranch('side');
    committed(repo, 'ours', [['wcs', det(1), wcsHeaderText(1)], ['photoCalib', det(1), photoCalibJson(11)]]);
    const theirs = committed(repo, 'theirs', [['wcs', det(1), wcsHeaderText(2)], ['photoCalib', det(1), photoCalibJson(12)]], 'side');
    repo.close();
    const refused = await fails('merge', root, '--into', 'main', 'side');
    assert.equal(refused.error.code, 'CONFLICT');
    assert.deepEqual(refused.error.conflicts.map((c: any) => `${c.type} ${c.dataId} ${c.theirs}`).sort(),
      [`photoCalib ${parseDataIdText(det(1))} ${theirs}`, `wcs ${parseDataIdText(det(1))} ${theirs}`]);
    assert.match(refused.error.message, /--prefer ours\|theirs/);
    // Only one type resolved: the other is still a conflict.
    assert.equal((await fails('merge', root, '--into', 'main', 'side', '--prefer', 'wcs=theirs')).error.conflicts.length, 1);
    assert.equal((await fails('merge', root, '--into', 'main', 'side', '--prefer', 'sideways')).code, 2);
    const merged = await ok('merge', root, '--into', 'main', 'side', '--prefer', 'wcs=theirs', '--prefer', 'photoCalib=ours');
    assert.equal(merged.kind, 'merge');
    assert.equal(merged.resolved.length, 2);
    const r = Repository.open(root);
    try {
      assert.equal(new TextDecoder().decode(r.get('wcs', det(1)).bytes), wcsHeaderText(2));
      assert.equal(new TextDecoder().decode(r.get('photoCalib', det(1)).bytes), photoCalibJson(11));
      // Rebase: an open run that lost its commit race is re-parented on the tip; its datasets win.
      const late = r.begin({ stage: 'late' });
      r.put(late.id, 'wcs', det(1), enc(wcsHeaderText(5)));
      committed(r, 'meanwhile', [['wcs', det(1), wcsHeaderText(6)]]);
      assert.equal(codeOf(() => r.commit(late.id)), 'CONFLICT');
      assert.equal(codeOf(() => mergeInto(r, 'main', late.id)), 'CONFLICT');
      const rebased = mergeInto(r, 'main', late.id, { rebase: true });
      assert.equal(rebased.kind, 'rebase');
      assert.equal(new TextDecoder().decode(r.get('wcs', det(1)).bytes), wcsHeaderText(5));
      assert.equal(r.log()[1]!.stage, 'meanwhile');
      assert.deepEqual(verifyRepository(r, { minAgeMs: 0 }).problems, []);
    } finally {
      r.close();
    }
  });
});


// -- issue 10 item 8 (old main: each of these misbehaved as described in the issue)
test('dangerous or misleading commands: delete main, gc --dry-run, verify --json, a corrupt get, log times, import --as', async () => {
  await withTmp(async (dir) => {
    const root = join(dir, 'repo');
    const repo = backend.init(root);
    committed(repo, 'a', [['wcs', det(1), wcsHeaderText(1)]]);
    repo.createBranch('tmp');
    const gone = committed(repo, 'b', [['wcs', det(2), wcsHeaderText(2)]], 'tmp');
    repo.get('wcs', det(1));
    repo.close();
    // branch --delete main needs --force.
    assert.equal((await fails('branch', root, '--delete', 'main')).error.code, 'CONFLICT');
    await ok('branch', root, '--delete', 'tmp');
    // gc --dry-run says "would remove", and counts the files it would remove.
    const dry = await cli(['gc', root, '--dry-run']);
    assert.match(dry.out, /would remove 1 run\(s\) and 1 file\(s\)/);
    assert.doesNotMatch(dry.out, /file\(s\) removed/);
    assert.equal((await ok('gc', root, '--dry-run')).runs[0].id, gone);
    // log --json: every time ISO 8601, use counts too.
    const log = (await ok('log', root)).runs;
    assert.match(log[0].usage.lastUsedAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    // Export, then import under another name into a repository whose main differs.
    const bundle = join(dir, 'b.tar');
    await ok('export', root, '--at', 'main', '--out', bundle);
    const other = join(dir, 'other');
    const o = backend.init(other);
    committed(o, 'theirs', [['wcs', det(9), wcsHeaderText(9)]]);
    o.close();
    assert.equal((await fails('import', other, bundle)).error.code, 'CONFLICT');
    const imported = await ok('import', other, bundle, '--as', 'upstream');
    assert.deepEqual(imported.refs, ['upstream']);
    assert.equal((await ok('log', other, '--at', 'upstream')).runs.length, 1);
    assert.equal((await ok('log', other)).runs[0].stage, 'theirs');
    // A corrupt stored file: get fails naming it, verify --json prints its report inside the error.
    const hash = (await ok('get', root, '--type', 'wcs', '--data-id', det(1), '--out', join(dir, 'w.hdr'))).sha256 as string;
    const path = join(root, 'store', hash.slice(0, 2), hash);
    chmodSync(path, 0o644);
    writeFileSync(path, wcsHeaderText(3));
    const bad = await fails('get', root, '--type', 'wcs', '--data-id', det(1));
    assert.equal(bad.error.code, 'IO');
    assert.ok(bad.error.message.includes(hash), bad.error.message);
    const v = await fails('verify', root);
    assert.equal(v.error.report.ok, false);
    assert.match(v.error.report.problems.join('\n'), /checksum mismatch/);
    assert.equal(v.error.report.checkedFiles, 2);
  });
});

// -- issue 10 item 10 (old main: a numeric where matched nothing)
test('queryDataIds and export take numbers in a where (compared canonically) and null-prototype keys', async () => {
  await withTmp(async (dir) => {
    const repo = backend.init(join(dir, 'repo'));
    try {
      committed(repo, 'a', [['wcs', det(1), wcsHeaderText(1)], ['wcs', 'instrument=HSC,visit=903336,detector=1', wcsHeaderText(2)]]);
      assert.deepEqual(repo.queryDataIds('wcs', { visit: 903334 }).map((x) => x.dataId), [parseDataIdText(det(1))]);
      assert.equal(repo.queryDataIds('wcs', { visit: 903334n }).length, 1);
      assert.equal(repo.get('wcs', { instrument: 'HSC', visit: 903334, detector: 1 }).entry.dataId, parseDataIdText(det(1)));
      assert.equal(codeOf(() => repo.queryDataIds('wcs', { visit: Number.NaN })), 'BAD_INPUT');
      // `__proto__` is a key like any other: it matches nothing here, never everything.
      assert.deepEqual(repo.queryDataIds('wcs', '__proto__=1'), []);
      assert.equal(Object.keys(parseDataId('__proto__=1,a=2')).length, 2);
    } finally {
      repo.close();
    }
  });
});

// -- issue 11 item 3 (old main: files were removed before COMMIT)
test('gc forgets runs first and removes files after; files an interrupted gc left pending are finished by verify, never a re-used one', async () => {
  await withTmp(async (dir) => {
    const repo = backend.init(join(dir, 'repo'));
    try {
      repo.createBranch('tmp');
      committed(repo, 'a', [['wcs', det(1), wcsHeaderText(1)], ['wcs', det(2), wcsHeaderText(2)]], 'tmp');
      repo.deleteBranch('tmp');
      // What a gc killed after its COMMIT leaves: the runs forgotten, their files still there and pending.
      const unshared = repo.registry.write(() => {
        const ids = repo.registry.unreachableRuns().map((r) => r.id);
        const hashes = repo.registry.deleteRuns(ids);
        repo.registry.addPendingRemovals(hashes, Date.now());
        return hashes;
      });
      assert.equal(unshared.length, 2);
      assert.equal(storeFiles(repo.root).length, 2);
      // Meanwhile a put names one of them again: it must survive.
      const again = committed(repo, 'b', [['wcs', det(1), wcsHeaderText(1)]]);
      const report = verifyRepository(repo); // default safe age: pending removals are not age-gated
      assert.equal(report.finishedGc, 1);
      assert.deepEqual(report.problems, []);
      assert.equal(repo.registry.pendingRemovals().length, 0);
      assert.equal(storeFiles(repo.root).length, 1);
      assert.equal(new TextDecoder().decode(repo.get('wcs', det(1)).bytes), wcsHeaderText(1));
      assert.ok(repo.registry.run(again));
      assert.equal(collectGarbage(repo).removedFiles, 0);
    } finally {
      repo.close();
    }
  });
});

});

// -- issue 11 item 4 (old main: a 0-byte registry became a fresh schema and verify emptied the store)
test('opening refuses a registry without skycal\'s schema; verify never empties the store of an empty registry', async () => {
  await withTmp(async (dir) => {
    const root = join(dir, 'repo');
    const repo = Repository.init(root);
    committed(repo, 'a', [['wcs', det(1), wcsHeaderText(1)]]);
    repo.close();
    const files = storeFiles(root);
    truncateSync(join(root, 'registry.sqlite'), 0);
    for (const suffix of ['-wal', '-shm']) rmSync(join(root, `registry.sqlite${suffix}`), { force: true });
    assert.match((await fails('verify', root)).error.message, /not a skycal repository/);
    assert.match((await fails('log', root)).error.message, /not a skycal repository/);
    assert.deepEqual(storeFiles(root), files);
    assert.equal(statSync(join(root, 'registry.sqlite')).size, 0);
    // Someone else's database gains no tables.
    const foreign = join(dir, 'foreign');
    mkdirSync(foreign);
    const db = new Database(join(foreign, 'registry.sqlite'));
    db.exec('CREATE TABLE customers (id INTEGER)');
    db.close();
    assert.equal((await fails('status', foreign)).error.code, 'BAD_INPUT');
    const after = new Database(join(foreign, 'registry.sqlite'));
    assert.deepEqual(after.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all(), [{ name: 'customers' }]);
    after.close();
    // A schema that names no file (store from elsewhere): verify keeps every file.
    const empty = join(dir, 'empty');
    Repository.init(empty).close();
    mkdirSync(join(empty, 'store', files[0]!.slice(0, 2)), { recursive: true });
    writeFileSync(join(empty, 'store', files[0]!.slice(0, 2), files[0]!), wcsHeaderText(1));
    const old = new Date(Date.now() - 3600_000);
    utimesSync(join(empty, 'store', files[0]!.slice(0, 2), files[0]!), old, old);
    const e = Repository.open(empty);
    try {
      const report = verifyRepository(e, { minAgeMs: 0 });
      assert.deepEqual(report.leftovers.unreferencedFiles, []);
      assert.match(report.kept[0]!.why, /names no file/);
      assert.equal(storeFiles(empty).length, 1);
    } finally {
      e.close();
    }
  });
});

// The tests below run on each registry backend (bodies not re-indented, to keep merges small).
describeBackends('repository faults, continued', (backend) => {
test('verify removes an unnamed file only when it is older than the safe age', async () => {
  await withTmp(async (dir) => {
    const repo = backend.init(join(dir, 'repo'));
    try {
      committed(repo, 'a', [['wcs', det(1), wcsHeaderText(1)]]);
      const orphan = repo.store.stage(enc('left behind by a crash'));
      repo.store.place(orphan);
      const young = verifyRepository(repo);
      assert.deepEqual(young.leftovers.unreferencedFiles, []);
      assert.match(young.kept[0]!.why, /younger than 600 s/);
      assert.ok(repo.store.has(orphan.hash));
      const old = new Date(Date.now() - 3600_000);
      utimesSync(repo.store.pathOf(orphan.hash), old, old);
      assert.deepEqual(verifyRepository(repo).leftovers.unreferencedFiles, [orphan.hash]);
      assert.equal(repo.store.has(orphan.hash), false);
    } finally {
      repo.close();
    }
  });
});

// -- issue 11 item 6 (old main: each of these manifests imported)
test('bundle manifests are validated field by field before anything is written', async () => {
  await withTmp(async (dir) => {
    const src = backend.init(join(dir, 'src'));
    committed(src, 'a', [['wcs', det(1), wcsHeaderText(1)]]);
    const bundle = join(dir, 'bundle');
    await exportBundle(src, bundle);
    src.close();
    const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8'));
    const cases: [string, (m: any) => void][] = [
      ['configJson not JSON', (m) => (m.runs[0].configJson = '{not json')],
      ['committedAt not a time', (m) => (m.runs[0].committedAt = 'yesterday')],
      ['ref ../../evil', (m) => (m.refs[0].name = '../../evil')],
      ['ref ""', (m) => (m.refs[0].name = '')],
      ['ref shaped like a run id', (m) => (m.refs[0].name = 'r-0123456789ab')],
      ['run id main', (m) => { m.refs[0].runId = 'main'; m.runs[0].id = 'main'; }],
      ['run id ../../etc', (m) => (m.runs[0].id = '../../etc')],
      ['stage with /', (m) => (m.runs[0].stage = 'a/b')],
      ['configHash mismatch', (m) => (m.runs[0].configHash = '0'.repeat(64))],
      ['non-canonical dataId', (m) => (m.runs[0].entries[0].dataId = 'visit=903334,instrument=HSC,detector=1')],
      ['null entry', (m) => (m.runs[0].entries[0] = null)],
      ['storage class toString', (m) => (m.datasetTypes[0].storageClass = 'toString')],
      ['type __proto__', (m) => (m.runs[0].entries[0].type = '__proto__')],
      ['duplicated entry', (m) => m.runs[0].entries.push(m.runs[0].entries[0])],
      ['size that lies', (m) => (m.runs[0].entries[0].size = 1)],
      ['createdAt 2026-02-30', (m) => (m.createdAt = '2026-02-30T00:00:00Z')],
    ];
    for (const [name, mutate] of cases) {
      const m = structuredClone(manifest);
      mutate(m);
      writeFileSync(join(bundle, 'manifest.json'), JSON.stringify(m));
      const dest = backend.init(join(dir, `dest-${cases.findIndex((c) => c[0] === name)}`));
      try {
        assert.equal(await codeOfAsync(() => importBundle(dest, bundle)), 'BAD_INPUT', name);
        assert.deepEqual(storeFiles(dest.root), [], `${name}: nothing placed`);
        assert.deepEqual(readdirSync(dest.store.tmpDir), [], `${name}: nothing staged left`);
        assert.equal(dest.registry.runsByState('committed').length, 0, name);
      } finally {
        dest.close();
      }
    }
    // A refusal found only against the repository (a conflicting type) also leaves store/ empty.
    writeFileSync(join(bundle, 'manifest.json'), JSON.stringify(manifest));
    const dest = backend.init(join(dir, 'dest-conflict'));
    try {
      committed(dest, 'here', [['wcs', det(5), wcsHeaderText(5)]]);
      const before = storeFiles(dest.root);
      assert.equal(await codeOfAsync(() => importBundle(dest, bundle)), 'CONFLICT');
      assert.deepEqual(storeFiles(dest.root), before);
      assert.equal((await importBundle(dest, bundle, { as: 'upstream' })).runs, 1);
    } finally {
      dest.close();
    }
  });
});

// -- issue 11 item 7 (old main: Infinity accepted; the lease grew with every put)
test('leases are finite and bounded, and renewing sets the expiry to now + the lease the run began with', async () => {
  await withTmp(async (dir) => {
    const root = join(dir, 'repo');
    const repo = backend.init(root);
    try {
      for (const lease of [Infinity, 1e309, -1, 0, Number.NaN, 8 * 24 * 3600]) {
        assert.equal(codeOf(() => repo.begin({ stage: 'a', leaseSeconds: lease })), 'BAD_INPUT', String(lease));
      }
      const run = repo.begin({ stage: 'a', leaseSeconds: 5 });
      for (let d = 0; d < 3; d++) {
        const before = Date.now();
        repo.put(run.id, 'wcs', det(d), enc(wcsHeaderText(d)));
        const expiry = repo.registry.run(run.id)!.leaseExpiresAt!;
        assert.ok(expiry >= before + 5000 && expiry <= Date.now() + 5000, `put ${d}: expiry ${expiry - before} ms after the put`);
      }
    } finally {
      repo.close();
    }
    assert.equal((await fails('begin', root, '--stage', 'a', '--lease', 'Infinity')).code, 2);
    assert.equal((await fails('begin', root, '--stage', 'a', '--lease', '1e309')).code, 2);
  });
});

// -- issue 11 item 9 (old main: a symlink or device was replaced; REPO/registry.sqlite was overwritten)
test('--out refuses links, folders and paths inside the repository, and writes through a device', async () => {
  await withTmp(async (dir) => {
    const root = join(dir, 'repo');
    const repo = backend.init(root);
    committed(repo, 'a', [['wcs', det(1), wcsHeaderText(1)]]);
    repo.close();
    const get = (out: string) => ['get', root, '--type', 'wcs', '--data-id', det(1), '--out', out];
    const target = writeFixture(dir, 'target.txt', 'keep me');
    symlinkSync(target, join(dir, 'link'));
    assert.equal((await fails(...get(join(dir, 'link')))).code, 2);
    assert.equal(readFileSync(target, 'utf8'), 'keep me');
    assert.equal((await fails(...get(dir))).code, 2);
    const registryFile = join(root, backend.name === 'sqlite' ? 'registry.sqlite' : 'registry.json');
    const registryBytes = readFileSync(registryFile);
    assert.equal((await fails(...get(registryFile))).code, 2);
    assert.equal((await fails(...get(join(root, 'store', 'x')))).code, 2);
    assert.deepEqual(readFileSync(registryFile).subarray(0, 15), registryBytes.subarray(0, 15)); // still the registry's own bytes
    assert.equal((await ok('log', root)).runs.length, 1);
    await ok(...get('/dev/null'));
    assert.ok(statSync('/dev/null').isCharacterDevice());
    assert.equal((await fails('export', root, '--out', join(root, 'inside.tar'))).code, 2);
  });
});

// -- issue 11 item 12 (old main: __proto__ said "no keys", toString registered, 2026-02-30 read as March 2, constraint failures were CONFLICT)
test('object keys from input are plain keys, impossible dates are USAGE, constraint failures keep meaningful codes', async () => {
  await withTmp(async (dir) => {
    const root = join(dir, 'repo');
    const repo = backend.init(root);
    committed(repo, 'a', [['wcs', det(1), wcsHeaderText(1)]]);
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      assert.equal(codeOf(() => repo.registerDatasetType(name, 'TanSipWcs')), 'BAD_INPUT', name);
    }
    for (const sc of ['toString', '__proto__', 'constructor']) {
      assert.equal(codeOf(() => repo.registerDatasetType('myType', sc)), 'BAD_INPUT', sc);
    }
    // A foreign-key failure (an entry naming an unknown type) is BAD_INPUT, a duplicate is CONFLICT, never IO.
    const run = repo.begin({ stage: 'b' });
    assert.equal(codeOf(() => repo.registry.write(() => repo.registry.addEntry(run.id, { type: 'nope', dataId: 'a=1', kind: 'failure', fileHash: null, size: null, reason: 'x' }))), 'BAD_INPUT');
    repo.registry.write(() => repo.registry.addEntry(run.id, { type: 'wcs', dataId: 'a=1', kind: 'failure', fileHash: null, size: null, reason: 'x' }));
    assert.equal(codeOf(() => repo.registry.write(() => repo.registry.addEntry(run.id, { type: 'wcs', dataId: 'a=1', kind: 'failure', fileHash: null, size: null, reason: 'x' }))), 'CONFLICT');
    // A bug inside a transaction is INTERNAL (exit 70), not IO.
    assert.equal(codeOf(() => repo.registry.write(() => { throw new TypeError('m.some is not a function'); })), 'INTERNAL');
    repo.close();
    // `--data-id __proto__=1` is a dataId with the key __proto__ (old main: "no keys").
    const run2 = (await ok('begin', root, '--stage', 'c')).run;
    assert.equal((await ok('put', root, '--run', run2, '--type', 'wcs', '--data-id', '__proto__=1', writeFixture(dir, 'w.hdr', wcsHeaderText(3)))).dataId, '__proto__=1');
    await ok('commit', root, '--run', run2);
    assert.equal((await ok('get', root, '--type', 'wcs', '--data-id', '__proto__=1', '--out', join(dir, 'p.hdr'))).dataId, '__proto__=1');
    assert.equal(readFileSync(join(dir, 'p.hdr'), 'utf8'), wcsHeaderText(3));
    assert.equal((await fails('get', root, '--type', 'wcs', '--data-id', det(1), '--as-of', '2026-02-30')).code, 2);
    assert.equal((await fails('get', root, '--type', 'wcs', '--data-id', det(1), '--as-of', '2026-02-30T00:00:00Z')).code, 2);
    assert.equal((await fails('export', root, '--out', join(dir, 'x.tar'), '--where', 'a')).code, 2);
    assert.equal((await ok('get', root, '--type', 'wcs', '--data-id', det(1), '--as-of', '2099-02-28', '--out', join(dir, 'ok.hdr'))).dataId, parseDataIdText(det(1)));
  });
});

// -- issue 9: the catalog format is recorded at put, not guessed by reading the whole file at every read
test('a catalog\'s format is recorded at put and read back from the registry', async () => {
  await withTmp(async (dir) => {
    const repo = backend.init(join(dir, 'repo'));
    try {
      const parquet = await parquetCatalog(Buffer.alloc(100, 7));
      const stream = arrowCatalog(Buffer.alloc(100, 3));
      const run = repo.begin({ stage: 'a' });
      repo.put(run.id, 'src', det(1), parquet);
      repo.put(run.id, 'src', det(2), stream);
      repo.commit(run.id);
      assert.equal(repo.registry.entry(run.id, 'src', parseDataIdText(det(1)))!.format, 'parquet');
      assert.equal(repo.getCatalog(det(2)).format, 'arrows');
      // The read uses the recorded format, not the bytes: make the file lie and the answer stays.
      const path = repo.getCatalog(det(2)).path;
      chmodSync(path, 0o644);
      writeFileSync(path, parquet);
      assert.equal(repo.getCatalog(det(2)).format, 'arrows');
    } finally {
      repo.close();
    }
  });
});

});

// -- issue 11 item 8 (old main: open ran migrations in BEGIN IMMEDIATE and close flushed use counts, so a get waited 16 s behind a writer and failed)
test('reads never wait behind a writer: open, get, log, close and verify --dry-run while another connection holds the write lock', async () => {
  await withTmp(async (dir) => {
    const root = join(dir, 'repo');
    const repo = Repository.init(root);
    committed(repo, 'a', [['wcs', det(1), wcsHeaderText(1)]]);
    repo.close();
    const writer = new Database(join(root, 'registry.sqlite'));
    writer.exec('BEGIN IMMEDIATE');
    try {
      const started = Date.now();
      const r = Repository.open(root);
      assert.equal(new TextDecoder().decode(r.get('wcs', det(1)).bytes), wcsHeaderText(1));
      assert.equal(r.log().length, 1);
      assert.deepEqual(verifyRepository(r, { dryRun: true }).problems, []);
      r.close(); // the use count is dropped rather than waited for
      assert.ok(Date.now() - started < 2000, `reads took ${Date.now() - started} ms behind a writer`);
    } finally {
      writer.exec('ROLLBACK');
      writer.close();
    }
  });
});

// The tests below run on each registry backend (bodies not re-indented, to keep merges small).
describeBackends('repository faults, last', (backend) => {
// -- issue 10 item 10 (old main: recompute with { visit: 903334 } found nothing)
test('recompute takes a where with numbers', async () => {
  const { recompute } = await import('../src/recompute/recompute.js');
  await withTmp(async (dir) => {
    const repo = backend.init(join(dir, 'repo'));
    try {
      const { tableFromArrays, tableToIPC } = await import('apache-arrow');
      const catalog = tableToIPC(tableFromArrays({ x: Float64Array.from([10, 20]), y: Float64Array.from([30, 40]), instFlux: Float64Array.from([100, 200]) }), 'stream');
      const run = repo.begin({ stage: 'a' });
      for (const [visit, d] of [[903334, 1], [903336, 1]] as const) {
        const id = `instrument=HSC,visit=${visit},detector=${d}`;
        repo.put(run.id, 'wcs', id, enc(wcsHeaderText(d)));
        repo.put(run.id, 'photoCalib', id, enc(photoCalibJson(100)));
        repo.put(run.id, 'src', id, catalog);
      }
      repo.commit(run.id);
      const where = { visit: 903334 }; // a number, as library callers write it
      const summary = await recompute(repo, { out: join(dir, 'out.arrows'), where, workers: 1 });
      assert.deepEqual(summary.dataIds.map((x) => x.dataId), [parseDataIdText(det(1))]);
      assert.equal(summary.rows, 2);
    } finally {
      repo.close();
    }
  });
});

// -- issue 11 item 6 (old main: a 20,000-run chain never finished importing)
test('a long chain imports in one pass, and a 20,000-run chain is refused up front instead of never finishing', async () => {
  const { canonicalJson, sha256Hex } = await import('../src/butler/hash.js');
  await withTmp(async (dir) => {
    const chain = (n: number) => {
      const configJson = canonicalJson({});
      const runs = Array.from({ length: n }, (_, i) => ({
        id: `r-${i.toString(16).padStart(12, '0')}`, stage: 'nightly', parents: i === 0 ? [] : [`r-${(i - 1).toString(16).padStart(12, '0')}`],
        configJson, configHash: sha256Hex(configJson), softwareVersion: 'skycal 0.1.0', host: 'h', user: 'u',
        begunAt: 1_700_000_000_000 + i * 10, committedAt: 1_700_000_000_000 + i * 10 + 5,
        entries: [{ type: 'wcs', dataId: 'visit=1', kind: 'failure', fileHash: null, size: null, reason: `night ${i}` }], inputs: [],
      }));
      const last = runs.at(-1)!.id;
      const manifest = {
        bundleVersion: 1, createdAt: '2026-12-01T00:00:00.000Z', source: { at: 'main', asOf: null },
        datasetTypes: [{ name: 'wcs', storageClass: 'TanSipWcs' }], runs,
        refs: [{ name: 'main', kind: 'branch', runId: last, moves: [{ runId: last, at: 1_700_000_000_000 + n * 10, reason: 'commit' }] }], files: [],
      };
      const folder = join(dir, `chain-${n}`);
      mkdirSync(folder);
      writeFileSync(join(folder, 'manifest.json'), JSON.stringify(manifest));
      return folder;
    };
    const repo = backend.init(join(dir, 'repo'));
    try {
      const started = Date.now();
      assert.match(await importBundle(repo, chain(20_000)).then(() => 'imported', (e: SkycalError) => `${e.code} ${e.message}`), /^BAD_INPUT .*too deep/);
      assert.ok(Date.now() - started < 5000, `refusal took ${Date.now() - started} ms`);
      assert.equal(repo.registry.runsByState('committed').length, 0);
      assert.equal((await importBundle(repo, chain(400))).runs, 400);
      assert.equal(repo.log().length, 400);
      assert.throws(() => repo.get('wcs', 'visit=1'), /night 399/);
    } finally {
      repo.close();
    }
  });
});

});
