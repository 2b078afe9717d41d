/**
 * Dense linear least squares min |A p - b| by Householder QR (better
 * conditioned than normal equations; sizes here are small: P <= ~100).
 */
import { SkycalError } from '../errors.js';

/** A is M x P, row-major (row i at i*P); b has M values. Returns the P parameters. */
export function solveLeastSquares(A: Float64Array, b: Float64Array, M: number, P: number): Float64Array {
  if (M < P) throw new SkycalError('BAD_INPUT', `least squares: ${M} samples cannot fix ${P} coefficients`);
  const a = A.slice();
  const r = b.slice();
  const columnNorm = new Float64Array(P);
  for (let i = 0; i < M; i++) for (let j = 0; j < P; j++) columnNorm[j] = columnNorm[j]! + a[i * P + j]! ** 2;
  for (let k = 0; k < P; k++) {
    // Householder vector for column k below the diagonal.
    let norm = 0;
    for (let i = k; i < M; i++) norm += a[i * P + k]! ** 2;
    norm = Math.sqrt(norm);
    if (!(norm > 1e-12 * Math.sqrt(columnNorm[k]!))) throw new SkycalError('BAD_INPUT', `least squares: the samples do not constrain coefficient ${k} (singular design)`);
    const akk = a[k * P + k]!;
    const alpha = akk > 0 ? -norm : norm;
    a[k * P + k] = akk - alpha;
    let vnorm2 = 0;
    for (let i = k; i < M; i++) vnorm2 += a[i * P + k]! ** 2;
    if (vnorm2 > 0) {
      for (let j = k + 1; j < P; j++) {
        let s = 0;
        for (let i = k; i < M; i++) s += a[i * P + k]! * a[i * P + j]!;
        const f = (2 * s) / vnorm2;
        for (let i = k; i < M; i++) a[i * P + j] = a[i * P + j]! - f * a[i * P + k]!;
      }
      let s = 0;
      for (let i = k; i < M; i++) s += a[i * P + k]! * r[i]!;
      const f = (2 * s) / vnorm2;
      for (let i = k; i < M; i++) r[i] = r[i]! - f * a[i * P + k]!;
    }
    a[k * P + k] = alpha;
  }
  const p = new Float64Array(P);
  for (let k = P - 1; k >= 0; k--) {
    let s = r[k]!;
    for (let j = k + 1; j < P; j++) s -= a[k * P + j]! * p[j]!;
    p[k] = s / a[k * P + k]!;
  }
  return p;
}
