import { SkycalError } from '../errors.js';

/**
 * Strict skyToPixel: some points did not converge. Like astropy's
 * NoConvergence, it hands back what was computed: the best solution for every
 * input point (NaN where none), the failing indices and the accuracy (px of
 * forward-model residual) reached at each of them.
 */
export class NoConvergenceError extends SkycalError {
  readonly bestSolution: { readonly x: Float64Array; readonly y: Float64Array };
  readonly indices: readonly number[];
  readonly accuracy: Float64Array;

  constructor(message: string, bestSolution: { x: Float64Array; y: Float64Array }, indices: number[], accuracy: Float64Array) {
    super('NO_CONVERGENCE', message);
    this.name = 'NoConvergenceError';
    this.bestSolution = bestSolution;
    this.indices = indices;
    this.accuracy = accuracy;
  }
}
