/**
 * Sources: one dataId's catalog at a version, with coord_ra/coord_dec and
 * calibrated fluxes derived in this page (sourcesWorker.ts) from the stored
 * files the server hands over by content hash; drawn on the sky and as a
 * table, one page of rows at a time.
 */
import { errorBox, float64Base64, getJson, h, pageHref, query, shortTime } from './dom.js';
import { dataIdPicker } from './dataIdPage.js';
import type { SourcesRequest, SourcesResult } from './sourcesWorker.js';

type Cell = { state: 'ok'; runId: string; stage: string; committedAt: string | null; fileHash: string | null } | { state: 'invalid' | 'none'; message: string };
interface View { dataId: string; version: string; wcs: Cell; photoCalib: Cell; src: Cell }

declare global {
  interface Window {
    /** What the page derived, for tests: columns as base64 of their Float64 bytes. */
    skycalSources?: { dataId: string; version: string; n: number; columns: Record<string, string> };
  }
}

const PAGE_ROWS = 25;

function runIn(req: SourcesRequest): Promise<SourcesResult> {
  const worker = new Worker(new URL('./sourcesWorker.js', import.meta.url), { type: 'module' });
  return new Promise((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<{ ok: true; result: SourcesResult } | { ok: false; message: string }>) => {
      worker.terminate();
      if (e.data.ok) resolve(e.data.result);
      else reject(new Error(e.data.message));
    };
    worker.onerror = (e) => {
      worker.terminate();
      reject(new Error(e.message || 'the worker failed to start'));
    };
    worker.postMessage(req);
  });
}

function skyCanvas(r: SourcesResult, magColumn: string | null): HTMLCanvasElement {
  const W = 400, H = 520, pad = 36;
  const canvas = h('canvas', { width: W, height: H, class: 'sky' });
  const g = canvas.getContext('2d')!;
  // Derived columns are Float64 (only stored Int64 ids are BigInt64Array).
  const ra = r.columns['coord_ra'] as Float64Array, dec = r.columns['coord_dec'] as Float64Array, mag = magColumn ? (r.columns[magColumn] as Float64Array) : undefined;
  let r0 = Infinity, r1 = -Infinity, d0 = Infinity, d1 = -Infinity, m0 = Infinity, m1 = -Infinity;
  for (let i = 0; i < r.n; i++) {
    if (!Number.isFinite(ra[i]!) || !Number.isFinite(dec[i]!)) continue;
    r0 = Math.min(r0, ra[i]!); r1 = Math.max(r1, ra[i]!); d0 = Math.min(d0, dec[i]!); d1 = Math.max(d1, dec[i]!);
    if (mag && Number.isFinite(mag[i]!)) { m0 = Math.min(m0, mag[i]!); m1 = Math.max(m1, mag[i]!); }
  }
  const cosd = Math.cos(((d0 + d1) / 2) * Math.PI / 180);
  const scale = Math.min((W - 2 * pad) / ((r1 - r0) * cosd || 1), (H - 2 * pad) / (d1 - d0 || 1));
  // RA grows to the left (east left, north up).
  const X = (a: number) => W / 2 - (a - (r0 + r1) / 2) * cosd * scale;
  const Y = (d: number) => H / 2 - (d - (d0 + d1) / 2) * scale;
  g.fillStyle = '#0b1020'; g.fillRect(0, 0, W, H);
  for (let i = 0; i < r.n; i++) {
    const t = mag && Number.isFinite(mag[i]!) ? (mag[i]! - m0) / (m1 - m0 || 1) : 0.5;
    // Bright sources large and white, faint ones small and blue.
    g.fillStyle = `rgba(${Math.round(255 - 120 * t)}, ${Math.round(235 - 90 * t)}, 255, ${0.9 - 0.5 * t})`;
    const rad = 2.6 - 2 * t;
    g.fillRect(X(ra[i]!) - rad / 2, Y(dec[i]!) - rad / 2, rad, rad);
  }
  g.fillStyle = '#cfd8ea'; g.font = '12px sans-serif';
  g.fillText(`RA ${r1.toFixed(4)}° ← → ${r0.toFixed(4)}°`, pad, H - 12);
  g.fillText(`Dec ${d0.toFixed(4)}° … ${d1.toFixed(4)}°`, pad, 20);
  g.fillText('N ↑  E ←', W - 80, 20);
  return canvas;
}

function tablePage(r: SourcesResult, names: string[], page: number): HTMLElement {
  const start = page * PAGE_ROWS;
  const end = Math.min(r.n, start + PAGE_ROWS);
  const rows: HTMLElement[] = [];
  for (let i = start; i < end; i++) {
    rows.push(h('tr', {}, ...names.map((c) => {
      const v = r.columns[c]![i]!;
      const digits = c.startsWith('coord_') ? 8 : c === 'id' ? 0 : c.endsWith('_mag') || c.endsWith('_magErr') ? 4 : 3;
      return h('td', { class: 'num' }, typeof v === 'bigint' ? v.toString() : Number.isFinite(v) ? v.toFixed(digits) : 'NaN');
    })));
  }
  return h('table', { class: 'stats sources-table' },
    h('thead', {}, h('tr', {}, ...names.map((c) => h('th', { class: `num${/coord_|_flux$|_mag$|_fluxErr$|_magErr$/.test(c) ? ' derived' : ''}`, title: c }, c.replace(/^.*_(?=(instFlux|flux|fluxErr|mag|magErr)$)/, ''))))),
    h('tbody', {}, ...rows));
}

export async function sourcesPage(root: HTMLElement, params: URLSearchParams): Promise<void> {
  const asOf = params.get('asOf');
  const version = params.get('version') ?? 'main';
  const page = Math.max(0, Number(params.get('page') ?? 0) || 0);
  let dataId = params.get('dataId');
  const go = (changes: Record<string, string | null>) => (location.hash = pageHref('sources', { dataId, version, asOf, page: String(page), ...changes }));
  try {
    const picker = await dataIdPicker(dataId, asOf, (d) => go({ dataId: d, page: '0' }));
    if (dataId === null) dataId = (picker.querySelector('select') as HTMLSelectElement).value;
    root.append(h('h2', {}, 'Sources, derived in this page'), h('p', { class: 'lead' },
      'The repository stores catalogs with pixel positions and instrumental fluxes only. This page fetches the stored catalog (Parquet), ' +
      'WCS header and calibration by content hash and computes coord_ra, coord_dec and calibrated fluxes in a Web Worker with skycal’s ' +
      'native-free kernels — the same compiled files Node runs.'),
      h('div', { class: 'controls' }, picker, h('label', {}, ' version ', h('input', { value: version, size: 16, onchange: (e: Event) => go({ version: (e.target as HTMLInputElement).value, page: '0' }) }))));
    const view = await getJson<View>(`/api/sources${query({ dataId, version, asOf })}`);
    const supplied = (label: string, c: Cell) => h('li', { class: c.state === 'ok' ? '' : 'invalid' }, h('b', {}, label), ': ',
      c.state === 'ok' ? `run ${c.runId} (${c.stage}), ${shortTime(c.committedAt)}` : c.message);
    root.append(h('ul', { class: 'supplied' }, supplied('wcs', view.wcs), supplied('photoCalib', view.photoCalib), supplied('src', view.src)));
    if (view.wcs.state !== 'ok' || view.src.state !== 'ok') {
      root.append(h('p', { class: 'error' }, 'Nothing to derive: ', view.wcs.state !== 'ok' ? 'the WCS is not valid at this version (no silent fallback to an older one).' : 'no catalog.'));
      root.setAttribute('data-state', 'invalid');
      return;
    }
    const status = h('p', { class: 'small' }, 'deriving in a Web Worker…');
    root.append(status);
    const result = await runIn({
      wcsUrl: `/api/dataset/${view.wcs.fileHash}`,
      srcUrl: `/api/dataset/${view.src.fileHash}`,
      photoCalibModelUrl: view.photoCalib.state === 'ok' ? `/api/dataset/${view.photoCalib.fileHash}/photocalib-model` : null,
    });
    const magColumn = result.fluxFamily && result.columns[`${result.fluxFamily}_mag`] ? `${result.fluxFamily}_mag` : null;
    status.textContent = `${result.n.toLocaleString('en-US')} sources · fetch ${result.ms.fetch.toFixed(0)} ms · Parquet ${result.ms.parquet.toFixed(0)} ms · ` +
      `pixel→sky ${result.ms.wcs.toFixed(1)} ms · calibration ${result.ms.calibrate.toFixed(1)} ms (in the browser)`;
    const fam = result.fluxFamily ?? '\0';
    const names = ['x', 'y', 'coord_ra', 'coord_dec', ...['instFlux', 'flux', 'fluxErr', 'mag', 'magErr'].map((k) => `${fam}_${k}`)].filter((c) => result.columns[c]);
    const pages = Math.ceil(result.n / PAGE_ROWS);
    root.append(h('div', { class: 'sources' },
      skyCanvas(result, magColumn),
      h('div', {},
        h('div', { class: 'pager' },
          h('button', { disabled: page === 0, onclick: () => go({ page: String(page - 1) }) }, '‹ prev'),
          ` rows ${page * PAGE_ROWS + 1}–${Math.min(result.n, (page + 1) * PAGE_ROWS)} of ${result.n.toLocaleString('en-US')} `,
          h('button', { disabled: page + 1 >= pages, onclick: () => go({ page: String(page + 1) }) }, 'next ›')),
        tablePage(result, names, page),
        h('p', { class: 'small' }, `Blue columns are derived here, not stored; fluxes are ${result.fluxFamily ?? 'the catalog'}’s, in nJy, magnitudes AB.`))));
    window.skycalSources = {
      dataId: view.dataId, version: view.version, n: result.n,
      columns: Object.fromEntries(Object.entries(result.columns).map(([k, v]) => [k, float64Base64(v)])),
    };
    root.setAttribute('data-state', 'done');
  } catch (e) {
    root.append(errorBox(e));
    root.setAttribute('data-state', 'error');
  }
}
