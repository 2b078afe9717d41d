/** Dense linear least squares by Householder QR (stable where normal equations are not). */
import { SkycalError } from '../errors.js';

/**
 * Solve min |A c - b| for every right-hand side. A is rows x cols, row major.
 * Returns one coefficient vector per right-hand side.
 */
export function solveLeastSquares(a: Float64Array, rows: number, cols: number, rhs: Float64Array[]): Float64Array[] {
  if (rows < cols) throw new SkycalError('BAD_INPUT', `least squares: ${rows} points for ${cols} unknowns`);
  const A = Float64Array.from(a);
  const B = rhs.map((b) => Float64Array.from(b));
  for (let k = 0; k < cols; k++) {
    let norm = 0;
    for (let i = k; i < rows; i++) norm += A[i * cols + k]! ** 2;
    norm = Math.sqrt(norm);
    if (norm === 0) throw new SkycalError('BAD_INPUT', 'least squares: rank-deficient design (too few distinct points)');
    const akk = A[k * cols + k]!;
    const alpha = akk > 0 ? -norm : norm;
    // v = x - alpha e1, stored in column k below (and at) the diagonal.
    A[k * cols + k] = akk - alpha;
    let vnorm2 = 0;
    for (let i = k; i < rows; i++) vnorm2 += A[i * cols + k]! ** 2;
    for (let j = k + 1; j < cols; j++) {
      let s = 0;
      for (let i = k; i < rows; i++) s += A[i * cols + k]! * A[i * cols + j]!;
      const f = (2 * s) / vnorm2;
      for (let i = k; i < rows; i++) A[i * cols + j]! -= f * A[i * cols + k]!;
    }
    for (const b of B) {
      let s = 0;
      for (let i = k; i < rows; i++) s += A[i * cols + k]! * b[i]!;
      const f = (2 * s) / vnorm2;
      for (let i = k; i < rows; i++) b[i]! -= f * A[i * cols + k]!;
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
