/** skycal's library entry point (package "."). Each concept re-exports its public API here. */
export { SkycalError, type ErrorCode } from './errors.js';
export * from './wcs/index.js';
export * from './photocalib/index.js';
export * from './catalog/index.js';
export * from './parallel/index.js';
