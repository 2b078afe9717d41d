/**
 * SIP polynomial coefficients (Shupe et al. 2005): f(u, v) = sum c[p][q] u^p v^q
 * over p + q <= order. Stored dense and frozen: c[p][q], zero where absent.
 */
import { errors } from '../errors.js';
import { SIP_MAX_ORDER } from '../../native-free-kernels/tanSip.js';

export interface SipPolynomial {
  readonly order: number;
  /** coefficients[p][q] multiplies u^p v^q; (order + 1) x (order + 1), zero where p + q > order. */
  readonly coefficients: readonly (readonly number[])[];
}

/** Something with ndarray's shape and get(), so callers may pass an ndarray. */
interface NdarrayLike {
  shape: readonly number[];
  get(i: number, j: number): number;
}

export type SipInput = readonly (readonly number[])[] | NdarrayLike;

function isNdarrayLike(m: unknown): m is NdarrayLike {
  return typeof m === 'object' && m !== null && 'shape' in m && typeof (m as NdarrayLike).get === 'function';
}

/**
 * A SIP polynomial from a square matrix m[p][q] (or an ndarray with .get(p, q)).
 * The order is the matrix size minus one; terms with p + q > order must be zero.
 */
export function makeSipPolynomial(m: SipInput, name: string): SipPolynomial {
  const shape = 'expected a square matrix [p][q] of numbers, (order + 1) x (order + 1) (an array of rows, or a 2-D ndarray)';
  if (isNdarrayLike(m)) {
    if (!Array.isArray(m.shape) || m.shape.length !== 2) throw errors.badInput(name, shape);
  } else if (!Array.isArray(m) || !m.every((row) => Array.isArray(row))) {
    throw errors.badInput(name, `${shape}; got ${Array.isArray(m) ? 'an array with a non-array row' : typeof m}`);
  }
  const size = isNdarrayLike(m) ? m.shape[0]! : m.length;
  const get = isNdarrayLike(m) ? (p: number, q: number) => m.get(p, q) : (p: number, q: number) => m[p]?.[q] ?? 0;
  if (isNdarrayLike(m) && m.shape[1] !== size) throw errors.badInput(name, 'expected a square matrix');
  if (!isNdarrayLike(m) && m.some((row) => row.length > size)) {
    throw errors.badInput(name, 'expected a square matrix [p][q]');
  }
  const order = size - 1;
  if (order < 0 || order > SIP_MAX_ORDER) {
    throw errors.badInput(name, `order ${order} is outside 0..${SIP_MAX_ORDER}`);
  }
  const rows: number[][] = [];
  for (let p = 0; p <= order; p++) {
    const row: number[] = [];
    for (let q = 0; q <= order; q++) {
      const c = get(p, q);
      if (typeof c !== 'number' || !Number.isFinite(c)) throw errors.badInput(`${name}[${p}][${q}]`, 'not a finite number');
      if (p + q > order && c !== 0) {
        throw errors.badInput(`${name}[${p}][${q}]`, `term beyond order ${order} must be zero`);
      }
      row.push(c === 0 ? 0 : c); // -0 is written as no card, so it reads back as 0
    }
    rows.push(Object.freeze(row) as number[]);
  }
  return Object.freeze({ order, coefficients: Object.freeze(rows) });
}

/** A zero polynomial of the given order, filled from (p, q, value) terms. */
export function sipFromTerms(order: number, terms: Iterable<[number, number, number]>): SipPolynomial {
  const m = Array.from({ length: order + 1 }, () => new Array<number>(order + 1).fill(0));
  for (const [p, q, c] of terms) m[p]![q] = c;
  return makeSipPolynomial(m, 'SIP');
}

/** Write `poly` padded to `order` into model[offset...] as dense (order + 1)^2, c[p * (order + 1) + q]. */
export function packSip(poly: SipPolynomial | undefined, order: number, model: Float64Array, offset: number): void {
  if (!poly) return;
  for (let p = 0; p <= poly.order; p++) {
    for (let q = 0; q <= poly.order - p; q++) model[offset + p * (order + 1) + q] = poly.coefficients[p]![q]!;
  }
}

export function sipEquals(a: SipPolynomial | undefined, b: SipPolynomial | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.order !== b.order) return false;
  return a.coefficients.every((row, p) => row.every((c, q) => Object.is(c, b.coefficients[p]![q])));
}
