/**
 * A small synthetic camera for the demo and for tests that need realistic
 * inputs: a few visits of a focal plane of CCDs, each CCD with a TAN-SIP WCS
 * (tangent point at the visit's boresight, so CRPIX lies off the chip for
 * most CCDs, and cubic radial optical distortion written exactly as SIP order 3),
 * a spatially varying Chebyshev calibration, and a source catalog.
 *
 * Everything is seeded: the same seed gives the same bytes.
 */

import { makeGaussian, makeRandom } from '../random.js';

export { makeGaussian, makeRandom };

export interface CameraConfig {
  seed: number;
  visits: number[];
  /** CCDs in a grid of columns × rows; detector ids are numbered row-major. */
  ccdColumns: number;
  ccdRows: number;
  ccdWidth: number;
  ccdHeight: number;
  /** Gap between CCDs, pixels. */
  gap: number;
  pixelScaleArcsec: number;
  sourcesPerCcd: number;
  /** Boresight of the first visit (deg); later visits are dithered. */
  boresightRaDeg: number;
  boresightDecDeg: number;
  /** Cubic radial distortion coefficient (per px^2): du = k r^2 u. */
  radialK: number;
}

export const DEFAULT_CAMERA: CameraConfig = {
  seed: 20261124,
  visits: [903334, 903336, 903338],
  ccdColumns: 3,
  ccdRows: 2,
  ccdWidth: 2048,
  ccdHeight: 4176,
  gap: 60,
  pixelScaleArcsec: 0.168,
  sourcesPerCcd: 20000,
  boresightRaDeg: 150.1,
  boresightDecDeg: 2.2,
  radialK: 8.0e-11,
};

export interface WcsParams {
  /** 0-based reference pixel. */
  crpix: [number, number];
  crval: [number, number];
  cd: [[number, number], [number, number]];
  /** SIP A and B as [p][q] coefficient matrices. */
  sipA: number[][];
  sipB: number[][];
}

export interface ChebyshevCalib {
  photoCalibVersion: 1;
  calibrationMean: number;
  calibrationErr: number;
  isConstant: boolean;
  field:
    | { type: 'constant'; value: number }
    | {
        type: 'chebyshev';
        bbox: { minX: number; minY: number; maxX: number; maxY: number };
        coefficients: number[][];
      };
}

export interface CcdTruth {
  visit: number;
  detector: number;
  wcs: WcsParams;
  calib: ChebyshevCalib;
}

/** SIP matrices for du = k r^2 u, dv = k r^2 v (r^2 = u^2 + v^2): A_3_0 = A_1_2 = k, B_2_1 = B_0_3 = k. */
export function radialSip(k: number): { sipA: number[][]; sipB: number[][] } {
  const zero = () => Array.from({ length: 4 }, () => [0, 0, 0, 0]);
  const sipA = zero();
  const sipB = zero();
  sipA[3]![0] = k;
  sipA[1]![2] = k;
  sipB[2]![1] = k;
  sipB[0]![3] = k;
  return { sipA, sipB };
}

/** The true WCS of each CCD of each visit, and its true calibration. */
export function makeCamera(config: CameraConfig = DEFAULT_CAMERA): CcdTruth[] {
  const random = makeRandom(config.seed);
  const gauss = makeGaussian(random);
  const scaleDeg = config.pixelScaleArcsec / 3600;
  const planeWidth = config.ccdColumns * config.ccdWidth + (config.ccdColumns - 1) * config.gap;
  const planeHeight = config.ccdRows * config.ccdHeight + (config.ccdRows - 1) * config.gap;
  const ccds: CcdTruth[] = [];
  config.visits.forEach((visit, vi) => {
    // Dither by a few arcminutes and rotate slightly per visit.
    const ra = config.boresightRaDeg + (vi * 3) / 60 / Math.cos((config.boresightDecDeg * Math.PI) / 180);
    const dec = config.boresightDecDeg + (vi * 2) / 60;
    const theta = ((vi * 0.15 + 0.05 * gauss()) * Math.PI) / 180;
    const c = Math.cos(theta);
    const s = Math.sin(theta);
    // RA increases to the east (left), hence the negative x scale, as in real cameras.
    const cd: [[number, number], [number, number]] = [
      [-scaleDeg * c, scaleDeg * s],
      [scaleDeg * s, scaleDeg * c],
    ];
    for (let row = 0; row < config.ccdRows; row++) {
      for (let col = 0; col < config.ccdColumns; col++) {
        const detector = row * config.ccdColumns + col;
        // The boresight in this CCD's own pixel frame.
        const x0 = col * (config.ccdWidth + config.gap);
        const y0 = row * (config.ccdHeight + config.gap);
        const crpix: [number, number] = [planeWidth / 2 - x0, planeHeight / 2 - y0];
        const { sipA, sipB } = radialSip(config.radialK);
        // A CCD is not perfectly flat or placed: a small tilt term per CCD.
        sipA[1]![1] = 2e-7 * gauss();
        sipB[2]![0] = 2e-7 * gauss();
        // nJy per count: about what HSC gives for a 30 s exposure (zero point ~30.8 mag).
        const mean = 1.5 + 0.3 * random();
        const calib: ChebyshevCalib = {
          photoCalibVersion: 1,
          calibrationMean: mean,
          calibrationErr: mean * 0.005,
          isConstant: false,
          field: {
            type: 'chebyshev',
            bbox: { minX: 0, minY: 0, maxX: config.ccdWidth - 1, maxY: config.ccdHeight - 1 },
            // Vignetting-like: brighter toward the boresight side, a few percent across a CCD.
            coefficients: [
              [mean, mean * 0.02 * gauss(), -mean * 0.01],
              [mean * 0.03 * gauss(), mean * 0.004 * gauss(), 0],
              [-mean * 0.015, 0, 0],
            ],
          },
        };
        ccds.push({ visit, detector, wcs: { crpix, crval: [ra, dec], cd, sipA, sipB }, calib });
      }
    }
  });
  return ccds;
}

/**
 * A version of a WCS with an astrometric error: a shift of the tangent point
 * by (dRaArcsec, dDecArcsec), a scale error and a missing fraction of the
 * radial distortion (singleFrame fits a lower-order model per CCD).
 */
export function perturbWcs(
  wcs: WcsParams,
  shiftArcsec: [number, number],
  scaleError: number,
  distortionFraction: number,
): WcsParams {
  const cosDec = Math.cos((wcs.crval[1] * Math.PI) / 180);
  const k = 1 + scaleError;
  return {
    crpix: [wcs.crpix[0], wcs.crpix[1]],
    crval: [wcs.crval[0] + shiftArcsec[0] / 3600 / cosDec, wcs.crval[1] + shiftArcsec[1] / 3600],
    cd: [
      [wcs.cd[0][0] * k, wcs.cd[0][1] * k],
      [wcs.cd[1][0] * k, wcs.cd[1][1] * k],
    ],
    sipA: wcs.sipA.map((r) => r.map((v) => v * distortionFraction)),
    sipB: wcs.sipB.map((r) => r.map((v) => v * distortionFraction)),
  };
}

export interface SourceColumns {
  /** Int64 source ids, unique across a demo's catalogs and above 2^53 as LSST's are (see sourceId). */
  id: BigInt64Array;
  x: Float64Array;
  y: Float64Array;
  instFlux: Float64Array;
  instFluxErr: Float64Array;
}

/** Bits of a source id left for the source's index within its catalog. */
export const SOURCE_INDEX_BITS = 24;

/**
 * An LSST-style 64-bit source id: 2^54 + (catalog seed << 24) + index. Ids
 * exceed 2^53, so a double would merge neighbours (they did: 20,000 rows of
 * one CCD had 5,001 distinct Float64 ids); unique while index < 2^24 and
 * seeds are distinct integers below 2^38 (the demo's are ~2e10).
 */
export function sourceId(seed: number, index: number): bigint {
  return (1n << 54n) + (BigInt(seed) << BigInt(SOURCE_INDEX_BITS)) + BigInt(index);
}

/**
 * Sources uniform over a CCD with a power-law magnitude distribution
 * (more faint than bright), instrumental fluxes for a calibration near
 * `calibrationMean` nJy/count, and Poisson-plus-sky errors.
 */
export function makeSources(n: number, width: number, height: number, calibrationMean: number, seed: number): SourceColumns {
  const random = makeRandom(seed);
  const gauss = makeGaussian(random);
  const out: SourceColumns = {
    id: new BigInt64Array(n),
    x: new Float64Array(n),
    y: new Float64Array(n),
    instFlux: new Float64Array(n),
    instFluxErr: new Float64Array(n),
  };
  const skyVariance = 400 * 20; // counts^2 within a PSF footprint
  for (let i = 0; i < n; i++) {
    out.id[i] = sourceId(seed, i);
    out.x[i] = random() * (width - 1);
    out.y[i] = random() * (height - 1);
    // N(<m) grows as 10^(0.3 m): invert the CDF between m = 17 and 24.5.
    const u = random();
    const mag = Math.log10(10 ** (0.3 * 17) + u * (10 ** (0.3 * 24.5) - 10 ** (0.3 * 17))) / 0.3;
    const trueInstFlux = 10 ** (-0.4 * (mag - 31.4)) / calibrationMean;
    const sigma = Math.sqrt(trueInstFlux + skyVariance);
    out.instFlux[i] = trueInstFlux + sigma * gauss();
    out.instFluxErr[i] = sigma;
  }
  return out;
}
