/**
 * BoundedField: a scalar field c(x, y) over an integer pixel box, in
 * parent-pixel coordinates ((0, 0) is the centre of the first pixel), as in
 * afw.math.BoundedField. Immutable. Evaluation goes through the same kernels
 * the batch paths use, so a single point and a million agree to the bit.
 */
import ndarray from 'ndarray';
import { FIELD_CONSTANT, boundedFieldEvaluate } from '../../native-free-kernels/boundedField.js';
import { errors } from '../errors.js';
import { type Box2I, boxArea, boxToString, makeBox } from './bbox.js';

export interface ConstantFieldJson {
  type: 'constant';
  value: number;
  bbox?: Box2I;
}
export interface ChebyshevFieldJson {
  type: 'chebyshev';
  bbox: Box2I;
  /** Indexed [y][x]. */
  coefficients: number[][];
}
export interface ProductFieldJson {
  type: 'product';
  factors: FieldJson[];
}
export type FieldJson = ConstantFieldJson | ChebyshevFieldJson | ProductFieldJson;

// One-point scratch for evaluate(x, y): avoids an allocation per call.
const X1 = new Float64Array(1);
const Y1 = new Float64Array(1);
const OUT1 = new Float64Array(1);
const EMPTY = new Float64Array(0);

export abstract class BoundedField {
  abstract readonly type: 'constant' | 'chebyshev' | 'product';
  /** The box the field is defined on; a constant may have none (defined everywhere). */
  abstract readonly bbox: Box2I | undefined;
  private packed: Float64Array = EMPTY;

  /** The field packed for the kernels (layout in native-free-kernels/boundedField.ts); a fresh copy. */
  toKernelModel(): Float64Array {
    return this.packedModel().slice();
  }

  /** The packed model, shared; callers must not modify it. */
  packedModel(): Float64Array {
    return this.packed;
  }

  /** Subclasses call this last in their constructor: pack once, then freeze. */
  protected seal(): void {
    this.packed = Float64Array.from(this.pack());
    Object.freeze(this);
  }

  protected abstract pack(): number[];

  /** c(x, y) at one parent-pixel position. Outside the bbox a polynomial is extrapolated, as afw does. */
  evaluate(x: number, y: number): number {
    X1[0] = x;
    Y1[0] = y;
    boundedFieldEvaluate(1, this.packedModel(), X1, 1, 0, Y1, 1, 0, OUT1, 1, 0);
    return OUT1[0]!;
  }

  /** c at each (x[i], y[i]); a new array unless `out` is given. */
  evaluateArrays(x: ArrayLike<number>, y: ArrayLike<number>, out?: Float64Array): Float64Array {
    if (x.length !== y.length) throw errors.badInput('evaluateArrays', `x has ${x.length} values, y ${y.length}`);
    const xs = x instanceof Float64Array ? x : Float64Array.from(x);
    const ys = y instanceof Float64Array ? y : Float64Array.from(y);
    const result = out ?? new Float64Array(xs.length);
    boundedFieldEvaluate(xs.length, this.packedModel(), xs, 1, 0, ys, 1, 0, result, 1, 0);
    return result;
  }

  /**
   * c on the grid x = minX + i*step, y = minY + j*step inside `bbox` (default:
   * the field's), as an ndarray of shape [rows (y), columns (x)].
   */
  evaluateGrid(bbox: Box2I | undefined = this.bbox, step = 1): ndarray.NdArray<Float64Array> {
    if (bbox === undefined) throw errors.badInput('evaluateGrid', 'a constant field without a bbox needs one');
    const box = makeBox(bbox, 'evaluateGrid bbox');
    if (!Number.isInteger(step) || step < 1) throw errors.badInput('evaluateGrid', `step must be an integer >= 1, got ${step}`);
    const nx = Math.floor((box.maxX - box.minX) / step) + 1;
    const ny = Math.floor((box.maxY - box.minY) / step) + 1;
    const out = new Float64Array(nx * ny);
    const xs = new Float64Array(nx);
    const ys = new Float64Array(nx);
    for (let i = 0; i < nx; i++) xs[i] = box.minX + i * step;
    const model = this.packedModel();
    for (let j = 0; j < ny; j++) {
      ys.fill(box.minY + j * step);
      boundedFieldEvaluate(nx, model, xs, 1, 0, ys, 1, 0, out, 1, j * nx);
    }
    return ndarray(out, [ny, nx]);
  }

  /** The mean of c over the bbox (closed form). */
  abstract mean(): number;
  /** An upper bound of |c| on the bbox (|T_n| <= 1 there): Infinity or NaN when the field overflows. */
  abstract maxAbsBound(): number;
  /** The integral of c over the bbox's continuous domain, in pixel units (closed form). */
  abstract integrate(): number;
  /** factor * c, as a new field. */
  abstract scaled(factor: number): BoundedField;
  abstract toJson(): FieldJson;

  toString(): string {
    return `${this.type} field on ${this.bbox ? boxToString(this.bbox) : 'the whole plane'}`;
  }
}

export function requireFinite(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw errors.badInput(where, `expected a finite number, got ${JSON.stringify(v) ?? String(v)}`);
  }
  return v;
}

/** c(x, y) = value everywhere. */
export class ConstantField extends BoundedField {
  readonly type = 'constant' as const;
  readonly value: number;
  readonly bbox: Box2I | undefined;

  constructor(value: number, bbox?: Box2I) {
    super();
    this.value = requireFinite(value, 'constant field value');
    this.bbox = bbox === undefined ? undefined : makeBox(bbox, 'constant field bbox');
    this.seal();
  }

  protected pack(): number[] {
    return [FIELD_CONSTANT, this.value];
  }

  mean(): number {
    return this.value;
  }

  maxAbsBound(): number {
    return Math.abs(this.value);
  }

  integrate(): number {
    if (this.bbox === undefined) throw errors.badInput('integrate', 'a constant field without a bbox has no finite integral');
    return this.value * boxArea(this.bbox);
  }

  scaled(factor: number): ConstantField {
    return new ConstantField(this.value * requireFinite(factor, 'scale factor'), this.bbox);
  }

  toJson(): ConstantFieldJson {
    return this.bbox === undefined ? { type: 'constant', value: this.value } : { type: 'constant', value: this.value, bbox: { ...this.bbox } };
  }
}
