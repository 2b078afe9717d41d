/**
 * TAN-SIP kernel throughput against astropy on the PTF and HST headers:
 *   node dist/bench/wcs.js [--n N] [--runs R] [--json]
 * Runs bench/astropy_wcs.py with /usr/bin/python3 (Debian python3-astropy)
 * on the same machine right after, and prints the ratios (ours / astropy).
 * Single thread; median of R runs for each side.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { TanSipWcs } from '../src/wcs/index.js';
import { tanSipPixelToSkyDeg, tanSipSkyToPixelDeg } from '../native-free-kernels/index.js';
import { makeRandom } from '../src/demo/camera.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const N = opt('n', 200000);
const RUNS = opt('runs', 7);
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const findData = (): string => {
  for (let d = resolve(root, '..'); ; d = dirname(d)) {
    if (existsSync(join(d, 'shared', 'data'))) return join(d, 'shared', 'data');
    if (dirname(d) === d) throw new Error('shared/data not found (set SKYCAL_SHARED_DATA)');
  }
};
const data = process.env['SKYCAL_SHARED_DATA'] ?? findData();
const SIZES: Record<string, [number, number]> = { ptf_p48_sip4: [2048, 4096], hst_acs_wfc_sip4_noinv: [4096, 2048] };

const median = (a: number[]) => a.slice().sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
function timeIt(fn: () => void): number {
  fn(); fn(); // warm up (JIT)
  const t: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    t.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return median(t);
}

const ours: Record<string, { pixelToSky: number; skyToPixel: number }> = {};
for (const [name, [w, h]] of Object.entries(SIZES)) {
  const wcs = TanSipWcs.fromFitsHeader(readFileSync(join(data, 'wcs-headers', `${name}.hdr`), 'utf8'));
  const model = wcs.toKernelModel();
  const rnd = makeRandom(42);
  const x = Float64Array.from({ length: N }, () => rnd() * (w - 1));
  const y = Float64Array.from({ length: N }, () => rnd() * (h - 1));
  const ra = new Float64Array(N), dec = new Float64Array(N), st = new Uint8Array(N), px = new Float64Array(N), py = new Float64Array(N);
  const p2s = timeIt(() => tanSipPixelToSkyDeg(N, model, x, 1, 0, y, 1, 0, ra, 1, 0, dec, 1, 0, st, 1, 0));
  const s2p = timeIt(() => tanSipSkyToPixelDeg(N, model, 50, 1e-10, ra, 1, 0, dec, 1, 0, px, 1, 0, py, 1, 0, st, 1, 0));
  ours[name] = { pixelToSky: N / p2s, skyToPixel: N / s2p };
}

const py = spawnSync('/usr/bin/python3', [join(root, 'bench', 'astropy_wcs.py')], {
  env: { ...process.env, N: String(N), RUNS: String(RUNS), SKYCAL_SHARED_DATA: data },
  encoding: 'utf8',
});
const astropy = py.status === 0 ? (JSON.parse(py.stdout) as Record<string, { pixelToSky: { pointsPerSecond: number }; skyToPixel: { pointsPerSecond: number } }>) : undefined;
if (!astropy) process.stderr.write(`astropy comparison skipped: ${py.stderr || py.error?.message}\n`);

const report: Record<string, unknown> = { n: N, runs: RUNS };
for (const name of Object.keys(SIZES)) {
  const o = ours[name]!, a = astropy?.[name];
  report[name] = {
    pixelToSky: { pointsPerSecond: o.pixelToSky, astropy: a?.pixelToSky.pointsPerSecond ?? null, ratio: a ? o.pixelToSky / a.pixelToSky.pointsPerSecond : null },
    skyToPixel: { pointsPerSecond: o.skyToPixel, astropy: a?.skyToPixel.pointsPerSecond ?? null, ratio: a ? o.skyToPixel / a.skyToPixel.pointsPerSecond : null },
  };
}
if (args.includes('--json')) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
else {
  for (const name of Object.keys(SIZES)) {
    const r = report[name] as Record<string, { pointsPerSecond: number; astropy: number | null; ratio: number | null }>;
    for (const dir of ['pixelToSky', 'skyToPixel']) {
      const d = r[dir]!;
      process.stdout.write(`${name.padEnd(24)} ${dir.padEnd(11)} skycal ${(d.pointsPerSecond / 1e6).toFixed(2)} M/s  astropy ${d.astropy ? (d.astropy / 1e6).toFixed(2) : '-'} M/s  ratio ${d.ratio?.toFixed(1) ?? '-'}x\n`);
    }
  }
}
