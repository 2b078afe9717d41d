/** Small helpers that turn option strings into checked values, with USAGE errors naming the option. */
import { SkycalError } from '../errors.js';
import type { ParsedValues } from './command.js';

export function requireString(values: ParsedValues, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new SkycalError('USAGE', `missing required option --${name}`);
  return v;
}

export function optionalString(values: ParsedValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function stringList(values: ParsedValues, name: string): string[] {
  const v = values[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).filter((s): s is string => typeof s === 'string');
}

export function parseNumberOption(text: string | undefined, name: string, fallback?: number): number {
  if (text === undefined) {
    if (fallback === undefined) throw new SkycalError('USAGE', `missing required option --${name}`);
    return fallback;
  }
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) {
    throw new SkycalError('USAGE', `--${name}: expected a number, got ${JSON.stringify(text)}`);
  }
  return v;
}

export function parseIntegerOption(text: string | undefined, name: string, fallback?: number, min = 0): number {
  const v = parseNumberOption(text, name, fallback);
  if (!Number.isInteger(v) || v < min) {
    throw new SkycalError('USAGE', `--${name}: expected an integer >= ${min}, got ${JSON.stringify(text)}`);
  }
  return v;
}

/** `--bbox x0,y0,x1,y1` (inclusive pixel box, 0-based). */
export function parseBBoxOption(
  text: string | undefined,
  name = 'bbox',
): { minX: number; minY: number; maxX: number; maxY: number } | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(',').map((s) => Number(s));
  if (parts.length !== 4 || parts.some((p) => !Number.isFinite(p))) {
    throw new SkycalError('USAGE', `--${name}: expected x0,y0,x1,y1, got ${JSON.stringify(text)}`);
  }
  const [minX, minY, maxX, maxY] = parts as [number, number, number, number];
  if (maxX < minX || maxY < minY) throw new SkycalError('USAGE', `--${name}: empty box ${text}`);
  return { minX, minY, maxX, maxY };
}

/** `--data-id key=value,...` / `--where key=value,...`: a map, keys unique. */
export function parseKeyValues(text: string, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new SkycalError('USAGE', `--${name}: expected key=value, got ${JSON.stringify(part)}`);
    const key = part.slice(0, eq).trim();
    if (key in out) throw new SkycalError('USAGE', `--${name}: key ${key} given twice`);
    out[key] = part.slice(eq + 1).trim();
  }
  return out;
}
