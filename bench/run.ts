/**
 * `npm run bench`: every benchmark suite in turn, each in its own process
 * (so one's JIT state and heap do not colour the next), with a moderate size.
 * Each suite also runs on its own with more options: see its header.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const suites: [string, string[]][] = [
  ['wcs.js', ['--n', '200000', '--runs', '7']],
  ['calibrate.js', []],
  ['pool.js', ['--n', '4000000', '--rows', '2000000']],
  ['recompute.js', ['--sources', '2000000']],
];
let failed = 0;
for (const [file, args] of suites) {
  process.stdout.write(`\n=== ${file} ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, [join(here, file), ...args, ...process.argv.slice(2)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exitCode = failed === 0 ? 0 : 1;
