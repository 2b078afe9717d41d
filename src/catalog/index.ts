/** Arrow catalogs: reading and writing by format, column conventions, derived views. */
export { readCatalogBatches, type CatalogBatches, type ReadOptions } from './read.js';
export { writeCatalog, checkOutputFolder, type WriteOptions } from './write.js';
export { catalogFormat, sniffCatalogBytes, sniffCatalogFormat, type CatalogFormat } from './format.js';
export { checkCatalogSchema, checkKernelInputField, kernelInputValues, type CatalogSchemaNeeds } from './columnTypes.js';
export { catalogSchemaOfBytes } from './schemaOf.js';
export { CENTROID_CANDIDATES, findCentroid, requireColumns, raField, decField, pixelXField, pixelYField, statusField, fluxFields, float64Field } from './columns.js';
export { deriveTable, deriveStream, derivedSchema, type ColumnDerivation, type BatchSource, type DerivedBatches, type DeriveOptions, type KernelModelSource } from './derive.js';
export { withSky, withPixels, calibrated, withSkyAndCalibration, META_WCS, META_PHOTOCALIB, type ViewOptions } from './views.js';
export { csvToTable, tableToCsv, readCsvBatches, CSV_BATCH_ROWS } from './csv.js';
