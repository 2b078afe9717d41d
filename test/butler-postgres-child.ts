/**
 * Child process for the PostgreSQL fault tests: a long-lived job that opens
 * the repository once and commits runs of POSTGRES_CHILD_DATASETS datasets
 * until it is killed or fails. Prints "committed RUNID" after each commit
 * and, when a command fails, one line "error {code, message}" before it
 * exits with 3. Does nothing unless SKYCAL_PG_CHILD_REPO is set.
 */
import { photoCalibJson } from './butler-fixtures.js';

export const POSTGRES_CHILD_DATASETS = 4;

const root = process.env['SKYCAL_PG_CHILD_REPO'];
if (root) {
  const { Repository } = await import('../src/butler/repository.js');
  const { SkycalError } = await import('../src/errors.js');
  try {
    const repo = Repository.open(root);
    process.stdout.write('go\n');
    for (let n = 0; ; n++) {
      const run = repo.begin({ stage: 'job' });
      for (let d = 0; d < POSTGRES_CHILD_DATASETS; d++) {
        repo.put(run.id, 'photoCalib', `job=${process.pid},n=${n},d=${d}`, new TextEncoder().encode(photoCalibJson(n * 10 + d + 1)));
      }
      repo.commit(run.id);
      process.stdout.write(`committed ${run.id}\n`);
    }
  } catch (e) {
    const err = SkycalError.isSkycalError(e) ? { code: e.code, message: e.message } : { code: 'RAW', message: String(e) };
    process.stdout.write(`error ${JSON.stringify(err)}\n`);
    process.exit(3);
  }
}
