import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { SkycalError } from '../src/errors.js';
import { Repository } from '../src/butler/repository.js';
import { mergeInto } from '../src/butler/merge.js';
import { canonicalDataId } from '../src/butler/dataId.js';
import { collectGarbage, verifyRepository } from '../src/butler/maintenance.js';
import { tempDir, errorCodeOf } from './helpers.js';
import { crval1Of, describeBackends, imageFits, photoCalibJson, wcsHeaderText, type Backend } from './butler-fixtures.js';

const enc = (s: string) => new TextEncoder().encode(s);
const det = (d: number) => `instrument=HSC,visit=903334,detector=${d}`;

/** A repository on this backend for one test, closed and removed after it. */
const withRepoOn = (backend: Backend) => (fn: (repo: Repository, root: string) => void): void => {
  const tmp = tempDir();
  const repo = backend.init(join(tmp.path, 'repo'));
  try {
    fn(repo, join(tmp.path, 'repo'));
  } finally {
    repo.close();
    tmp.cleanup();
  }
};

const code = errorCodeOf;

const wcsVersion = (repo: Repository, d: number, spec = {}) => crval1Of(repo.getWcs(det(d), spec).headerText);

/** singleFrame writes v1 for three detectors; jointcal declares three, writes v2 for two. */
function designScenario(repo: Repository) {
  const sf = repo.begin({ stage: 'singleFrame', config: { psf: 'gauss' } });
  for (const d of [1, 2, 3]) repo.put(sf.id, 'wcs', det(d), enc(wcsHeaderText(1)));
  repo.commit(sf.id);
  const jc = repo.begin({ stage: 'jointcal', expect: [1, 2, 3].map((d) => ({ type: 'wcs', dataId: det(d) })) });
  repo.put(jc.id, 'wcs', det(1), enc(wcsHeaderText(2)));
  repo.put(jc.id, 'wcs', det(2), enc(wcsHeaderText(2)));
  const committed = repo.commit(jc.id);
  return { sf: repo.registry.run(sf.id)!, jc: committed };
}

// Every test below runs on each registry backend (the body is not re-indented, to keep merges small).
describeBackends('the repository', (backend) => {
const withRepo = withRepoOn(backend);

test('the design scenario: a missing jointcal output is a failure marker, never singleFrame’s WCS', () => {
  withRepo((repo) => {
    const { sf, jc } = designScenario(repo);
    assert.equal(wcsVersion(repo, 1), crval1Of(wcsHeaderText(2)));
    assert.equal(wcsVersion(repo, 2), crval1Of(wcsHeaderText(2)));
    assert.throws(() => repo.getWcs(det(3)), (e: SkycalError) => {
      assert.equal(e.code, 'INVALID_DATASET');
      assert.equal(e.message, `invalid: wcs detector=3,instrument=HSC,visit=903334 failed in run ${jc.id} (jointcal): expected output not produced`);
      return true;
    });
    // The real name and a past date still reach singleFrame's version.
    assert.equal(wcsVersion(repo, 3, { stage: 'singleFrame' }), crval1Of(wcsHeaderText(1)));
    assert.equal(crval1Of(new TextDecoder().decode(repo.get('wcs@singleFrame', det(1)).bytes)), crval1Of(wcsHeaderText(1)));
    assert.equal(wcsVersion(repo, 1, { asOf: sf.committedAt! }), crval1Of(wcsHeaderText(1)));
    assert.equal(wcsVersion(repo, 3, { asOf: sf.committedAt! }), crval1Of(wcsHeaderText(1)));
    assert.equal(code(() => repo.getWcs(det(1), { asOf: sf.begunAt - 1000 })), 'NOT_FOUND');
    // A tag keeps jointcal's WCS after main moves on.
    repo.createTag('v2026-11-jointcal', 'main');
    const next = repo.begin({ stage: 'jointcal' });
    repo.put(next.id, 'wcs', det(1), enc(wcsHeaderText(3)));
    repo.commit(next.id);
    assert.equal(wcsVersion(repo, 1), crval1Of(wcsHeaderText(3)));
    assert.equal(wcsVersion(repo, 1, { at: 'v2026-11-jointcal' }), crval1Of(wcsHeaderText(2)));
    assert.equal(wcsVersion(repo, 1, { at: sf.id }), crval1Of(wcsHeaderText(1)));
    const log = repo.log();
    assert.deepEqual(log.map((r) => r.stage), ['jointcal', 'jointcal', 'singleFrame']);
    assert.deepEqual(log[1]!.failures, [{ type: 'wcs', dataId: det(3).split(',').sort().join(','), reason: 'expected output not produced' }]);
  });
});

test('an open run is invisible and a commit that lost its tip is a CONFLICT that keeps the run open', () => {
  withRepo((repo) => {
    const a = repo.begin({ stage: 's1' });
    const b = repo.begin({ stage: 's2' });
    repo.put(a.id, 'wcs', det(1), enc(wcsHeaderText(1)));
    repo.put(b.id, 'wcs', det(2), enc(wcsHeaderText(2)));
    assert.equal(code(() => repo.getWcs(det(1))), 'NOT_FOUND');
    repo.commit(a.id);
    assert.equal(code(() => repo.commit(b.id)), 'CONFLICT');
    assert.equal(repo.registry.run(b.id)!.state, 'open');
    assert.equal(repo.registry.runEntries(b.id).length, 1);
    assert.equal(code(() => repo.getWcs(det(2))), 'NOT_FOUND');
    const merged = mergeInto(repo, 'main', b.id);
    assert.equal(merged.kind, 'merge');
    assert.deepEqual(repo.registry.run(merged.runId)!.parents, [a.id, b.id]);
    assert.equal(wcsVersion(repo, 1), crval1Of(wcsHeaderText(1)));
    assert.equal(wcsVersion(repo, 2), crval1Of(wcsHeaderText(2)));
  });
});

test('merge: both sides writing one dataset since the base is a CONFLICT; one stage with two configs refuses unless forced', () => {
  withRepo((repo) => {
    const base = repo.begin({ stage: 'singleFrame' });
    repo.put(base.id, 'wcs', det(1), enc(wcsHeaderText(1)));
    repo.commit(base.id);
    repo.createBranch('tractA');
    repo.createBranch('tractB');
    const onA = repo.begin({ stage: 'jointcal', branch: 'tractA', config: { tract: 'any', order: 3 } });
    repo.put(onA.id, 'wcs', det(2), enc(wcsHeaderText(2)));
    repo.commit(onA.id);
    const onB = repo.begin({ stage: 'jointcal', branch: 'tractB', config: { order: 3, tract: 'any' } });
    repo.put(onB.id, 'wcs', det(3), enc(wcsHeaderText(3)));
    repo.commit(onB.id);
    assert.equal(mergeInto(repo, 'tractA', 'tractB').kind, 'merge'); // same config (key order ignored): clean
    const clash = repo.begin({ stage: 'other', branch: 'tractB' });
    repo.put(clash.id, 'wcs', det(2), enc(wcsHeaderText(4)));
    repo.commit(clash.id);
    const before = repo.registry.ref('tractA')!.runId;
    assert.equal(code(() => mergeInto(repo, 'tractA', 'tractB')), 'CONFLICT');
    assert.equal(repo.registry.ref('tractA')!.runId, before);
    repo.createBranch('tractC', base.id);
    const onC = repo.begin({ stage: 'jointcal', branch: 'tractC', config: { order: 4 } });
    repo.put(onC.id, 'wcs', det(5), enc(wcsHeaderText(5)));
    repo.commit(onC.id);
    assert.equal(code(() => mergeInto(repo, 'tractA', 'tractC')), 'CONFLICT');
    assert.equal(mergeInto(repo, 'tractA', 'tractC', { force: true }).kind, 'merge');
    assert.equal(wcsVersion(repo, 5, { at: 'tractA' }), crval1Of(wcsHeaderText(5)));
  });
});

test('resolution after a merge: the second parent’s newer version shadows the merge base', () => {
  withRepo((repo) => {
    const base = repo.begin({ stage: 'a' });
    repo.put(base.id, 'wcs', det(1), enc(wcsHeaderText(1)));
    repo.commit(base.id);
    repo.createBranch('side');
    const side = repo.begin({ stage: 'b', branch: 'side' });
    repo.put(side.id, 'wcs', det(1), enc(wcsHeaderText(2)));
    repo.commit(side.id);
    const main = repo.begin({ stage: 'c' });
    repo.put(main.id, 'wcs', det(9), enc(wcsHeaderText(9)));
    repo.commit(main.id);
    mergeInto(repo, 'main', 'side');
    assert.equal(wcsVersion(repo, 1), crval1Of(wcsHeaderText(2)));
    assert.deepEqual(repo.log().map((r) => r.stage), ['merge', 'c', 'b', 'a']);
  });
});

test('branches move and delete, tags are immutable, every ref move is recorded', () => {
  withRepo((repo) => {
    const r = repo.begin({ stage: 'a' });
    repo.put(r.id, 'wcs', det(1), enc(wcsHeaderText(1)));
    repo.commit(r.id);
    repo.createBranch('work');
    assert.equal(code(() => repo.createBranch('work')), 'CONFLICT');
    repo.createTag('t1', 'main');
    assert.equal(code(() => repo.createTag('t1', 'main')), 'CONFLICT');
    assert.equal(code(() => repo.deleteBranch('t1')), 'CONFLICT');
    assert.equal(code(() => repo.begin({ stage: 'x', branch: 't1' })), 'BAD_INPUT');
    repo.deleteBranch('work');
    assert.equal(code(() => repo.getWcs(det(1), { at: 'work' })), 'NOT_FOUND');
    assert.deepEqual(repo.registry.refMoves('work').map((m) => m.reason), ['create', 'delete']);
    assert.deepEqual(repo.registry.refMoves('main').map((m) => m.reason), ['create', 'commit']);
  });
});

test('stale runs: an expired lease shows in status and recover abandons the run', () => {
  withRepo((repo) => {
    const r = repo.begin({ stage: 'a', leaseSeconds: 1, expect: [{ type: 'wcs', dataId: det(1) }] });
    const later = Date.now() + 5000;
    const st = repo.status(later);
    assert.equal(st.open.length, 1);
    assert.equal(st.open[0]!.stale, true);
    assert.deepEqual(st.open[0]!.expected, [{ type: 'wcs', dataId: 'detector=1,instrument=HSC,visit=903334', state: 'missing' }]);
    assert.equal(repo.status().open[0]!.stale, false);
    assert.equal(code(() => repo.recover(r.id)), 'CONFLICT'); // lease still valid now
    assert.deepEqual(repo.recover(undefined, { now: later }), [r.id]);
    assert.equal(repo.registry.run(r.id)!.state, 'abandoned');
    assert.equal(code(() => repo.commit(r.id)), 'CONFLICT');
  });
});

test('composites: calexp components resolve separately and a new WCS rewrites nothing else', () => {
  withRepo((repo) => {
    const a = repo.begin({ stage: 'isr' });
    repo.put(a.id, 'calexp.image', det(1), imageFits());
    repo.put(a.id, 'calexp.wcs', det(1), enc(wcsHeaderText(1)));
    repo.put(a.id, 'calexp.photoCalib', det(1), enc(photoCalibJson(1000)));
    repo.commit(a.id);
    const filesBefore = repo.store.list().hashes.length;
    const b = repo.begin({ stage: 'jointcal' });
    repo.put(b.id, 'calexp.wcs', det(1), enc(wcsHeaderText(2)));
    repo.commit(b.id);
    assert.equal(repo.store.list().hashes.length, filesBefore + 1);
    const c = repo.getComposite('calexp', det(1));
    assert.equal(c.components['image']!.entry.runId, a.id);
    assert.equal(c.components['wcs']!.entry.runId, b.id);
    assert.equal(c.components['photoCalib']!.entry.runId, a.id);
    assert.equal(code(() => repo.begin({ stage: 'x' }) && repo.put(repo.status().open[0]!.id, 'calexp', det(1), imageFits())), 'BAD_INPUT');
  });
});

test('every read counts a use; gc lists unreachable runs with their use, then removes them and their unshared files', () => {
  withRepo((repo) => {
    const kept = repo.begin({ stage: 'a' });
    repo.put(kept.id, 'wcs', det(1), enc(wcsHeaderText(1)));
    repo.commit(kept.id);
    repo.createBranch('scratch');
    const lost = repo.begin({ stage: 'b', branch: 'scratch' });
    repo.put(lost.id, 'wcs', det(2), enc(wcsHeaderText(7)));
    repo.put(lost.id, 'wcs', det(3), enc(wcsHeaderText(1))); // shares content with the kept run
    repo.commit(lost.id);
    repo.getWcs(det(2), { at: 'scratch' });
    repo.getWcs(det(2), { at: 'scratch' });
    repo.deleteBranch('scratch');
    const dry = collectGarbage(repo, { dryRun: true });
    assert.deepEqual(dry.runs.map((r) => [r.id, r.uses]), [[lost.id, 2]]);
    assert.equal(repo.registry.run(lost.id)!.state, 'committed');
    const done = collectGarbage(repo);
    assert.equal(done.removedFiles, 1);
    assert.equal(repo.registry.run(lost.id), undefined);
    assert.equal(wcsVersion(repo, 1), crval1Of(wcsHeaderText(1)));
    assert.equal(verifyRepository(repo).ok, true);
  });
});

test('provenance follows the datasets runs read back to their sources', () => {
  withRepo((repo) => {
    const sf = repo.begin({ stage: 'singleFrame' });
    repo.put(sf.id, 'wcs', det(1), enc(wcsHeaderText(1)));
    repo.commit(sf.id);
    const jc = repo.begin({ stage: 'jointcal' });
    repo.getWcs(det(1), { forRun: jc.id });
    repo.put(jc.id, 'wcs', det(1), enc(wcsHeaderText(2)));
    repo.commit(jc.id);
    const steps = repo.provenance('wcs', det(1));
    assert.deepEqual(steps.map((s) => s.run.stage), ['jointcal', 'singleFrame']);
    assert.equal(steps[0]!.inputs[0]!.runId, sf.id);
  });
});

test('bad input writes nothing: invalid WCS, PhotoCalib, catalog and image, unknown types, bad dataIds', () => {
  withRepo((repo) => {
    const r = repo.begin({ stage: 'a' });
    const files = () => repo.store.list().hashes.length;
    assert.equal(code(() => repo.put(r.id, 'wcs', det(1), enc('SIMPLE  = T\nEND'))), 'BAD_INPUT');
    assert.equal(code(() => repo.put(r.id, 'wcs', det(1), enc(wcsHeaderText(1).replace("'RA---TAN-SIP'", "'RA---ZEA'    ")))), 'BAD_INPUT');
    assert.equal(code(() => repo.put(r.id, 'photoCalib', det(1), enc('{"photoCalibVersion": 1}'))), 'BAD_INPUT');
    assert.equal(code(() => repo.put(r.id, 'photoCalib', det(1), enc('not json'))), 'BAD_INPUT');
    assert.equal(code(() => repo.put(r.id, 'src', det(1), enc('x,y\n1,2\n'))), 'BAD_INPUT');
    assert.equal(code(() => repo.put(r.id, 'calexp.image', det(1), imageFits().subarray(0, 3000))), 'BAD_INPUT');
    assert.equal(code(() => repo.put(r.id, 'nope', det(1), enc('x'))), 'NOT_FOUND');
    assert.equal(code(() => repo.put(r.id, 'wcs', 'detector', enc(wcsHeaderText(1)))), 'BAD_INPUT');
    assert.equal(code(() => repo.put(r.id, 'wcs', 'a=1,a=2', enc(wcsHeaderText(1)))), 'BAD_INPUT');
    assert.equal(code(() => repo.put('r-000000000000', 'wcs', det(1), enc(wcsHeaderText(1)))), 'NOT_FOUND');
    assert.equal(code(() => repo.begin({ stage: 'bad stage' })), 'BAD_INPUT');
    assert.equal(code(() => repo.begin({ stage: 'a', branch: 'nope' })), 'NOT_FOUND');
    assert.equal(code(() => repo.getWcs(det(1), { asOf: 'yesterday' })), 'BAD_INPUT');
    assert.equal(files(), 0);
    assert.equal(repo.registry.runEntries(r.id).length, 0);
    repo.put(r.id, 'wcs', 'visit=903334, detector=1,instrument=HSC', enc(wcsHeaderText(1)));
    // A retry of the same bytes is a no-op success (issue 10 item 6); different bytes stay a CONFLICT.
    assert.equal(repo.put(r.id, 'wcs', det(1), enc(wcsHeaderText(1))).dataId, canonicalDataId(det(1)));
    assert.equal(code(() => repo.put(r.id, 'wcs', det(1), enc(wcsHeaderText(2)))), 'CONFLICT');
    repo.commit(r.id);
    assert.equal(wcsVersion(repo, 1), crval1Of(wcsHeaderText(1)));
    assert.deepEqual(repo.store.leftoverTemps(), []);
  });
});

test('identical content is stored once; the datastore names files by sha256', () => {
  withRepo((repo) => {
    const r = repo.begin({ stage: 'a' });
    for (const d of [1, 2, 3]) repo.put(r.id, 'wcs', det(d), enc(wcsHeaderText(1)));
    repo.commit(r.id);
    assert.equal(repo.store.list().hashes.length, 1);
    assert.equal(verifyRepository(repo).checkedFiles, 1);
  });
});

test('queryDataIds lists what a ref sees, failures flagged', () => {
  withRepo((repo) => {
    designScenario(repo);
    const rows = repo.queryDataIds('wcs', 'visit=903334');
    assert.equal(rows.length, 3);
    assert.equal(rows.filter((r) => r.invalid !== undefined).length, 1);
    assert.equal(repo.queryDataIds('wcs', 'detector=2').length, 1);
    assert.equal(repo.queryDataIds('wcs@singleFrame', undefined).every((r) => r.supplied?.stage === 'singleFrame'), true);
  });
});

test('verify reports a corrupt or missing file and removes leftovers a crash would leave', () => {
  withRepo((repo) => {
    const r = repo.begin({ stage: 'a' });
    const e = repo.put(r.id, 'wcs', det(1), enc(wcsHeaderText(1)));
    repo.commit(r.id);
    const orphan = repo.store.stage(enc('left behind by a crash'));
    repo.store.place(orphan); // renamed into store/ but never named by the registry
    writeFileSync(join(repo.store.tmpDir, '999999999-abc'), 'half-written'); // a temp file of a dead writer
    const report = verifyRepository(repo, { minAgeMs: 0 });
    assert.equal(report.ok, true);
    assert.deepEqual(report.leftovers.unreferencedFiles, [orphan.hash]);
    assert.deepEqual(report.leftovers.tempFiles, ['999999999-abc']);
    assert.equal(repo.store.has(orphan.hash), false);
    const path = repo.store.pathOf(e.fileHash!);
    chmodSync(path, 0o644);
    writeFileSync(path, wcsHeaderText(2));
    assert.match(verifyRepository(repo).problems.join('\n'), /checksum mismatch|bytes, registry says/);
    rmSync(path);
    assert.match(verifyRepository(repo).problems.join('\n'), /missing file/);
  });
});

test('resolution of a dataset with many versions (history walk) equals the first writer along the topo-ordered log, for every tip and stage', () => {
  withRepo((repo) => {
    // A hot dataset rewritten by most runs, on two branches with merges between them, so both the
    // bounded history walk and the per-version probe answer (WALK_VERSIONS = 8).
    const hot = det(7);
    let v = 0;
    let i = 0;
    const run = (branch: string, writeHot: boolean) => {
      const r = repo.begin({ stage: i % 2 === 0 ? 'singleFrame' : 'jointcal', branch });
      if (writeHot) repo.put(r.id, 'wcs', hot, enc(wcsHeaderText(++v)));
      repo.put(r.id, 'wcs', det(100 + i), enc(wcsHeaderText(1000 + i)));
      repo.commit(r.id);
      i++;
    };
    // Each cycle: main writes the hot dataset, a side branch starts there and rewrites it five times
    // while main moves on with other datasets, then side merges back (its versions are second-parent).
    for (let cycle = 0; cycle < 6; cycle++) {
      run('main', true);
      repo.createBranch('side', 'main', { force: true });
      for (let k = 0; k < 5; k++) {
        run('side', true);
        run('main', false);
      }
      mergeInto(repo, 'main', 'side');
    }
    assert.ok(v > 30);
    const tips = repo.log({ at: 'main' }).map((r) => r.id);
    let checked = 0;
    for (const tip of new Set(tips)) {
      for (const stage of [undefined, 'singleFrame', 'jointcal']) {
        const history = repo.log({ at: tip });
        const writer = history.find((r) => (stage === undefined || r.stage === stage) && repo.registry.runEntries(r.id).some((e) => e.dataId === canonicalDataId(hot)));
        const spec = stage === undefined ? { at: tip } : { at: tip, stage };
        if (writer === undefined) {
          assert.equal(code(() => repo.resolve('wcs', hot, spec)), 'NOT_FOUND');
        } else {
          assert.equal(repo.resolve('wcs', hot, spec).supplied.runId, writer.id, `tip ${tip} stage ${stage}`);
        }
        checked++;
      }
    }
    assert.ok(checked > 100);
  });
});

});
