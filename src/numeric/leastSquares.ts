/**
 * Dense linear least squares min |A c - b| by Householder QR (stable where
 * the normal equations are not), for the small designs of skycal's fits
 * (AP/BP inverses, Chebyshev fields: at most a few hundred unknowns).
 *
 * Rank test (one, for every caller): column k is dependent on the columns
 * before it when what is left of it after the first k reflections has norm
 * <= RANK_TOLERANCE times its original norm (or the column is all zero);
 * then the design is singular and the fit is BAD_INPUT naming `where`.
 */
import { errors } from '../errors.js';

/** Relative size below which a column counts as dependent on the ones before it. */
export const RANK_TOLERANCE = 1e-12;

/**
 * A is rows x cols, row major (row i at i * cols); one coefficient vector is
 * returned per right-hand side (each of length rows). Inputs are not modified.
 */
export function solveLeastSquares(a: Float64Array, rows: number, cols: number, rhs: readonly Float64Array[], where = 'least squares'): Float64Array[] {
  if (rows < cols) throw errors.badInput(where, `${rows} samples cannot fix ${cols} coefficients`);
  const A = Float64Array.from(a);
  const B = rhs.map((b) => Float64Array.from(b));
  const columnNorm = new Float64Array(cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) columnNorm[j] = columnNorm[j]! + A[i * cols + j]! ** 2;
  for (let k = 0; k < cols; k++) {
    // Householder vector for column k, at and below the diagonal.
    let norm = 0;
    for (let i = k; i < rows; i++) norm += A[i * cols + k]! ** 2;
    norm = Math.sqrt(norm);
    if (!(norm > RANK_TOLERANCE * Math.sqrt(columnNorm[k]!))) {
      throw errors.badInput(where, `the samples do not constrain coefficient ${k} (singular design: too few distinct points?)`);
    }
    const akk = A[k * cols + k]!;
    const alpha = akk > 0 ? -norm : norm;
    A[k * cols + k] = akk - alpha;
    let vnorm2 = 0;
    for (let i = k; i < rows; i++) vnorm2 += A[i * cols + k]! ** 2;
    if (vnorm2 > 0) {
      for (let j = k + 1; j < cols; j++) {
        let s = 0;
        for (let i = k; i < rows; i++) s += A[i * cols + k]! * A[i * cols + j]!;
        const f = (2 * s) / vnorm2;
        for (let i = k; i < rows; i++) A[i * cols + j] = A[i * cols + j]! - f * A[i * cols + k]!;
      }
      for (const b of B) {
        let s = 0;
        for (let i = k; i < rows; i++) s += A[i * cols + k]! * b[i]!;
        const f = (2 * s) / vnorm2;
        for (let i = k; i < rows; i++) b[i] = b[i]! - f * A[i * cols + k]!;
      }
    }
    A[k * cols + k] = alpha; // R's diagonal
  }
  return B.map((b) => {
    const c = new Float64Array(cols);
    for (let k = cols - 1; k >= 0; k--) {
      let s = b[k]!;
      for (let j = k + 1; j < cols; j++) s -= A[k * cols + j]! * c[j]!;
      c[k] = s / A[k * cols + k]!;
    }
    return c;
  });
}
