/** skycal's library entry point (package "main"). */
export * from './errors.js';
export * from './photocalib/index.js';
