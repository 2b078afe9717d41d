/**
 * Calibrate an image (counts -> nJy per pixel): image x c and variance x c^2,
 * over the overlap of the image with the field's bbox; pixels outside the
 * overlap are copied unchanged. The image is an ndarray [rows y][columns x]
 * whose element [0][0] sits at parent pixel xy0. Returns new arrays of the
 * input's element type; the inputs are not touched.
 */
import ndarray from 'ndarray';
import { boundedFieldEvaluate } from '../../native-free-kernels/boundedField.js';
import { errors } from '../errors.js';
import { intersectBoxes } from './bbox.js';
import type { PhotoCalib, Point } from './photoCalib.js';

type Image = ndarray.NdArray<ndarray.TypedArray | number[]>;

export interface CalibratedImage {
  image: ndarray.NdArray<Float64Array | Float32Array>;
  variance?: ndarray.NdArray<Float64Array | Float32Array>;
}

function newLike(a: Image, size: number): Float64Array | Float32Array {
  return a.data instanceof Float32Array ? new Float32Array(size) : new Float64Array(size);
}

export function calibrateImage(calib: PhotoCalib, image: Image, variance?: Image, xy0: Point = { x: 0, y: 0 }): CalibratedImage {
  if (image.shape.length !== 2) throw errors.badInput('calibrateImage', `expected a 2-D image, got shape [${image.shape}]`);
  const [rows, cols] = image.shape as [number, number];
  if (variance && (variance.shape.length !== 2 || variance.shape[0] !== rows || variance.shape[1] !== cols)) {
    throw errors.badInput('calibrateImage', `variance shape [${variance.shape}] differs from image shape [${image.shape}]`);
  }
  if (!Number.isInteger(xy0.x) || !Number.isInteger(xy0.y)) throw errors.badInput('calibrateImage', 'xy0 must be integer pixels');
  const imageBox = { minX: xy0.x, minY: xy0.y, maxX: xy0.x + cols - 1, maxY: xy0.y + rows - 1 };
  const fieldBox = calib.isConstant ? calib.field.bbox ?? imageBox : calib.field.bbox!;
  const overlap = cols > 0 && rows > 0 ? intersectBoxes(imageBox, fieldBox) : undefined;
  const outImage = newLike(image, rows * cols);
  const outVar = variance ? newLike(variance, rows * cols) : undefined;
  const copy = (src: Image, dst: Float64Array | Float32Array) => {
    for (let j = 0; j < rows; j++) for (let i = 0; i < cols; i++) dst[j * cols + i] = Number(src.get(j, i));
  };
  copy(image, outImage);
  if (variance && outVar) copy(variance, outVar);
  if (overlap) {
    const model = calib.toKernelModel();
    const n = overlap.maxX - overlap.minX + 1;
    const xs = new Float64Array(n), ys = new Float64Array(n), c = new Float64Array(n);
    for (let k = 0; k < n; k++) xs[k] = overlap.minX + k;
    const i0 = overlap.minX - xy0.x;
    for (let py = overlap.minY; py <= overlap.maxY; py++) {
      ys.fill(py);
      boundedFieldEvaluate(n, model, xs, 1, 0, ys, 1, 0, c, 1, 0);
      const row = (py - xy0.y) * cols + i0;
      for (let k = 0; k < n; k++) {
        outImage[row + k] = outImage[row + k]! * c[k]!;
        if (outVar) outVar[row + k] = outVar[row + k]! * c[k]! * c[k]!;
      }
    }
  }
  const result: CalibratedImage = { image: ndarray(outImage, [rows, cols]) };
  if (outVar) result.variance = ndarray(outVar, [rows, cols]);
  return result;
}
