/** The repository through the CLI, as scripts use it: --json documents, error codes, exit codes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readHdus } from '../src/fits/file.js';
import { readImage } from '../src/fits/image.js';
import { describeBackends, writeTar } from './butler-fixtures.js';
import { cliPath, runCli, tempDir } from './helpers.js';
import { crval1Of, imageFits, photoCalibJson, wcsHeaderText, writeFixture } from './butler-fixtures.js';

/** The CLI's main() in this process (test/helpers.ts runCli); stdout as latin1 so binary datasets compare byte for byte. */
async function cli(args: string[]): Promise<{ code: number; out: string }> {
  const r = await runCli(args);
  return { code: r.code, out: r.stdoutBytes.toString('latin1') };
}

async function sk(...args: string[]): Promise<{ code: number; json: any }> {
  const r = await cli([...args, '--json']);
  const lines = r.out.trim().split('\n');
  const error = lines.find((l) => l.startsWith('{"error"'));
  return { code: r.code, json: JSON.parse(error ?? r.out) };
}

async function ok(...args: string[]): Promise<any> {
  const r = await sk(...args);
  assert.equal(r.code, 0, `skycal ${args.join(' ')} failed: ${JSON.stringify(r.json)}`);
  return r.json;
}

async function errorCode(...args: string[]): Promise<string> {
  const r = await sk(...args);
  assert.notEqual(r.code, 0, `skycal ${args.join(' ')} should fail`);
  return r.json.error.code;
}

const det = (d: number) => `instrument=HSC,visit=903334,detector=${d}`;
const crvalAt = async (repo: string, d: number, ...more: string[]) => {
  const r = await cli(['get', repo, '--type', 'wcs', '--data-id', det(d), ...more]);
  assert.equal(r.code, 0);
  return crval1Of(r.out);
};

// Every test below runs on each registry backend (the bodies are not re-indented, to keep merges small).
describeBackends('the repository through the CLI', (backend) => {

test('the design discussion end to end through the CLI, then export and import into a fresh repository', async () => {
  const tmp = tempDir();
  try {
    const repo = join(tmp.path, 'repo');
    const v1 = writeFixture(tmp.path, 'v1.hdr', wcsHeaderText(1));
    const v2 = writeFixture(tmp.path, 'v2.hdr', wcsHeaderText(2));
    const v3 = writeFixture(tmp.path, 'v3.hdr', wcsHeaderText(3));
    await ok('init', repo, ...backend.initArgs());
    const sf = (await ok('begin', repo, '--stage', 'singleFrame')).run as string;
    for (const d of [1, 2, 3]) await ok('put', repo, '--run', sf, '--type', 'wcs', '--data-id', det(d), v1);
    const sfCommit = await ok('commit', repo, '--run', sf);
    const cfg = writeFixture(tmp.path, 'jointcal.json', JSON.stringify({ order: 3 }));
    const jc = (await ok('begin', repo, '--stage', 'jointcal', '--config', cfg, ...[1, 2, 3].flatMap((d) => ['--expect', `wcs:${det(d)}`]))).run as string;
    // Reverse key order: dataIds are canonical.
    await ok('put', repo, '--run', jc, '--type', 'wcs', '--data-id', 'detector=1,visit=903334,instrument=HSC', v2);
    await ok('put', repo, '--run', jc, '--type', 'wcs', '--data-id', det(2), v2);
    const st = await ok('status', repo);
    assert.deepEqual(st.open[0].expected.map((x: any) => x.state), ['dataset', 'dataset', 'missing']);
    await ok('commit', repo, '--run', jc);

    const answers = async (r: string) => {
      assert.equal(await crvalAt(r, 1), crval1Of(wcsHeaderText(3)));
      assert.equal(await crvalAt(r, 2), crval1Of(wcsHeaderText(2)));
      const bad = await sk('get', r, '--type', 'wcs', '--data-id', det(3));
      assert.equal(bad.code, 1);
      assert.equal(bad.json.error.code, 'INVALID_DATASET');
      assert.equal(bad.json.error.message, `invalid: wcs detector=3,instrument=HSC,visit=903334 failed in run ${jc} (jointcal): expected output not produced`);
      assert.equal(await crvalAt(r, 3, '--type', 'wcs@singleFrame'), crval1Of(wcsHeaderText(1)));
      assert.equal(await crvalAt(r, 1, '--as-of', sfCommit.committedAt), crval1Of(wcsHeaderText(1)));
      assert.equal(await crvalAt(r, 3, '--as-of', sfCommit.committedAt), crval1Of(wcsHeaderText(1)));
      // A tag keeps jointcal's WCS after main moved on.
      assert.equal(await crvalAt(r, 1, '--at', 'v2026-11-jointcal'), crval1Of(wcsHeaderText(2)));
    };
    await ok('tag', repo, 'v2026-11-jointcal', 'main');
    const later = (await ok('begin', repo, '--stage', 'jointcal', '--config', cfg)).run as string;
    await ok('put', repo, '--run', later, '--type', 'wcs', '--data-id', det(1), v3);
    await ok('commit', repo, '--run', later);
    assert.equal(await crvalAt(repo, 1), crval1Of(wcsHeaderText(3)));
    await answers(repo);
    const log = (await ok('log', repo)).runs;
    assert.deepEqual(log.map((r: any) => r.stage), ['jointcal', 'jointcal', 'singleFrame']);
    assert.deepEqual(Object.keys(log[0]).filter((k) => ['id', 'stage', 'parents', 'committedAt'].includes(k)).sort(), ['committedAt', 'id', 'parents', 'stage']);

    for (const form of ['bundle', 'bundle.tar']) {
      const bundle = join(tmp.path, form);
      await ok('export', repo, '--at', 'main', '--out', bundle);
      const fresh = join(tmp.path, `fresh-${form}`);
      await ok('init', fresh, ...backend.initArgs());
      const imported = await ok('import', fresh, bundle);
      assert.equal(imported.runs, 3);
      if (form === 'bundle') await answers(fresh);
      else assert.equal(await errorCode('get', fresh, '--type', 'wcs', '--data-id', det(3)), 'INVALID_DATASET');
      assert.equal((await ok('verify', fresh)).ok, true);
    }
  } finally {
    tmp.cleanup();
  }
});

test('two commits racing on one tip from separate processes: exactly one lands, the other is CONFLICT and stays open', async () => {
  const tmp = tempDir();
  try {
    const repo = join(tmp.path, 'repo');
    const v = [1, 2].map((i) => writeFixture(tmp.path, `v${i}.hdr`, wcsHeaderText(i)));
    await ok('init', repo, ...backend.initArgs());
    const runs: string[] = [];
    for (const i of [0, 1]) {
      const id = (await ok('begin', repo, '--stage', `s${i}`)).run as string;
      await ok('put', repo, '--run', id, '--type', 'wcs', '--data-id', det(i + 1), v[i]!);
      runs.push(id);
    }
    // The race itself needs two processes.
    const run = promisify(execFile);
    const results = await Promise.allSettled(runs.map((id) => run(process.execPath, [cliPath, 'commit', repo, '--run', id, '--json'])));
    const landed = results.filter((r) => r.status === 'fulfilled');
    assert.equal(landed.length, 1);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.equal(JSON.parse(lost.reason.stdout).error.code, 'CONFLICT');
    const log = (await ok('log', repo)).runs;
    assert.equal(log.length, 1);
    const loser = runs.find((id) => id !== log[0].id)!;
    assert.equal((await ok('status', repo)).open[0].id, loser);
    const merged = await ok('merge', repo, '--into', 'main', loser);
    assert.equal(merged.kind, 'merge');
    assert.deepEqual((await ok('log', repo)).runs[0].parents, [log[0].id, loser]);
    assert.equal(await crvalAt(repo, 1), crval1Of(wcsHeaderText(1)));
    assert.equal(await crvalAt(repo, 2), crval1Of(wcsHeaderText(2)));
  } finally {
    tmp.cleanup();
  }
});

test('a bundle that escapes its folder is refused with nothing written', async () => {
  const tmp = tempDir();
  try {
    const repo = join(tmp.path, 'repo');
    await ok('init', repo, ...backend.initArgs());
    const evilTar = join(tmp.path, 'evil.tar');
    writeFileSync(evilTar, writeTar([
      { path: 'manifest.json', bytes: new TextEncoder().encode('{}') },
      { path: '../escaped.txt', bytes: new TextEncoder().encode('gotcha') },
    ]));
    assert.equal(await errorCode('import', repo, evilTar), 'BAD_INPUT');
    const absTar = join(tmp.path, 'abs.tar');
    writeFileSync(absTar, writeTar([{ path: '/tmp/skycal-escaped.txt', bytes: new TextEncoder().encode('x') }]));
    assert.equal(await errorCode('import', repo, absTar), 'BAD_INPUT');
    const linked = join(tmp.path, 'linked');
    mkdirSync(join(linked, 'files'), { recursive: true });
    writeFileSync(join(linked, 'manifest.json'), '{}');
    symlinkSync('/etc/passwd', join(linked, 'files', 'x'));
    assert.equal(await errorCode('import', repo, linked), 'BAD_INPUT');
    assert.equal(existsSync(join(tmp.path, 'escaped.txt')), false);
    assert.equal(existsSync('/tmp/skycal-escaped.txt'), false);
    assert.deepEqual(readdirSync(join(repo, 'store')), []);
    assert.deepEqual(readdirSync(join(repo, 'tmp')), []);
    assert.deepEqual((await ok('log', repo)).runs, []);
  } finally {
    tmp.cleanup();
  }
});

test('a bundle with a file that does not match its checksum is refused before anything is written', async () => {
  const tmp = tempDir();
  try {
    const repo = join(tmp.path, 'repo');
    await ok('init', repo, ...backend.initArgs());
    const r = (await ok('begin', repo, '--stage', 'a')).run;
    await ok('put', repo, '--run', r, '--type', 'wcs', '--data-id', det(1), writeFixture(tmp.path, 'w.hdr', wcsHeaderText(1)));
    await ok('commit', repo, '--run', r);
    const bundle = join(tmp.path, 'b');
    await ok('export', repo, '--at', 'main', '--out', bundle);
    const [name] = readdirSync(join(bundle, 'files'));
    writeFileSync(join(bundle, 'files', name!), wcsHeaderText(9));
    const fresh = join(tmp.path, 'fresh');
    await ok('init', fresh, ...backend.initArgs());
    assert.equal(await errorCode('import', fresh, bundle), 'BAD_INPUT');
    assert.deepEqual(readdirSync(join(fresh, 'store')), []);
  } finally {
    tmp.cleanup();
  }
});

test('get --type calexp --out writes one FITS file: image, TAN-SIP cards, calibration keywords and a PHOTOCAL table', async () => {
  const tmp = tempDir();
  try {
    const repo = join(tmp.path, 'repo');
    await ok('init', repo, ...backend.initArgs());
    const r = (await ok('begin', repo, '--stage', 'calibrate')).run;
    const id = 'visit=1,detector=2';
    await ok('put', repo, '--run', r, '--type', 'calexp.image', '--data-id', id, writeFixture(tmp.path, 'i.fits', imageFits()));
    await ok('put', repo, '--run', r, '--type', 'calexp.wcs', '--data-id', id, writeFixture(tmp.path, 'w.hdr', wcsHeaderText(1)));
    await ok('put', repo, '--run', r, '--type', 'calexp.photoCalib', '--data-id', id, writeFixture(tmp.path, 'p.json', photoCalibJson(1000, true)));
    await ok('commit', repo, '--run', r);
    const out = join(tmp.path, 'x.fits');
    const got = await ok('get', repo, '--type', 'calexp', '--data-id', id, '--out', out);
    assert.equal(got.components.wcs.runId, r);
    const bytes = readFileSync(out);
    const hdus = readHdus(bytes);
    assert.equal(hdus.length, 2);
    const h = hdus[0]!.header;
    assert.equal(h.getString('CTYPE1'), 'RA---TAN-SIP');
    assert.equal(h.getNumber('A_ORDER'), 2);
    assert.equal(h.getNumber('PHOTCALM'), 1000);
    assert.ok(Math.abs(h.getNumber('MAGZERO') - (31.4 - 7.5)) < 1e-12);
    assert.deepEqual(Array.from(readImage(bytes).pixels), Array.from(readImage(imageFits()).pixels));
    assert.equal(hdus[1]!.header.getString('EXTNAME'), 'PHOTOCAL');
    assert.equal(hdus[1]!.header.getNumber('NAXIS2'), 4);
  } finally {
    tmp.cleanup();
  }
});

test('every bad input fails with a stable code and a JSON error document', async () => {
  const tmp = tempDir();
  try {
    const repo = join(tmp.path, 'repo');
    assert.equal(await errorCode('log', repo), 'NOT_FOUND');
    await ok('init', repo, ...backend.initArgs());
    assert.equal(await errorCode('init', repo), 'CONFLICT');
    assert.equal(await errorCode('begin', repo), 'USAGE');
    assert.equal(await errorCode('begin', repo, '--stage', 's', '--expect', 'nocolon'), 'USAGE');
    assert.equal(await errorCode('begin', repo, '--stage', 's', '--expect', 'nope:a=1'), 'NOT_FOUND');
    assert.equal(await errorCode('begin', repo, '--stage', 's', '--config', join(tmp.path, 'missing.json')), 'NOT_FOUND');
    assert.equal(await errorCode('begin', repo, '--stage', 's', '--config', writeFixture(tmp.path, 'bad.json', '{')), 'BAD_INPUT');
    assert.equal(await errorCode('begin', repo, '--stage', 's', '--lease', '-3'), 'USAGE');
    const r = (await ok('begin', repo, '--stage', 's')).run;
    assert.equal(await errorCode('put', repo, '--run', r, '--type', 'wcs', '--data-id', 'a=1', writeFixture(tmp.path, 'junk.hdr', 'junk')), 'BAD_INPUT');
    assert.equal(await errorCode('put', repo, '--run', r, '--type', 'wcs', '--data-id', 'a', writeFixture(tmp.path, 'w.hdr', wcsHeaderText(1))), 'USAGE', 'a bad --data-id is USAGE, as everywhere');
    assert.equal(await errorCode('put', repo, '--run', r, '--type', 'wcs', '--data-id', 'a=1', join(tmp.path, 'nope')), 'NOT_FOUND');
    assert.equal(await errorCode('fail', repo, '--run', r, '--type', 'wcs', '--data-id', 'a=1'), 'USAGE');
    assert.equal(await errorCode('get', repo, '--type', 'wcs', '--data-id', 'a=1', '--as-of', 'noon'), 'USAGE', 'a bad --as-of is USAGE, as everywhere');
    assert.equal(await errorCode('get', repo, '--type', 'wcs', '--data-id', 'a=1', '--at', 'nope'), 'NOT_FOUND');
    assert.equal(await errorCode('tag', repo, 'empty', 'main'), 'BAD_INPUT');
    assert.equal(await errorCode('branch', repo, '--delete', 'nope'), 'NOT_FOUND');
    assert.equal(await errorCode('branch', repo, 'bad..name'), 'BAD_INPUT');
    assert.equal(await errorCode('merge', repo, 'main'), 'USAGE');
    assert.equal(await errorCode('import', repo, join(tmp.path, 'nope')), 'NOT_FOUND');
    assert.equal(await errorCode('commit', repo, '--run', 'r-000000000000'), 'NOT_FOUND');
    assert.equal(await errorCode('register-type', repo, 'deepCoadd', 'Nope'), 'BAD_INPUT');
    await ok('register-type', repo, 'deepCoadd', 'Exposure');
    assert.equal(await errorCode('register-type', repo, 'deepCoadd', 'Image'), 'CONFLICT');
    await ok('commit', repo, '--run', r);
    assert.equal(await errorCode('commit', repo, '--run', r), 'CONFLICT');
  } finally {
    tmp.cleanup();
  }
});

});
