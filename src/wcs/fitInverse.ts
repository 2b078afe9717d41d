/**
 * Least-squares AP/BP: on a grid over the box, the forward model gives
 * (U, V) = (u + f, v + g); fit u - U = AP(U, V) and v - V = BP(U, V) with every
 * term p + q <= order. U, V are scaled to about [-1, 1] for conditioning.
 */
import { errors } from '../errors.js';
import { SIP_POLY } from '../../native-free-kernels/sipPoly.js';
import { SIP_MAX_ORDER, TAN_SIP_SLOTS as S } from '../../native-free-kernels/tanSip.js';
import type { PixelBox } from './params.js';
import { solveLeastSquares } from '../numeric/leastSquares.js';
import { sipFromTerms, type SipPolynomial } from './sip.js';

export function fitInverseSip(model: Float64Array, order: number, bbox: PixelBox, gridPerAxis = 0): { ap: SipPolynomial; bp: SipPolynomial } {
  if (!Number.isInteger(order) || order < 0 || order > SIP_MAX_ORDER) {
    throw errors.badInput('fitInverse', `order ${order} is outside 0..${SIP_MAX_ORDER}`);
  }
  const terms: [number, number][] = [];
  for (let p = 0; p <= order; p++) for (let q = 0; q <= order - p; q++) terms.push([p, q]);
  const g = gridPerAxis > 0 ? gridPerAxis : Math.max(30, 4 * (order + 1));
  const rows = g * g;
  const x0 = model[S.X0]!, y0 = model[S.Y0]!, n = model[S.SIP_ORDER]!;
  const poly = SIP_POLY[Math.max(n, 0)]!;
  const Us = new Float64Array(rows), Vs = new Float64Array(rows), du = new Float64Array(rows), dv = new Float64Array(rows);
  let scale = 0;
  for (let j = 0, r = 0; j < g; j++) {
    for (let i = 0; i < g; i++, r++) {
      const u = bbox.minX + ((bbox.maxX - bbox.minX) * i) / (g - 1) - x0;
      const v = bbox.minY + ((bbox.maxY - bbox.minY) * j) / (g - 1) - y0;
      const U = n >= 0 ? u + poly(model, model[S.OFFSET_A]!, u, v) : u;
      const V = n >= 0 ? v + poly(model, model[S.OFFSET_B]!, u, v) : v;
      Us[r] = U; Vs[r] = V; du[r] = u - U; dv[r] = v - V;
      scale = Math.max(scale, Math.abs(U), Math.abs(V));
    }
  }
  scale = scale > 0 ? scale : 1;
  const design = new Float64Array(rows * terms.length);
  for (let r = 0; r < rows; r++) {
    const su = Us[r]! / scale, sv = Vs[r]! / scale;
    terms.forEach(([p, q], k) => (design[r * terms.length + k] = su ** p * sv ** q));
  }
  const [ca, cb] = solveLeastSquares(design, rows, terms.length, [du, dv], 'fitInverse') as [Float64Array, Float64Array];
  const unscale = (c: Float64Array) => terms.map(([p, q], k) => [p, q, c[k]! / scale ** (p + q)] as [number, number, number]);
  return { ap: sipFromTerms(order, unscale(ca)), bp: sipFromTerms(order, unscale(cb)) };
}
