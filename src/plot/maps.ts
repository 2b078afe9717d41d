/**
 * The two maps of a calibrated image that skycal draws: the photometric
 * calibration c(x, y) / mean as a heat map, and the SIP distortion as
 * arrows. The CLI (`plot photocalib`, `plot distortion`) and the demo both
 * draw them from here.
 */
import type { PhotoCalib } from '../photocalib/photoCalib.js';
import { boxToString } from '../photocalib/bbox.js';
import type { TanSipWcs } from '../wcs/tanSipWcs.js';
import type { PixelBox } from '../wcs/params.js';
import { pixelGrid } from '../wcs/pixelGrid.js';
import { sipDistortionGrid } from '../wcs/distortion.js';
import { heatmapSvg } from './heatmap.js';
import { quiverSvg } from './quiver.js';

/** A grid of square cells over `bbox`, `cells` of them along its longer side (at least 2 per axis). */
export function gridShape(bbox: PixelBox, cells: number): { nx: number; ny: number } {
  const w = bbox.maxX - bbox.minX + 1;
  const h = bbox.maxY - bbox.minY + 1;
  const cell = Math.max(w, h) / cells;
  return { nx: Math.max(2, Math.round(w / cell)), ny: Math.max(2, Math.round(h / cell)) };
}

const extentOf = (b: PixelBox) => ({ x0: b.minX - 0.5, x1: b.maxX + 0.5, y0: b.minY - 0.5, y1: b.maxY + 0.5 });

/** c(x, y) / calibrationMean over `bbox` (parent pixels), ~320 cells along the longer side: smooth fields need no more. */
export function photoCalibMapSvg(calib: PhotoCalib, bbox: PixelBox, options: { title?: string; cells?: number } = {}): { svg: string; nx: number; ny: number } {
  const { nx, ny } = gridShape(bbox, options.cells ?? 320);
  const { x, y } = pixelGrid(bbox, nx, ny);
  const values = calib.isConstant ? new Float64Array(nx * ny).fill(calib.calibrationMean) : calib.field.evaluateArrays(x, y);
  for (let k = 0; k < values.length; k++) values[k] = values[k]! / calib.calibrationMean;
  const svg = heatmapSvg({
    values, nx, ny,
    extent: extentOf(bbox),
    title: options.title ?? 'Photometric calibration  c(x, y) / mean',
    subtitle: `mean ${calib.calibrationMean.toPrecision(7)} nJy/count, ${calib.isConstant ? 'constant' : calib.field.type} field, bbox ${boxToString(bbox)}`,
    xLabel: 'x (parent pixels)',
    yLabel: 'y (parent pixels)',
    colorbarLabel: 'c(x, y) / calibrationMean',
  });
  return { svg, nx, ny };
}

/**
 * The SIP distortion (pixel minus linear WCS) as arrows on ~`cells` square
 * cells along the longer side. The frame shows half a cell around the image
 * (drawn as a region) so that the arrows of its edge cells have room.
 */
export function distortionMapSvg(wcs: TanSipWcs, bbox: PixelBox, options: { title: string; cells?: number }): { svg: string; maxDistortionPx: number; nx: number; ny: number } {
  const { nx, ny } = gridShape(bbox, options.cells ?? 24);
  const grid = sipDistortionGrid(wcs, bbox, nx, ny);
  const e = extentOf(bbox);
  const cell = Math.max((e.x1 - e.x0) / nx, (e.y1 - e.y0) / ny);
  const svg = quiverSvg({
    x: grid.x, y: grid.y, u: grid.dx, v: grid.dy,
    extent: { x0: e.x0 - cell / 2, x1: e.x1 + cell / 2, y0: e.y0 - cell / 2, y1: e.y1 + cell / 2 },
    regions: [{ x: [e.x0, e.x1, e.x1, e.x0], y: [e.y0, e.y0, e.y1, e.y1] }],
    cellSize: cell,
    title: options.title,
    subtitle: `pixel minus linear WCS · max ${grid.maxPx.toPrecision(3)} px · SIP order ${wcs.sipA?.order ?? 0}`,
    xLabel: 'x (pixels, 0-based)',
    yLabel: 'y (pixels, 0-based)',
    unit: 'px',
  });
  return { svg, maxDistortionPx: grid.maxPx, nx, ny };
}
