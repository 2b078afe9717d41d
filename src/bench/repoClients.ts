/**
 * `bench repo`'s concurrent part: gets/s and commits/s summed over 1, 4 and
 * 16 client processes on one repository (SQLite, or PostgreSQL when a server
 * is given), all starting at one agreed moment and counting for the same
 * window. A client's commit that loses its tip (CONFLICT) is merged, as a
 * pipeline would, and counts as one commit. This file is also the client:
 * run with SKYCAL_BENCH_CLIENT set, it does one phase and prints its count.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Repository } from '../butler/repository.js';
import { mergeInto } from '../butler/merge.js';
import { SkycalError } from '../errors.js';

const self = fileURLToPath(import.meta.url);

interface ClientJob { root: string; phase: 'get' | 'commit'; startAt: number; windowMs: number; id: number; runs: number }

function photoCalib(i: number): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ photoCalibVersion: 1, calibrationMean: 1 + i * 1e-3, calibrationErr: 1, isConstant: true, field: { type: 'constant', value: 1 + i * 1e-3 } }));
}

/** One client's phase; returns how many gets or commits it finished inside the window. */
function client(job: ClientJob): number {
  const repo = Repository.open(job.root);
  try {
    while (Date.now() < job.startAt) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    const end = job.startAt + job.windowMs;
    let n = 0;
    for (let k = 0; Date.now() < end; k++) {
      if (job.phase === 'get') {
        repo.get('photoCalib', `visit=${(k * 7919 + job.id) % job.runs}`);
      } else {
        const run = repo.begin({ stage: 'bench' });
        repo.put(run.id, 'photoCalib', `client=${job.id},n=${k}`, photoCalib(job.id * 100_000 + k));
        try {
          repo.commit(run.id);
        } catch (e) {
          if (!(SkycalError.isSkycalError(e) && e.code === 'CONFLICT')) throw e;
          mergeInto(repo, 'main', run.id);
        }
      }
      n++;
    }
    return n;
  } finally {
    repo.close();
  }
}

function spawnClient(job: ClientJob): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [self], { env: { ...process.env, SKYCAL_BENCH_CLIENT: JSON.stringify(job) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`bench client failed (${code}): ${err}`))));
  });
}

export interface ConcurrencyResult { clients: number; getsPerSecond: number; commitsPerSecond: number }

/** Rates for each client count on a fresh repository made by `init` (a 100-run history to read). */
export async function benchClients(init: (name: string) => Repository, root: (name: string) => string, counts: readonly number[], windowMs: number): Promise<ConcurrencyResult[]> {
  const out: ConcurrencyResult[] = [];
  for (const clients of counts) {
    const name = `c${clients}`;
    const repo = init(name);
    const runs = 100;
    for (let i = 0; i < runs; i++) {
      const r = repo.begin({ stage: 'setup' });
      repo.put(r.id, 'photoCalib', `visit=${i}`, photoCalib(i));
      repo.commit(r.id);
    }
    repo.close();
    const rate = async (phase: 'get' | 'commit') => {
      // Far enough ahead for every client to start and open the repository first.
      const startAt = Date.now() + 1500 + 150 * clients;
      const n = await Promise.all(Array.from({ length: clients }, (_, id) => spawnClient({ root: root(name), phase, startAt, windowMs, id, runs })));
      return (n.reduce((s, x) => s + x, 0) * 1000) / windowMs;
    };
    out.push({ clients, getsPerSecond: await rate('get'), commitsPerSecond: await rate('commit') });
  }
  return out;
}

const job = process.env['SKYCAL_BENCH_CLIENT'];
if (job !== undefined && process.argv[1] === self) process.stdout.write(`${client(JSON.parse(job) as ClientJob)}\n`);
