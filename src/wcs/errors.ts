import { SkycalError } from '../errors.js';

/**
 * Strict skyToPixel: some points have no solution. Like astropy's
 * NoConvergence, it hands back what the kernel itself computed (its own
 * iterates, not a second solver's):
 *   bestSolution  x, y for every input point: the solution where it converged,
 *                 the solver's last iterate where it did not (for a diverging
 *                 point the iterate before the step that grew), NaN where the
 *                 point has no projection (NaN input, |dec| > 90, the far side
 *                 of the tangent plane)
 *   indices       the failing points, ascending
 *   status        each failing point's status bits (native-free-kernels/status.ts)
 *   accuracy      per failing point, the length (px) of the last Newton step (NaN without a projection)
 *   niter         the most Newton iterations any point used
 *   divergent     failing points whose steps grew or overflowed (STATUS_DIVERGED, STATUS_OVERFLOW)
 *   slowConv      failing points that used up maxIter (STATUS_NO_CONVERGENCE)
 */
export class NoConvergenceError extends SkycalError {
  readonly bestSolution: { readonly x: Float64Array; readonly y: Float64Array };
  readonly indices: readonly number[];
  readonly status: Uint8Array;
  readonly accuracy: Float64Array;
  readonly niter: number;
  readonly divergent: readonly number[];
  readonly slowConv: readonly number[];

  constructor(
    message: string,
    fields: {
      bestSolution: { x: Float64Array; y: Float64Array };
      indices: number[];
      status: Uint8Array;
      accuracy: Float64Array;
      niter: number;
      divergent: number[];
      slowConv: number[];
    },
  ) {
    super('NO_CONVERGENCE', message);
    this.name = 'NoConvergenceError';
    this.bestSolution = fields.bestSolution;
    this.indices = fields.indices;
    this.status = fields.status;
    this.accuracy = fields.accuracy;
    this.niter = fields.niter;
    this.divergent = fields.divergent;
    this.slowConv = fields.slowConv;
  }
}
