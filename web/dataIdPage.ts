/** A dataId: which run supplies each dataset type at each ref and stage (`wcs` vs `wcs@singleFrame`), or why it is invalid. */
import { errorBox, getJson, h, pageHref, query, shortTime } from './dom.js';

type Cell =
  | { state: 'ok'; runId: string; stage: string; committedAt: string | null; fileHash: string | null; size: number | null }
  | { state: 'invalid'; message: string }
  | { state: 'none'; message: string };

interface View {
  dataId: string;
  types: string[];
  rows: { ref: string; kind: string; stage: string | null; cells: Record<string, Cell> }[];
}

export async function dataIdPicker(current: string | null, asOf: string | null, onPick: (dataId: string) => void): Promise<HTMLElement> {
  const { dataIds } = await getJson<{ dataIds: string[] }>(`/api/dataids${query({ asOf })}`);
  const select = h('select', { id: 'dataid-select', onchange: (e: Event) => onPick((e.target as HTMLSelectElement).value) },
    ...dataIds.map((d) => h('option', { value: d, selected: d === current }, d)));
  return h('label', { class: 'picker' }, 'dataId ', select);
}

function cellView(c: Cell, dataId: string, asOf: string | null): HTMLElement {
  if (c.state === 'ok') {
    return h('td', { class: 'ok' },
      h('div', {}, h('b', {}, c.stage), ' ', h('code', {}, c.runId)),
      h('div', { class: 'small' }, shortTime(c.committedAt)),
      c.fileHash ? h('div', { class: 'small' }, h('a', { href: `/api/dataset/${c.fileHash}`, title: 'the stored file, by content hash' }, `sha256 ${c.fileHash.slice(0, 12)}…`)) : null);
  }
  if (c.state === 'invalid') return h('td', { class: 'invalid' }, c.message.replace(/^invalid: \S+ \S+ /, 'invalid: '));
  void dataId; void asOf;
  return h('td', { class: 'none', title: c.message }, '—');
}

export async function dataIdPage(root: HTMLElement, params: URLSearchParams): Promise<void> {
  const asOf = params.get('asOf');
  const go = (dataId: string) => (location.hash = pageHref('dataid', { dataId, asOf }));
  let dataId = params.get('dataId');
  try {
    const picker = await dataIdPicker(dataId, asOf, go);
    if (dataId === null) dataId = (picker.querySelector('select') as HTMLSelectElement).value;
    root.append(h('h2', {}, 'Which version does a reader get?'), h('p', { class: 'lead' },
      'For one dataId: the run that supplies each dataset at each branch or tag, reading the newest version (wcs) or one stage’s output by name (wcs@singleFrame). ' +
      'Red: the newest run failed on it, so a reader gets an error, never the older version.'), picker);
    const view = await getJson<View>(`/api/dataid${query({ dataId, asOf })}`);
    // The calibration types first; a type with no version at any ref is named once below instead of a column of dashes.
    const order = ['wcs', 'photoCalib', 'src'];
    const rank = (t: string) => (order.includes(t) ? order.indexOf(t) : order.length);
    const empty = view.types.filter((t) => view.rows.every((r) => r.cells[t]!.state === 'none'));
    view.types = view.types.filter((t) => !empty.includes(t)).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    const table = h('table', { class: 'supply' },
      h('thead', {}, h('tr', {}, h('th', {}, 'read'), ...view.types.map((t) => h('th', {}, t)))),
      h('tbody', {}, ...view.rows.map((r) => h('tr', {},
        h('th', {}, r.ref, r.stage ? h('span', { class: 'at-stage' }, ` @${r.stage}`) : h('span', { class: 'small' }, ' (newest)')),
        ...view.types.map((t) => cellView(r.cells[t]!, view.dataId, asOf))))));
    root.append(table, empty.length ? h('p', { class: 'small' }, `No version at any ref: ${empty.join(', ')}.`) : '', h('p', {},
      h('a', { href: pageHref('sources', { dataId: view.dataId, asOf }) }, 'Sources of this dataId →'), ' · ',
      h('a', { href: pageHref('compare', { ccd: view.dataId, asOf }) }, 'Compare its WCS versions →')));
  } catch (e) {
    root.append(errorBox(e));
  }
}
