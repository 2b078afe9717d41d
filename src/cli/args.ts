/**
 * Small helpers that turn option strings into checked values, with USAGE
 * errors naming the option, and the option definitions several commands
 * share (one description, one check).
 */
import { availableParallelism } from 'node:os';
import { errors } from '../errors.js';
import { parseDataId } from '../butler/dataId.js';
import type { OptionDef, ParsedValues } from './command.js';

export function requireString(values: ParsedValues, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw errors.usage(`missing required option --${name}`);
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
    if (fallback === undefined) throw errors.usage(`missing required option --${name}`);
    return fallback;
  }
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) {
    throw errors.usage(`--${name}: expected a number, got ${JSON.stringify(text)}`);
  }
  return v;
}

/** An integer in [min, max] (max bounds the work one argument can ask for). */
export function parseIntegerOption(text: string | undefined, name: string, fallback?: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = parseNumberOption(text, name, fallback);
  if (!Number.isInteger(v) || v < min) {
    throw errors.usage(`--${name}: expected an integer >= ${min}, got ${JSON.stringify(text)}`);
  }
  if (v > max) throw errors.usage(`--${name}: at most ${max}, got ${JSON.stringify(text)}`);
  return v;
}

/** The most worker threads one command may start: a small multiple of the cores. */
export function maxWorkers(): number {
  return 4 * availableParallelism();
}

/** `--workers N`: 0 (in-thread) to maxWorkers(). */
export function parseWorkersOption(text: string | undefined, fallback: number): number {
  return parseIntegerOption(text, 'workers', fallback, 0, maxWorkers());
}

/** `--bbox x0,y0,x1,y1` (inclusive pixel box, 0-based). */
export function parseBBoxOption(
  text: string | undefined,
  name = 'bbox',
): { minX: number; minY: number; maxX: number; maxY: number } | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(',').map((s) => Number(s));
  if (parts.length !== 4 || parts.some((p) => !Number.isFinite(p))) {
    throw errors.usage(`--${name}: expected x0,y0,x1,y1, got ${JSON.stringify(text)}`);
  }
  const [minX, minY, maxX, maxY] = parts as [number, number, number, number];
  if (maxX < minX || maxY < minY) throw errors.usage(`--${name}: empty box ${text}`);
  return { minX, minY, maxX, maxY };
}

/** `--data-id key=value,...` / `--where key=value,...`: a map, keys unique. */
export function parseKeyValues(text: string, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw errors.usage(`--${name}: expected key=value, got ${JSON.stringify(part)}`);
    const key = part.slice(0, eq).trim();
    if (key in out) throw errors.usage(`--${name}: key ${key} given twice`);
    out[key] = part.slice(eq + 1).trim();
  }
  return out;
}

/** A dataId as the repository reads it (BAD_INPUT there; main makes it USAGE naming the option). */
export function checkDataId(text: string): void {
  parseDataId(text);
}

/** An ISO 8601 time as the repository reads it. */
export async function checkTime(text: string): Promise<void> {
  const { parseTime } = await import('../butler/repository.js');
  parseTime(text);
}

/** `TYPE:DATAID`. */
export function checkExpect(text: string): void {
  const colon = text.indexOf(':');
  if (colon <= 0) throw errors.usage(`expected TYPE:DATAID, got ${JSON.stringify(text)}`);
  parseDataId(text.slice(colon + 1));
}

export const DATA_ID_OPTION: OptionDef = { type: 'string', value: 'K=V,...', description: 'the dataId, keys in any order (instrument=HSC,visit=903334,detector=22)', check: checkDataId };
export const WHERE_OPTION: OptionDef = { type: 'string', value: 'K=V,...', description: 'only the dataIds with these key values', check: checkDataId };
export const AS_OF_OPTION: OptionDef = { type: 'string', value: 'TIME', description: 'as the repository stood at this ISO 8601 time (2026-11-20T12:00:00Z)', check: checkTime };
export const AT_OPTION: OptionDef = { type: 'string', value: 'REF', description: 'a branch, tag or run id (default main)' };
export const WORKERS_OPTION: OptionDef = { type: 'string', value: 'N', description: 'worker threads (default: the number of cores; 0 runs in-thread; at most 4 per core)' };
