/**
 * The package's own files, decided here only: its root folder, its name and
 * version, and the bundled worker entries. This module sits one folder below
 * dist/ in both builds (dist/src/ as tsc writes it, dist/bundle/ as
 * scripts/bundle.mjs writes its chunks), so `../..` is the package root in
 * either: modules elsewhere ask here instead of counting folders from their
 * own import.meta.url.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (the folder of package.json), with no trailing separator. */
export const packageRoot: string = fileURLToPath(new URL('../..', import.meta.url)).replace(/[\\/]$/, '');

let cached: { name: string; version: string } | undefined;

export function packageVersion(): { name: string; version: string } {
  if (cached === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { name: string; version: string };
      cached = { name: pkg.name, version: pkg.version };
    } catch {
      cached = { name: 'skycal', version: 'unknown' };
    }
  }
  return cached;
}

/**
 * A worker entry as scripts/bundle.mjs writes it (dist/bundle/NAME.js). The
 * library's pools and the bundled bin's start the same file: a worker only
 * ever gets transferred bytes and a compiled WebAssembly.Module, never an
 * Arrow object, so its own copy of Arrow is safe, and it boots in about half
 * the time of the tsc-built module graph (README, "Build").
 */
export function bundledWorker(name: 'recomputeWorker' | 'kernelWorker'): URL {
  return new URL(`../bundle/${name}.js`, import.meta.url);
}
