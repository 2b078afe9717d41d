/**
 * skycal's library entry point (package "."). Each concept re-exports its
 * public API here. The demo is its own entry (`skycal/demo`), the kernels
 * too (`skycal/kernels`); the CLI and the benchmarks are not library API.
 */
export { SkycalError, type ErrorCode } from './errors.js';
export * from './wcs/index.js';
export * from './photocalib/index.js';
export * from './catalog/index.js';
export * from './parallel/index.js';
export { Repository } from './butler/repository.js';
export type { ButlerAdapter, VersionSpec, Supplied } from './butler/adapter.js';
export { parseDataId, formatDataId, type DataId, type DataIdInput } from './butler/dataId.js';
export { recompute, META_RECOMPUTE, type RecomputeOptions, type RecomputeSummary } from './recompute/recompute.js';
export { planShards, recomputeShard, finishShards, type ShardPlan, type ShardPlanSummary, type ShardSummary, type FinishSummary } from './recompute/sharded.js';
export { assignShards, parseShardArg } from './recompute/shards.js';
export { diffWcsVersions, type DataIdDiff, type DiffOptions } from './compare/diffVersions.js';
export { wcsShift } from './compare/wcsDiff.js';
