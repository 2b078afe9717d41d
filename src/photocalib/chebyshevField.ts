/**
 * A 2-D Chebyshev series on a pixel box, as afw's ChebyshevBoundedField:
 *   c(x, y) = sum_j sum_i a[j][i] T_i(x') T_j(y')     (coefficients indexed [y][x])
 * where the inclusive integer bbox widened by 0.5 px, [minX-0.5, maxX+0.5],
 * maps to x' in [-1, 1] (and likewise y). Evaluated by Clenshaw's recurrence.
 */
import { CHEBYSHEV_HEADER, FIELD_CHEBYSHEV } from '../../native-free-kernels/boundedField.js';
import { errors } from '../errors.js';
import { type Box2I, boxArea, boxHeight, boxWidth, makeBox } from './bbox.js';
import { BoundedField, type ChebyshevFieldJson, requireFinite } from './boundedField.js';
import { solveLeastSquares } from '../numeric/leastSquares.js';
import type ndarray from 'ndarray';

/** Samples to fit: positions and values (and optional weights, 1/sigma). */
export interface FieldSamples {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  z: ArrayLike<number>;
  weights?: ArrayLike<number>;
}

export interface ChebyshevFitOptions {
  /** Keep only terms with i + j <= max(orderX, orderY) (afw's default: true). */
  triangular?: boolean;
  /** The field's bbox. Default: the grid's extent, or the integer box around the points. */
  bbox?: Box2I;
  /** Parent-pixel position of grid element [0][0] (default 0, 0). */
  xy0?: { x: number; y: number };
}

function isNdArray(v: unknown): v is ndarray.NdArray {
  return typeof v === 'object' && v !== null && Array.isArray((v as ndarray.NdArray).shape) && 'stride' in v;
}

/** T_0..T_n at t, into out. */
function chebyshevT(t: number, n: number, out: Float64Array): void {
  out[0] = 1;
  if (n >= 1) out[1] = t;
  for (let k = 2; k <= n; k++) out[k] = 2 * t * out[k - 1]! - out[k - 2]!;
}

/** The integral of T_n over [-1, 1]: 0 for odd n, 2 / (1 - n^2) for even n. */
export function integrateChebyshevT(n: number): number {
  return n % 2 === 1 ? 0 : 2 / (1 - n * n);
}

/** afw's range transform: x' = scale * x + offset maps the widened box to [-1, 1]. */
export function chebyshevRangeTransform(bbox: Box2I): { scaleX: number; offsetX: number; scaleY: number; offsetY: number } {
  const w = boxWidth(bbox), h = boxHeight(bbox);
  const cx = 0.5 * (bbox.minX - 0.5 + (bbox.maxX + 0.5));
  const cy = 0.5 * (bbox.minY - 0.5 + (bbox.maxY + 0.5));
  return { scaleX: 2 / w, offsetX: -(2 * cx) / w, scaleY: 2 / h, offsetY: -(2 * cy) / h };
}

export class ChebyshevField extends BoundedField {
  readonly type = 'chebyshev' as const;
  readonly bbox: Box2I;
  /** a[j][i]: row j multiplies T_j(y'), column i multiplies T_i(x'). Frozen. */
  readonly coefficients: readonly (readonly number[])[];
  readonly orderX: number;
  readonly orderY: number;

  constructor(bbox: Box2I, coefficients: ArrayLike<ArrayLike<number>>) {
    super();
    this.bbox = makeBox(bbox, 'chebyshev field bbox');
    if (!coefficients || coefficients.length === 0 || !coefficients[0] || coefficients[0].length === 0) {
      throw errors.badInput('chebyshev field', 'coefficients must be a non-empty [y][x] matrix');
    }
    const nx = coefficients[0].length;
    const rows: number[][] = [];
    for (let j = 0; j < coefficients.length; j++) {
      const row = coefficients[j];
      if (!row || row.length !== nx) {
        throw errors.badInput('chebyshev field', `coefficient row ${j} has ${row?.length ?? 0} values, row 0 has ${nx}`);
      }
      rows.push(Object.freeze(Array.from(row, (v, i) => requireFinite(v, `chebyshev coefficient [${j}][${i}]`))) as number[]);
    }
    this.coefficients = Object.freeze(rows);
    this.orderX = nx - 1;
    this.orderY = rows.length - 1;
    this.seal();
  }

  /**
   * Least-squares fit of a series of order (orderX, orderY) to grid values
   * (an ndarray [rows y][columns x], element [0][0] at xy0) or to scattered
   * samples {x, y, z, weights?}. NaN samples are skipped.
   */
  static fit(data: ndarray.NdArray | FieldSamples, orderX: number, orderY: number, options: ChebyshevFitOptions = {}): ChebyshevField {
    for (const [name, v] of [['orderX', orderX], ['orderY', orderY]] as const) {
      if (!Number.isInteger(v) || v < 0) throw errors.badInput('ChebyshevField.fit', `${name} must be an integer >= 0, got ${v}`);
    }
    const triangular = options.triangular ?? true;
    let xs: Float64Array, ys: Float64Array, zs: Float64Array, ws: Float64Array | undefined;
    let bbox = options.bbox;
    if (isNdArray(data)) {
      if (data.shape.length !== 2) throw errors.badInput('ChebyshevField.fit', 'grid values must be a 2-D ndarray [y][x]');
      const [ny, nx] = data.shape as [number, number];
      const x0 = options.xy0?.x ?? 0, y0 = options.xy0?.y ?? 0;
      xs = new Float64Array(nx * ny); ys = new Float64Array(nx * ny); zs = new Float64Array(nx * ny);
      for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
        const k = j * nx + i;
        xs[k] = x0 + i; ys[k] = y0 + j; zs[k] = Number(data.get(j, i));
      }
      bbox ??= { minX: x0, minY: y0, maxX: x0 + nx - 1, maxY: y0 + ny - 1 };
    } else {
      const n = data.z.length;
      if (data.x.length !== n || data.y.length !== n || (data.weights && data.weights.length !== n)) {
        throw errors.badInput('ChebyshevField.fit', 'x, y, z (and weights) must have the same length');
      }
      xs = Float64Array.from(data.x); ys = Float64Array.from(data.y); zs = Float64Array.from(data.z);
      ws = data.weights ? Float64Array.from(data.weights) : undefined;
      if (bbox === undefined) {
        let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
        for (let k = 0; k < n; k++) {
          minX = Math.min(minX, xs[k]!); maxX = Math.max(maxX, xs[k]!);
          minY = Math.min(minY, ys[k]!); maxY = Math.max(maxY, ys[k]!);
        }
        bbox = { minX: Math.round(minX), minY: Math.round(minY), maxX: Math.round(maxX), maxY: Math.round(maxY) };
      }
    }
    const box = makeBox(bbox, 'ChebyshevField.fit bbox');
    const terms: [number, number][] = [];
    const maxOrder = Math.max(orderX, orderY);
    for (let j = 0; j <= orderY; j++) for (let i = 0; i <= orderX; i++) if (!triangular || i + j <= maxOrder) terms.push([j, i]);
    const keep: number[] = [];
    for (let k = 0; k < zs.length; k++) {
      if (Number.isFinite(xs[k]!) && Number.isFinite(ys[k]!) && Number.isFinite(zs[k]!) && (!ws || Number.isFinite(ws[k]!))) keep.push(k);
    }
    const M = keep.length, P = terms.length;
    const A = new Float64Array(M * P), b = new Float64Array(M);
    const t = chebyshevRangeTransform(box);
    const tx = new Float64Array(orderX + 1), ty = new Float64Array(orderY + 1);
    keep.forEach((k, row) => {
      chebyshevT(t.scaleX * xs[k]! + t.offsetX, orderX, tx);
      chebyshevT(t.scaleY * ys[k]! + t.offsetY, orderY, ty);
      const w = ws ? ws[k]! : 1;
      terms.forEach(([j, i], col) => (A[row * P + col] = w * tx[i]! * ty[j]!));
      b[row] = w * zs[k]!;
    });
    const p = solveLeastSquares(A, M, P, [b], 'ChebyshevField.fit')[0]!;
    const coefficients = Array.from({ length: orderY + 1 }, () => new Array<number>(orderX + 1).fill(0));
    terms.forEach(([j, i], col) => (coefficients[j]![i] = p[col]!));
    return new ChebyshevField(box, coefficients);
  }

  protected pack(): number[] {
    const t = chebyshevRangeTransform(this.bbox);
    const nx = this.orderX + 1, ny = this.orderY + 1;
    const out = [FIELD_CHEBYSHEV, nx, ny, t.scaleX, t.offsetX, t.scaleY, t.offsetY];
    for (const row of this.coefficients) out.push(...row);
    if (out.length !== CHEBYSHEV_HEADER + nx * ny) throw new Error('internal: chebyshev packing');
    return out;
  }

  /** Closed form, as afw: sum a[j][i] I(i) I(j) * area / 4, with I(n) the integral of T_n on [-1, 1]. */
  integrate(): number {
    let sum = 0;
    this.coefficients.forEach((row, j) => row.forEach((a, i) => (sum += a * integrateChebyshevT(i) * integrateChebyshevT(j))));
    return sum * (boxArea(this.bbox) / 4);
  }

  mean(): number {
    return this.integrate() / boxArea(this.bbox);
  }

  maxAbsBound(): number {
    let sum = 0;
    for (const row of this.coefficients) for (const a of row) sum += Math.abs(a);
    return sum;
  }

  scaled(factor: number): ChebyshevField {
    const f = requireFinite(factor, 'scale factor');
    return new ChebyshevField(this.bbox, this.coefficients.map((row) => row.map((a) => a * f)));
  }

  /**
   * The product of two series on the same bbox, as one series (exact:
   * T_m T_n = (T_{m+n} + T_|m-n|) / 2 in each variable). Gives products a
   * closed-form mean.
   */
  multiply(other: ChebyshevField): ChebyshevField {
    const nx = this.orderX + other.orderX + 1, ny = this.orderY + other.orderY + 1;
    const c = Array.from({ length: ny }, () => new Array<number>(nx).fill(0));
    this.coefficients.forEach((ra, ja) =>
      ra.forEach((a, ia) =>
        other.coefficients.forEach((rb, jb) =>
          rb.forEach((b, ib) => {
            const w = (a * b) / 4;
            for (const j of [ja + jb, Math.abs(ja - jb)]) for (const i of [ia + ib, Math.abs(ia - ib)]) c[j]![i]! += w;
          }),
        ),
      ),
    );
    return new ChebyshevField(this.bbox, c);
  }

  toJson(): ChebyshevFieldJson {
    return { type: 'chebyshev', bbox: { ...this.bbox }, coefficients: this.coefficients.map((r) => [...r]) };
  }
}
