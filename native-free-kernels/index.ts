/**
 * Pure kernels over typed arrays: no Node, Arrow or src imports, no
 * allocation and no throw per point, so the same code runs in the main
 * thread, a worker and a browser. Shape (stdlib-js BLAS style):
 *   kernel(N, scalars..., x, strideX, offsetX, ..., out, strideOut, offsetOut, status, ...)
 * returning the number of bad points; a bad point gets NaN and a status bit.
 */
export * from './status.js';
export * from './tanSip.js';
export * from './separation.js';
export * from './boundedField.js';
export * from './photoCalib.js';
export * from './affine.js';
export * from './columnKernels.js';
