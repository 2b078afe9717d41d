/**
 * skycal's calibration kernel against numpy doing the same computation
 * (bench/numpy_calibrate.py: chebval2d + log10), in the same run, both
 * single-threaded. Usage: node dist/bench/calibrate.js [--n N] [--runs R] [--python P] [--json]
 * Reports medians over R alternating runs, and their ratio.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { benchCalibrate } from '../src/bench/calibrate.js';
import { median } from '../src/stats.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '5' },
    python: { type: 'string', default: '/usr/bin/python3' },
    json: { type: 'boolean', default: false },
  },
});
const n = Number(values.n), runs = Number(values.runs);
const script = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), 'bench', 'numpy_calibrate.py');

const ours: number[] = [], numpy: number[] = [];
for (let r = 0; r < runs; r++) {
  ours.push((await benchCalibrate(n, { timeMs: 1000 })).rowsPerSecond);
  const out = execFileSync(values.python, [script, '--n', String(n), '--json'], { encoding: 'utf8' });
  numpy.push((JSON.parse(out) as { calibrate: { rowsPerSecond: number } }).calibrate.rowsPerSecond);
}
const result = { n, runs, skycalRowsPerSecond: median(ours), numpyRowsPerSecond: median(numpy), ratio: median(ours) / median(numpy) };
if (values.json) console.log(JSON.stringify({ calibrate: result }));
else console.log(`calibrate, ${n} rows, median of ${runs}: skycal ${(result.skycalRowsPerSecond / 1e6).toFixed(2)} M rows/s, numpy ${(result.numpyRowsPerSecond / 1e6).toFixed(2)} M rows/s, ratio ${result.ratio.toFixed(2)}x`);
