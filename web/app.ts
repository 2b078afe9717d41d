/**
 * The web view's shell: a hash router over four pages and the as-of control
 * ("what was valid at this time"), shared by every page.
 */
import { getJson, h, shortTime } from './dom.js';
import { historyPage } from './history.js';
import { dataIdPage } from './dataIdPage.js';
import { comparePage } from './compare.js';
import { sourcesPage } from './sources.js';

type Page = (root: HTMLElement, params: URLSearchParams) => Promise<void>;
const PAGES: Record<string, { title: string; page: Page }> = {
  history: { title: 'History', page: historyPage },
  dataid: { title: 'DataId', page: dataIdPage },
  compare: { title: 'Compare', page: comparePage },
  sources: { title: 'Sources', page: sourcesPage },
};

interface Summary { root: string; firstTime: string | null; lastTime: string | null }

function route(): { name: string; params: URLSearchParams } {
  const m = /^#\/([a-z]+)(?:\?(.*))?$/.exec(location.hash);
  const name = m && PAGES[m[1]!] ? m[1]! : 'history';
  return { name, params: new URLSearchParams(m?.[2] ?? '') };
}

function setParam(name: string, value: string | null): void {
  const { name: page, params } = route();
  if (value === null) params.delete(name);
  else params.set(name, value);
  const q = params.toString();
  location.hash = `#/${page}${q ? `?${q}` : ''}`;
}

/** A date-time field and a slider over the repository's history; empty means now. */
function asOfControl(summary: Summary, asOf: string | null): HTMLElement {
  const t0 = summary.firstTime ? Date.parse(summary.firstTime) : Date.now();
  const t1 = summary.lastTime ? Date.parse(summary.lastTime) : Date.now();
  const value = asOf ? Date.parse(asOf) : t1 + 1000;
  const slider = h('input', { type: 'range', id: 'asof-slider', min: t0 - 1000, max: t1 + 1000, step: 1, value,
    onchange: (e: Event) => {
      const v = Number((e.target as HTMLInputElement).value);
      setParam('asOf', v >= t1 + 1000 ? null : new Date(v).toISOString());
    } });
  const field = h('input', { type: 'text', id: 'asof-field', placeholder: 'now (ISO 8601)', value: asOf ?? '', size: 24,
    onchange: (e: Event) => setParam('asOf', (e.target as HTMLInputElement).value.trim() || null) });
  return h('div', { class: 'asof' }, h('label', { for: 'asof-field' }, 'as of '), field, slider,
    h('button', { onclick: () => setParam('asOf', null), disabled: asOf === null }, 'now'),
    h('span', { class: 'small' }, asOf ? ` showing the repository as it was at ${shortTime(asOf)}` : ' showing the repository now'));
}

async function render(): Promise<void> {
  const { name, params } = route();
  const nav = document.getElementById('nav')!;
  const main = document.getElementById('view')!;
  const summary = await getJson<Summary>('/api/summary');
  document.getElementById('repo-name')!.textContent = summary.root;
  nav.replaceChildren(...Object.entries(PAGES).map(([key, p]) => {
    const keep = new URLSearchParams();
    const asOf = params.get('asOf');
    if (asOf) keep.set('asOf', asOf);
    const q = keep.toString();
    return h('a', { href: `#/${key}${q ? `?${q}` : ''}`, class: key === name ? 'active' : '' }, p.title);
  }), asOfControl(summary, params.get('asOf')));
  const root = h('section', { id: `page-${name}`, class: 'page' });
  main.replaceChildren(root);
  document.title = `${PAGES[name]!.title} · skycal`;
  await PAGES[name]!.page(root, params);
  root.setAttribute('data-ready', 'true');
}

window.addEventListener('hashchange', () => void render());
void render();
