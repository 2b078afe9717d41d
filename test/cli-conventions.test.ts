/** The CLI's own conventions (issue 10 item 9, issue 11 items 10 and 12), run in-process through runCli. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Readable } from 'node:stream';
import { Table, makeVector } from 'apache-arrow';
import { main } from '../src/cli/main.js';
import { commands, groups } from '../src/cli/commands.js';
import { COMMON_OPTIONS } from '../src/cli/help.js';
import { writeCatalog } from '../src/catalog/write.js';
import { loadWcs } from '../src/wcs/load.js';
import { repoRoot, runCli, tempDir } from './helpers.js';

const json = (s: string) => JSON.parse(s);

test('skycal --version prints the package version (text and --json)', async () => {
  const pkg = json(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  const r = await runCli(['--version']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, `${pkg.name} ${pkg.version}\n`);
  assert.deepEqual(json((await runCli(['--version', '--json'])).stdout), { name: pkg.name, version: pkg.version });
});

test('group help: skycal wcs --help (exit 0), skycal bench and skycal plot (exit 2) list exactly the group\'s commands', async () => {
  assert.deepEqual([...groups].sort(), ['bench', 'photocalib', 'plot', 'wcs']);
  for (const [args, code] of [[['wcs', '--help'], 0], [['bench'], 2], [['plot'], 2]] as const) {
    const r = await runCli([...args]);
    assert.equal(r.code, code, args.join(' '));
    const listed = r.stdout.split('\n').filter((l) => /^ {2}\S/.test(l)).map((l) => l.trim().split(/\s{2,}/)[0]);
    assert.deepEqual(listed, commands.filter((c) => c.name.startsWith(`${args[0]} `)).map((c) => c.name));
  }
  assert.equal((await runCli(['wcs', 'nope'])).code, 2);
});

test('every command\'s --help lists each option of the table that parses it, with its description, and the common options', async () => {
  for (const entry of commands) {
    const c = await entry.load();
    assert.equal(c.name, entry.name, 'the table loads the command it names');
    const r = await runCli([...entry.name.split(' '), '--help']);
    assert.equal(r.code, 0, entry.name);
    assert.ok(r.stdout.includes(entry.summary), `${entry.name}: summary`);
    for (const [name, o] of Object.entries({ ...c.options, ...COMMON_OPTIONS })) {
      assert.ok(o.description.length > 0, `${entry.name} --${name} has a description`);
      const line = r.stdout.split('\n').find((l) => l.includes(`--${name}`) && l.includes(o.description));
      assert.ok(line, `${entry.name} --help shows --${name}: ${o.description}`);
    }
  }
});

test('skycal frobnicate --json reports unknown command "frobnicate" as one JSON document on stdout and nothing on stderr (exit 2)', async () => {
  const r = await runCli(['frobnicate', '--json']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout.trim().split('\n').length, 1);
  assert.deepEqual(json(r.stdout).error, { code: 'USAGE', message: 'unknown command "frobnicate"; see skycal --help' });
  const text = await runCli(['frobnicate']);
  assert.equal(text.stdout, '');
  assert.match(text.stderr, /unknown command "frobnicate"/);
});

test('errors under --json go to stdout once and not to stderr; without --json to stderr only', async () => {
  const d = tempDir();
  try {
    const missing = join(d.path, 'nope.hdr');
    const j = await runCli(['wcs', 'info', '--wcs', missing, '--json']);
    assert.equal(j.code, 1);
    assert.equal(j.stderr, '');
    assert.equal(j.stdout.trim().split('\n').length, 1);
    assert.equal(json(j.stdout).error.code, 'NOT_FOUND');
    const t = await runCli(['wcs', 'info', '--wcs', missing]);
    assert.equal(t.stdout, '');
    assert.match(t.stderr, /^skycal: error \[NOT_FOUND\]/);
  } finally {
    d.cleanup();
  }
});

test('a bad --data-id, --where or --as-of is USAGE (exit 2) naming the option, in every command that takes one', async () => {
  const bad = { 'data-id': 'visit', where: 'visit', 'as-of': 'noon' } as const;
  let checked = 0;
  for (const entry of commands) {
    const c = await entry.load();
    for (const option of Object.keys(bad) as (keyof typeof bad)[]) {
      if (!(option in c.options)) continue;
      const positionals = Array.from({ length: c.positionals?.min ?? 0 }, (_, i) => `/nonexistent/p${i}`);
      const r = await runCli([...entry.name.split(' '), ...positionals, `--${option}`, bad[option], '--json']);
      assert.equal(r.code, 2, `${entry.name} --${option} ${bad[option]}: ${r.stdout}`);
      assert.equal(json(r.stdout).error.code, 'USAGE');
      assert.match(json(r.stdout).error.message, new RegExp(`^--${option}: `));
      checked++;
    }
  }
  assert.ok(checked >= 12, `checked ${checked} command/option pairs`);
  assert.equal((await runCli(['begin', '/nonexistent', '--stage', 's', '--expect', 'wcs:visit', '--json'])).code, 2);
});

test('an exception that is not a SkycalError is INTERNAL (exit 70) with a request for a report, never IO', async () => {
  const broken = new Writable({
    write() {
      throw new TypeError('this stream is broken');
    },
  });
  let err = '';
  const stderr = new Writable({
    write(chunk, _e, cb) {
      err += String(chunk);
      cb();
    },
  });
  const code = await main(['wcs', 'info', '--wcs', 'builtin:ptf'], { stdin: Readable.from([]), stdout: broken, stderr, isTTY: { stdout: false, stderr: false }, env: {} });
  assert.equal(code, 70);
  assert.match(err, /^skycal: error \[INTERNAL\]: internal error \(a bug in skycal; please report it.*TypeError: this stream is broken/);
  const proto = await runCli(['wcs', 'info', '--wcs', 'builtin:__proto__', '--json']);
  assert.equal(json(proto.stdout).error.code, 'BAD_INPUT', 'an unknown built-in name, even an Object.prototype key');
});

test('pix2sky/sky2pix --json without --out use the one catalog engine: a Parquet input is read as Parquet', async () => {
  const d = tempDir();
  try {
    const x = Float64Array.from([0, 10.5, 150]), y = Float64Array.from([0, 20.25, 199]);
    const input = join(d.path, 'in.parquet');
    const t = new Table({ x: makeVector(x), y: makeVector(y) });
    await writeCatalog(input, t.schema, t.batches);
    const r = await runCli(['pix2sky', '--wcs', 'builtin:hsc', '--in', input, '--json']);
    assert.equal(r.code, 0, r.stdout);
    const doc = json(r.stdout);
    const ref = loadWcs('builtin:hsc').pixelToSkyArrays(x, y);
    assert.deepEqual(doc, { rows: 3, bad: 0, columns: { coord_ra: Array.from(ref.ra), coord_dec: Array.from(ref.dec), status: [0, 0, 0] } });
    const sky = join(d.path, 'sky.csv');
    writeFileSync(sky, `coord_ra,coord_dec\n${ref.ra[1]},${ref.dec[1]}\n`);
    const back = json((await runCli(['sky2pix', '--wcs', 'builtin:hsc', '--in', sky, '--json'])).stdout);
    assert.ok(Math.abs(back.columns.x[0] - 10.5) < 1e-9 && Math.abs(back.columns.y[0] - 20.25) < 1e-9, JSON.stringify(back));
  } finally {
    d.cleanup();
  }
});

test('replacing the input\'s own coord_ra/coord_dec or x/y columns warns on stderr; new columns do not', async () => {
  const plain = await runCli(['pix2sky', '--wcs', 'builtin:hsc'], { stdin: 'x,y\n1,2\n' });
  assert.equal(plain.code, 0);
  assert.equal(plain.stderr, '');
  const again = await runCli(['pix2sky', '--wcs', 'builtin:hsc'], { stdin: plain.stdout });
  assert.equal(again.code, 0);
  assert.match(again.stderr, /pix2sky: warning: replacing the input's own column\(s\) coord_ra, coord_dec, status/);
  assert.equal(again.stdout, plain.stdout, 'the same values, recomputed');
  const pix = await runCli(['sky2pix', '--wcs', 'builtin:hsc'], { stdin: plain.stdout });
  assert.match(pix.stderr, /sky2pix: warning: replacing the input's own column\(s\) x, y, status/);
});

test('every size from an argument is bounded: --grid, --n, --workers, and /dev/zero as a header, config, catalog or bundle', async () => {
  const d = tempDir();
  try {
    const usage = async (...args: string[]) => {
      const r = await runCli([...args, '--json']);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}`);
      return json(r.stdout).error.message as string;
    };
    assert.match(await usage('plot', 'distortion', '--wcs', 'builtin:ptf', '--grid', '20000', '--out', join(d.path, 'd.svg')), /--grid: at most 200/);
    assert.match(await usage('bench', 'wcs', '--wcs', 'builtin:hsc', '--n', '400000000'), /--n: at most/);
    assert.match(await usage('bench', 'pool', '--wcs', 'builtin:hsc', '--workers', '1,2000'), /--workers: at most/);
    assert.match(await usage('pix2sky', '--wcs', 'builtin:hsc', '--workers', '2000', '--out', join(d.path, 'o.csv')), /--workers: at most/);
    assert.match(await usage('demo', d.path, '--sources', '1e12'), /--sources: at most/);
    const badInput = async (...args: string[]) => {
      const r = await runCli([...args, '--json']);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}`);
      assert.equal(json(r.stdout).error.code, 'BAD_INPUT');
      return json(r.stdout).error.message as string;
    };
    assert.match(await badInput('wcs', 'info', '--wcs', '/dev/zero'), /^WCS file \/dev\/zero: larger than the 64 MiB/);
    const repo = join(d.path, 'repo');
    assert.equal((await runCli(['init', repo])).code, 0);
    assert.match(await badInput('begin', repo, '--stage', 's', '--config', '/dev/zero'), /^--config \/dev\/zero: larger than the 64 MiB/);
    assert.match(await badInput('import', repo, '/dev/zero'), /\/dev\/zero: a bundle is a folder or a \.tar file/);
  } finally {
    d.cleanup();
  }
});

test('skycal --help loads no Arrow, SQLite, parquet-wasm or resvg: the static imports of the bin reach none of them', async () => {
  const { specifiers } = await import('./imports.js');
  const { dirname, resolve } = await import('node:path');
  const start = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
  const seen = new Set<string>([start]);
  const packages = new Set<string>();
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.pop()!;
    for (const { spec, dynamic } of specifiers(readFileSync(file, 'utf8'))) {
      if (dynamic) continue; // loaded when a command runs
      if (!spec.startsWith('.')) {
        packages.add(spec);
        continue;
      }
      const target = resolve(dirname(file), spec);
      if (!seen.has(target)) {
        seen.add(target);
        queue.push(target);
      }
    }
  }
  assert.ok(seen.size >= 5 && seen.size < 15, `startup modules: ${[...seen].map((f) => f.slice(repoRoot.length)).join(', ')}`);
  assert.deepEqual([...packages].filter((p) => !p.startsWith('node:')), []);
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  for (const c of commands) assert.ok(r.stdout.includes(`  ${c.name} `), c.name);
});
