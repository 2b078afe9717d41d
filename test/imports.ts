/** The import scanner the layer and startup tests share: one regex, tested on its own below and in layers.test.ts. */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Module specifiers in JS/TS text: `import ... from 'x'` and `export ... from 'x'` (group `from`),
 * a bare `import 'x'` (group `bare`), and `import('x')` (group `dynamic`).
 */
export const SPECIFIER = /(?:^|[\s;])(?:import|export)\b[^'"()]*?\bfrom\s*['"](?<from>[^'"]+)['"]|^\s*import\s*['"](?<bare>[^'"]+)['"]|\bimport\s*\(\s*['"](?<dynamic>[^'"]+)['"]\s*\)/gm;

export interface Specifier {
  readonly spec: string;
  /** import('x'): loaded when that code runs, not when the importing module loads. */
  readonly dynamic: boolean;
}

export function specifiers(text: string): Specifier[] {
  return [...text.matchAll(SPECIFIER)].map((m) => {
    const g = m.groups!;
    return g['dynamic'] !== undefined ? { spec: g['dynamic'], dynamic: true } : { spec: (g['from'] ?? g['bare'])!, dynamic: false };
  });
}

export function filesUnder(dir: string, ext: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p, ext) : p.endsWith(ext) && !p.endsWith('.d.ts') ? [p] : [];
  });
}
