/** The package's own name and version, read once from package.json (dist/src/version.js -> ../../package.json). */
import { readFileSync } from 'node:fs';

let cached: { name: string; version: string } | undefined;

export function packageVersion(): { name: string; version: string } {
  if (cached === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
      cached = { name: pkg.name, version: pkg.version };
    } catch {
      cached = { name: 'skycal', version: 'unknown' };
    }
  }
  return cached;
}
