/**
 * Per-point status bits (PROJ style: the batch goes on, the point gets NaN
 * and a reason). A status array is a Uint8Array; 0 means good.
 */
/** An input coordinate was NaN or infinite. */
export const STATUS_NONFINITE_INPUT = 1;
/** Outside the projection's domain (e.g. the far hemisphere of a TAN projection). */
export const STATUS_OUTSIDE_DOMAIN = 2;
/** An iterative inverse did not reach its tolerance in the allowed iterations. */
export const STATUS_NO_CONVERGENCE = 4;
/** An iterative inverse diverged (the model is not invertible there). */
export const STATUS_DIVERGED = 8;
/** A calibrated flux was zero or negative, so it has no magnitude (mag NaN, as afw). */
export const STATUS_NONPOSITIVE_FLUX = 16;
/** Finite input, but the model's arithmetic overflowed (e.g. SIP terms of 1e300): NaN output. */
export const STATUS_OVERFLOW = 32;

export const STATUS_NAMES: readonly (readonly [number, string])[] = [
  [STATUS_NONFINITE_INPUT, 'nonFiniteInput'],
  [STATUS_OUTSIDE_DOMAIN, 'outsideDomain'],
  [STATUS_NO_CONVERGENCE, 'noConvergence'],
  [STATUS_DIVERGED, 'diverged'],
  [STATUS_NONPOSITIVE_FLUX, 'nonPositiveFlux'],
  [STATUS_OVERFLOW, 'overflow'],
];
