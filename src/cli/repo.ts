/**
 * The repository commands (DESIGN.md §6): init, begin, put, fail, commit,
 * abort, get, log, status, recover, branch, tag, merge, provenance, verify,
 * gc, export, import, register-type. Each opens the repository, does one
 * thing and closes it (which also writes the read counts).
 */
import { writeFileAtomic } from '../io/atomicFile.js';
import { SkycalError, errors } from '../errors.js';
import { MAX_LEASE_S, Repository, parseTime } from '../butler/repository.js';
import { mergeInto, parsePrefer } from '../butler/merge.js';
import { canonicalDataId, parseWhere } from '../butler/dataId.js';
import { collectGarbage, verifyRepository } from '../butler/maintenance.js';
import { exportBundle, importBundle } from '../butler/bundle.js';
import { writeExposureFits } from '../butler/exposureFits.js';
import { parseTypeSpec } from '../butler/typeSpec.js';
import { storageClass } from '../butler/storageClasses.js';
import type { VersionSpec } from '../butler/adapter.js';
import { AS_OF_OPTION, AT_OPTION, DATA_ID_OPTION, WHERE_OPTION, checkExpect, optionalString, requireString, stringList } from './args.js';
import type { CliContext, Command, OptionSpec, ParsedValues } from './command.js';
import { INPUT_LIMITS, readFileBounded, writeBytesToStdout } from './io.js';

/** A file named on the command line, bounded by what it is (`--config` text, a dataset). */
function readInput(path: string, label: string, maxBytes: number): Uint8Array {
  return readFileBounded(path, { label, maxBytes });
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
    if (SkycalError.isSkycalError(e) && e.code === 'BAD_INPUT') throw errors.usage(`--${option}: ${e.message}`);
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

const RUN: OptionSpec = { run: { type: 'string', value: 'ID', required: true, description: 'the open run (from begin)' } };
const DATASET: OptionSpec = {
  type: { type: 'string', value: 'TYPE', required: true, description: 'the dataset type: wcs, photoCalib, src, calexp.image, ... (register-type adds more)' },
  'data-id': { ...DATA_ID_OPTION, required: true },
};
const VERSION: OptionSpec = { at: AT_OPTION, 'as-of': AS_OF_OPTION };
const FORCE = (description: string): OptionSpec => ({ force: { type: 'boolean', default: false, description } });

const init: Command = {
  name: 'init', args: 'REPO',
  options: {
    registry: {
      type: 'string', value: 'postgresql://USER@HOST[:PORT]/DB',
      description: 'keep the registry in this PostgreSQL database (empty of skycal tables; password from PGPASSWORD or ~/.pgpass, never in the URL); default REPO/registry.sqlite',
    },
  },
  positionals: { min: 1, max: 1 },
  async run(values, [root], ctx) {
    const registry = optionalString(values, 'registry');
    Repository.init(root!, { registry }).close();
    report(ctx, { repository: root, ...(registry !== undefined && { registry }) }, () => `initialised ${root}${registry === undefined ? '' : ` (registry ${registry})`}`);
  },
};

const registerType: Command = {
  name: 'register-type', args: 'REPO NAME STORAGECLASS', options: {}, positionals: { min: 3, max: 3 },
  notes: 'STORAGECLASS: TanSipWcs, PhotoCalib, ArrowTable, Image or Exposure.',
  async run(_v, [root, name, sc], ctx) {
    await withRepo(root!, (repo) => repo.registerDatasetType(name!, sc!));
    report(ctx, { type: name, storageClass: sc }, () => `registered ${name} (${sc})`);
  },
};

const begin: Command = {
  name: 'begin', args: 'REPO',
  options: {
    stage: { type: 'string', value: 'S', required: true, description: 'the pipeline stage: singleFrame, jointcal, ...' },
    branch: { type: 'string', value: 'B', description: 'the branch the run will commit to (default main)' },
    config: { type: 'string', value: 'C.json', description: 'the run\'s configuration (JSON; stored and hashed)' },
    expect: { type: 'string', multiple: true, value: 'TYPE:DATAID', description: 'an output the run will produce; one neither put nor failed is a failure at commit', check: checkExpect },
    lease: { type: 'string', value: 'SECONDS', description: 'how long the run may stay idle before status calls it stale' },
  },
  notes: '--json prints {"run": ID}.',
  positionals: { min: 1, max: 1 },
  async run(values, [root], ctx) {
    const expect = stringList(values, 'expect').map((x) => {
      const colon = x.indexOf(':');
      if (colon <= 0) throw errors.usage(`--expect: expected TYPE:DATAID, got ${JSON.stringify(x)}`);
      return { type: x.slice(0, colon), dataId: x.slice(colon + 1) };
    });
    const configPath = optionalString(values, 'config');
    let config: unknown = {};
    if (configPath !== undefined) {
      try {
        config = JSON.parse(new TextDecoder().decode(readInput(configPath, '--config', INPUT_LIMITS.text)));
      } catch (e) {
        throw SkycalError.isSkycalError(e) ? e : errors.badInput(configPath, `not JSON: ${(e as Error).message}`);
      }
    }
    const leaseText = optionalString(values, 'lease');
    const lease = leaseText === undefined ? undefined : Number(leaseText);
    if (lease !== undefined && !(Number.isFinite(lease) && lease > 0 && lease <= MAX_LEASE_S)) {
      throw errors.usage(`--lease: expected seconds in (0, ${MAX_LEASE_S}] (7 days), got ${JSON.stringify(leaseText)}`);
    }
    const run = await withRepo(root!, (repo) => repo.begin({
      stage: requireString(values, 'stage'), branch: optionalString(values, 'branch'), config, expect, leaseSeconds: lease,
    }));
    report(ctx, { run: run.id }, () => run.id);
  },
};

const put: Command = {
  name: 'put', args: 'REPO FILE', options: { ...RUN, ...DATASET }, positionals: { min: 2, max: 2 },
  async run(values, [root, file], ctx) {
    const dataId = dataIdOption(values);
    const bytes = readInput(file!, 'FILE', INPUT_LIMITS.dataset);
    const e = await withRepo(root!, (repo) => repo.put(requireString(values, 'run'), requireString(values, 'type'), dataId, bytes, file));
    report(ctx, { run: e.runId, type: e.type, dataId: e.dataId, sha256: e.fileHash, size: e.size }, () => `${e.type} ${e.dataId} ${e.fileHash}`);
  },
};

const fail: Command = {
  name: 'fail', args: 'REPO',
  options: { ...RUN, ...DATASET, reason: { type: 'string', value: 'TEXT', required: true, description: 'why, for the readers who will get INVALID_DATASET' } },
  positionals: { min: 1, max: 1 },
  async run(values, [root], ctx) {
    const dataId = dataIdOption(values);
    const es = await withRepo(root!, (repo) => repo.fail(requireString(values, 'run'), requireString(values, 'type'), dataId, requireString(values, 'reason')));
    report(ctx, { failed: es.map((e) => ({ run: e.runId, type: e.type, dataId: e.dataId, reason: e.reason })) }, () => es.map((e) => `failed ${e.type} ${e.dataId}`).join('\n'));
  },
};

const commit: Command = {
  name: 'commit', args: 'REPO', options: RUN, positionals: { min: 1, max: 1 },
  async run(values, [root], ctx) {
    const run = await withRepo(root!, (repo) => repo.describeRun(repo.commit(requireString(values, 'run'))));
    report(ctx, run, () => `committed ${run.id} on ${run.branch} at ${run.committedAt}`);
  },
};

const abort: Command = {
  name: 'abort', args: 'REPO', options: RUN, positionals: { min: 1, max: 1 },
  async run(values, [root], ctx) {
    const run = await withRepo(root!, (repo) => repo.abort(requireString(values, 'run')));
    report(ctx, { run: run.id, state: run.state }, () => `abandoned ${run.id}`);
  },
};

const get: Command = {
  name: 'get', args: 'REPO',
  options: {
    ...DATASET,
    type: { ...DATASET['type']!, value: 'TYPE[@STAGE]', description: 'the dataset type; TYPE@STAGE for the newest that stage wrote' },
    ...VERSION,
    out: { type: 'string', value: 'F', description: 'write the dataset here (calexp: one FITS file) instead of stdout' },
    run: { type: 'string', value: 'ID', description: 'record the dataset as an input of this open run (provenance)' },
  },
  positionals: { min: 1, max: 1 },
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
      if (out !== undefined) writeFileAtomic(out, t === undefined ? r.bytes : storageClass(t.storageClass).forOutput?.(r.bytes, out) ?? r.bytes, outCheck);
      if (ctx.json) ctx.writeJson({ ...r.supplied, sha256: r.entry.fileHash, size: r.entry.size, out: out ?? null });
      else if (out === undefined) writeBytesToStdout(ctx, r.bytes, `${r.supplied.type} ${r.supplied.dataId}`);
      else ctx.log(`${r.supplied.type} ${r.supplied.dataId} from run ${r.supplied.runId} (${r.supplied.stage}) -> ${out}`);
    });
  },
};

const log: Command = {
  name: 'log', args: 'REPO', options: VERSION, positionals: { min: 1, max: 1 },
  notes: '--json prints {"runs": [{"id", "stage", "parents", "committedAt", ...}]}.',
  async run(values, [root], ctx) {
    const spec = versionOf(values);
    const runs = await withRepo(root!, (repo) => repo.log(spec));
    report(ctx, { runs }, () => runs.map((r) =>
      `${r.id}  ${r.committedAt}  ${r.stage.padEnd(12)} parents=${r.parents.join(',') || '-'}  datasets=${r.datasets} failures=${r.failures.length}`).join('\n'));
  },
};

const status: Command = {
  name: 'status', args: 'REPO', options: {}, positionals: { min: 1, max: 1 },
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
  name: 'recover', args: 'REPO',
  options: { run: { ...RUN['run']!, required: false, description: 'only this run (default: every stale run)' }, ...FORCE('abandon the run even if its lease has not expired') },
  positionals: { min: 1, max: 1 },
  async run(values, [root], ctx) {
    const ids = await withRepo(root!, (repo) => repo.recover(optionalString(values, 'run'), { force: values['force'] === true }));
    report(ctx, { abandoned: ids }, () => (ids.length === 0 ? 'no stale runs' : ids.map((id) => `abandoned ${id}`).join('\n')));
  },
};

const branch: Command = {
  name: 'branch', args: 'REPO [NAME [FROM]]',
  options: {
    delete: { type: 'string', value: 'NAME', description: 'delete this branch instead (the default branch main only with --force)' },
    ...FORCE('move an existing branch to FROM; with --delete, allow deleting main'),
  },
  notes: 'skycal branch REPO NAME [FROM] creates NAME at FROM (default main); skycal branch REPO --delete NAME deletes it.',
  positionals: { min: 1, max: 3 },
  async run(values, [root, name, from], ctx) {
    const del = optionalString(values, 'delete');
    if (del !== undefined) {
      if (name !== undefined) throw errors.usage('branch: --delete NAME takes no other name');
      await withRepo(root!, (repo) => repo.deleteBranch(del, { force: values['force'] === true }));
      report(ctx, { deleted: del }, () => `deleted branch ${del}`);
      return;
    }
    if (name === undefined) throw errors.usage('usage: skycal branch REPO NAME [FROM] | REPO --delete NAME');
    const at = await withRepo(root!, (repo) => repo.createBranch(name, from ?? 'main', { force: values['force'] === true }));
    report(ctx, { branch: name, run: at }, () => `branch ${name} -> ${at ?? '(empty)'}`);
  },
};

const tag: Command = {
  name: 'tag', args: 'REPO NAME REF', options: {}, positionals: { min: 3, max: 3 },
  async run(_v, [root, name, ref], ctx) {
    const at = await withRepo(root!, (repo) => repo.createTag(name!, ref!));
    report(ctx, { tag: name, run: at }, () => `tag ${name} -> ${at}`);
  },
};

const merge: Command = {
  name: 'merge', args: 'REPO REF',
  options: {
    into: { type: 'string', value: 'BRANCH', required: true, description: 'the branch to publish into' },
    prefer: {
      type: 'string', multiple: true, value: 'ours|theirs|TYPE=ours|theirs',
      description: 'which side wins for datasets written on both sides: for every type, or for TYPE (a composite covers its components)',
    },
    rebase: { type: 'boolean', default: false, description: 'an open run: re-parent it on the tip (its datasets win) instead of merging' },
    ...FORCE('merge although one stage ran with two different configs'),
  },
  notes: 'A conflict (datasets written on both sides) is listed in the error, and under --json as error.conflicts.',
  positionals: { min: 2, max: 2 },
  async run(values, [root, ref], ctx) {
    const preferList = stringList(values, 'prefer');
    const prefer = preferList.length === 0 ? undefined : parsePrefer(preferList);
    if (prefer !== undefined && values['rebase'] === true) throw errors.usage('merge: --prefer and --rebase are two different resolutions; give one');
    const r = await withRepo(root!, (repo) => mergeInto(repo, requireString(values, 'into'), ref!, {
      force: values['force'] === true, prefer, rebase: values['rebase'] === true,
    }));
    report(ctx, r, () => [`${r.kind}: ${r.branch} -> ${r.runId}`,
      ...r.resolved.map((c) => `  ${c.type} ${c.dataId}: ${c.winner} (run ${c.winner === 'ours' ? c.ours : c.theirs})`)].join('\n'));
  },
};

const provenance: Command = {
  name: 'provenance', args: 'REPO', options: { ...DATASET, ...VERSION }, positionals: { min: 1, max: 1 },
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
  name: 'verify', args: 'REPO',
  options: {
    'dry-run': { type: 'boolean', default: false, description: 'report crash leftovers without removing them' },
    'min-age': { type: 'string', value: 'SECONDS', description: 'remove only leftovers older than this, so no live put is still placing them (default 600)' },
  },
  positionals: { min: 1, max: 1 },
  notes: 'Problems make it fail; under --json the error carries the whole report as error.report.',
  async run(values, [root], ctx) {
    const minAgeText = optionalString(values, 'min-age');
    const minAge = minAgeText === undefined ? undefined : Number(minAgeText);
    if (minAge !== undefined && !(Number.isFinite(minAge) && minAge >= 0)) throw errors.usage(`--min-age: expected seconds >= 0, got ${JSON.stringify(minAgeText)}`);
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
    if (!r.ok) throw errors.io('verify', `${r.problems.length} problem(s): ${r.problems.join('; ')}`, { details: { report: r } });
    report(ctx, r, lines);
  },
};

const gc: Command = {
  name: 'gc', args: 'REPO',
  options: { 'dry-run': { type: 'boolean', default: false, description: 'list what would be removed, with its use, and remove nothing' } },
  positionals: { min: 1, max: 1 },
  async run(values, [root], ctx) {
    const r = await withRepo(root!, (repo) => collectGarbage(repo, { dryRun: values['dry-run'] === true }));
    report(ctx, r, () => [
      ...r.runs.map((x) => `${r.dryRun ? 'would remove' : 'removed'} ${x.id} ${x.stage} (${x.state}) uses=${x.uses} lastUsed=${x.lastUsedAt ?? 'never'}`),
      r.dryRun ? `would remove ${r.runs.length} run(s) and ${r.removedFiles} file(s)` : `removed ${r.runs.length} run(s) and ${r.removedFiles} file(s)`,
    ].join('\n'));
  },
};

const exportCmd: Command = {
  name: 'export', args: 'REPO',
  options: {
    ...VERSION,
    type: { type: 'string', multiple: true, value: 'T', description: 'only datasets of this type (default: every type)' },
    where: WHERE_OPTION,
    out: { type: 'string', value: 'BUNDLE', required: true, description: 'a new folder, or one file when it ends in .tar' },
  },
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
  name: 'import', args: 'REPO BUNDLE',
  options: {
    as: { type: 'string', value: 'NAME', description: "import the bundle's branch under this name (when this repository's differs)" },
    branch: { type: 'string', value: 'NAME', description: 'the same as --as' },
  },
  positionals: { min: 2, max: 2 },
  async run(values, [root, bundle], ctx) {
    const as = optionalString(values, 'as') ?? optionalString(values, 'branch');
    if (optionalString(values, 'as') !== undefined && optionalString(values, 'branch') !== undefined) throw errors.usage('import: --as and --branch are the same option; give one');
    const r = await withRepo(root!, (repo) => importBundle(repo, bundle!, { as }));
    report(ctx, r, () => `imported ${r.runs} run(s) (${r.skippedRuns} already here), ${r.files} file(s), refs ${r.refs.join(', ') || '-'}`);
  },
};

export const repoCommands: Command[] = [
  init, registerType, begin, put, fail, commit, abort, get, log, status, recover, branch, tag, merge, provenance, verify, gc, exportCmd, importCmd,
];
