/**
 * `skycal serve` over HTTP: traversal attempts are 404s, every route answers GET and HEAD with its content
 * type, errors are JSON with the CLI's codes, nothing in the repository is written, 1,000 concurrent
 * requests succeed with bounded memory, and Ctrl-C (SIGINT) stops the CLI cleanly.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Repository } from '../src/butler/repository.js';
import { isSuspiciousPath, startServer, type RunningServer } from '../src/serve/server.js';
import { cliPath, tempDir } from './helpers.js';
import { raw, smallDemo } from './serve-fixtures.js';

let tmp: ReturnType<typeof tempDir>;
let demo: Awaited<ReturnType<typeof smallDemo>>;
let server: RunningServer;
let hashes: { wcs: string; photoCalib: string; src: string };
let validId: string;

/** Every file of the repository but SQLite's WAL/shm, by content. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (!/-(wal|shm)$/.test(name)) out[p.slice(root.length)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(root);
  return out;
}
let before0: Record<string, string>;

before(async () => {
  tmp = tempDir('skycal-serve-http-');
  demo = await smallDemo(tmp.path, 300);
  validId = demo.diff.find((d) => d.invalid === undefined)!.dataId;
  const repo = Repository.open(demo.repo);
  hashes = {
    wcs: repo.resolve('wcs', validId).entry.fileHash!,
    photoCalib: repo.resolve('photoCalib', validId).entry.fileHash!,
    src: repo.resolve('src', validId).entry.fileHash!,
  };
  repo.close();
  before0 = snapshot(demo.repo);
  server = await startServer({ root: demo.repo, port: 0 });
});

after(async () => {
  await server?.close();
  tmp?.cleanup();
});

test('traversal attempts, encoded slashes and dots, absolute paths and NUL are 404 with a JSON error', async () => {
  const attempts = [
    '/../package.json', '/app/../../package.json', '/app/web/../../../package.json', '/app/%2e%2e/%2e%2e/package.json',
    '/app/%2E%2E/package.json', '/app/web%2fapp.js', '/app/web%2Fapp.js', '/app/web/..%2f..%2fpackage.json', '/%2fetc/passwd',
    '//etc/passwd', '/etc/passwd', '/app/web/app.js%00', '/app/web/app.js%00.png', '/app\\..\\package.json', '/app/web/%5c..%5cpackage.json',
    'http://127.0.0.1/../package.json', '/api/dataset/../../registry.sqlite', '/api/dataset/' + '0'.repeat(64),
    '/registry.sqlite', '/store', '/dist/src/cli/main.js', '/app/src/wcs/load.js', '/app/node_modules/hyparquet/src/node.js', '/package.json',
  ];
  for (const path of attempts) {
    const r = await raw(server.port, path);
    assert.equal(r.status, 404, path);
    assert.match(String(r.headers['content-type']), /^application\/json/, path);
    assert.equal(JSON.parse(r.body.toString()).error.code, 'NOT_FOUND', path);
  }
  for (const p of ['/a/../b', '/a%2fb', '/a%2E', 'x', '//x', '/a\0b', '/a\\b', '/a%00']) assert.ok(isSuspiciousPath(p), p);
  for (const p of ['/', '/app/web/app.js', '/api/dataset/ab12']) assert.ok(!isSuspiciousPath(p), p);
});

test('every route answers GET and HEAD with its content type; HEAD has the same headers and no body', async () => {
  const failedId = demo.failed[0]!.dataId;
  const q = (id: string) => encodeURIComponent(id);
  const routes: [string, RegExp][] = [
    ['/', /^text\/html/], ['/app/style.css', /^text\/css/], ['/app/web/app.js', /^text\/javascript/], ['/app/web/sourcesWorker.js', /^text\/javascript/],
    ['/app/native-free-kernels/tanSip.js', /^text\/javascript/], ['/app/native-free-kernels/columnKernels.js', /^text\/javascript/],
    ['/app/src/wcs/tanSipWcs.js', /^text\/javascript/], ['/app/src/errors.js', /^text\/javascript/], ['/app/node_modules/hyparquet/src/index.js', /^text\/javascript/],
    ['/api/summary', /^application\/json/], ['/api/history', /^application\/json/], ['/api/dataids', /^application\/json/],
    [`/api/dataid?dataId=${q(failedId)}`, /^application\/json/], ['/api/compare?from=@singleFrame&to=@jointcal', /^application\/json/],
    [`/api/sources?dataId=${q(validId)}`, /^application\/json/],
    [`/api/plot/distortion.svg?dataId=${q(validId)}`, /^image\/svg\+xml/], [`/api/plot/photocalib.svg?dataId=${q(validId)}`, /^image\/svg\+xml/],
    [`/api/dataset/${hashes.wcs}`, /^text\/plain/], [`/api/dataset/${hashes.photoCalib}`, /^application\/json/],
    [`/api/dataset/${hashes.src}`, /^application\/vnd\.apache\.parquet$/], [`/api/dataset/${hashes.photoCalib}/photocalib-model`, /^application\/octet-stream$/],
  ];
  for (const [path, type] of routes) {
    const get = await raw(server.port, path);
    assert.equal(get.status, 200, `${path}: ${get.body.toString().slice(0, 200)}`);
    assert.match(String(get.headers['content-type']), type, path);
    assert.equal(Number(get.headers['content-length']), get.body.length, path);
    assert.equal(get.headers['x-content-type-options'], 'nosniff');
    const head = await raw(server.port, path, 'HEAD');
    assert.equal(head.status, 200, path);
    assert.equal(head.headers['content-type'], get.headers['content-type'], path);
    assert.equal(head.headers['content-length'], get.headers['content-length'], path);
    assert.equal(head.body.length, 0, path);
  }
  // The stored file is served byte for byte.
  const repo = Repository.open(demo.repo);
  assert.ok((await raw(server.port, `/api/dataset/${hashes.src}`)).body.equals(Buffer.from(repo.store.read(hashes.src))));
  repo.close();
});

test('errors are JSON with the documented codes; the server takes no writes', async () => {
  const failedId = encodeURIComponent(demo.failed[0]!.dataId);
  const cases: [string, string, number, string][] = [
    ['GET', '/api/dataid', 400, 'USAGE'],
    ['GET', '/api/history?asOf=yesterday', 400, 'BAD_INPUT'],
    ['GET', '/api/history?at=no-such-branch', 404, 'NOT_FOUND'],
    ['GET', `/api/plot/distortion.svg?dataId=${failedId}`, 409, 'INVALID_DATASET'],
    ['GET', '/api/dataid?dataId=nonsense', 400, 'BAD_INPUT'],
    ['GET', `/api/dataset/${hashes.wcs}/photocalib-model`, 400, 'BAD_INPUT'],
    ['POST', '/api/summary', 405, 'USAGE'], ['PUT', '/', 405, 'USAGE'], ['DELETE', `/api/dataset/${hashes.src}`, 405, 'USAGE'],
  ];
  for (const [method, path, status, code] of cases) {
    const r = await raw(server.port, path, method);
    assert.equal(r.status, status, `${method} ${path}: ${r.body.toString()}`);
    const body = JSON.parse(r.body.toString());
    assert.equal(body.error.code, code, path);
    assert.equal(typeof body.error.message, 'string');
  }
  // DNS rebinding: a loopback server answers only to loopback names.
  const rebound = await raw(server.port, '/api/summary', 'GET', undefined, { Host: `evil.example:${server.port}` });
  assert.equal(rebound.status, 400);
  assert.equal(JSON.parse(rebound.body.toString()).error.code, 'BAD_INPUT');
  assert.equal((await raw(server.port, '/api/summary', 'GET', undefined, { Host: `localhost:${server.port}` })).status, 200);
  const invalid = JSON.parse((await raw(server.port, `/api/dataid?dataId=${failedId}`)).body.toString());
  const main = invalid.rows.find((r: { ref: string; stage: string | null }) => r.ref === 'main' && r.stage === null);
  assert.equal(main.cells.wcs.state, 'invalid');
  assert.match(main.cells.wcs.message, new RegExp(`failed in run ${demo.runs.jointcal} \\(jointcal\\): ${demo.failed[0]!.reason}`));
  assert.equal(invalid.rows.find((r: { ref: string; stage: string | null }) => r.ref === 'main' && r.stage === 'singleFrame').cells.wcs.runId, demo.runs.singleFrame);
  // as of singleFrame's commit, one run.
  const history = JSON.parse((await raw(server.port, '/api/history')).body.toString());
  assert.equal(history.runs.length, 2);
  const t = history.runs.find((r: { id: string }) => r.id === demo.runs.singleFrame).committedAt;
  assert.deepEqual(JSON.parse((await raw(server.port, `/api/history?asOf=${t}`)).body.toString()).runs.map((r: { id: string }) => r.id), [demo.runs.singleFrame]);
});

test('1,000 concurrent requests from a loopback client: all succeed, memory stays bounded, nothing is written', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const paths = ['/api/summary', '/api/history', '/app/web/app.js', `/api/dataset/${hashes.src}`, '/api/compare', '/app/native-free-kernels/tanSip.js'];
  const wave = async () => {
    const rs = await Promise.all(Array.from({ length: 1000 }, (_, i) => raw(server.port, paths[i % paths.length]!, 'GET', false)));
    assert.deepEqual(rs.filter((r) => r.status !== 200).map((r) => r.body.toString()), []);
  };
  await wave();
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  await wave();
  gc();
  const grownMiB = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
  process.stderr.write(`serve-http: heap ${(heap0 / 2 ** 20).toFixed(1)} MiB after the first 1,000 requests, ${grownMiB >= 0 ? '+' : ''}${grownMiB.toFixed(1)} MiB after 1,000 more\n`);
  assert.ok(grownMiB < 20, `heap grew ${grownMiB.toFixed(1)} MiB over 1,000 more requests`);
  assert.deepEqual(snapshot(demo.repo), before0, 'the repository is byte for byte as before');
});

test('the CLI prints the URL, serves, and stops cleanly on SIGINT', async () => {
  const child = spawn(process.execPath, [cliPath, 'serve', demo.repo, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /^(http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before printing a URL`)));
  });
  const port = Number(new URL(url).port);
  assert.equal((await raw(port, '/api/summary')).status, 200);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  assert.equal(await exited, 0);
  await assert.rejects(raw(port, '/api/summary'), /ECONNREFUSED/);
});
