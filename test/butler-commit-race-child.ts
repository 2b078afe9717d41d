/**
 * Child process for the commit race (butler-commit-race.test.ts): opens the
 * repository once and makes SKYCAL_COMMIT_RACE_N commits on main, each one
 * run with one photoCalib dataset of its own; a commit that lost its tip
 * (CONFLICT) is published by merge. Prints one JSON line: what it committed,
 * and how many landed directly and how many by merge. Does nothing unless
 * SKYCAL_COMMIT_RACE_REPO is set (node --test also runs this file).
 */
import { photoCalibJson } from './butler-fixtures.js';

const root = process.env['SKYCAL_COMMIT_RACE_REPO'];
if (root) {
  const { Repository } = await import('../src/butler/repository.js');
  const { mergeInto } = await import('../src/butler/merge.js');
  const { SkycalError } = await import('../src/errors.js');
  const commits = Number(process.env['SKYCAL_COMMIT_RACE_N']);
  const me = Number(process.env['SKYCAL_COMMIT_RACE_ID']);
  const repo = Repository.open(root);
  const out = { id: me, dataIds: [] as string[], direct: 0, merged: 0 };
  try {
    for (let n = 0; n < commits; n++) {
      const run = repo.begin({ stage: 'race' });
      const dataId = `proc=${me},n=${n}`;
      repo.put(run.id, 'photoCalib', dataId, new TextEncoder().encode(photoCalibJson(1000 * (me + 1) + n)));
      try {
        repo.commit(run.id);
        out.direct++;
      } catch (e) {
        if (!(SkycalError.isSkycalError(e) && e.code === 'CONFLICT')) throw e;
        mergeInto(repo, 'main', run.id);
        out.merged++;
      }
      out.dataIds.push(`n=${n},proc=${me}`);
    }
  } finally {
    repo.close();
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
