/** The worker pool over shared-memory columns. */
export { KernelPool, defaultWorkerCount, type PoolOptions, type RunOptions } from './pool.js';
export { sharedFloat64, sharedUint8, copyColumnInto, sharedColumnFrom, SharedScratch } from './shared.js';
