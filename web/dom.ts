/** Small DOM and fetch helpers shared by the pages (no framework). */

type Child = Node | string | number | null | undefined | false;

/** An HTML element with attributes (`on*` functions become listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, unknown> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v as EventListener);
    else el.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(typeof c === 'object' ? c : String(c));
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function s(tag: string, attrs: Record<string, string | number> = {}, ...children: (Node | string)[]): SVGElement {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

/** The server's errors are {"error": {"code", "message"}}; they become thrown Errors with the code in front. */
export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  const body = (await res.json()) as T & { error?: { code: string; message: string } };
  if (!res.ok || body.error) throw new Error(body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${res.status}`);
  return body;
}

export function query(params: Record<string, string | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const text = q.toString();
  return text === '' ? '' : `?${text}`;
}

/** A link to a page of the app, keeping the as-of time. */
export function pageHref(page: string, params: Record<string, string | undefined | null>): string {
  return `#/${page}${query(params)}`;
}

export const shortTime = (iso: string | null): string => (iso === null ? '—' : iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z'));

export function errorBox(e: unknown): HTMLElement {
  return h('div', { class: 'error' }, e instanceof Error ? e.message : String(e));
}

/** Bytes of a Float64Array (or BigInt64Array) as base64 (how tests read values back bit for bit). */
export function float64Base64(a: Float64Array | BigInt64Array): string {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}
