/**
 * The repository commands (DESIGN.md §6): init, begin, put, fail, commit,
 * abort, get, log, status, recover, branch, tag, merge, provenance, verify,
 * gc, export, import, register-type. Each opens the repository, does one
 * thing and closes it (which also writes the read counts).
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomicFile.js';
import { SkycalError, errors } from '../errors.js';
import { MAX_LEASE_S, Repository, parseTime } from '../butler/repository.js';
import { mergeInto, parsePrefer } from '../butler/merge.js';
import { canonicalDataId, parseWhere } from '../butler/dataId.js';
import { collectGarbage, verifyRepository } from '../butler/maintenance.js';
import { exportBundle, importBundle } from '../butler/bundle.js';
import { writeExposureFits } from '../butler/exposureFits.js';
import { parseTypeSpec } from '../butler/typeSpec.js';
import type { VersionSpec } from '../butler/adapter.js';
import { optionalString, parseIntegerOption, requireString, stringList } from './args.js';
import { benchRepo } from '../butler/benchRepo.js';
import type { CliContext, Command, ParsedValues } from './command.js';

function readInput(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw errors.notFound(path);
    throw errors.io(path, e);
  }
}

async function withRepo<T>(root: string, fn: (repo: Repository) => T | Promise<T>): Promise<T> {
  const repo = Repository.open(root);
  try {
    return await fn(repo);
  } finally {
    repo.close();
  }
}

/** A malformed option value is a USAGE error (exit 2) naming the option, the same in every command. */
function asUsage<T>(option: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (SkycalError.isSkycalError(e) && e.code === 'BAD_INPUT') throw new SkycalError('USAGE', `--${option}: ${e.message}`);
    throw e;
  }
}

function dataIdOption(values: ParsedValues, name = 'data-id'): string {
  const text = requireString(values, name);
  return asUsage(name, () => canonicalDataId(text));
}

function whereOption(values: ParsedValues): string | undefined {
  const text = optionalString(values, 'where');
  if (text !== undefined) asUsage('where', () => parseWhere(text));
  return text;
}

function versionOf(values: ParsedValues): VersionSpec {
  const asOf = optionalString(values, 'as-of');
  if (asOf !== undefined) asUsage('as-of', () => parseTime(asOf));
  return { at: optionalString(values, 'at'), asOf };
}

/** Print a JSON document under --json, otherwise lines of text. */
function report(ctx: CliContext, value: unknown, text: () => string): void {
  if (ctx.json) ctx.writeJson(value);
  else {
    const t = text();
    if (t !== '') ctx.stdout.write(t.endsWith('\n') ? t : `${t}\n`);
  }
}

const RUN = { run: { type: 'string' } } as const;
const DATASET = { type: { type: 'string' }, 'data-id': { type: 'string' } } as const;
const VERSION = { at: { type: 'string' }, 'as-of': { type: 'string' } } as const;

const init: Command = {
  name: 'init', summary: 'create a repository (built-in types wcs, photoCalib, src, calexp; an empty main branch)',
  usage: 'REPO', options: {}, positionals: { min: 1, max: 1 },
  async run(_v, [root], ctx) {
    Repository.init(root!).close();
    report(ctx, { repository: root }, () => `initialised ${root}`);
  },
};

const registerType: Command = {
  name: 'register-type', summary: 'add a dataset type with a storage class (TanSipWcs, PhotoCalib, ArrowTable, Image, Exposure)',
  usage: 'REPO NAME STORAGECLASS', options: {}, positionals: { min: 3, max: 3 },
  async run(_v, [root, name, sc], ctx) {
    await withRepo(root!, (repo) => repo.registerDatasetType(name!, sc!));
    report(ctx, { type: name, storageClass: sc }, () => `registered ${name} (${sc})`);
  },
};

const begin: Command = {
  name: 'begin', summary: 'open a run on a branch (invisible until commit); prints the run id',
  usage: 'REPO --stage S [--branch main] [--config C.json] [--expect TYPE:DATAID]... [--lease SECONDS]',
  options: { stage: { type: 'string' }, branch: { type: 'string' }, config: { type: 'string' }, expect: { type: 'string', multiple: true }, lease: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run(values, [root], ctx) {
    const expect = stringList(values, 'expect').map((x) => {
      const colon = x.indexOf(':');
      if (colon <= 0) throw new SkycalError('USAGE', `--expect: expected TYPE:DATAID, got ${JSON.stringify(x)}`);
      return { type: x.slice(0, colon), dataId: x.slice(colon + 1) };
    });
    const configPath = optionalString(values, 'config');
    let config: unknown = {};
    if (configPath !== undefined) {
      try {
        config = JSON.parse(new TextDecoder().decode(readInput(configPath)));
      } catch (e) {
        throw SkycalError.isSkycalError(e) ? e : errors.badInput(configPath, `not JSON: ${(e as Error).message}`);
      }
    }
    const leaseText = optionalString(values, 'lease');
    const lease = leaseText === undefined ? undefined : Number(leaseText);
    if (lease !== undefined && !(Number.isFinite(lease) && lease > 0 && lease <= MAX_LEASE_S)) {
      throw new SkycalError('USAGE', `--lease: expected seconds in (0, ${MAX_LEASE_S}] (7 days), got ${JSON.stringify(leaseText)}`);
    }
    const run = await withRepo(root!, (repo) => repo.begin({
      stage: requireString(values, 'stage'), branch: optionalString(values, 'branch'), config, expect, leaseSeconds: lease,
    }));
    report(ctx, { run: run.id }, () => run.id);
  },
};

const put: Command = {
  name: 'put', summary: 'validate and store a dataset in an open run',
  usage: 'REPO --run ID --type TYPE --data-id K=V,... FILE', options: { ...RUN, ...DATASET }, positionals: { min: 2, max: 2 },
  async run(values, [root, file], ctx) {
    const dataId = dataIdOption(values);
    const bytes = readInput(file!);
    const e = await withRepo(root!, (repo) => repo.put(requireString(values, 'run'), requireString(values, 'type'), dataId, bytes, file));
    report(ctx, { run: e.runId, type: e.type, dataId: e.dataId, sha256: e.fileHash, size: e.size }, () => `${e.type} ${e.dataId} ${e.fileHash}`);
  },
};

const fail: Command = {
  name: 'fail', summary: 'record that a run failed to produce a dataset (readers get INVALID_DATASET, never an older version)',
  usage: 'REPO --run ID --type TYPE --data-id K=V,... --reason TEXT', options: { ...RUN, ...DATASET, reason: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run(values, [root], ctx) {
    const dataId = dataIdOption(values);
    const es = await withRepo(root!, (repo) => repo.fail(requireString(values, 'run'), requireString(values, 'type'), dataId, requireString(values, 'reason')));
    report(ctx, { failed: es.map((e) => ({ run: e.runId, type: e.type, dataId: e.dataId, reason: e.reason })) }, () => es.map((e) => `failed ${e.type} ${e.dataId}`).join('\n'));
  },
};

const commit: Command = {
  name: 'commit', summary: 'publish a run atomically and move its branch (CONFLICT if the branch moved; the run stays open)',
  usage: 'REPO --run ID', options: RUN, positionals: { min: 1, max: 1 },
  async run(values, [root], ctx) {
    const run = await withRepo(root!, (repo) => repo.describeRun(repo.commit(requireString(values, 'run'))));
    report(ctx, run, () => `committed ${run.id} on ${run.branch} at ${run.committedAt}`);
  },
};

const abort: Command = {
  name: 'abort', summary: 'abandon an open run', usage: 'REPO --run ID', options: RUN, positionals: { min: 1, max: 1 },
  async run(values, [root], ctx) {
    const run = await withRepo(root!, (repo) => repo.abort(requireString(values, 'run')));
    report(ctx, { run: run.id, state: run.state }, () => `abandoned ${run.id}`);
  },
};

const get: Command = {
  name: 'get', summary: 'resolve a dataset (newest along REF’s history; TYPE@STAGE for one stage’s output)',
  usage: 'REPO --type TYPE[@STAGE] --data-id K=V,... [--at REF] [--as-of TIME] [--out F] [--run ID (record as input)]',
  options: { ...DATASET, ...VERSION, out: { type: 'string' }, ...RUN }, positionals: { min: 1, max: 1 },
  async run(values, [root], ctx) {
    const spec = { ...versionOf(values), forRun: optionalString(values, 'run') };
    const typeSpec = requireString(values, 'type');
    const dataId = dataIdOption(values);
    const out = optionalString(values, 'out');
    // An output inside the repository (its registry, its store) would break it; a device is written through.
    const outCheck = { notInside: [root!] };
    await withRepo(root!, (repo) => {
      const t = repo.registry.datasetType(parseTypeSpec(typeSpec).type);
      if (t?.storageClass === 'Exposure') {
        const c = repo.getComposite(typeSpec, dataId, spec);
        const supplied = Object.fromEntries(Object.entries(c.components).map(([k, v]) => [k, v.supplied]));
        if (out !== undefined) {
          const text = (b?: Uint8Array) => (b === undefined ? undefined : new TextDecoder('latin1').decode(b));
          const pc = c.components['photoCalib'];
          writeFileAtomic(out, writeExposureFits({
            image: c.components['image']!.bytes, wcs: text(c.components['wcs']?.bytes),
            photoCalib: pc === undefined ? undefined : JSON.parse(new TextDecoder().decode(pc.bytes)),
          }, supplied), outCheck);
        }
        report(ctx, { type: c.type, dataId, components: supplied, out: out ?? null },
          () => Object.entries(supplied).map(([k, s]) => `${c.type}.${k} ${s.dataId} run ${s.runId} (${s.stage})`).join('\n'));
        return;
      }
      const r = repo.get(typeSpec, dataId, spec);
      if (out !== undefined) writeFileAtomic(out, r.bytes, outCheck);
      if (ctx.json) ctx.writeJson({ ...r.supplied, sha256: r.entry.fileHash, size: r.entry.size, out: out ?? null });
      else if (out === undefined) ctx.stdout.write(r.bytes);
      else ctx.log(`${r.supplied.type} ${r.supplied.dataId} from run ${r.supplied.runId} (${r.supplied.stage}) -> ${out}`);
    });
  },
};

const log: Command = {
  name: 'log', summary: 'the runs of REF’s history, newest first', usage: 'REPO [--at REF] [--as-of TIME]',
  options: VERSION, positionals: { min: 1, max: 1 },
  async run(values, [root], ctx) {
    const spec = versionOf(values);
    const runs = await withRepo(root!, (repo) => repo.log(spec));
    report(ctx, { runs }, () => runs.map((r) =>
      `${r.id}  ${r.committedAt}  ${r.stage.padEnd(12)} parents=${r.parents.join(',') || '-'}  datasets=${r.datasets} failures=${r.failures.length}`).join('\n'));
  },
};

const status: Command = {
  name: 'status', summary: 'open runs (stale when their lease expired) with their declared outputs, and the refs',
  usage: 'REPO', options: {}, positionals: { min: 1, max: 1 },
  async run(_v, [root], ctx) {
    const st = await withRepo(root!, (repo) => repo.status());
    report(ctx, st, () => [
      ...st.refs.map((r) => `${r.kind} ${r.name} -> ${r.runId ?? '(empty)'}`),
      ...st.open.map((r) => `${r.stale ? 'STALE' : 'open '} ${r.id} ${r.stage} on ${r.branch}, lease until ${r.leaseExpiresAt}, ${r.datasets} datasets, ${r.failures} failures` +
        r.expected.map((x) => `\n    expects ${x.type} ${x.dataId}: ${x.state}`).join('')),
    ].join('\n'));
  },
};

const recover: Command = {
  name: 'recover', summary: 'abandon a stale run (or every stale run)', usage: 'REPO [--run ID] [--force]',
  options: { ...RUN, force: { type: 'boolean', default: false } }, positionals: { min: 1, max: 1 },
  async run(values, [root], ctx) {
    const ids = await withRepo(root!, (repo) => repo.recover(optionalString(values, 'run'), { force: values['force'] === true }));
    report(ctx, { abandoned: ids }, () => (ids.length === 0 ? 'no stale runs' : ids.map((id) => `abandoned ${id}`).join('\n')));
  },
};

const branch: Command = {
  name: 'branch', summary: 'create (or with --force move) a branch at FROM (default main), or --delete it (main only with --force)',
  usage: 'REPO NAME [FROM] [--force] | REPO --delete NAME [--force]', options: { delete: { type: 'string' }, force: { type: 'boolean', default: false } },
  positionals: { min: 1, max: 3 },
  async run(values, [root, name, from], ctx) {
    const del = optionalString(values, 'delete');
    if (del !== undefined) {
      if (name !== undefined) throw new SkycalError('USAGE', 'branch: --delete NAME takes no other name');
      await withRepo(root!, (repo) => repo.deleteBranch(del, { force: values['force'] === true }));
      report(ctx, { deleted: del }, () => `deleted branch ${del}`);
      return;
    }
    if (name === undefined) throw new SkycalError('USAGE', 'usage: skycal branch REPO NAME [FROM] | REPO --delete NAME');
    const at = await withRepo(root!, (repo) => repo.createBranch(name, from ?? 'main', { force: values['force'] === true }));
    report(ctx, { branch: name, run: at }, () => `branch ${name} -> ${at ?? '(empty)'}`);
  },
};

const tag: Command = {
  name: 'tag', summary: 'name a version immutably', usage: 'REPO NAME REF', options: {}, positionals: { min: 3, max: 3 },
  async run(_v, [root, name, ref], ctx) {
    const at = await withRepo(root!, (repo) => repo.createTag(name!, ref!));
    report(ctx, { tag: name, run: at }, () => `tag ${name} -> ${at}`);
  },
};

const merge: Command = {
  name: 'merge',
  summary: 'publish REF (a branch, tag, committed run, or an open run that lost a commit race) into BRANCH with two parents; ' +
    'datasets written on both sides need --prefer ours|theirs (all types) or TYPE=ours|theirs (repeatable), or --rebase (an open run: ' +
    're-parent it on the tip, its datasets win); --force merges although one stage ran with different configs on both sides',
  usage: 'REPO --into BRANCH REF [--prefer ours|theirs|TYPE=ours|theirs]... [--rebase] [--force]',
  options: { into: { type: 'string' }, prefer: { type: 'string', multiple: true }, rebase: { type: 'boolean', default: false }, force: { type: 'boolean', default: false } },
  positionals: { min: 2, max: 2 },
  async run(values, [root, ref], ctx) {
    const preferList = stringList(values, 'prefer');
    const prefer = preferList.length === 0 ? undefined : parsePrefer(preferList);
    if (prefer !== undefined && values['rebase'] === true) throw new SkycalError('USAGE', 'merge: --prefer and --rebase are two different resolutions; give one');
    const r = await withRepo(root!, (repo) => mergeInto(repo, requireString(values, 'into'), ref!, {
      force: values['force'] === true, prefer, rebase: values['rebase'] === true,
    }));
    report(ctx, r, () => [`${r.kind}: ${r.branch} -> ${r.runId}`,
      ...r.resolved.map((c) => `  ${c.type} ${c.dataId}: ${c.winner} (run ${c.winner === 'ours' ? c.ours : c.theirs})`)].join('\n'));
  },
};

const provenance: Command = {
  name: 'provenance', summary: 'the run that wrote a dataset and, transitively, the datasets it read',
  usage: 'REPO --type T --data-id K=V,... [--at REF] [--as-of TIME]', options: { ...DATASET, ...VERSION }, positionals: { min: 1, max: 1 },
  async run(values, [root], ctx) {
    const dataId = dataIdOption(values);
    const spec = versionOf(values);
    const steps = await withRepo(root!, (repo) => repo.provenance(requireString(values, 'type'), dataId, spec));
    report(ctx, { steps }, () => steps.map((s) =>
      `${s.dataset.type} ${s.dataset.dataId} <- run ${s.run.id} (${s.run.stage}, config ${s.run.configHash.slice(0, 12)}, ${s.run.softwareVersion}, ${s.run.user}@${s.run.host}, ${s.run.committedAt})` +
      s.inputs.map((i) => `\n    read ${i.type} ${i.dataId} from run ${i.runId} (${i.stage})`).join('')).join('\n'));
  },
};

const verify: Command = {
  name: 'verify',
  summary: 'check that registry and datastore agree and every checksum matches; finish an interrupted gc; remove crash leftovers older than --min-age',
  usage: 'REPO [--dry-run] [--min-age SECONDS (default 600)]',
  options: { 'dry-run': { type: 'boolean', default: false }, 'min-age': { type: 'string' } }, positionals: { min: 1, max: 1 },
  async run(values, [root], ctx) {
    const minAgeText = optionalString(values, 'min-age');
    const minAge = minAgeText === undefined ? undefined : Number(minAgeText);
    if (minAge !== undefined && !(Number.isFinite(minAge) && minAge >= 0)) throw new SkycalError('USAGE', `--min-age: expected seconds >= 0, got ${JSON.stringify(minAgeText)}`);
    const dry = values['dry-run'] === true;
    const r = await withRepo(root!, (repo) => verifyRepository(repo, { dryRun: dry, minAgeMs: minAge === undefined ? undefined : minAge * 1000 }));
    const lines = () => [
      `${r.ok ? 'ok' : 'PROBLEMS'}: ${r.checkedFiles} files checked`,
      ...r.problems.map((p) => `problem: ${p}`),
      ...(r.finishedGc > 0 ? [`finished an interrupted gc: ${r.finishedGc} file(s) ${dry ? 'to remove' : 'removed'}`] : []),
      ...r.leftovers.tempFiles.map((t) => `leftover temp file ${t}${dry ? '' : ' (removed)'}`),
      ...r.leftovers.unreferencedFiles.map((h) => `leftover unreferenced file ${h}${dry ? '' : ' (removed)'}`),
      ...r.kept.map((k) => `leftover ${k.path} kept: ${k.why}`),
    ].join('\n');
    // Problems are an error whose --json document is the whole report; leftovers of crashes are not.
    if (!r.ok) throw new SkycalError('IO', `verify: ${r.problems.length} problem(s): ${r.problems.join('; ')}`, { details: { report: r } });
    report(ctx, r, lines);
  },
};

const gc: Command = {
  name: 'gc', summary: 'list (--dry-run) or delete runs no ref reaches, with their use, and their unshared files',
  usage: 'REPO [--dry-run]', options: { 'dry-run': { type: 'boolean', default: false } }, positionals: { min: 1, max: 1 },
  async run(values, [root], ctx) {
    const r = await withRepo(root!, (repo) => collectGarbage(repo, { dryRun: values['dry-run'] === true }));
    report(ctx, r, () => [
      ...r.runs.map((x) => `${r.dryRun ? 'would remove' : 'removed'} ${x.id} ${x.stage} (${x.state}) uses=${x.uses} lastUsed=${x.lastUsedAt ?? 'never'}`),
      r.dryRun ? `would remove ${r.runs.length} run(s) and ${r.removedFiles} file(s)` : `removed ${r.runs.length} run(s) and ${r.removedFiles} file(s)`,
    ].join('\n'));
  },
};

const exportCmd: Command = {
  name: 'export', summary: 'write a bundle (folder, or one .tar file) of REF’s history with a manifest and checksums',
  usage: 'REPO --at REF [--as-of TIME] [--type T]... [--where K=V,...] --out BUNDLE',
  options: { ...VERSION, type: { type: 'string', multiple: true }, where: { type: 'string' }, out: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run(values, [root], ctx) {
    const where = whereOption(values);
    const spec = versionOf(values);
    const r = await withRepo(root!, (repo) => exportBundle(repo, requireString(values, 'out'), {
      ...spec, types: stringList(values, 'type'), where,
    }));
    report(ctx, r, () => `exported ${r.runs} run(s), ${r.files} file(s) to ${r.path}`);
  },
};

const importCmd: Command = {
  name: 'import', summary: 'verify a bundle completely, then add its runs, files and refs (--as NAME: its branch under another name)',
  usage: 'REPO BUNDLE [--as NAME]', options: { as: { type: 'string' }, branch: { type: 'string' } }, positionals: { min: 2, max: 2 },
  async run(values, [root, bundle], ctx) {
    const as = optionalString(values, 'as') ?? optionalString(values, 'branch');
    if (optionalString(values, 'as') !== undefined && optionalString(values, 'branch') !== undefined) throw new SkycalError('USAGE', 'import: --as and --branch are the same option; give one');
    const r = await withRepo(root!, (repo) => importBundle(repo, bundle!, { as }));
    report(ctx, r, () => `imported ${r.runs} run(s) (${r.skippedRuns} already here), ${r.files} file(s), refs ${r.refs.join(', ') || '-'}`);
  },
};

export const repoCommands: Command[] = [
  init, registerType, begin, put, fail, commit, abort, get, log, status, recover, branch, tag, merge, provenance, verify, gc, exportCmd, importCmd,
];

const benchRepoCommand: Command = {
  name: 'bench repo', summary: 'gets/s on 10- and 1000-run histories, and the time to commit a run of 10,000 datasets',
  usage: '[--runs N] [--datasets N] [--time MS] [--json]',
  options: { runs: { type: 'string' }, datasets: { type: 'string' }, time: { type: 'string' } },
  async run(values, _p, ctx) {
    const r = benchRepo({
      largeRuns: parseIntegerOption(optionalString(values, 'runs'), 'runs', 1000, 11),
      commitDatasets: parseIntegerOption(optionalString(values, 'datasets'), 'datasets', 10_000, 1),
      timeMs: parseIntegerOption(optionalString(values, 'time'), 'time', 1000, 1),
      log: ctx.json ? () => {} : ctx.log,
    });
    report(ctx, { repo: r }, () => [
      ...r.gets.map((g) => `${String(g.runs).padStart(5)}-run history: ${Math.round(g.getsPerSecond)} gets/s (${Math.round(g.resolvesPerSecond)} resolves/s without reading the file)`),
      `slowdown at ${r.gets[1]!.runs} runs: ${r.slowdownAt1000.toFixed(2)}x`,
      `run of ${r.bigCommit.datasets} datasets: puts ${r.bigCommit.putSeconds.toFixed(2)} s, commit ${r.bigCommit.commitSeconds.toFixed(3)} s`,
    ].join('\n'));
  },
};

repoCommands.push(benchRepoCommand);
