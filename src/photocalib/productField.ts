/**
 * The product of bounded fields on one bbox, as afw's ProductBoundedField:
 * c(x, y) = prod_k factor_k(x, y), multiplied in factor order.
 */
import { FIELD_PRODUCT } from '../../native-free-kernels/boundedField.js';
import { errors } from '../errors.js';
import { type Box2I, boxArea, boxToString, boxesEqual } from './bbox.js';
import { BoundedField, ConstantField, type ProductFieldJson } from './boundedField.js';
import { ChebyshevField } from './chebyshevField.js';

export class ProductField extends BoundedField {
  readonly type = 'product' as const;
  readonly bbox: Box2I | undefined;
  /** Constant and Chebyshev factors; nested products are flattened. Frozen. */
  readonly factors: readonly (ConstantField | ChebyshevField)[];

  constructor(factors: readonly BoundedField[]) {
    super();
    if (!Array.isArray(factors) || factors.length === 0) {
      throw errors.badInput('product field', 'needs at least one factor');
    }
    const flat: (ConstantField | ChebyshevField)[] = [];
    for (const f of factors) {
      if (f instanceof ProductField) flat.push(...f.factors);
      else if (f instanceof ConstantField || f instanceof ChebyshevField) flat.push(f);
      else throw errors.badInput('product field', `unsupported factor ${String(f)}`);
    }
    // All factors with a bbox must share it (a bbox-less constant fits any).
    const boxes = flat.map((f) => f.bbox).filter((b): b is Box2I => b !== undefined);
    const first = boxes[0];
    for (const b of boxes) {
      if (!boxesEqual(b, first)) {
        throw errors.badInput('product field', `factors have different bboxes ${boxToString(first!)} and ${boxToString(b)}`);
      }
    }
    this.bbox = first;
    this.factors = Object.freeze(flat);
    this.seal();
  }

  protected pack(): number[] {
    const out = [FIELD_PRODUCT, this.factors.length];
    for (const f of this.factors) out.push(...f.packedModel());
    return out;
  }

  /** The factors multiplied out into one Chebyshev series (or a constant): exact, closed form. */
  expand(): ConstantField | ChebyshevField {
    let constant = 1;
    let series: ChebyshevField | undefined;
    for (const f of this.factors) {
      if (f instanceof ConstantField) constant *= f.value;
      else series = series === undefined ? f : series.multiply(f);
    }
    return series === undefined ? new ConstantField(constant, this.bbox) : series.scaled(constant);
  }

  mean(): number {
    return this.expand().mean();
  }

  maxAbsBound(): number {
    return this.factors.reduce((b, f) => b * f.maxAbsBound(), 1);
  }

  integrate(): number {
    if (this.bbox === undefined) throw errors.badInput('integrate', 'a product of constants without a bbox has no finite integral');
    return this.mean() * boxArea(this.bbox);
  }

  /** Scales the first factor. */
  scaled(factor: number): ProductField {
    return new ProductField([this.factors[0]!.scaled(factor), ...this.factors.slice(1)]);
  }

  toJson(): ProductFieldJson {
    return { type: 'product', factors: this.factors.map((f) => f.toJson()) };
  }
}
