/** Perceptually uniform colour maps for plots, by linear interpolation between anchor colours. */
export type Rgb = readonly [number, number, number];

/** matplotlib's viridis at 9 evenly spaced anchors. */
const VIRIDIS: readonly Rgb[] = [
  [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
  [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
];

/** The colour at t in [0, 1] (clamped; NaN gives light grey). */
export function viridis(t: number): Rgb {
  if (t !== t) return [220, 220, 220];
  const s = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const k = Math.min(VIRIDIS.length - 2, Math.floor(s));
  const f = s - k;
  const a = VIRIDIS[k]!, b = VIRIDIS[k + 1]!;
  return [Math.round(a[0] + f * (b[0] - a[0])), Math.round(a[1] + f * (b[1] - a[1])), Math.round(a[2] + f * (b[2] - a[2]))];
}

export const rgbCss = (c: Rgb): string => `rgb(${c[0]},${c[1]},${c[2]})`;
