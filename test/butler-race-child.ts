/**
 * Child process for the concurrency test: for SKYCAL_RACE_MS it does put +
 * commit, import, gc (of a branch it just made and deleted) and verify in a
 * random order, reusing a small pool of contents so that files are shared
 * between live and collectable runs. Prints every dataset it committed on
 * main as a JSON line. Does nothing unless SKYCAL_RACE_REPO is set.
 */

import { arrowCatalog } from './butler-fixtures.js';

export const POOL = 6;
export function poolCatalog(i: number): Buffer {
  return arrowCatalog(Buffer.concat([Buffer.alloc(32 * 1024, i + 1), Buffer.from(`pool${i}`)]));
}

const root = process.env['SKYCAL_RACE_REPO'];
if (root) {
  // Imported here, not at the top: node --test also runs this file, which should then cost nothing.
  const { Repository } = await import('../src/butler/repository.js');
  const { importBundle } = await import('../src/butler/bundle.js');
  const { collectGarbage, verifyRepository } = await import('../src/butler/maintenance.js');
  const { mergeInto } = await import('../src/butler/merge.js');
  const { SkycalError } = await import('../src/errors.js');
  const until = Date.now() + Number(process.env['SKYCAL_RACE_MS']);
  const bundle = process.env['SKYCAL_RACE_BUNDLE']!;
  const me = process.pid;
  let n = 0;
  const pick = () => Math.floor(Math.random() * POOL);
  const counts: Record<string, number> = { put: 0, import: 0, gc: 0, verify: 0, conflict: 0 };
  while (Date.now() < until) {
    const repo = Repository.open(root);
    try {
      const op = Math.floor(Math.random() * 4);
      if (op === 0) {
        const run = repo.begin({ stage: 'race' });
        const puts = [0, 1].map((d) => ({ dataId: `proc=${me},n=${n},d=${d}`, i: pick() }));
        for (const p of puts) repo.put(run.id, 'src', p.dataId, poolCatalog(p.i));
        try {
          repo.commit(run.id);
        } catch (e) {
          if (!(SkycalError.isSkycalError(e) && e.code === 'CONFLICT')) throw e;
          counts['conflict']!++;
          mergeInto(repo, 'main', run.id);
        }
        for (const p of puts) process.stdout.write(JSON.stringify({ at: 'main', dataId: p.dataId, pool: p.i }) + '\n');
        counts['put']!++;
      } else if (op === 1) {
        const name = `up-${me}-${n}`;
        await importBundle(repo, bundle, { as: name });
        process.stdout.write(JSON.stringify({ at: name, dataId: 'proc=bundle,n=0,d=0', pool: 0 }) + '\n');
        counts['import']!++;
      } else if (op === 2) {
        const branch = `tmp-${me}-${n}`;
        repo.createBranch(branch);
        const run = repo.begin({ stage: 'race', branch });
        repo.put(run.id, 'src', `proc=${me},n=${n},gc=1`, poolCatalog(pick()));
        repo.commit(run.id);
        repo.deleteBranch(branch);
        collectGarbage(repo);
        counts['gc']!++;
      } else {
        const report = verifyRepository(repo, { minAgeMs: 0 });
        if (report.problems.length > 0) throw new Error(`verify during the race: ${report.problems.join('; ')}`);
        counts['verify']!++;
      }
    } finally {
      repo.close();
    }
    n++;
  }
  process.stderr.write(`counts ${JSON.stringify(counts)}\n`);
}
