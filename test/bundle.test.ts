/**
 * The bundled bin (scripts/bundle.mjs: dist/bundle/skycal.js, package.json's
 * `bin`) is the library's code in other files. What bundling could break, each
 * checked through the bin as users start it: finding the package's own files
 * from a chunk's import.meta.url, starting the bundled worker, the Arrow
 * guards patching the one flatbuffers copy the bundled Arrow uses, and the
 * bytes a job writes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import { Float64, Table, makeData, makeVector, tableToIPC } from 'apache-arrow';
import { readCatalogBatches } from '../src/catalog/read.js';
import { SkycalError } from '../src/errors.js';
import { packageVersion } from '../src/packageFiles.js';
import { buildRepo } from './recompute-repo.js';
import { cliPath, repoRoot, runCli, tempDir, wcsHeaderDir } from './helpers.js';

const bin = (args: string[]) => spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', timeout: 60_000 });

test('package.json names the bundle as its bin, and the bundle finds the package root: --version prints package.json\'s version', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { name: string; version: string; bin: { skycal: string } };
  assert.equal(join(repoRoot, pkg.bin.skycal), cliPath);
  const r = bin(['--version']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), `${pkg.name} ${pkg.version}`);
  assert.deepEqual(packageVersion(), { name: pkg.name, version: pkg.version });
});

test('the bundle imports nothing but its own chunks, Node built-ins and the packages left as files; Arrow and flatbuffers are inside, once', () => {
  const external = new Set(['better-sqlite3', 'libpq', '@resvg/resvg-js', 'parquet-wasm', 'piscina', '@duckdb/node-api', 'playwright-core']);
  const meta = JSON.parse(readFileSync(join(repoRoot, 'dist', 'bundle', 'metafile.json'), 'utf8')) as {
    inputs: Record<string, unknown>;
    outputs: Record<string, { imports: { path: string; external?: boolean }[] }>;
  };
  const packageOf = (spec: string) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');
  const imported = new Set(Object.values(meta.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path)));
  assert.deepEqual([...imported].filter((p) => !isBuiltin(p) && !external.has(packageOf(p))), []);
  assert.ok(imported.has('parquet-wasm') && imported.has('better-sqlite3'), 'the external imports are recorded');
  // One copy of each: the guards in src/catalog/arrowGuards.ts patch the flatbuffers that this Arrow reads with.
  const copies = (name: string) => new Set(Object.keys(meta.inputs).filter((f) => f.includes(`node_modules/${name}/`)).map((f) => f.slice(0, f.indexOf(`node_modules/${name}/`))));
  assert.deepEqual([...copies('apache-arrow')], ['']);
  assert.deepEqual([...copies('flatbuffers')], ['']);
});

/** An Arrow IPC stream whose schema claims `fields` fields (a forged flatbuffer vector length), and the offset it forged. */
async function forgedFieldCount(dir: string): Promise<string> {
  const x = makeVector(makeData({ type: new Float64(), length: 2, nullCount: 0, data: Float64Array.of(1, 2) }));
  const good = tableToIPC(new Table({ x, y: x }), 'stream');
  // The schema message's field vector holds 2; overwrite each little-endian 2 in turn until the (tsc-built, guarded) reader names the vector.
  for (let at = 8; at + 4 <= 200; at++) {
    if (good[at] !== 2 || good[at + 1] !== 0 || good[at + 2] !== 0 || good[at + 3] !== 0) continue;
    const bad = Uint8Array.from(good);
    new DataView(bad.buffer).setUint32(at, 2 ** 30, true);
    const path = join(dir, `forged-${at}.arrows`);
    writeFileSync(path, bad);
    try {
      const batches = await readCatalogBatches(path);
      for await (const _ of batches) { /* read it all */ }
    } catch (e) {
      if (SkycalError.isSkycalError(e) && /flatbuffer vector of 1073741824 elements/.test(e.message)) return path;
    }
  }
  throw new Error('no offset of the field count found');
}

test('the bundled bin refuses a schema that claims 2^30 fields with BAD_INPUT (the flatbuffers guard is on the copy the bundled Arrow uses)', async () => {
  const d = tempDir();
  try {
    const forged = await forgedFieldCount(d.path);
    const r = bin(['pix2sky', '--wcs', 'builtin:hsc', '--in', forged, '--out', join(d.path, 'out.arrows'), '--workers', '0', '--json']);
    assert.equal(r.status, 1, r.stderr);
    const doc = JSON.parse(r.stdout) as { error: { code: string; message: string } };
    assert.equal(doc.error.code, 'BAD_INPUT');
    assert.match(doc.error.message, /flatbuffer vector of 1073741824 elements/);
  } finally {
    d.cleanup();
  }
});

test('pix2sky and recompute through the bundled bin and its bundled workers write the bytes main() writes in this process', async () => {
  const d = tempDir();
  try {
    // Above KernelPool's 50,000-row threshold, so that the bin's kernel workers run.
    const rows = Array.from({ length: 60_000 }, (_, i) => `${(i * 7.31) % 2048},${(i * 3.17) % 4096}`);
    const input = join(d.path, 'in.csv');
    writeFileSync(input, `x,y\n${rows.join('\n')}\n`);
    const wcs = join(wcsHeaderDir, 'astropy_sip_pc_cdelt_sip3.hdr');
    const viaBin = join(d.path, 'bin.parquet');
    const inProcess = join(d.path, 'lib.parquet');
    const r = bin(['pix2sky', '--wcs', wcs, '--in', input, '--out', viaBin, '--workers', '1']);
    assert.equal(r.status, 0, r.stderr);
    const l = await runCli(['pix2sky', '--wcs', wcs, '--in', input, '--out', inProcess, '--workers', '1']);
    assert.equal(l.code, 0, l.stderr);
    assert.ok(readFileSync(viaBin).equals(readFileSync(inProcess)), 'pix2sky: the two Parquet files differ');

    const repo = join(d.path, 'repo');
    buildRepo(repo, { rows: [900, 500, 700], detectorsPerVisit: 2, rowGroupRows: 300, seed: 9 });
    const recomputed = (out: string) => ['recompute', repo, '--out', join(d.path, out), '--workers', '1'];
    const rb = bin(recomputed('bin-recompute.parquet'));
    assert.equal(rb.status, 0, rb.stderr);
    const rl = await runCli(recomputed('lib-recompute.parquet'));
    assert.equal(rl.code, 0, rl.stderr);
    assert.ok(readFileSync(join(d.path, 'bin-recompute.parquet')).equals(readFileSync(join(d.path, 'lib-recompute.parquet'))), 'recompute: the two Parquet files differ');
  } finally {
    d.cleanup();
  }
});
