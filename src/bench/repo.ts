/**
 * `bench repo`: how resolution scales with history length, and what a big
 * commit costs. Builds real repositories in a temp folder through the public
 * API (validation, fsyncs and all), then times gets on a 10-run and a
 * 1000-run history (random dataIds, each written at a random depth) and the
 * commit of one run holding 10,000 datasets; then gets/s and commits/s with
 * 1, 4 and 16 concurrent client processes (repoClients.ts). With a
 * PostgreSQL server, the same on a registry there, beside SQLite's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cardsToText, formatCard } from '../fits/header.js';
import { Repository } from '../butler/repository.js';
import { createDatabase, dropDatabase } from '../butler/pgRegistry.js';
import { benchClients, type ConcurrencyResult } from './repoClients.js';

function wcsText(version: number): Uint8Array {
  return new TextEncoder().encode(cardsToText([
    formatCard('CTYPE1', 'RA---TAN-SIP'), formatCard('CTYPE2', 'DEC--TAN-SIP'),
    formatCard('CRPIX1', 1024.5), formatCard('CRPIX2', 2088.5),
    formatCard('CRVAL1', 150 + version * 1e-7), formatCard('CRVAL2', 2.5),
    formatCard('CD1_1', -4.66e-5), formatCard('CD1_2', 1.6e-7), formatCard('CD2_1', 1.1e-7), formatCard('CD2_2', 4.66e-5),
    formatCard('A_ORDER', 2, '', true), formatCard('A_2_0', 1.2e-7), formatCard('B_ORDER', 2, '', true), formatCard('B_0_2', -1e-7),
  ]));
}

function photoCalibText(i: number): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ photoCalibVersion: 1, calibrationMean: 1000 + i * 1e-3, calibrationErr: 1, isConstant: true, field: { type: 'constant', value: 1000 + i * 1e-3 } }));
}

/** `runs` runs; run i writes wcs for visit=i (a new dataset) and a new version of detector=i%10 (an old one). */
function buildHistory(repo: Repository, runs: number): Repository {
  for (let i = 0; i < runs; i++) {
    const run = repo.begin({ stage: i % 2 === 0 ? 'singleFrame' : 'jointcal' });
    repo.put(run.id, 'wcs', `instrument=HSC,visit=${i},detector=0`, wcsText(i));
    repo.put(run.id, 'wcs', `instrument=HSC,visit=hot,detector=${i % 10}`, wcsText(-i - 1));
    repo.commit(run.id);
  }
  return repo;
}

function timeGets(repo: Repository, runs: number, minMs: number): { getsPerSecond: number; resolvesPerSecond: number } {
  const ids = Array.from({ length: 512 }, (_, k) =>
    k % 2 === 0 ? `instrument=HSC,visit=${(k * 7919) % runs},detector=0` : `instrument=HSC,visit=hot,detector=${k % 10}`);
  const measure = (fn: (id: string) => unknown) => {
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < minMs) for (const id of ids) fn(id), n++;
    return (n * 1000) / (performance.now() - start);
  };
  measure((id) => repo.get('wcs', id)); // warm-up
  const getsPerSecond = measure((id) => repo.get('wcs', id));
  const resolvesPerSecond = measure((id) => repo.resolve('wcs', id));
  return { getsPerSecond, resolvesPerSecond };
}

export interface RepoBenchResult {
  gets: { runs: number; getsPerSecond: number; resolvesPerSecond: number }[];
  slowdownAt1000: number;
  bigCommit: { datasets: number; putSeconds: number; commitSeconds: number };
}

export interface RepoBenchOptions {
  smallRuns?: number; largeRuns?: number; commitDatasets?: number; timeMs?: number; log?: (s: string) => void;
  /** A PostgreSQL server (postgresql://USER@HOST/postgres; CREATEDB needed): the same benchmark on a registry there, beside SQLite's. */
  registry?: string;
  /** Client process counts for the concurrent gets and commits (default 1, 4, 16). */
  clients?: readonly number[];
}

export interface RepoBackendsResult {
  sqlite: RepoBenchResult & { concurrent: ConcurrencyResult[] };
  postgresql?: RepoBenchResult & { concurrent: ConcurrencyResult[] };
}

/** The benchmark on SQLite and (with `registry`) on PostgreSQL, side by side, with 1, 4 and 16 concurrent clients. */
export async function benchRepoBackends(options: RepoBenchOptions = {}): Promise<RepoBackendsResult> {
  const dir = mkdtempSync(join(tmpdir(), 'skycal-bench-repo-'));
  const made: string[] = [];
  try {
    const run = async (backend: 'sqlite' | 'postgresql') => {
      const init = (name: string) => {
        if (backend === 'sqlite') return Repository.init(join(dir, backend, name));
        const db = `skycal_bench_${process.pid}_${made.length}`;
        const url = createDatabase(options.registry!, db);
        made.push(db);
        return Repository.init(join(dir, backend, name), { registry: url });
      };
      options.log?.(`${backend}:`);
      const single = benchRepo({ ...options, init });
      const concurrent = await benchClients(init, (name) => join(dir, backend, name), options.clients ?? [1, 4, 16], options.timeMs ?? 1000);
      return { ...single, concurrent };
    };
    const sqlite = await run('sqlite');
    return options.registry === undefined ? { sqlite } : { sqlite, postgresql: await run('postgresql') };
  } finally {
    for (const db of made) dropDatabase(options.registry!, db);
    rmSync(dir, { recursive: true, force: true });
  }
}

export function benchRepo(options: RepoBenchOptions & { init?: (name: string) => Repository } = {}): RepoBenchResult {
  const { smallRuns = 10, largeRuns = 1000, commitDatasets = 10_000, timeMs = 1000, log = () => {} } = options;
  const dir = mkdtempSync(join(tmpdir(), 'skycal-bench-repo-'));
  const init = options.init ?? ((name: string) => Repository.init(join(dir, name)));
  try {
    const gets = [];
    for (const runs of [smallRuns, largeRuns]) {
      log(`building a ${runs}-run history...`);
      const repo = buildHistory(init(`h${runs}`), runs);
      gets.push({ runs, ...timeGets(repo, runs, timeMs) });
      repo.close();
    }
    log(`putting ${commitDatasets} datasets in one run...`);
    const repo = init('big');
    const run = repo.begin({ stage: 'jointcal' });
    const t0 = performance.now();
    for (let i = 0; i < commitDatasets; i++) repo.put(run.id, 'photoCalib', `instrument=HSC,visit=${i >> 7},detector=${i & 127}`, photoCalibText(i));
    const t1 = performance.now();
    repo.commit(run.id);
    const t2 = performance.now();
    repo.close();
    return {
      gets, slowdownAt1000: gets[0]!.getsPerSecond / gets[1]!.getsPerSecond,
      bigCommit: { datasets: commitDatasets, putSeconds: (t1 - t0) / 1000, commitSeconds: (t2 - t1) / 1000 },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
