/**
 * Child process for the kill test: sets up one command's preconditions, says
 * "go", runs the command once and says "done". The parent SIGKILLs it at a
 * moment drawn over the command's measured duration. Does nothing unless
 * SKYCAL_KILL_REPO is set (node --test also loads every file under dist/test).
 */
import { randomBytes } from 'node:crypto';
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Repository } from '../src/butler/repository.js';
import { arrowCatalog } from './butler-fixtures.js';

export const KILL_DATASETS = 4;
export const KILL_BYTES = 128 * 1024;
export type KillCommand = 'put' | 'commit' | 'import' | 'gc' | 'verify' | 'recover';

/** Deterministic catalog bytes for (seed, d), so the parent can retry exactly the put the child was doing. */
export function killCatalog(seed: string, d: number): Buffer {
  const body = Buffer.alloc(KILL_BYTES);
  const tag = Buffer.from(`${seed}/${d}/`);
  for (let i = 0; i < body.length; i += tag.length) tag.copy(body, i);
  return arrowCatalog(body);
}

export const killDataId = (seed: string, d: number) => `visit=${seed},detector=${d}`;

/** Commit a run of KILL_DATASETS catalogs on `branch` (setup for gc and a retried put). */
export function commitKillRun(repo: Repository, seed: string, branch = 'main'): string {
  const run = repo.begin({ stage: 'kill', branch });
  for (let d = 0; d < KILL_DATASETS; d++) repo.put(run.id, 'src', killDataId(seed, d), killCatalog(seed, d));
  repo.commit(run.id);
  return run.id;
}

const root = process.env['SKYCAL_KILL_REPO'];
if (root) {
  const command = process.env['SKYCAL_KILL_COMMAND'] as KillCommand;
  const seed = process.env['SKYCAL_KILL_SEED']!;
  const say = (word: string) => process.stdout.write(`${word} ${performance.now()}\n`);
  // Imported here, not at the top, and only what this command runs: 60 children start per suite run.
  const { Repository } = await import('../src/butler/repository.js');
  const repo = Repository.open(root);
  let act: () => unknown | Promise<unknown>;
  if (command === 'put' || command === 'commit') {
    const run = repo.begin({ stage: 'kill', expect: [{ type: 'src', dataId: killDataId(seed, 0) }] });
    process.stdout.write(`run ${run.id}\n`);
    if (command === 'put') {
      act = () => { for (let d = 0; d < KILL_DATASETS; d++) repo.put(run.id, 'src', killDataId(seed, d), killCatalog(seed, d)); };
    } else {
      for (let d = 0; d < KILL_DATASETS; d++) repo.put(run.id, 'src', killDataId(seed, d), killCatalog(seed, d));
      act = () => repo.commit(run.id);
    }
  } else if (command === 'import') {
    const { importBundle } = await import('../src/butler/bundle.js');
    act = () => importBundle(repo, process.env['SKYCAL_KILL_BUNDLE']!, { as: `up-${seed}` });
  } else if (command === 'gc') {
    const { collectGarbage } = await import('../src/butler/maintenance.js');
    repo.createBranch(`tmp-${seed}`);
    commitKillRun(repo, seed, `tmp-${seed}`);
    repo.deleteBranch(`tmp-${seed}`);
    act = () => collectGarbage(repo);
  } else if (command === 'verify') {
    const { verifyRepository } = await import('../src/butler/maintenance.js');
    // Leftovers of every kind a crash leaves: unnamed files in store/, dead writers' temp files.
    const old = new Date(Date.now() - 3600_000);
    for (let i = 0; i < 4; i++) {
      const s = repo.store.stage(randomBytes(KILL_BYTES));
      repo.store.place(s);
      utimesSync(repo.store.pathOf(s.hash), old, old);
      writeFileSync(join(repo.store.tmpDir, `999999${i}-${seed}`), randomBytes(1024));
    }
    act = () => verifyRepository(repo, { minAgeMs: 0 });
  } else {
    for (let i = 0; i < 3; i++) {
      const run = repo.begin({ stage: 'kill', leaseSeconds: 0.001 });
      repo.put(run.id, 'src', killDataId(`${seed}r${i}`, 0), killCatalog(`${seed}r${i}`, 0));
    }
    const until = Date.now() + 5;
    while (Date.now() < until) { /* let the leases lapse */ }
    act = () => repo.recover();
  }
  say('go');
  await act();
  say('done');
  repo.close();
}
