/**
 * Compare: how far one WCS version moved from another over the focal plane
 * of a visit (arrows: mean shift per cell; each CCD outlined and labelled,
 * invalid ones hatched), a sortable table of median/p95/max per CCD, and the
 * distortion and calibration maps of one detector.
 */
import { errorBox, getJson, h, pageHref, query, s } from './dom.js';

interface Ccd {
  dataId: string; label: string; positions: string; points: number;
  medianMas: number | null; p95Mas: number | null; maxMas: number | null;
  fromRun: string | null; toRun: string | null; invalid: string | null;
  outline: { xi: number[]; eta: number[] } | null;
}
interface View {
  from: string; to: string;
  extent: { x0: number; x1: number; y0: number; y1: number };
  ccds: Ccd[];
  arrows: { xi: number; eta: number; eastMas: number; northMas: number }[];
}

const fmt = (v: number | null, d = 1) => (v === null ? '—' : v.toFixed(d));

function focalPlaneSvg(view: View, selected: string | null, onPick: (dataId: string) => void): SVGElement {
  const { x0, x1, y0, y1 } = view.extent;
  const pad = 0.04 * Math.max(x1 - x0, y1 - y0);
  // At most 600 px wide and 560 px tall, the sky's aspect kept.
  const aspect = (y1 - y0 + 2 * pad) / (x1 - x0 + 2 * pad);
  const W = Math.round(Math.min(600, 560 / aspect)), H = Math.round(W * aspect);
  const top = 34, left = 10, bottom = 60;
  // East to the left, as on the sky.
  const px = (xi: number) => left + ((x1 + pad - xi) / (x1 - x0 + 2 * pad)) * W;
  const py = (eta: number) => top + ((y1 + pad - eta) / (y1 - y0 + 2 * pad)) * H;
  const svg = s('svg', { class: 'focal-plane', width: W + 2 * left, height: H + top + bottom, viewBox: `0 0 ${W + 2 * left} ${H + top + bottom}`, role: 'img' });
  svg.append(s('defs', {},
    s('pattern', { id: 'hatch', width: 8, height: 8, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
      s('rect', { width: 8, height: 8, fill: '#fde8e8' }), s('line', { x1: 0, y1: 0, x2: 0, y2: 8, stroke: '#c62828', 'stroke-width': 3 })),
    s('marker', { id: 'head', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 3.2, markerHeight: 3.2, orient: 'auto-start-reverse' },
      s('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#1a4f8b' }))));
  svg.append(s('text', { x: left, y: 20, class: 'plot-title' }, `WCS shift ${view.from} → ${view.to}`));
  for (const c of view.ccds) {
    if (c.outline === null) continue;
    const pts = c.outline.xi.map((xi, k) => `${px(xi).toFixed(1)},${py(c.outline!.eta[k]!).toFixed(1)}`).join(' ');
    const poly = s('polygon', { points: pts, class: `ccd${c.invalid ? ' invalid' : ''}${c.dataId === selected ? ' selected' : ''}`, 'data-dataid': c.dataId },
      s('title', {}, c.invalid ? `${c.dataId}\n${c.invalid}` : `${c.dataId}\nmedian ${fmt(c.medianMas)} mas`));
    poly.addEventListener('click', () => onPick(c.dataId));
    svg.append(poly);
  }
  // Arrows: the largest cell shift is drawn 1.6 cells long (neighbouring arrows may overlap a little, as in matplotlib's quiver).
  const mags = view.arrows.map((a) => Math.hypot(a.eastMas, a.northMas)).sort((a, b) => a - b);
  const ref = mags[mags.length - 1] ?? 1;
  const cellPx = view.arrows.length > 1 ? Math.min(...view.arrows.slice(1).map((a, k) => Math.abs(px(a.xi) - px(view.arrows[k]!.xi))).filter((d) => d > 1)) : 20;
  const perMas = (1.6 * (Number.isFinite(cellPx) ? cellPx : 20)) / (ref || 1);
  for (const a of view.arrows) {
    const xA = px(a.xi), yA = py(a.eta);
    // East is left on the page, north is up.
    svg.append(s('line', { x1: xA, y1: yA, x2: xA - a.eastMas * perMas, y2: yA - a.northMas * perMas, class: 'arrow', 'marker-end': 'url(#head)' }));
  }
  for (const c of view.ccds) {
    if (c.outline === null) continue;
    const cx = px(c.outline.xi.reduce((p, q) => p + q, 0) / c.outline.xi.length);
    const cy = py(c.outline.eta.reduce((p, q) => p + q, 0) / c.outline.eta.length);
    svg.append(s('text', { x: cx, y: cy - 4, class: `ccd-label${c.invalid ? ' invalid' : ''}`, 'text-anchor': 'middle' }, c.label));
    svg.append(s('text', { x: cx, y: cy + 12, class: `ccd-value${c.invalid ? ' invalid' : ''}`, 'text-anchor': 'middle' }, c.invalid ? 'INVALID' : `${fmt(c.medianMas)} mas`));
  }
  // Key: a round shift near the reference length.
  const decade = 10 ** Math.floor(Math.log10(ref || 1));
  const keyMas = decade * (ref / decade >= 5 ? 5 : ref / decade >= 2 ? 2 : 1);
  const ky = top + H + 28;
  svg.append(s('line', { x1: left + 10, y1: ky, x2: left + 10 + keyMas * perMas, y2: ky, class: 'arrow', 'marker-end': 'url(#head)' }));
  svg.append(s('text', { x: left + 18 + keyMas * perMas, y: ky + 4, class: 'key' }, `${keyMas} mas · east ←, north ↑`));
  svg.append(s('text', { x: left + 10, y: ky + 20, class: 'key' }, 'hatched: invalid (a failure marker on one side)'));
  return svg;
}

function sortableTable(view: View, selected: string | null, onPick: (dataId: string) => void): HTMLElement {
  const columns: { key: keyof Ccd; label: string; num: boolean }[] = [
    { key: 'dataId', label: 'CCD', num: false },
    { key: 'medianMas', label: 'median (mas)', num: true },
    { key: 'p95Mas', label: 'p95 (mas)', num: true },
    { key: 'maxMas', label: 'max (mas)', num: true },
    { key: 'points', label: 'points', num: true },
    { key: 'invalid', label: 'state', num: false },
  ];
  let sortKey: keyof Ccd = 'dataId';
  let dir = 1;
  const table = h('table', { class: 'stats', id: 'compare-table' });
  const render = () => {
    const rows = [...view.ccds].sort((a, b) => {
      const va = a[sortKey], vb = b[sortKey];
      if (va === vb) return 0;
      if (va === null) return 1;
      if (vb === null) return -1;
      return (va < vb ? -1 : 1) * dir;
    });
    table.replaceChildren(
      h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', {
        class: `sortable${c.key === sortKey ? (dir > 0 ? ' asc' : ' desc') : ''}${c.num ? ' num' : ''}`, 'data-key': c.key,
        onclick: () => { dir = sortKey === c.key ? -dir : c.num ? -1 : 1; sortKey = c.key; render(); },
      }, c.label)))),
      h('tbody', {}, ...rows.map((r) => h('tr', { class: `${r.invalid ? 'invalid' : ''}${r.dataId === selected ? ' selected' : ''}`, onclick: () => onPick(r.dataId) },
        h('td', { title: r.dataId }, r.label), h('td', { class: 'num' }, fmt(r.medianMas)), h('td', { class: 'num' }, fmt(r.p95Mas)), h('td', { class: 'num' }, fmt(r.maxMas)),
        h('td', { class: 'num' }, r.points), h('td', { class: 'small state' }, r.invalid ? r.invalid.replace(/^invalid: \S+ \S+ /, 'invalid: ') : `${r.fromRun} → ${r.toRun}`)))),
    );
  };
  render();
  return table;
}

async function mapImage(url: string, alt: string): Promise<HTMLElement> {
  const res = await fetch(url);
  if (!res.ok) {
    const body = (await res.json()) as { error: { code: string; message: string } };
    return h('div', { class: 'map-missing' }, `${alt}: ${body.error.message}`);
  }
  return h('img', { src: URL.createObjectURL(await res.blob()), alt, class: 'map' });
}

export async function comparePage(root: HTMLElement, params: URLSearchParams): Promise<void> {
  const asOf = params.get('asOf');
  try {
    const history = await getJson<{ runs: { stage: string; refs: { name: string }[]; failures: { dataId: string }[] }[] }>(`/api/history${query({ asOf })}`);
    const { dataIds } = await getJson<{ dataIds: string[] }>(`/api/dataids${query({ asOf })}`);
    const stages = [...new Set(history.runs.map((r) => r.stage).filter((st) => st !== 'merge'))].reverse();
    const refs = [...new Set(history.runs.flatMap((r) => r.refs.map((x) => x.name)))];
    const versions = [...stages.map((st) => `@${st}`), ...refs];
    const from = params.get('from') ?? (stages[0] ? `@${stages[0]}` : 'main');
    const to = params.get('to') ?? (stages[1] ? `@${stages[1]}` : 'main');
    const visits = [...new Set(dataIds.map((d) => /(?:^|,)visit=([^,]+)/.exec(d)?.[1]).filter((v): v is string => v !== undefined))];
    const failedVisit = history.runs.flatMap((r) => r.failures).map((f) => /(?:^|,)visit=([^,]+)/.exec(f.dataId)?.[1]).find((v) => v !== undefined);
    const ccdParam = params.get('ccd');
    const visit = params.get('visit') ?? (ccdParam ? /(?:^|,)visit=([^,]+)/.exec(ccdParam)?.[1] : undefined) ?? failedVisit ?? visits[0] ?? null;
    const set = (changes: Record<string, string | null>) => {
      const next = { from, to, visit, ccd: ccdParam, asOf, ...changes };
      location.hash = pageHref('compare', next);
    };
    const select = (name: string, value: string | null, options: string[]) =>
      h('select', { name, onchange: (e: Event) => set({ [name]: (e.target as HTMLSelectElement).value }) },
        ...options.map((o) => h('option', { value: o, selected: o === value }, o)));
    root.append(h('h2', {}, 'Compare two WCS versions'), h('p', { class: 'lead' },
      'The same pixels mapped to the sky by two versions of each CCD’s WCS: arrows show the mean shift per cell, ' +
      'each CCD is outlined and labelled with its median shift, and a CCD that one side failed on is hatched in red.'),
      h('div', { class: 'controls' },
        h('label', {}, 'from ', select('from', from, versions)), h('label', {}, ' to ', select('to', to, versions)),
        visits.length ? h('label', {}, ' visit ', select('visit', visit, visits)) : null));
    const view = await getJson<View>(`/api/compare${query({ from, to, where: visit ? `visit=${visit}` : null, asOf })}`);
    const selected = ccdParam && view.ccds.some((c) => c.dataId === ccdParam) ? ccdParam : (view.ccds.find((c) => c.invalid === null)?.dataId ?? null);
    const pick = (dataId: string) => set({ ccd: dataId });
    root.append(h('div', { class: 'side-by-side' }, h('div', { class: 'figure' }, focalPlaneSvg(view, selected, pick)),
      h('div', {}, sortableTable(view, selected, pick), h('p', { class: 'small' }, 'Click a CCD (or a row) for its maps; click a column to sort.'))));
    if (selected !== null) {
      const version = to;
      const maps = h('div', { class: 'maps' });
      root.append(h('h3', {}, `${view.ccds.find((c) => c.dataId === selected)?.label ?? selected} (${selected}) at ${version}`), maps);
      maps.append(
        await mapImage(`/api/plot/distortion.svg${query({ dataId: selected, version, asOf })}`, 'SIP distortion map'),
        await mapImage(`/api/plot/photocalib.svg${query({ dataId: selected, version, asOf })}`, 'calibration map'));
    }
  } catch (e) {
    root.append(errorBox(e));
  }
}
