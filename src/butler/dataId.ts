/**
 * Data ids: `instrument=HSC,visit=903334,detector=22`. A dataId is stored and
 * compared in one canonical text form (keys sorted, no spaces) so that the
 * order a user types the keys in never matters.
 */
import { SkycalError } from '../errors.js';

export type DataId = Readonly<Record<string, string>>;

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const VALUE = /^[^,=\s]+$/;

/** Parse `k=v,...` (any key order) into a map; BAD_INPUT on malformed text. */
export function parseDataId(text: string): DataId {
  const out: Record<string, string> = {};
  const trimmed = text.trim();
  if (trimmed === '') throw new SkycalError('BAD_INPUT', 'data id: empty (expected key=value,...)');
  for (const part of trimmed.split(',')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part.trim() : part.slice(0, eq).trim();
    const value = eq < 0 ? '' : part.slice(eq + 1).trim();
    if (eq < 0 || !KEY.test(key) || !VALUE.test(value)) {
      throw new SkycalError('BAD_INPUT', `data id: expected key=value, got ${JSON.stringify(part)} in ${JSON.stringify(text)}`);
    }
    if (Object.hasOwn(out, key)) throw new SkycalError('BAD_INPUT', `data id: key ${key} given twice in ${JSON.stringify(text)}`);
    out[key] = value;
  }
  return out;
}

/** The canonical text of a dataId: keys sorted, `k=v` joined by commas. */
export function formatDataId(dataId: DataId): string {
  const keys = Object.keys(dataId).sort();
  if (keys.length === 0) throw new SkycalError('BAD_INPUT', 'data id: no keys');
  return keys
    .map((k) => {
      const v = String(dataId[k]);
      if (!KEY.test(k) || !VALUE.test(v)) throw new SkycalError('BAD_INPUT', `data id: bad key or value ${k}=${v}`);
      return `${k}=${v}`;
    })
    .join(',');
}

/** Canonical text from either form. */
export function canonicalDataId(dataId: string | DataId): string {
  return formatDataId(typeof dataId === 'string' ? parseDataId(dataId) : dataId);
}

/** True when every key of `where` is in the dataId with the same value. */
export function dataIdMatches(dataId: DataId, where: DataId): boolean {
  return Object.entries(where).every(([k, v]) => dataId[k] === v);
}
