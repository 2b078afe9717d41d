/**
 * TAN-SIP kernel throughput against astropy on the PTF and HST headers:
 *   node dist/bench/wcs.js [--n N] [--runs R] [--rounds K] [--json]
 * Runs bench/astropy_wcs.py with /usr/bin/python3 (Debian python3-astropy)
 * on the same machine right after, and prints the ratios (ours / astropy).
 * Single thread; median of R runs for each side. The machine is shared and its
 * load moves by 2x within a minute, so ours and astropy alternate K rounds
 * (each round: ours, then astropy) and the ratio reported is the median of the
 * per-round ratios, with their range; throughputs are medians over rounds.
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
const ROUNDS = Math.max(1, opt('rounds', 3));
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

type Speeds = Record<string, { pixelToSky: number; skyToPixel: number }>;
const kernels = Object.entries(SIZES).map(([name, [w, h]]) => {
  const wcs = TanSipWcs.fromFitsHeader(readFileSync(join(data, 'wcs-headers', `${name}.hdr`), 'utf8'));
  const model = wcs.toKernelModel();
  const rnd = makeRandom(42);
  const x = Float64Array.from({ length: N }, () => rnd() * (w - 1));
  const y = Float64Array.from({ length: N }, () => rnd() * (h - 1));
  const ra = new Float64Array(N), dec = new Float64Array(N), st = new Uint8Array(N), px = new Float64Array(N), py = new Float64Array(N);
  return {
    name,
    p2s: () => tanSipPixelToSkyDeg(N, model, x, 1, 0, y, 1, 0, ra, 1, 0, dec, 1, 0, st, 1, 0),
    s2p: () => tanSipSkyToPixelDeg(N, model, 50, 1e-10, ra, 1, 0, dec, 1, 0, px, 1, 0, py, 1, 0, st, 1, 0),
  };
});
function measureOurs(): Speeds {
  const ours: Speeds = {};
  for (const k of kernels) {
    const p2s = timeIt(k.p2s);
    const s2p = timeIt(k.s2p);
    ours[k.name] = { pixelToSky: N / p2s, skyToPixel: N / s2p };
  }
  return ours;
}
function measureAstropy(): Speeds | undefined {
  const py = spawnSync('/usr/bin/python3', [join(root, 'bench', 'astropy_wcs.py')], {
    env: { ...process.env, N: String(N), RUNS: String(RUNS), SKYCAL_SHARED_DATA: data },
    encoding: 'utf8',
  });
  if (py.status !== 0) {
    process.stderr.write(`astropy comparison skipped: ${py.stderr || py.error?.message}\n`);
    return undefined;
  }
  const a = JSON.parse(py.stdout) as Record<string, { pixelToSky: { pointsPerSecond: number }; skyToPixel: { pointsPerSecond: number } }>;
  const out: Speeds = {};
  for (const name of Object.keys(SIZES)) out[name] = { pixelToSky: a[name]!.pixelToSky.pointsPerSecond, skyToPixel: a[name]!.skyToPixel.pointsPerSecond };
  return out;
}

const rounds: { ours: Speeds; astropy: Speeds | undefined }[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const ours = measureOurs();
  const astropy = measureAstropy();
  rounds.push({ ours, astropy });
  if (!astropy) break;
}

const report: Record<string, unknown> = { n: N, runs: RUNS, rounds: rounds.length };
for (const name of Object.keys(SIZES)) {
  const entry: Record<string, unknown> = {};
  for (const dir of ['pixelToSky', 'skyToPixel'] as const) {
    const o = rounds.map((r) => r.ours[name]![dir]);
    const a = rounds.filter((r) => r.astropy).map((r) => r.astropy![name]![dir]);
    const ratios = rounds.filter((r) => r.astropy).map((r) => r.ours[name]![dir] / r.astropy![name]![dir]);
    entry[dir] = {
      pointsPerSecond: median(o),
      astropy: a.length ? median(a) : null,
      ratio: ratios.length ? median(ratios) : null,
      ratioRange: ratios.length ? [Math.min(...ratios), Math.max(...ratios)] : null,
    };
  }
  report[name] = entry;
}
if (args.includes('--json')) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
else {
  for (const name of Object.keys(SIZES)) {
    const r = report[name] as Record<string, { pointsPerSecond: number; astropy: number | null; ratio: number | null; ratioRange: number[] | null }>;
    for (const dir of ['pixelToSky', 'skyToPixel']) {
      const d = r[dir]!;
      const range = d.ratioRange ? ` (${d.ratioRange[0]!.toFixed(1)}-${d.ratioRange[1]!.toFixed(1)})` : '';
      process.stdout.write(`${name.padEnd(24)} ${dir.padEnd(11)} skycal ${(d.pointsPerSecond / 1e6).toFixed(2)} M/s  astropy ${d.astropy ? (d.astropy / 1e6).toFixed(2) : '-'} M/s  ratio ${d.ratio?.toFixed(1) ?? '-'}x${range}\n`);
    }
  }
}
