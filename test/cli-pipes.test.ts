/**
 * stdout closed early (`| head`) and binary output to a terminal. The pipes
 * need real processes (that is the point: the EPIPE of a pipe whose reader
 * left); the terminal check runs in-process with isTTY set.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Table, makeVector } from 'apache-arrow';
import { Repository } from '../src/butler/repository.js';
import { writeCatalog } from '../src/catalog/write.js';
import { BUILTIN_HEADERS } from '../src/wcs/builtin.js';
import { makeRandom } from '../src/random.js';
import { cliPath, runCli, tempDir } from './helpers.js';

const DATA_ID = 'instrument=HSC,visit=1,detector=1';
const ROWS = 8_000; // ~0.5 MB of CSV out, a 190 kB Parquet file: more than a pipe holds (64 kB)
let dir: { path: string; cleanup: () => void };
let repoPath: string;
let csvPath: string;
let parquetBytes: Buffer;

before(async () => {
  dir = tempDir('skycal-pipes-');
  const random = makeRandom(7); // measured centroids carry full mantissas: Parquet cannot squeeze them under a pipe buffer
  const x = Float64Array.from({ length: ROWS }, () => 100 + 199 * random());
  const y = Float64Array.from({ length: ROWS }, () => 100 + 199 * random());
  const flux = Float64Array.from({ length: ROWS }, (_, i) => 100 + i);
  const t = new Table({ x: makeVector(x), y: makeVector(y), base_PsfFlux_instFlux: makeVector(flux) });
  const parquet = join(dir.path, 'src.parquet');
  await writeCatalog(parquet, t.schema, t.batches);
  parquetBytes = readFileSync(parquet);
  csvPath = join(dir.path, 'src.csv');
  await writeCatalog(csvPath, t.schema, t.batches);
  writeFileSync(join(dir.path, 'pc.json'), JSON.stringify({ photoCalibVersion: 1, calibrationMean: 2, calibrationErr: 0, isConstant: true, field: { type: 'constant', value: 2 } }));
  repoPath = join(dir.path, 'repo');
  const repo = Repository.init(repoPath);
  try {
    const run = repo.begin({ stage: 'singleFrame' });
    repo.put(run.id, 'wcs', DATA_ID, new TextEncoder().encode(BUILTIN_HEADERS['hsc']!));
    repo.put(run.id, 'photoCalib', DATA_ID, readFileSync(join(dir.path, 'pc.json')));
    repo.put(run.id, 'src', DATA_ID, parquetBytes);
    repo.commit(run.id);
  } finally {
    repo.close();
  }
});

after(() => dir.cleanup());

/** `skycal ARGS | head HEAD` in bash: skycal's exit status, its stderr, and what head printed. */
async function piped(args: string[], head: string): Promise<{ status: number; stderr: string; out: string }> {
  const quoted = [process.execPath, cliPath, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const script = `${quoted} 2>"$ERR" | head ${head}; echo "\${PIPESTATUS[0]}" > "$CODE"`;
  const tag = Math.random().toString(36).slice(2);
  const env = { ...process.env, ERR: join(dir.path, `err-${tag}`), CODE: join(dir.path, `code-${tag}`) };
  const { stdout } = await promisify(execFile)('bash', ['-c', script], { env, encoding: 'buffer', cwd: dir.path, timeout: 60_000 });
  return { status: Number(readFileSync(env.CODE, 'utf8').trim()), stderr: readFileSync(env.ERR, 'utf8'), out: stdout.toString('latin1') };
}

test('a closed stdout ends pix2sky, calibrate, get and recompute quietly (exit 0 or 141, nothing on stderr)', async () => {
  assert.ok(parquetBytes.length > 65536 && readFileSync(csvPath).length > 65536, 'more than a pipe buffer, so the writer meets the closed pipe');
  const [pix, cal, get, rec] = await Promise.all([
    piped(['pix2sky', '--wcs', 'builtin:hsc', '--in', csvPath, '--workers', '0'], '-2'),
    piped(['calibrate', '--photocalib', join(dir.path, 'pc.json'), '--in', csvPath, '--out', '-', '--workers', '0'], '-3'),
    piped(['get', repoPath, '--type', 'src', '--data-id', DATA_ID], '-c 8'),
    piped(['recompute', repoPath, '--out', '-', '--workers', '0'], '-2'),
  ]);
  for (const [name, r] of Object.entries({ pix, cal, get, rec })) {
    assert.ok(r.status === 0 || r.status === 141, `${name}: exit ${r.status}: ${r.stderr}`);
    assert.equal(r.stderr, '', `${name}: no stack trace, no error`);
  }
  assert.equal(pix.out.split('\n')[0], 'x,y,base_PsfFlux_instFlux,coord_ra,coord_dec,status');
  assert.equal(pix.out.split('\n').length, 3);
  assert.match(cal.out.split('\n')[0]!, /^x,y,base_PsfFlux_instFlux,base_PsfFlux_flux/);
  assert.equal(get.out, 'PAR1' + parquetBytes.subarray(4, 8).toString('latin1'));
  assert.match(rec.out.split('\n')[0]!, /coord_ra/);
});

test('binary output (a Parquet src) is refused on a terminal with a hint, written byte for byte to a pipe; header text goes to a terminal', async () => {
  const tty = await runCli(['get', repoPath, '--type', 'src', '--data-id', DATA_ID], { isTTY: { stdout: true } });
  assert.equal(tty.code, 2);
  assert.equal(tty.stdout, '');
  assert.match(tty.stderr, /USAGE.*src detector=1,instrument=HSC,visit=1 is binary; refusing to write it to a terminal: pass --out FILE/);
  const pipe = await runCli(['get', repoPath, '--type', 'src', '--data-id', DATA_ID]);
  assert.equal(pipe.code, 0);
  assert.ok(pipe.stdoutBytes.equals(parquetBytes));
  const text = await runCli(['get', repoPath, '--type', 'wcs', '--data-id', DATA_ID], { isTTY: { stdout: true } });
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^SIMPLE|CTYPE1/m);
});
