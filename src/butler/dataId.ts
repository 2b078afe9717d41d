/**
 * Data ids: `instrument=HSC,visit=903334,detector=22`. A dataId is stored and
 * compared in one canonical text form (keys sorted, no spaces) so that the
 * order a user types the keys in never matters. Values given as numbers
 * (`{ visit: 903334 }` from a library caller) are the same as their decimal
 * text. Parsed dataIds are null-prototype objects, so a key such as
 * `__proto__` or `constructor` is an ordinary key, never an object's internals.
 */
import { SkycalError, errors } from '../errors.js';

export type DataId = Readonly<Record<string, string>>;
/** What callers may pass: values as text, integers or bigints. */
export type DataIdInput = Readonly<Record<string, string | number | bigint>>;

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const VALUE = /^[^,=\s]+$/;

function bad(message: string): SkycalError {
  return errors.badInput('data id', message);
}

/** A value's canonical text: strings as given, finite numbers and bigints in decimal. */
export function canonicalValue(key: string, v: unknown): string {
  let text: string;
  if (typeof v === 'string') text = v;
  else if (typeof v === 'bigint') text = v.toString();
  else if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw bad(`${key}: ${v} is not a finite number`);
    text = String(v);
  } else throw bad(`${key}: expected text or a number, got ${v === null ? 'null' : typeof v}`);
  if (!VALUE.test(text)) throw bad(`bad value ${key}=${JSON.stringify(text)}`);
  return text;
}

/** Parse `k=v,...` (any key order) into a null-prototype map; BAD_INPUT on malformed text. */
export function parseDataId(text: string): DataId {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  const trimmed = text.trim();
  if (trimmed === '') throw bad('empty (expected key=value,...)');
  for (const part of trimmed.split(',')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part.trim() : part.slice(0, eq).trim();
    const value = eq < 0 ? '' : part.slice(eq + 1).trim();
    if (eq < 0 || !KEY.test(key) || !VALUE.test(value)) {
      throw bad(`expected key=value, got ${JSON.stringify(part)} in ${JSON.stringify(text)}`);
    }
    if (Object.hasOwn(out, key)) throw bad(`key ${key} given twice in ${JSON.stringify(text)}`);
    out[key] = value;
  }
  return out;
}

/** A caller's object as a null-prototype map of canonical values. */
export function toDataId(input: DataIdInput): DataId {
  if (typeof input !== 'object' || input === null) throw bad(`expected key=value text or an object, got ${input === null ? 'null' : typeof input}`);
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const k of Object.keys(input)) {
    if (!KEY.test(k)) throw bad(`bad key ${JSON.stringify(k)}`);
    out[k] = canonicalValue(k, input[k]);
  }
  return out;
}

/** The canonical text of a dataId: keys sorted, `k=v` joined by commas. */
export function formatDataId(dataId: DataIdInput): string {
  const id = toDataId(dataId);
  const keys = Object.keys(id).sort();
  if (keys.length === 0) throw bad('no keys');
  return keys.map((k) => `${k}=${id[k]}`).join(',');
}

/** Canonical text from either form. */
export function canonicalDataId(dataId: string | DataIdInput): string {
  return formatDataId(typeof dataId === 'string' ? parseDataId(dataId) : dataId);
}

/** A `--where` filter from text or an object (empty text: match everything). */
export function parseWhere(where: string | DataIdInput | undefined): DataId {
  if (where === undefined || where === '') return Object.create(null) as DataId;
  return typeof where === 'string' ? parseDataId(where) : toDataId(where);
}

/** True when every key of `where` is in the dataId with the same canonical value. */
export function dataIdMatches(dataId: DataId, where: DataIdInput): boolean {
  const w = toDataId(where);
  return Object.keys(w).every((k) => Object.hasOwn(dataId, k) && dataId[k] === w[k]);
}
