/** Paths and small utilities shared by tests. Tests run from dist/test/. */
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { SkycalError } from '../src/errors.js';
import { tmpdir } from 'node:os';

const here = dirname(fileURLToPath(import.meta.url));
/** The project root (tests run from dist/test). */
export const repoRoot = resolve(here, '..', '..');
/** The real test data vendored into the project (test/data/, provenance in its README.md). */
export const testData = join(repoRoot, 'test', 'data');
export const wcsHeaderDir = join(testData, 'wcs-headers');
/** The `skycal` bin as package.json names it: the bundled CLI (scripts/bundle.mjs). */
export const cliPath = join(repoRoot, 'dist', 'bundle', 'skycal.js');
/** A test's child process script, bundled like the bin (scripts/bundle.mjs): `name` without `.js`. */
export const childScript = (name: string): string => join(repoRoot, 'dist', 'test-bundle', `${name}.js`);

/** A fresh temporary folder, removed by the returned cleanup function. */
export function tempDir(prefix = 'skycal-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export interface CliResult {
  /** The exit code main() returned. */
  code: number;
  stdout: string;
  stderr: string;
  /** stdout as bytes (binary datasets). */
  stdoutBytes: Buffer;
}

/**
 * The CLI's main() in this process, with its own stdin, stdout and stderr:
 * the same parsing, dispatch, JSON documents and exit codes as the bin,
 * without a node start per call. Spawn the bin only where processes are the
 * point (kills, races, signals, EPIPE).
 */
export async function runCli(
  args: readonly string[],
  options: { stdin?: string | Uint8Array; env?: Record<string, string | undefined>; isTTY?: { stdout?: boolean; stderr?: boolean } } = {},
): Promise<CliResult> {
  const { main } = await import('../src/cli/main.js');
  const { Readable, Writable } = await import('node:stream');
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const sink = (into: Buffer[]) =>
    new Writable({
      write(chunk: Buffer | string, _encoding, callback) {
        into.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
        callback();
      },
    });
  const input = options.stdin === undefined ? [] : [typeof options.stdin === 'string' ? Buffer.from(options.stdin) : Buffer.from(options.stdin)];
  const code = await main([...args], {
    stdin: Readable.from(input),
    stdout: sink(out),
    stderr: sink(err),
    isTTY: { stdout: options.isTTY?.stdout ?? false, stderr: options.isTTY?.stderr ?? false },
    env: options.env ?? {},
  });
  const stdoutBytes = Buffer.concat(out);
  return { code, stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes };
}

/** The code of the SkycalError `fn` throws (a test failure if it throws something else, or nothing). */
export function errorCodeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(SkycalError.isSkycalError(e), `expected a SkycalError, got ${String(e)}`);
    return e.code;
  }
  assert.fail('expected an error');
}

/**
 * The fuzzers' seed: fixed for the suite (CI runs the same cases every time,
 * so a red run is a change, not luck), random for a soak (SKYCAL_FUZZ_RUNS
 * or SKYCAL_FUZZ_SEED set), where fast-check prints the seed of a failure.
 */
export function fuzzSeed(): { seed?: number } {
  const given = process.env['SKYCAL_FUZZ_SEED'];
  if (given !== undefined) return { seed: Number(given) };
  return process.env['SKYCAL_FUZZ_RUNS'] === undefined ? { seed: 20261201 } : {};
}

/**
 * Mount a tmpfs of `size` (e.g. '2m') at `dir` for a file-system test (a full
 * disk, a read-only mount). Needs root, as CI has; without it the test is
 * skipped with a loud message, never silently. Returns whether it mounted.
 */
export function mountTmpfsOrSkip(t: { skip(message?: string): void }, dir: string, size: string, what: string): boolean {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status === 0) return true;
  const why = (r.stderr || r.error?.message || `exit ${r.status}`).trim();
  console.error(`\n!!! SKIPPED ${what}: cannot mount a tmpfs (${why}); run as root to test it !!!\n`);
  t.skip(`mount not permitted: ${why}`);
  return false;
}

export function unmount(dir: string): void {
  spawnSync('umount', [dir]);
}

/**
 * `fn(mnt, scratch)` on a fresh tmpfs of `size` (mounted at `mnt`, inside a
 * temporary folder `scratch` for anything that must live off it), unmounted
 * and removed afterwards; where mount is not permitted the test skips loudly.
 */
export async function withTmpfs(t: { skip(message?: string): void }, size: string, what: string, fn: (mnt: string, scratch: string) => void | Promise<void>): Promise<void> {
  const tmp = tempDir();
  const mnt = join(tmp.path, 'tmpfs');
  try {
    if (!mountTmpfsOrSkip(t, mnt, size, what)) return;
    try {
      await fn(mnt, tmp.path);
    } finally {
      unmount(mnt);
    }
  } finally {
    tmp.cleanup();
  }
}
