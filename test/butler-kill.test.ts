/**
 * Crash testing as SQLite does it: real processes SIGKILLed while they run
 * `put`, `commit`, `import`, `gc`, `verify` and `recover`, at moments drawn
 * uniformly over each command's measured duration (SKYCAL_KILL_POINTS in
 * all, 54 by default; scripts/soak runs 1,000). After every kill:
 * all-or-nothing visibility (a committed run has all its datasets, each
 * reading back with its checksum; an open run is invisible), `verify` finds
 * no problem and explains every leftover, and the next command succeeds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Repository } from '../src/butler/repository.js';
import { exportBundle, importBundle } from '../src/butler/bundle.js';
import { collectGarbage, verifyRepository } from '../src/butler/maintenance.js';
import { childScript, tempDir } from './helpers.js';
import { KILL_DATASETS, commitKillRun, killCatalog, killDataId, type KillCommand } from './butler-kill-child.js';

const child = childScript('butler-kill-child');
const POINTS = Number(process.env['SKYCAL_KILL_POINTS'] ?? 54);
const COMMANDS: KillCommand[] = ['put', 'commit', 'import', 'gc', 'verify', 'recover'];

interface Outcome { run?: string; finished: boolean; durationMs?: number }

/** Run the child for one command; kill it `afterMs` after it says go (undefined: let it finish and time it). */
function runChild(root: string, command: KillCommand, seed: string, bundle: string, afterMs?: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child], {
      env: { ...process.env, SKYCAL_KILL_REPO: root, SKYCAL_KILL_COMMAND: command, SKYCAL_KILL_SEED: seed, SKYCAL_KILL_BUNDLE: bundle },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Outcome = { finished: false };
    let err = '';
    let buffer = '';
    let go = 0;
    p.stderr.on('data', (d) => (err += d));
    p.stdout.on('data', (d) => {
      buffer += d;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const [word, value] = buffer.slice(0, nl).split(' ');
        buffer = buffer.slice(nl + 1);
        if (word === 'run') out.run = value;
        if (word === 'go') {
          go = Number(value);
          if (afterMs !== undefined) setTimeout(() => p.kill('SIGKILL'), afterMs);
        }
        if (word === 'done') {
          out.finished = true;
          out.durationMs = Number(value) - go;
        }
      }
    });
    p.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' || code === 0) resolve(out);
      else reject(new Error(`kill child (${command}) failed with ${code}: ${err}`));
    });
  });
}

/** The invariants after a kill, then the next command, which must succeed. */
async function checkAndContinue(root: string, command: KillCommand, seed: string, bundle: string, outcome: Outcome): Promise<void> {
  const repo = Repository.open(root);
  try {
    const report = verifyRepository(repo, { minAgeMs: 0 });
    assert.deepEqual(report.problems, [], `${command} ${seed}: verify`);
    // Every leftover was explained (and removed): what is left in store/ is exactly what the registry names.
    assert.deepEqual(repo.store.list().hashes.filter((h) => !repo.registry.isReferenced(h)), [], `${command} ${seed}: unexplained files`);
    assert.deepEqual(repo.store.leftoverTemps(0), [], `${command} ${seed}: temp files left`);
    for (const run of repo.registry.runsByState('committed')) {
      if (run.stage !== 'kill') continue;
      const datasets = repo.registry.runEntries(run.id).filter((e) => e.kind === 'dataset');
      assert.ok(datasets.length === KILL_DATASETS || datasets.length === 1, `${command} ${seed}: run ${run.id} has ${datasets.length} datasets`);
    }
    for (const run of repo.registry.runsByState('open')) {
      for (const e of repo.registry.runEntries(run.id)) {
        const visible = repo.queryDataIds('src', e.dataId).some((x) => x.supplied?.runId === run.id);
        assert.equal(visible, false, `${command} ${seed}: an open run's ${e.dataId} is visible`);
      }
    }
    // Every dataset main and this point's imported branch show reads back with its checksum.
    for (const ref of repo.registry.refs()) {
      if (ref.runId === null || (ref.name !== 'main' && ref.name !== `up-${seed}`)) continue;
      for (const x of repo.queryDataIds('src', undefined, { at: ref.name })) if (x.supplied) repo.get('src', x.dataId, { at: ref.name });
    }
    // The next command succeeds.
    if (command === 'put') {
      for (let d = 0; d < KILL_DATASETS; d++) repo.put(outcome.run!, 'src', killDataId(seed, d), killCatalog(seed, d)); // a retry: landed puts are no-ops
      repo.commit(outcome.run!);
    } else if (command === 'commit') {
      if (repo.registry.run(outcome.run!)!.state === 'open') repo.commit(outcome.run!);
      assert.equal(repo.get('src', killDataId(seed, 1)).entry.runId, outcome.run);
    } else if (command === 'import') {
      await importBundle(repo, bundle, { as: `up-${seed}` });
      assert.equal(repo.log({ at: `up-${seed}` }).length, 2);
    } else if (command === 'gc') {
      collectGarbage(repo);
      assert.equal(repo.registry.pendingRemovals().length, 0);
    } else if (command === 'recover') {
      repo.recover();
      assert.equal(repo.status().open.filter((r) => r.stale).length, 0);
    }
    assert.deepEqual(verifyRepository(repo, { minAgeMs: 0 }).problems, [], `${command} ${seed}: verify after the next command`);
  } finally {
    repo.close();
  }
}

test(`SIGKILL at ${POINTS} points drawn over put, commit, import, gc, verify and recover: all or nothing, verify explains every leftover, the next command succeeds`, async () => {
  const tmp = tempDir();
  try {
    const source = Repository.init(join(tmp.path, 'source'));
    for (let i = 0; i < 2; i++) commitKillRun(source, `src${i}`);
    const bundle = join(tmp.path, 'bundle.tar');
    await exportBundle(source, bundle);
    source.close();
    const perCommand = Math.ceil(POINTS / COMMANDS.length);
    const series = async (command: KillCommand) => {
      const root = join(tmp.path, command);
      const seeded = Repository.init(root);
      commitKillRun(seeded, `${command}-seed`); // a registry that names files (verify never empties the store of one that names none)
      seeded.close();
      // Measure the command's own duration once (killed only after "go": setup is not the command).
      const timed = await runChild(root, command, `${command}-t`, bundle);
      assert.ok(timed.finished && timed.durationMs !== undefined);
      await checkAndContinue(root, command, `${command}-t`, bundle, timed);
      let killedInside = 0;
      for (let i = 0; i < perCommand; i++) {
        const seed = `${command}-${i}`;
        const at = Math.random() * timed.durationMs! * 1.2;
        const outcome = await runChild(root, command, seed, bundle, at);
        if (!outcome.finished) killedInside++;
        await checkAndContinue(root, command, seed, bundle, outcome);
      }
      return killedInside;
    };
    // Three series at a time: two cores, and the kills stay within their command.
    const killed: number[] = [];
    for (let i = 0; i < COMMANDS.length; i += 3) {
      // allSettled: a failing series must not leave the others writing while the folder is removed.
      const settled = await Promise.allSettled(COMMANDS.slice(i, i + 3).map(series));
      for (const r of settled) if (r.status === 'rejected') throw r.reason;
      killed.push(...settled.map((r) => (r as PromiseFulfilledResult<number>).value));
    }
    assert.ok(killed.reduce((a, b) => a + b, 0) >= POINTS / 3, `most kills landed inside their command (${killed.join(', ')})`);
  } finally {
    tmp.cleanup();
  }
});
