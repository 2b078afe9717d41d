/** The TAN-SIP kernels' throughput: tinybench, in process, single thread, on N seeded random points in the bbox. */
import { Bench } from 'tinybench';
import { errors } from '../errors.js';
import { tanSipPixelToSkyDeg, tanSipSkyToPixelDeg } from '../../native-free-kernels/index.js';
import type { TanSipWcs } from '../wcs/index.js';
import { makeRandom } from '../random.js';

export interface WcsBenchResult {
  n: number;
  pixelToSky: { pointsPerSecond: number };
  skyToPixel: { pointsPerSecond: number };
}

/** Points per second of the kernels (median over tinybench samples); skyToPixel is exact (1e-10 px). */
export async function benchWcs(wcs: TanSipWcs, n: number, bbox = wcs.bbox, timeMs = 1000): Promise<WcsBenchResult> {
  if (!bbox) throw errors.usage('bench wcs: the header gives no image size; pass --bbox x0,y0,x1,y1');
  const random = makeRandom(42);
  const x = Float64Array.from({ length: n }, () => bbox.minX + random() * (bbox.maxX - bbox.minX));
  const y = Float64Array.from({ length: n }, () => bbox.minY + random() * (bbox.maxY - bbox.minY));
  const model = wcs.toKernelModel();
  const ra = new Float64Array(n), dec = new Float64Array(n), st = new Uint8Array(n);
  const px = new Float64Array(n), py = new Float64Array(n);
  tanSipPixelToSkyDeg(n, model, x, 1, 0, y, 1, 0, ra, 1, 0, dec, 1, 0, st, 1, 0);
  const bench = new Bench({ time: timeMs, warmupTime: 200 });
  bench.add('pixelToSky', () => void tanSipPixelToSkyDeg(n, model, x, 1, 0, y, 1, 0, ra, 1, 0, dec, 1, 0, st, 1, 0));
  bench.add('skyToPixel', () => void tanSipSkyToPixelDeg(n, model, 50, 1e-10, ra, 1, 0, dec, 1, 0, px, 1, 0, py, 1, 0, st, 1, 0));
  await bench.run();
  const pps = (name: string) => {
    const r = bench.tasks.find((t) => t.name === name)!.result as { latency?: { p50: number } };
    if (!r.latency) throw errors.io('bench wcs', `${name} did not complete`);
    return n / (r.latency.p50 / 1000);
  };
  return { n, pixelToSky: { pointsPerSecond: pps('pixelToSky') }, skyToPixel: { pointsPerSecond: pps('skyToPixel') } };
}
