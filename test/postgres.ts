/**
 * PostgreSQL for the tests, started the way users start it. A fresh database
 * per call (one per repository: a skycal registry owns its database):
 * - SKYCAL_TEST_POSTGRES (a server URL, as .ci/run exports): databases are
 *   created on that server;
 * - else, when Debian's server binaries are installed
 *   (/usr/lib/postgresql/N/bin/initdb), a throw-away cluster is started for
 *   this test process in a temp folder (as the postgres user when run as
 *   root), listening on a unix socket there and on 127.0.0.1, and stopped at
 *   exit;
 * - else the PostgreSQL tests skip, loudly (and fail under CI).
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

interface PQ {
  connectSync(conninfo: string): void;
  exec(sql: string): void;
  resultStatus(): string;
  errorMessage(): string;
  finish(): void;
}

/** The newest installed server's bin folder, or undefined. */
export function postgresBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions.length === 0 ? undefined : join(base, versions[0]!, 'bin');
}

const asRoot = process.getuid?.() === 0;

/** A throw-away cluster: initdb + pg_ctl in a temp folder, stopped by stop() (and at process exit). */
export interface Cluster {
  readonly dir: string;
  readonly port: number;
  /** postgresql://postgres@127.0.0.1:PORT/DB */
  url(db: string): string;
  pgCtl(...args: string[]): { status: number | null; stderr: string };
  stop(): void;
}

function run(cmd: string, args: string[]): { status: number | null; stderr: string } {
  // stdout ignored and a time limit: a server pg_ctl starts inherits its pipes, and spawnSync would wait for them forever.
  const options = { encoding: 'utf8' as const, stdio: ['ignore', 'ignore', 'pipe'] as ('ignore' | 'pipe')[], timeout: 60_000 };
  const r = asRoot ? spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], options) : spawnSync(cmd, args, options);
  return { status: r.status, stderr: `${r.stderr ?? ''}${r.error?.message ?? ''}` };
}

export function startCluster(): Cluster {
  const bin = postgresBin();
  if (bin === undefined) throw new Error('no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb)');
  const dir = mkdtempSync(join(tmpdir(), 'skycal-pg-'));
  if (asRoot) chownSync(dir, Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim()), 0);
  const data = join(dir, 'data');
  const init = run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  // Every start and restart logs to DIR/log (never to the pipes of whoever ran pg_ctl).
  const pgCtl = (...args: string[]) => run(join(bin, 'pg_ctl'), ['-D', data, ...(args.some((a) => a === 'start' || a === 'restart') ? ['-l', join(dir, 'log')] : []), ...args]);
  let port = 0;
  for (let attempt = 0; attempt < 8 && port === 0; attempt++) {
    const p = 20000 + Math.floor(Math.random() * 40000);
    // fsync off: a test cluster's durability is not under test, its speed is the suite's.
    const options = `-k ${dir} -p ${p} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
    if (pgCtl('-o', options, '-w', '-t', '30', 'start').status === 0) port = p;
  }
  if (port === 0) throw new Error(`pg_ctl start failed (log in ${dir}/log)`);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    pgCtl('-m', 'immediate', '-w', 'stop');
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', stop);
  return { dir, port, url: (db) => `postgresql://postgres@127.0.0.1:${port}/${db}`, pgCtl, stop };
}

let server: { url: (db: string) => string } | string | undefined;

function libpqInstalled(): boolean {
  try {
    createRequire(import.meta.url)('libpq');
    return true;
  } catch {
    return false;
  }
}

/** The server to create databases on, or why there is none. */
function testServer(): { url: (db: string) => string } | string {
  if (server !== undefined) return server;
  const given = process.env.SKYCAL_TEST_POSTGRES;
  if (!libpqInstalled()) {
    server = 'the libpq binding (an optional dependency) is not installed: apt-get install libpq-dev, then npm install libpq';
  } else if (given !== undefined && given !== '') {
    server = { url: (db) => Object.assign(new URL(given), { pathname: `/${db}` }).toString() };
  } else if (postgresBin() === undefined) {
    server = 'PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb) and SKYCAL_TEST_POSTGRES is not set: ' +
      'apt-get install postgresql, or point SKYCAL_TEST_POSTGRES at a server (postgresql://USER@HOST:PORT/postgres)';
  } else {
    try {
      server = startCluster();
    } catch (e) {
      server = `cannot start a throw-away PostgreSQL cluster: ${(e as Error).message}`;
    }
  }
  return server;
}

/** Why the PostgreSQL tests cannot run here (undefined: they can). */
export function postgresUnavailable(): string | undefined {
  const s = testServer();
  return typeof s === 'string' ? s : undefined;
}

/** Skip a PostgreSQL test loudly (fail it under CI) when there is no server; true when it was skipped. */
export function skipWithoutPostgres(t: TestContext): boolean {
  const why = postgresUnavailable();
  if (why === undefined) return false;
  if (process.env.CI) throw new Error(`CI is set and the PostgreSQL tests cannot run: ${why}`);
  process.stderr.write(`\n*** SKIPPED PostgreSQL test "${t.name}": ${why}\n`);
  t.skip(why);
  return true;
}

let counter = 0;
/** Finished connections are kept alive: the binding aborts the process if one is collected before libuv closes its handle (see pgRegistry.ts). */
const finished: PQ[] = [];

/** Run SQL on the server's maintenance database (postgres). */
export function adminSql(sql: string, url = (testServer() as { url: (db: string) => string }).url('postgres')): void {
  const PQClass = createRequire(import.meta.url)('libpq') as new () => PQ;
  const pq = new PQClass();
  pq.connectSync(url);
  try {
    pq.exec(sql);
    if (pq.resultStatus() !== 'PGRES_COMMAND_OK' && pq.resultStatus() !== 'PGRES_TUPLES_OK') throw new Error(`${sql}: ${pq.errorMessage()}`);
  } finally {
    pq.finish();
    finished.push(pq);
  }
}

/** A URL of a new, empty database on the test server (throws when there is none: check postgresUnavailable first). */
export function freshDatabaseUrl(): string {
  const s = testServer();
  if (typeof s === 'string') throw new Error(s);
  const name = `skycal_t${process.pid}_${++counter}_${Date.now().toString(36)}`;
  adminSql(`CREATE DATABASE ${name}`, s.url('postgres'));
  return s.url(name);
}
