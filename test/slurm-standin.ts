/**
 * A stand-in for the two `skycal recompute` forms the Slurm job template and
 * driver call (issue 13's contract), for test/slurm.test.ts to test the
 * cluster, the template, the driver and requeue without the shard CLI:
 *
 *   node slurm-standin.js recompute REPO --at REF --plan N --out DIR/ [--skip-invalid] [--where K=V] --json
 *   node slurm-standin.js recompute REPO --at RUNID --shard I/N --out DIR/ [--workers C]
 *
 * The plan names a run id derived from REPO and REF and records its options,
 * which a shard takes from it (as the contract's shards do); a shard writes a part
 * whose bytes are a function of (REPO, RUNID, I, N) only, into DIR's staging
 * folder, and the shard that completes the set publishes DIR/ whole (parts
 * and `_skycal_dataset.json`, built under a temporary name and renamed), as
 * the contract asks of the real one.
 *
 * SKYCAL_STANDIN_LOG: a file to which every attempt appends `shard I/N
 * attempt K start` and `... end` (K from SLURM_RESTART_COUNT).
 * SKYCAL_STANDIN_HOLD=I: the first attempt of shard I stops after its start
 * line for up to 60 s, so that a test can kill it there.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

/** The run id the stand-in's plan pins for (REPO, REF). */
export function standInRunId(repo: string, ref: string): string {
  return `standin-${createHash('sha256').update(`${repo}\n${ref}`).digest('hex').slice(0, 16)}`;
}

/** The bytes of shard `index` of `count`: 64 KiB that depend only on the inputs. */
export function standInPart(repo: string, runId: string, index: number, count: number): Buffer {
  const blocks: Buffer[] = [];
  let h = createHash('sha256').update(`${repo}\n${runId}\n${index}/${count}`).digest();
  for (let i = 0; i < 2048; i++) {
    blocks.push(h);
    h = createHash('sha256').update(h).digest();
  }
  return Buffer.concat(blocks);
}

export const partName = (index: number, count: number): string => `part-${String(index).padStart(5, '0')}-of-${String(count).padStart(5, '0')}.bin`;

const writeAtomic = (path: string, bytes: Buffer | string): void => {
  writeFileSync(`${path}.${process.pid}.tmp`, bytes);
  renameSync(`${path}.${process.pid}.tmp`, path);
};

function main(argv: string[]): number {
  if (argv.length === 0) return 0; // `node --test dist/test/` runs every file here: nothing to do
  const { values, positionals } = parseArgs({
    args: argv,
    options: { at: { type: 'string' }, plan: { type: 'string' }, shard: { type: 'string' }, out: { type: 'string' }, workers: { type: 'string' }, json: { type: 'boolean' }, 'skip-invalid': { type: 'boolean' }, where: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const [command, repo] = positionals;
  const out = values.out?.replace(/\/+$/, '');
  if (command !== 'recompute' || repo === undefined || values.at === undefined || out === undefined) {
    process.stderr.write(`slurm-standin: usage: recompute REPO --at REF (--plan N | --shard I/N) --out DIR/ (got ${argv.join(' ')})\n`);
    return 2;
  }
  const staging = `${out}.staging`;
  if (values.plan !== undefined) {
    const runId = standInRunId(repo, values.at);
    mkdirSync(staging, { recursive: true });
    const options = { skipInvalid: values['skip-invalid'] === true, ...(values.where !== undefined && { where: values.where }) };
    writeAtomic(join(staging, 'plan.json'), JSON.stringify({ at: runId, shards: Number(values.plan), options }));
    process.stdout.write(`${JSON.stringify({ at: runId, shards: Number(values.plan), out: `${out}/`, plan: [] })}\n`);
    return 0;
  }
  const m = /^(\d+)\/(\d+)$/.exec(values.shard ?? '');
  if (m === null) return 2;
  const index = Number(m[1]);
  const count = Number(m[2]);
  const plan = JSON.parse(readFileSync(join(staging, 'plan.json'), 'utf8')) as { at: string; shards: number; options: object };
  if (plan.at !== values.at || plan.shards !== count) {
    process.stderr.write(`slurm-standin: shard ${index}/${count} at ${values.at} does not match the plan (${plan.at}, ${plan.shards} shards)\n`);
    return 1;
  }
  const attempt = Number(process.env['SLURM_RESTART_COUNT'] ?? '0') + 1;
  const log = process.env['SKYCAL_STANDIN_LOG'];
  const note = (what: string): void => {
    if (log !== undefined) appendFileSync(log, `shard ${index}/${count} attempt ${attempt} ${what}\n`);
  };
  note('start');
  if (process.env['SKYCAL_STANDIN_HOLD'] === String(index) && attempt === 1) {
    // Held here until killed (by `scontrol requeue`); a bounded wait, never a hang.
    const until = Date.now() + 60_000;
    while (Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    note('hold timed out');
    return 1;
  }
  mkdirSync(join(staging, 'parts'), { recursive: true });
  writeAtomic(join(staging, 'parts', partName(index, count)), standInPart(repo, values.at, index, count));
  // The shard that completes the set publishes DIR/ whole: a reader never sees a partial dataset.
  const parts = Array.from({ length: count }, (_, i) => partName(i, count));
  if (parts.every((p) => existsSync(join(staging, 'parts', p)))) withLock(join(staging, 'publish.lock'), () => publish(staging, out, plan, parts));
  note('end');
  return 0;
}

/** Two shards finishing together both see the whole set: one publishes at a time (mkdir is atomic). */
function withLock(lock: string, fn: () => void): void {
  const until = Date.now() + 20_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || Date.now() > until) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
  try {
    fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function publish(staging: string, out: string, plan: { at: string; options: object }, parts: string[]): void {
  const tmp = `${out}.${process.pid}.publish.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  for (const p of parts) writeFileSync(join(tmp, p), readFileSync(join(staging, 'parts', p)));
  writeFileSync(join(tmp, '_skycal_dataset.json'), JSON.stringify({ at: plan.at, options: plan.options, parts }));
  // An earlier publication (a shard requeued after the set was complete) is moved aside first:
  // a reader may find DIR/ missing for a moment, never partial.
  const old = `${out}.${process.pid}.old.tmp`;
  if (existsSync(out)) renameSync(out, old);
  renameSync(tmp, out);
  rmSync(old, { recursive: true, force: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
