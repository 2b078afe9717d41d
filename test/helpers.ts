/** Paths and small utilities shared by tests. Tests run from dist/test/. */
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

const here = dirname(fileURLToPath(import.meta.url));
/** The project root (tests run from dist/test). */
export const repoRoot = resolve(here, '..', '..');
/** The real test data vendored into the project (test/data/, provenance in its README.md). */
export const testData = join(repoRoot, 'test', 'data');
export const wcsHeaderDir = join(testData, 'wcs-headers');
/** The compiled CLI entry point. */
export const cliPath = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

/** A fresh temporary folder, removed by the returned cleanup function. */
export function tempDir(prefix = 'skycal-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}
