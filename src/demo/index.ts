/**
 * The demo's entry point (package "skycal/demo"): the whole story on a
 * seeded synthetic camera, and the camera itself for tests and benchmarks
 * that need realistic inputs. Not part of the library root.
 */
export { runDemo, type DemoSummary, type DemoOptions } from './demo.js';
export { DEFAULT_CAMERA, makeCamera, makeSources, perturbWcs, type CameraConfig, type CcdTruth } from './camera.js';
