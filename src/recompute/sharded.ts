/**
 * Recompute split over processes and hosts (a Slurm array job): a plan
 * pins the version to one run id and assigns the selected dataIds to N
 * shards (shards.ts); each shard writes its parts into the staging area
 * (shardStaging.ts); the shard that completes the set, or `finishShards`,
 * checks every shard against the plan, writes the manifest and publishes
 * DIR whole. The union of the shards is the single-process
 * `recompute --at RUNID --out DIR/` byte for byte: the same jobs, the same
 * part names (recompute.ts names a part by its dataId's place in the
 * selection), the same manifest plus the plan.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { errors } from '../errors.js';
import type { ButlerAdapter } from '../butler/adapter.js';
import { AtomicFolder, DATASET_MANIFEST } from '../io/atomicOutput.js';
import { assignShards } from './shards.js';
import {
  JOB_ROWS,
  datasetManifest,
  provenanceOf,
  recomputeOutputOf,
  resolveDataIds,
  resolveSelection,
  startJobClock,
  versionsOf,
  writeDatasetParts,
  type DataIdVersions,
  type DatasetFile,
  type IdKey,
  type RecomputeOptions,
  type RecomputePin,
  type RecomputeSummary,
} from './recompute.js';
import {
  digestOf,
  publishDataset,
  readJsonFile,
  readPublishedManifest,
  readStagedPlan,
  recordPlan,
  removeStaging,
  removeStalePublishFolders,
  shardFolderName,
  sizeOf,
  stagingOf,
} from './shardStaging.js';

/** The plan every shard follows (plan.json, and `shards` in the published manifest). */
export interface ShardPlan {
  format: 'skycal.shard-plan/1';
  /** The run id every shard resolves at. */
  at: string;
  /** What the plan was asked for (a branch, tag or the run id). */
  ref: string;
  asOf: string | number | null;
  where: Record<string, string> | null;
  wcsStage: string | null;
  photoCalibStage: string | null;
  skipInvalid: boolean;
  batchRows: number;
  partitionBy: string[];
  ids: IdKey[];
  shards: number;
  plan: { shard: number; dataIds: string[]; bytes: number }[];
  /** Every planned dataId in canonical order (its index names its parts), its catalog's size and the runs that supply it. */
  dataIds: { dataId: string; bytes: number; versions: DataIdVersions }[];
  skipped: RecomputeSummary['skipped'];
}

/** The manifest of one shard's folder in the staging area. */
interface ShardManifest {
  format: 'skycal.dataset-shard/1';
  plan: string;
  shard: number;
  shards: number;
  rows: number;
  dataIds: string[];
  signature: string | null;
  files: DatasetFile[];
}

const SHARD_FORMAT = 'skycal.dataset-shard/1';

const folderOf = (out: string): string => out.replace(/[/\\]+$/, '');
const planText = (plan: ShardPlan): string => `${JSON.stringify(plan, null, 2)}\n`;

function requireDataset(out: string, option: string): string {
  if (recomputeOutputOf(out) !== 'dataset') throw errors.usage(`${option} writes a partitioned dataset: --out ${out} must be a folder (a name ending in /)`);
  const target = folderOf(out);
  AtomicFolder.checkTarget(target);
  return target;
}

const pinOf = (plan: ShardPlan): RecomputePin => ({
  at: plan.at,
  ...(plan.asOf !== null && { asOf: plan.asOf }),
  ...(plan.where !== null && { where: plan.where }),
  ...(plan.wcsStage !== null && { wcsStage: plan.wcsStage }),
  ...(plan.photoCalibStage !== null && { photoCalibStage: plan.photoCalibStage }),
});

const whereText = (w: RecomputeOptions['where']): string | null =>
  w === undefined ? null : JSON.stringify(Object.entries(w).map(([k, v]) => [k, String(v)]).sort(([a], [b]) => (a! < b! ? -1 : 1)));

/** Resolve and assign: the plan a request makes now (the ref resolved to its run id once, here). */
function makePlan(adapter: ButlerAdapter, options: RecomputeOptions, shards: number): ShardPlan {
  const ref = options.at ?? 'main';
  const runId = adapter.runIdAt({ at: ref, ...(options.asOf !== undefined && { asOf: options.asOf }) });
  if (runId === null) throw errors.notFound(`a usable src catalog at ${ref} (recompute: the branch is empty)`);
  const pinned = { ...options, at: runId };
  const { plans, skipped, ids, partitionBy } = resolveSelection(adapter, pinned);
  const bytes = plans.map((p) => statSync(p.catalog.path).size);
  const assignment = assignShards(plans.map((p, i) => ({ dataId: p.dataId, bytes: bytes[i]! })), shards);
  const size = new Map(plans.map((p, i) => [p.dataId, bytes[i]!]));
  const versions = versionsOf(plans);
  return {
    format: 'skycal.shard-plan/1',
    at: runId,
    ref,
    asOf: options.asOf ?? null,
    where: provenanceOf(pinned, []).where,
    wcsStage: options.wcsStage ?? null,
    photoCalibStage: options.photoCalibStage ?? null,
    skipInvalid: options.skipInvalid === true,
    batchRows: options.batchRows ?? JOB_ROWS,
    partitionBy,
    ids,
    shards,
    plan: assignment.map((d, shard) => ({ shard, dataIds: d, bytes: d.reduce((s, id) => s + size.get(id)!, 0) })),
    dataIds: plans.map((p, i) => ({ dataId: p.dataId, bytes: bytes[i]!, versions: versions[i]! })),
    skipped,
  };
}

/**
 * A request that disagrees with the recorded plan is refused: a shard must
 * never compute another version or selection than its siblings. Options
 * left out are the plan's; `--at` is resolved and compared by run id, so a
 * branch that moved since the plan is a CONFLICT, not a silent new tip.
 */
function checkAgainstPlan(adapter: ButlerAdapter, options: RecomputeOptions, plan: ShardPlan, where: string, shards?: number): void {
  const anew = where.endsWith(DATASET_MANIFEST) ? 'run recompute --plan N to start a new set' : `remove ${dirname(where)} to plan anew`;
  const redo = `pass --at ${plan.at} and the plan's options, or ${anew}`;
  const differ = (what: string, given: unknown, recorded: unknown) =>
    errors.conflict(`recompute: ${what} ${String(given)} differs from the plan of ${plan.shards} shard(s) at run ${plan.at} recorded in ${where} (${String(recorded)}); ${redo}`);
  if (shards !== undefined && shards !== plan.shards) throw differ('--shard .../N: N =', shards, `${plan.shards} shards`);
  if (options.asOf !== undefined && String(options.asOf) !== String(plan.asOf)) throw differ('--as-of', options.asOf, plan.asOf);
  if (options.at !== undefined && options.at !== plan.at) {
    const asOf = options.asOf ?? plan.asOf ?? undefined;
    const now = adapter.runIdAt({ at: options.at, ...(asOf !== undefined && { asOf }) });
    if (now !== plan.at) throw differ(`--at ${options.at} is now run`, now, `made at run ${plan.at}, from ${plan.ref}`);
  }
  if (options.where !== undefined && whereText(options.where) !== whereText(plan.where ?? undefined)) throw differ('--where', JSON.stringify(options.where), JSON.stringify(plan.where));
  if (options.wcsStage !== undefined && options.wcsStage !== plan.wcsStage) throw differ('--wcs-stage', options.wcsStage, plan.wcsStage);
  if (options.photoCalibStage !== undefined && options.photoCalibStage !== plan.photoCalibStage) throw differ('--photocalib-stage', options.photoCalibStage, plan.photoCalibStage);
  if (options.partitionBy !== undefined && options.partitionBy.join(',') !== plan.partitionBy.join(',')) throw differ('--partition-by', options.partitionBy.join(','), plan.partitionBy.join(','));
  if (options.skipInvalid === true && !plan.skipInvalid) throw differ('--skip-invalid', true, 'without it');
  if (options.batchRows !== undefined && options.batchRows !== plan.batchRows) throw differ('batchRows', options.batchRows, plan.batchRows);
}

function parsePlan(text: string, where: string): ShardPlan {
  let plan: ShardPlan;
  try {
    plan = JSON.parse(text) as ShardPlan;
  } catch (e) {
    throw errors.badInput(where, `not a shard plan: ${(e as Error).message}`);
  }
  if (plan?.format !== 'skycal.shard-plan/1' || !Array.isArray(plan.plan) || !Array.isArray(plan.dataIds)) throw errors.badInput(where, 'not a skycal shard plan (skycal.shard-plan/1)');
  return plan;
}

/** The plan a published dataset was made from (its manifest's `shards`), as text, or undefined. */
function publishedPlanText(target: string): string | undefined {
  const m = readPublishedManifest(target);
  return m !== undefined && typeof m['shards'] === 'object' && m['shards'] !== null ? planText(m['shards'] as ShardPlan) : undefined;
}

const isPublishedFrom = (target: string, text: string): boolean => {
  try {
    return publishedPlanText(target) === text;
  } catch {
    return false;
  }
};

export interface ShardPlanSummary {
  at: string;
  shards: number;
  out: string;
  plan: ShardPlan['plan'];
  ref: string;
  staging: string;
  skipped: ShardPlan['skipped'];
}

const planSummary = (plan: ShardPlan, out: string, staging: string): ShardPlanSummary => ({ at: plan.at, shards: plan.shards, out, plan: plan.plan, ref: plan.ref, staging, skipped: plan.skipped });

/**
 * `recompute --plan N`: resolve the ref once, assign the dataIds, record
 * the plan in DIR's staging area. The same plan again is a no-op; another
 * plan over one in progress is a CONFLICT (its shards may be running).
 */
export function planShards(adapter: ButlerAdapter, options: RecomputeOptions & { shards: number }): ShardPlanSummary {
  const target = requireDataset(options.out, '--plan');
  const staging = stagingOf(target);
  const plan = makePlan(adapter, options, options.shards);
  const text = planText(plan);
  const staged = readStagedPlan(staging);
  if (staged !== undefined && staged !== text) {
    if (!isPublishedFrom(target, staged)) {
      const old = parsePlan(staged, join(staging, 'plan.json'));
      const written = old.plan.filter((s) => existsSync(join(staging, shardFolderName(s.shard, old.shards), DATASET_MANIFEST))).length;
      throw errors.conflict(
        `recompute --plan: ${options.out} has a plan in progress at run ${old.at} (${old.shards} shards, ${written} written) in ${staging}; run or --finish it, or remove ${staging} to plan anew`,
      );
    }
    // A published set whose staging area a finisher did not get to remove.
    removeStaging(staging);
  }
  const recorded = recordPlan(staging, text);
  if (recorded !== text) throw errors.conflict(`recompute --plan: another plan was recorded in ${staging} at the same time; run --plan again to see it`);
  return planSummary(plan, options.out, staging);
}

export interface ShardSummary extends RecomputeSummary {
  shard: {
    index: number;
    count: number;
    at: string;
    /** Shards whose parts are in the staging area (or all, once published). */
    written: number;
    /** DIR is published: by this shard, by another, or (a re-run) it already was. */
    published: boolean;
    /** This shard re-ran after DIR was published: its parts equal the published ones byte for byte. */
    verified: boolean;
  };
}

/** Compare a shard's parts, built in `folder`, with the published dataset's: a difference is a CONFLICT naming the part. */
function verifyAgainstPublished(target: string, folder: string, files: readonly DatasetFile[], index: number): void {
  const published = new Map(((readPublishedManifest(target)?.['files'] ?? []) as DatasetFile[]).map((f) => [f.path, f]));
  for (const f of files) {
    const p = published.get(f.path);
    const same = p !== undefined && p.dataId === f.dataId && p.rows === f.rows && sizeOf(join(target, f.path)) === f.bytes && readFileSync(join(target, f.path)).equals(readFileSync(join(folder, f.path)));
    if (!same) throw errors.conflict(`recompute --shard ${index}: the part ${f.path} differs from the one published in ${target} from the same plan; remove ${target} and run every shard again`);
  }
}

/**
 * `recompute --shard I/N`: the shard's dataIds of the plan (recorded by
 * `--plan`, or made here by the first shard when there is none), resolved
 * at the plan's run id, written into the staging area; then, if every
 * shard is there, the set is published. Re-running a shard writes the same
 * bytes; after DIR was published it checks them against DIR and succeeds.
 */
export async function recomputeShard(adapter: ButlerAdapter, options: RecomputeOptions & { shard: { index: number; count: number } }): Promise<ShardSummary> {
  const clock = startJobClock();
  const { index, count } = options.shard;
  const target = requireDataset(options.out, '--shard');
  const staging = stagingOf(target);
  let text = readStagedPlan(staging);
  let where = join(staging, 'plan.json');
  let published = false;
  if (text === undefined) {
    text = publishedPlanText(target);
    where = join(target, DATASET_MANIFEST);
    published = text !== undefined;
  }
  if (text !== undefined) checkAgainstPlan(adapter, options, parsePlan(text, where), where, count);
  else text = recordPlan(staging, planText(makePlan(adapter, options, count)));
  const plan = parsePlan(text, where);
  // The first shard may have lost the race to record the plan: check against the one in force.
  checkAgainstPlan(adapter, options, plan, where, count);
  const digest = digestOf(text);
  const ordinal = new Map(plan.dataIds.map((d, i) => [d.dataId, i]));
  const mine = plan.plan[index]!.dataIds;
  const plans = resolveDataIds(adapter, pinOf(plan), mine.map((dataId) => ({ dataId, ordinal: ordinal.get(dataId)! })));
  const recorded = new Map(plan.dataIds.map((d) => [d.dataId, JSON.stringify(d.versions)]));
  for (const v of versionsOf(plans)) {
    if (JSON.stringify(v) !== recorded.get(v.dataId)) throw errors.conflict(`recompute --shard ${index}/${count}: ${v.dataId} resolves at run ${plan.at} to other runs than the plan recorded in ${where}`);
  }
  const layout = { ids: plan.ids, partitionBy: plan.partitionBy, pin: pinOf(plan) };
  const exec = { ...options, batchRows: plan.batchRows };

  const compute = (folder: AtomicFolder) => writeDatasetParts(plans, layout, folder.path, exec);
  const summary = (run: Awaited<ReturnType<typeof compute>>, state: { written: number; published: boolean; verified: boolean }): ShardSummary => {
    return {
      out: target, parts: run.files.length, rows: run.rows, dataIds: run.perDataId, skipped: [], badByStatus: run.badByStatus, ...clock(run.rows),
      shard: { index, count, at: plan.at, ...state },
    };
  };
  /** Re-run after publication: build the parts aside, compare, discard. */
  const verify = async () => {
    const folder = AtomicFolder.create(join(dirname(target), `.${basename(target)}.skycal-verify-${index}`));
    try {
      const run = await compute(folder);
      verifyAgainstPublished(target, folder.path, run.files, index);
      return summary(run, { written: count, published: true, verified: true });
    } finally {
      folder.abort();
    }
  };

  if (published) return verify();
  let run;
  try {
    const folder = AtomicFolder.create(join(staging, shardFolderName(index, count)));
    try {
      run = await compute(folder);
      const manifest: ShardManifest = { format: SHARD_FORMAT, plan: digest, shard: index, shards: count, rows: run.rows, dataIds: mine, signature: run.signature ?? null, files: run.files };
      folder.writeFile(DATASET_MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
      folder.commit();
    } catch (e) {
      folder.abort();
      throw e;
    }
  } catch (e) {
    // A re-run racing the finisher, which published the set and removed the staging area under it.
    if (isPublishedFrom(target, text)) return verify();
    throw e;
  }
  const state = complete(staging, target, plan, text, index);
  // A finisher had published this set and left the staging area: this re-run's parts must be the published ones.
  if (state.already === true && state.mine !== undefined) verifyAgainstPublished(target, state.mine, run.files, index);
  if (state.published) removeStaging(staging);
  return summary(run, { written: state.written, published: state.published, verified: false });
}

export interface FinishSummary {
  out: string;
  at: string;
  shards: number;
  rows: number;
  parts: number;
  /** Published now (false: it already was, from this plan). */
  published: boolean;
}

/**
 * Check every shard against the plan and publish DIR, if all are there.
 * `index` is the shard calling (its own folder, for a comparison when DIR
 * was already published from this plan by a finisher that left the staging
 * area behind).
 */
function complete(staging: string, target: string, plan: ShardPlan, text: string, index?: number): { written: number; published: boolean; already?: boolean; mine?: string } {
  const digest = digestOf(text);
  const mineFolder = index === undefined ? undefined : join(staging, shardFolderName(index, plan.shards));
  if (isPublishedFrom(target, text)) return { written: plan.shards, published: true, already: true, ...(mineFolder !== undefined && { mine: mineFolder }) };
  removeStalePublishFolders(staging);
  const manifests: (ShardManifest | undefined)[] = plan.plan.map((s) => readJsonFile(join(staging, shardFolderName(s.shard, plan.shards), DATASET_MANIFEST)) as ShardManifest | undefined);
  const written = manifests.filter((m) => m !== undefined).length;
  if (written < plan.shards) {
    // A finisher may have published and removed the staging area while we read it.
    return isPublishedFrom(target, text) ? { written: plan.shards, published: true, already: true } : { written, published: false };
  }
  const parts: { from: string; file: DatasetFile; ordinal: number }[] = [];
  const ordinal = new Map(plan.dataIds.map((d, i) => [d.dataId, i]));
  let signature: { value: string; shard: number } | undefined;
  for (const [i, m] of (manifests as ShardManifest[]).entries()) {
    const folder = join(staging, shardFolderName(i, plan.shards));
    if (m.format !== SHARD_FORMAT || m.plan !== digest || m.shard !== i || m.shards !== plan.shards) {
      throw errors.conflict(`recompute: ${folder} was not written for the plan in ${join(staging, 'plan.json')}; run shard ${i}/${plan.shards} again`);
    }
    if (JSON.stringify(m.dataIds) !== JSON.stringify(plan.plan[i]!.dataIds) || m.files.some((f) => !m.dataIds.includes(f.dataId))) {
      throw errors.conflict(`recompute: ${folder} holds other dataIds than the plan gives shard ${i}; run shard ${i}/${plan.shards} again`);
    }
    if (m.signature !== null) {
      if (signature === undefined) signature = { value: m.signature, shard: i };
      else if (signature.value !== m.signature) throw errors.badInput(`recompute: the src catalogs of shard ${i}`, `other columns than those of shard ${signature.shard}; one output needs one schema`);
    }
    for (const f of m.files) {
      if (sizeOf(join(folder, f.path)) !== f.bytes) throw errors.io(join(folder, f.path), `missing or not ${f.bytes} bytes as its shard's manifest says; run shard ${i}/${plan.shards} again`);
      parts.push({ from: join(folder, f.path), file: f, ordinal: ordinal.get(f.dataId)! });
    }
  }
  // The single-process order: by dataId in the selection, then job (each shard's list is already in that order).
  parts.sort((a, b) => a.ordinal - b.ordinal);
  const files = parts.map((p) => p.file);
  const rows = files.reduce((s, f) => s + f.rows, 0);
  const manifest = { ...datasetManifest(plan.partitionBy, rows, provenanceOf(pinOf(plan), plan.dataIds.map((d) => d.versions)), files), shards: plan };
  publishDataset(staging, target, parts.map((p) => ({ from: p.from, path: p.file.path })), `${JSON.stringify(manifest, null, 2)}\n`, () => isPublishedFrom(target, text));
  return { written: plan.shards, published: true, ...(mineFolder !== undefined && { mine: mineFolder }) };
}

/** `recompute --finish DIR/`: publish a set whose shards are all written (or say it already is). */
export function finishShards(out: string): FinishSummary {
  const target = requireDataset(/[/\\]$/.test(out) ? out : `${out}/`, '--finish');
  const staging = stagingOf(target);
  const text = readStagedPlan(staging);
  const done = (plan: ShardPlan, published: boolean): FinishSummary => {
    const m = readPublishedManifest(target)!;
    return { out: target, at: plan.at, shards: plan.shards, rows: m['rows'] as number, parts: (m['files'] as unknown[]).length, published };
  };
  if (text === undefined) {
    const pub = publishedPlanText(target);
    if (pub !== undefined) return done(parsePlan(pub, join(target, DATASET_MANIFEST)), false);
    throw errors.notFound(`a shard plan for ${out} (no ${join(staging, 'plan.json')}; run recompute --plan N or a shard first)`);
  }
  const plan = parsePlan(text, join(staging, 'plan.json'));
  const state = complete(staging, target, plan, text);
  if (!state.published) {
    const missing = plan.plan.filter((s) => !existsSync(join(staging, shardFolderName(s.shard, plan.shards), DATASET_MANIFEST))).map((s) => s.shard);
    throw errors.notFound(`shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${plan.shards} for ${out} (${state.written} written in ${staging}); run them, then --finish again`);
  }
  removeStaging(staging);
  return done(plan, state.already !== true);
}
