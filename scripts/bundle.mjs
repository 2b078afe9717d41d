#!/usr/bin/env node
/**
 * Bundles the processes and threads skycal starts itself: the `skycal` bin
 * and the two worker entries (dist/bundle/), and the test suite's child
 * processes (dist/test-bundle/). Run after `tsc -b`; it bundles tsc's output.
 *
 * Why: Node 20 loads ES modules one file at a time, and Apache Arrow alone is
 * 146 of them. Loading the repository took ~0.25 s of CPU per process, 88 %
 * of it in the module loader, before any work. A bundle is a few files.
 *
 * Each bundle is a closed world with its own copy of Arrow. That is safe only
 * where no Arrow object crosses in from outside: a process or a worker thread
 * that talks through files, pipes or transferred bytes. The library (dist/src,
 * the package's `exports`) is never bundled, so a library user's Arrow tables
 * are instances of the user's Arrow.
 *
 * Every module that finds a file of the package does it through
 * src/packageFiles.ts, which sits one folder below dist/ in both builds, so
 * the flat bundle folder gives the same answer as dist/src. The library's
 * pools start the bundled workers from there too (bundledWorker): a worker
 * gets only transferred bytes, never an Arrow object.
 */
import { build } from 'esbuild';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

/**
 * Packages left as files: native addons, and packages that find their own
 * files from their own folder (parquet-wasm's .wasm, piscina's worker entry).
 * The dev-only ones are here so that a bench module a command loads lazily
 * never pulls them in.
 */
const external = ['better-sqlite3', 'libpq', '@resvg/resvg-js', 'parquet-wasm', 'piscina', '@duckdb/node-api', 'playwright-core'];

// CommonJS dependencies (csv-parse, tar-stream) call require() for Node's own modules; give ES module chunks one.
const banner = "import { createRequire as skycalBundleRequire } from 'node:module'; const require = skycalBundleRequire(import.meta.url);";

async function bundle(outdir, entryPoints) {
  rmSync(outdir, { recursive: true, force: true });
  const { metafile } = await build({
    entryPoints,
    outdir,
    bundle: true,
    splitting: true, // the CLI's command table keeps loading each command's modules only when it runs
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external,
    banner: { js: banner },
    sourcemap: 'linked',
    logLevel: 'warning',
    metafile: true,
  });
  // What went into each file and what it still imports (test/bundle.test.ts checks the imports).
  writeFileSync(join(outdir, 'metafile.json'), JSON.stringify(metafile));
}

await bundle(join(dist, 'bundle'), {
  skycal: join(dist, 'src', 'cli', 'main.js'),
  recomputeWorker: join(dist, 'src', 'recompute', 'recomputeWorker.js'),
  kernelWorker: join(dist, 'src', 'parallel', 'kernelWorker.js'),
});

const children = ['butler-kill-child', 'butler-commit-race-child', 'butler-race-child', 'butler-crash-child', 'butler-postgres-child'];
await bundle(join(dist, 'test-bundle'), Object.fromEntries(children.map((c) => [c, join(dist, 'test', `${c}.js`)])));
