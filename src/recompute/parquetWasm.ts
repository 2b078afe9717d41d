/**
 * parquet-wasm for recompute jobs, compiled once per process: the main
 * thread compiles the WebAssembly.Module (0.4-0.5 s) and posts it to every
 * worker, which only instantiates it (the ESM build's initSync takes a
 * compiled module; the Node build compiles on import).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import * as pw from 'parquet-wasm/esm';

export type ParquetWasm = typeof pw;

/** A compiled WebAssembly.Module (this project's lib settings carry no WebAssembly types). */
export type WasmModule = object & { readonly __wasmModule?: never };
const wasmApi = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<WasmModule> } }).WebAssembly;

let compiled: Promise<WasmModule> | undefined;

/** The compiled parquet-wasm module (main thread; cached). */
export function compiledParquetWasm(): Promise<WasmModule> {
  compiled ??= (async () => {
    const path = createRequire(import.meta.url).resolve('parquet-wasm/esm/parquet_wasm_bg.wasm');
    return wasmApi.compile(await readFile(path));
  })();
  return compiled;
}

/** parquet-wasm instantiated from a compiled module (once per thread). */
export function parquetWasmFrom(module: WasmModule): ParquetWasm {
  pw.initSync({ module: module as Parameters<typeof pw.initSync>[0] & object });
  return pw;
}
