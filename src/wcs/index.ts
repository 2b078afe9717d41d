export { TanSipWcs, makeTanSipWcs, type SkyToPixelOptions, type FromHeaderOptions, type LocalLinearization, type MakeTanSipWcsInput } from './tanSipWcs.js';
export { NoConvergenceError } from './errors.js';
export type { PixelBox, Mat2 } from './params.js';
export type { SipPolynomial, SipInput } from './sip.js';
export { loadWcs, wcsFromBytes, WCS_KEY, type LoadWcsOptions } from './load.js';
