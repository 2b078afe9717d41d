/**
 * Child process for the crash test: commits runs of four catalogs (256 KiB
 * each) in a loop until it is killed. Does nothing unless SKYCAL_CRASH_REPO
 * is set (node --test also loads every file under dist/test).
 */
import { randomBytes } from 'node:crypto';
import { Repository } from '../src/butler/repository.js';

export const DATASETS_PER_RUN = 4;

const root = process.env['SKYCAL_CRASH_REPO'];
if (root) {
  const repo = Repository.open(root);
  const fakeParquet = () => Buffer.concat([Buffer.from('PAR1'), randomBytes(256 * 1024), Buffer.from('PAR1')]);
  process.stdout.write('ready\n');
  for (let i = 0; ; i++) {
    const run = repo.begin({ stage: 'crashy', expect: [{ type: 'src', dataId: `visit=${process.pid}x${i},detector=0` }] });
    for (let d = 0; d < DATASETS_PER_RUN; d++) repo.put(run.id, 'src', `visit=${process.pid}x${i},detector=${d}`, fakeParquet());
    repo.commit(run.id);
  }
}
