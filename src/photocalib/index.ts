/** Photometric calibration (DESIGN.md §3): bounded fields and PhotoCalib. */
export * from './bbox.js';
export * from './boundedField.js';
export * from './chebyshevField.js';
export * from './productField.js';
export * from './fieldJson.js';
export * from './photoCalib.js';
export * from './calibrateCatalog.js';
export * from './calibrateImage.js';
export * from './load.js';
