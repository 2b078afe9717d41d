/**
 * A scalar Newton solve that keeps its best iterate, for the strict mode's
 * error report (the kernel itself writes NaN for points that fail).
 */
import { SIP_GRAD } from '../../native-free-kernels/sipPoly.js';

export interface BestSolution {
  x: number;
  y: number;
  /** |residual| (px) of the forward model at (x, y): how far from exact it is. */
  accuracy: number;
}

/** (U, V): the target in the undistorted pixel plane; (u, v) the seed; both relative to CRPIX. */
export function bestNewtonSolution(model: Float64Array, U: number, V: number, u: number, v: number, maxIter: number): BestSolution {
  const n = model[18]!;
  const grad = SIP_GRAD[Math.max(n, 0)]!;
  const oa = model[20]!, ob = model[21]!;
  const ga = new Float64Array(3), gb = new Float64Array(3);
  let best = { u, v, r: Infinity };
  for (let k = 0; k <= maxIter; k++) {
    if (n >= 0) {
      grad(model, oa, u, v, ga);
      grad(model, ob, u, v, gb);
    }
    const ru = u + ga[0]! - U, rv = v + gb[0]! - V;
    const r = Math.hypot(ru, rv);
    if (r < best.r) best = { u, v, r };
    if (!Number.isFinite(r) || k === maxIter) break;
    const j11 = 1 + ga[1]!, j12 = ga[2]!, j21 = gb[1]!, j22 = 1 + gb[2]!;
    const det = j11 * j22 - j12 * j21;
    u -= (j22 * ru - j12 * rv) / det;
    v -= (j11 * rv - j21 * ru) / det;
  }
  return { x: best.u + model[2]!, y: best.v + model[3]!, accuracy: best.r };
}
