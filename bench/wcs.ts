/**
 * TAN-SIP kernel throughput against astropy on the PTF and HST headers:
 *   node dist/bench/wcs.js [--n N] [--runs R] [--json]
 * Runs bench/astropy_wcs.py with /usr/bin/python3 (Debian python3-astropy)
 * on the same machine right after, and prints the ratios (ours / astropy).
 * Single thread. The machine is shared and its load moves by 2x within
 * seconds, so the two sides alternate run by run (astropy_wcs.py --serve
 * times one call per request): R pairs per header and direction; reported are
 * the medians of each side's R times and the median and range of the R
 * per-pair ratios.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TanSipWcs } from '../src/wcs/index.js';
import { tanSipPixelToSkyDeg, tanSipSkyToPixelDeg } from '../native-free-kernels/index.js';
import { makeRandom } from '../src/random.js';
import { median } from '../src/stats.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const N = opt('n', 200000);
const RUNS = opt('runs', 7);
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
// The vendored headers (test/data/wcs-headers, provenance in its SOURCES.md): the bench needs nothing beside the clone.
const data = process.env['SKYCAL_WCS_HEADERS'] ?? join(root, 'test', 'data', 'wcs-headers');
const SIZES: Record<string, [number, number]> = { ptf_p48_sip4: [2048, 4096], hst_acs_wfc_sip4_noinv: [4096, 2048] };

const kernels = Object.entries(SIZES).map(([name, [w, h]]) => {
  const wcs = TanSipWcs.fromFitsHeader(readFileSync(join(data, `${name}.hdr`), 'utf8'));
  const model = wcs.toKernelModel();
  const rnd = makeRandom(42);
  const x = Float64Array.from({ length: N }, () => rnd() * (w - 1));
  const y = Float64Array.from({ length: N }, () => rnd() * (h - 1));
  const ra = new Float64Array(N), dec = new Float64Array(N), st = new Uint8Array(N), px = new Float64Array(N), py = new Float64Array(N);
  const pixelToSky = () => tanSipPixelToSkyDeg(N, model, x, 1, 0, y, 1, 0, ra, 1, 0, dec, 1, 0, st, 1, 0);
  pixelToSky(); // sky -> pixel starts from these (ra, dec)
  return {
    name,
    pixelToSky,
    skyToPixel: () => tanSipSkyToPixelDeg(N, model, 50, 1e-10, ra, 1, 0, dec, 1, 0, px, 1, 0, py, 1, 0, st, 1, 0),
  };
});
const seconds = (fn: () => void): number => {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
};

// astropy in a child process that times one call per request.
const child = spawn('/usr/bin/python3', [join(root, 'bench', 'astropy_wcs.py'), '--serve'], {
  env: { ...process.env, N: String(N), SKYCAL_WCS_HEADERS: data },
  stdio: ['pipe', 'pipe', 'pipe'],
});
let stderr = '';
child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
const nextLine = async (): Promise<string | undefined> => {
  const r = await lines.next();
  return r.done ? undefined : (r.value as string);
};
const ready = (await nextLine()) === 'ready';
if (!ready) process.stderr.write(`astropy comparison skipped: ${stderr || 'python3/astropy not available'}\n`);
const astropyOnce = async (name: string, dir: string): Promise<number> => {
  child.stdin.write(`${name} ${dir}\n`);
  return Number(await nextLine());
};

const report: Record<string, unknown> = { n: N, runs: RUNS };
for (const k of kernels) {
  const entry: Record<string, unknown> = {};
  for (const dir of ['pixelToSky', 'skyToPixel'] as const) {
    const fn = k[dir];
    fn(); fn(); // warm up (JIT)
    if (ready) await astropyOnce(k.name, dir);
    const ours: number[] = [], theirs: number[] = [], ratios: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const t = seconds(fn);
      ours.push(t);
      if (ready) {
        const a = await astropyOnce(k.name, dir);
        theirs.push(a);
        ratios.push(a / t);
      }
    }
    entry[dir] = {
      pointsPerSecond: N / median(ours),
      astropy: ready ? N / median(theirs) : null,
      ratio: ready ? median(ratios) : null,
      ratioRange: ready ? [Math.min(...ratios), Math.max(...ratios)] : null,
    };
  }
  report[k.name] = entry;
}
child.stdin.end();
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
