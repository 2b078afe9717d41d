/**
 * Integer pixel boxes with inclusive ends (afw's Box2I). The continuous
 * domain a box covers is [minX - 0.5, maxX + 0.5] x [minY - 0.5, maxY + 0.5],
 * since (0, 0) is the centre of the first pixel.
 */
import { errors } from '../errors.js';

export interface Box2I {
  readonly minX: number;
  readonly minY: number;
  readonly maxX: number;
  readonly maxY: number;
}

const BOX_MIN = -(2 ** 31), BOX_MAX = 2 ** 31 - 1;

/** A checked, frozen copy; `where` names the input in errors. */
export function makeBox(box: Box2I, where = 'bbox'): Box2I {
  const b = box as unknown as Record<string, unknown>;
  for (const k of ['minX', 'minY', 'maxX', 'maxY']) {
    const v = b?.[k];
    // 32-bit integers, as afw's Box2I: so widths, areas and the Chebyshev range transform stay finite and exact.
    if (typeof v !== 'number' || !Number.isInteger(v) || v < BOX_MIN || v > BOX_MAX) {
      throw errors.badInput(where, `${k} must be a 32-bit integer, got ${JSON.stringify(v)}`);
    }
  }
  if (box.maxX < box.minX || box.maxY < box.minY) {
    throw errors.badInput(where, `empty box (${box.minX},${box.minY})..(${box.maxX},${box.maxY})`);
  }
  return Object.freeze({ minX: box.minX, minY: box.minY, maxX: box.maxX, maxY: box.maxY });
}

export const boxWidth = (b: Box2I): number => b.maxX - b.minX + 1;
export const boxHeight = (b: Box2I): number => b.maxY - b.minY + 1;
export const boxArea = (b: Box2I): number => boxWidth(b) * boxHeight(b);

export function boxesEqual(a: Box2I | undefined, b: Box2I | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.minX === b.minX && a.minY === b.minY && a.maxX === b.maxX && a.maxY === b.maxY;
}

/** The overlap of two boxes, or undefined when they do not meet. */
export function intersectBoxes(a: Box2I, b: Box2I): Box2I | undefined {
  const minX = Math.max(a.minX, b.minX), minY = Math.max(a.minY, b.minY);
  const maxX = Math.min(a.maxX, b.maxX), maxY = Math.min(a.maxY, b.maxY);
  return maxX < minX || maxY < minY ? undefined : { minX, minY, maxX, maxY };
}

export const boxToString = (b: Box2I): string => `(${b.minX},${b.minY})..(${b.maxX},${b.maxY})`;
