/** BoundedField <-> the JSON of DESIGN.md §3 ("type": constant | chebyshev | product). */
import { errors } from '../errors.js';
import { type BoundedField, ConstantField, type FieldJson } from './boundedField.js';
import { ChebyshevField } from './chebyshevField.js';
import { ProductField } from './productField.js';

/** Products nest at most this deep in JSON (they are flattened on reading; afw writes depth 1). */
export const MAX_FIELD_DEPTH = 16;

export function fieldFromJson(json: unknown, where = 'field', depth = 0): BoundedField {
  if (depth > MAX_FIELD_DEPTH) throw errors.badInput(where, `products nested more than ${MAX_FIELD_DEPTH} deep`);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw errors.badInput(where, 'expected an object with a "type"');
  }
  const j = json as Record<string, unknown>;
  switch (j['type']) {
    case 'constant':
      return new ConstantField(j['value'] as number, j['bbox'] as ConstantField['bbox']);
    case 'chebyshev':
      if (!Array.isArray(j['coefficients']) || !(j['coefficients'] as unknown[]).every(Array.isArray)) {
        throw errors.badInput(where, 'chebyshev "coefficients" must be an array of arrays, indexed [y][x]');
      }
      return new ChebyshevField(j['bbox'] as ChebyshevField['bbox'], j['coefficients'] as number[][]);
    case 'product':
      if (!Array.isArray(j['factors'])) throw errors.badInput(where, 'product "factors" must be an array');
      return new ProductField((j['factors'] as unknown[]).map((f, k) => fieldFromJson(f, `${where}.factors[${k}]`, depth + 1)));
    default:
      throw errors.badInput(where, `unknown field type ${JSON.stringify(j['type'])} (expected constant, chebyshev or product)`);
  }
}

export function fieldToJson(field: BoundedField): FieldJson {
  return field.toJson();
}
