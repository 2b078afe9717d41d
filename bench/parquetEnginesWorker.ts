/**
 * One thread of bench/parquet-engines.ts: decode (read the file's bytes into
 * Arrow JS through parquet-wasm) or encode (an Arrow JS table to Parquet
 * bytes with the given writer settings), `repeat` times; posts seconds.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { compiledParquetWasm, parquetWasmFrom } from '../src/recompute/parquetWasm.js';

export interface EngineTask {
  op: 'decode' | 'encode';
  file: string;
  repeat: number;
  settings: { dictionary: boolean; statistics: 'None' | 'Chunk' | 'Page' };
}

/** Prepares (wasm, the file, the table), waits for `go`, runs. */
export async function runEngineTask(task: EngineTask, go: () => Promise<void>): Promise<{ seconds: number; rows: number }> {
  const pw = parquetWasmFrom(await compiledParquetWasm());
  const bytes = readFileSync(task.file);
  const table = tableFromIPC(pw.readParquet(bytes).intoIPCStream());
  await go();
  const t = performance.now();
  for (let i = 0; i < task.repeat; i++) {
    if (task.op === 'decode') tableFromIPC(pw.readParquet(bytes).intoIPCStream());
    else {
      const props = new pw.WriterPropertiesBuilder()
        .setCompression(pw.Compression.SNAPPY)
        .setDictionaryEnabled(task.settings.dictionary)
        .setStatisticsEnabled(pw.EnabledStatistics[task.settings.statistics])
        .setMaxRowGroupSize(131_072)
        .build();
      pw.writeParquet(pw.Table.fromIPCStream(tableToIPC(table, 'stream')), props);
    }
  }
  return { seconds: (performance.now() - t) / 1000, rows: table.numRows * task.repeat };
}

if (parentPort !== null && workerData !== null) {
  const port = parentPort;
  const go = () =>
    new Promise<void>((resolve) => {
      port.once('message', () => resolve());
      port.postMessage('ready');
    });
  void runEngineTask(workerData as EngineTask, go).then((r) => port.postMessage(r));
}
