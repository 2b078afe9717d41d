import type { PixelBox } from './params.js';

/** Cell centres of an nx x ny grid over a pixel box. */
export function pixelGrid(bbox: PixelBox, nx: number, ny: number): { x: Float64Array; y: Float64Array } {
  const x = new Float64Array(nx * ny);
  const y = new Float64Array(nx * ny);
  const w = bbox.maxX - bbox.minX + 1;
  const h = bbox.maxY - bbox.minY + 1;
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      x[j * nx + i] = bbox.minX - 0.5 + ((i + 0.5) * w) / nx;
      y[j * nx + i] = bbox.minY - 0.5 + ((j + 0.5) * h) / ny;
    }
  }
  return { x, y };
}
