/**
 * Summary statistics over samples that may hold NaN (NaN samples are left out
 * and counted). The one median and percentile of skycal (diff, the demo, the
 * benches): linear interpolation between order statistics, numpy's default.
 */

export interface Summary {
  count: number;
  nanCount: number;
  median: number;
  p95: number;
  max: number;
  mean: number;
}

/** Quantile q in [0, 1] of sorted finite values, by linear interpolation (numpy's default). */
export function quantileSorted(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Finite (non-NaN) values of `values`, sorted ascending. */
function sortedFinite(values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(values.length);
  let j = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === values[i]) out[j++] = values[i]!;
  return out.subarray(0, j).sort();
}

/** Quantile q in [0, 1] of `values` (unsorted; NaN left out), by linear interpolation; NaN when none is left. */
export function quantile(values: ArrayLike<number>, q: number): number {
  return quantileSorted(sortedFinite(values), q);
}

/** The median of `values` (NaN left out): the mean of the two middle values for an even count, as numpy's. */
export function median(values: ArrayLike<number>): number {
  return quantile(values, 0.5);
}

export function summarize(values: ArrayLike<number>): Summary {
  let finite = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === values[i]) finite++;
  const sorted = new Float64Array(finite);
  let j = 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v === v) {
      sorted[j++] = v;
      sum += v;
    }
  }
  sorted.sort();
  return {
    count: finite,
    nanCount: values.length - finite,
    median: quantileSorted(sorted, 0.5),
    p95: quantileSorted(sorted, 0.95),
    max: finite > 0 ? sorted[finite - 1]! : NaN,
    mean: finite > 0 ? sum / finite : NaN,
  };
}
