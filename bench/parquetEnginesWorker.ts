/**
 * One thread of bench/parquet-engines.ts: decode (read the file's bytes into
 * Arrow JS through parquet-wasm) or encode (an Arrow JS table to Parquet
 * bytes with the given writer settings), `repeat` times; posts seconds.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { Type, tableFromIPC, tableToIPC, type Table } from 'apache-arrow';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { compiledParquetWasm, parquetWasmFrom } from '../src/recompute/parquetWasm.js';
import { encodeParquetFile } from '../src/catalog/parquetWrite.js';

export interface EngineTask {
  /** encode: parquet-wasm; encode-typed: src/catalog/parquetWrite.ts; encode-hyparquet: hyparquet-writer. */
  op: 'decode' | 'encode' | 'encode-typed' | 'encode-hyparquet';
  file: string;
  repeat: number;
  settings: { dictionary: boolean; statistics: 'None' | 'Chunk' | 'Page'; snappy?: boolean };
}

/** hyparquet-writer's input from an Arrow table (typed arrays where it takes them; counted in its time). */
function hyparquetEncode(table: Table, task: EngineTask): Uint8Array {
  const columnData = table.schema.fields.map((f) => {
    const v = table.getChild(f.name)!;
    const type = f.type.typeId === Type.Utf8 ? 'STRING' : f.type.typeId === Type.Float ? 'DOUBLE' : (f.type as unknown as { bitWidth: number }).bitWidth === 64 ? 'INT64' : 'INT32';
    const data = type === 'STRING' ? [...v] : type === 'INT32' ? Int32Array.from(v.toArray() as Uint8Array) : v.toArray();
    return { name: f.name, data, type, nullable: f.nullable } as const;
  });
  return new Uint8Array(parquetWriteBuffer({ columnData: columnData as never, codec: task.settings.snappy ? 'SNAPPY' : 'UNCOMPRESSED', statistics: task.settings.statistics !== 'None', rowGroupSize: 131_072 }));
}

/** Prepares (wasm, the file, the table), waits for `go`, runs. */
export async function runEngineTask(task: EngineTask, go: () => Promise<void>): Promise<{ seconds: number; rows: number; bytes: number }> {
  const pw = parquetWasmFrom(await compiledParquetWasm());
  const bytes = readFileSync(task.file);
  const table = tableFromIPC(pw.readParquet(bytes).intoIPCStream());
  await go();
  const t = performance.now();
  let out = 0;
  for (let i = 0; i < task.repeat; i++) {
    if (task.op === 'decode') tableFromIPC(pw.readParquet(bytes).intoIPCStream());
    else if (task.op === 'encode-typed') out = encodeParquetFile(table, { rowGroupRows: 131_072 }).length;
    else if (task.op === 'encode-hyparquet') out = hyparquetEncode(table, task).length;
    else {
      const props = new pw.WriterPropertiesBuilder()
        .setCompression(task.settings.snappy === false ? pw.Compression.UNCOMPRESSED : pw.Compression.SNAPPY)
        .setDictionaryEnabled(task.settings.dictionary)
        .setStatisticsEnabled(pw.EnabledStatistics[task.settings.statistics])
        .setMaxRowGroupSize(131_072)
        .build();
      out = pw.writeParquet(pw.Table.fromIPCStream(tableToIPC(table, 'stream')), props).length;
    }
  }
  return { seconds: (performance.now() - t) / 1000, rows: table.numRows * task.repeat, bytes: out };
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
