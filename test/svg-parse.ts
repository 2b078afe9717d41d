/** Small readers of the SVG that skycal's plots write, for tests: the frame, the arrows, the key, the regions. */
export interface Rect { x: number; y: number; width: number; height: number }

const num = (s: string | undefined): number => Number(s);

export function viewBox(svg: string): Rect {
  const m = /viewBox="([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+)"/.exec(svg);
  if (!m) throw new Error('no viewBox');
  return { x: num(m[1]), y: num(m[2]), width: num(m[3]), height: num(m[4]) };
}

/** The data frame: the axes' rectangle. */
export function frameRect(svg: string): Rect {
  const m = /<rect class="frame" x="([-\d.]+)" y="([-\d.]+)" width="([-\d.]+)" height="([-\d.]+)"/.exec(svg);
  if (!m) throw new Error('no frame rectangle');
  return { x: num(m[1]), y: num(m[2]), width: num(m[3]), height: num(m[4]) };
}

/** Every vertex of a path's d attribute (M and L commands with absolute coordinates). */
export function pathPoints(d: string): [number, number][] {
  return [...d.matchAll(/[ML](-?[\d.]+) (-?[\d.]+)/g)].map((m) => [num(m[1]), num(m[2])]);
}

/** All vertices of the arrows (shafts and heads). */
export function arrowPoints(svg: string): [number, number][] {
  const m = /<path class="arrows" d="([^"]*)"/.exec(svg);
  if (!m) throw new Error('no arrows path');
  return pathPoints(m[1]!);
}

/** The arrow shafts: tail and head of each arrow. */
export function arrowShafts(svg: string): { x0: number; y0: number; x1: number; y1: number }[] {
  const m = /<path class="arrows" d="([^"]*)"/.exec(svg);
  if (!m) throw new Error('no arrows path');
  // A shaft is "M tail L head" followed by the next M (a head's barbs are "M a L tip L b").
  return [...m[1]!.matchAll(/M(-?[\d.]+) (-?[\d.]+)L(-?[\d.]+) (-?[\d.]+)(?=M|$)/g)].map((s) => ({ x0: num(s[1]), y0: num(s[2]), x1: num(s[3]), y1: num(s[4]) }));
}

/** The key: its arrow's vertices and its label (anchored at its right end). */
export function keyOf(svg: string): { points: [number, number][]; label: string; labelRightX: number; labelY: number } {
  const m = /<g class="key"><path d="([^"]*)"[^>]*\/><text x="([-\d.]+)" y="([-\d.]+)"[^>]*text-anchor="end"[^>]*>([^<]*)<\/text><\/g>/.exec(svg);
  if (!m) throw new Error('no key');
  return { points: pathPoints(m[1]!), labelRightX: num(m[2]), labelY: num(m[3]), label: m[4]! };
}

/** The outlined regions (CCDs): vertices, whether drawn invalid, and fill. */
export function regions(svg: string): { points: [number, number][]; invalid: boolean; fill: string }[] {
  return [...svg.matchAll(/<polygon class="region( invalid)?" points="([^"]*)" fill="([^"]*)"/g)].map((m) => ({
    invalid: m[1] !== undefined,
    fill: m[3]!,
    points: m[2]!.split(' ').map((p) => p.split(',').map(Number) as [number, number]),
  }));
}

/** The region labels: the lines of text of each, at the position of its first line. */
export function regionLabels(svg: string): { lines: string[]; x: number; y: number }[] {
  return [...svg.matchAll(/<g class="region-label">(.*?)<\/g>/g)].map((g) => {
    const texts = [...g[1]!.matchAll(/<text x="([-\d.]+)" y="([-\d.]+)"[^>]*>([^<]*)<\/text>/g)];
    return { lines: texts.map((t) => t[3]!), x: num(texts[0]?.[1]), y: num(texts[0]?.[2]) };
  });
}

export const inside = (p: [number, number], r: Rect, slack = 0): boolean =>
  p[0] >= r.x - slack && p[0] <= r.x + r.width + slack && p[1] >= r.y - slack && p[1] <= r.y + r.height + slack;

/** Point in polygon (even-odd rule). */
export function inPolygon(p: [number, number], poly: readonly [number, number][]): boolean {
  let c = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i]!, [xj, yj] = poly[j]!;
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) c = !c;
  }
  return c;
}
