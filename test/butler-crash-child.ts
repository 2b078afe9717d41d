/**
 * Child process for the crash test: commits runs of four catalogs (256 KiB
 * each) in a loop until it is killed. Does nothing unless SKYCAL_CRASH_REPO
 * is set (node --test also loads every file under dist/test).
 */
import { randomBytes } from 'node:crypto';
import { Float64, makeData, makeVector, Table, tableToIPC } from 'apache-arrow';
import { Repository } from '../src/butler/repository.js';

export const DATASETS_PER_RUN = 4;

const root = process.env['SKYCAL_CRASH_REPO'];
if (root) {
  const repo = Repository.open(root);
  // A real catalog (put --type src checks its schema): an Arrow IPC stream of 32 Ki random doubles, 256 KiB, distinct every time.
  const fakeParquet = () => {
    const values = new Float64Array(randomBytes(256 * 1024).buffer);
    return tableToIPC(new Table({ x: makeVector(makeData({ type: new Float64(), length: values.length, nullCount: 0, data: values })) }), 'stream');
  };
  process.stdout.write('ready\n');
  for (let i = 0; ; i++) {
    const run = repo.begin({ stage: 'crashy', expect: [{ type: 'src', dataId: `visit=${process.pid}x${i},detector=0` }] });
    for (let d = 0; d < DATASETS_PER_RUN; d++) repo.put(run.id, 'src', `visit=${process.pid}x${i},detector=${d}`, fakeParquet());
    repo.commit(run.id);
  }
}
