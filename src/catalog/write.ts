/**
 * Write a catalog batch by batch, in the format its extension names, to a
 * temporary file in the same folder that is fsynced and renamed over the
 * target only on success: an error or an interrupt never leaves a
 * half-written catalog under the real name. `-` writes CSV to stdout.
 */
import { fsyncDir, temporaryPathFor } from '../io/atomicFile.js';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { RecordBatch, Schema, Table, type Field } from 'apache-arrow';
import { SkycalError, errors } from '../errors.js';
import { tableToCsv } from './csv.js';
import { STDIO, catalogFormat } from './format.js';
import { encodeIpc } from './ipc.js';
import { encodeParquet } from './parquet.js';

export interface WriteOptions {
  /** File key/value metadata (e.g. the WCS and calibration versions); merged over the schema's. */
  metadata?: Readonly<Record<string, string>> | ReadonlyMap<string, string>;
  /** Where `-` writes (default process.stdout). */
  stdout?: NodeJS.WritableStream;
}

/** Temporary files still being written, removed if the process exits first. */
const pending = new Set<string>();
let exitHookInstalled = false;
function track(tmp: string): void {
  pending.add(tmp);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const p of pending) {
        try {
          unlinkSync(p);
        } catch {
          // already gone
        }
      }
    });
  }
}

function mergedMetadata(schema: Schema, extra: WriteOptions['metadata']): Map<string, string> {
  const out = new Map(schema.metadata);
  if (extra !== undefined) for (const [k, v] of extra instanceof Map ? extra : Object.entries(extra)) out.set(k, v);
  return out;
}

/** Every batch re-labelled with the output schema (same columns, metadata added). */
async function* relabel(schema: Schema, batches: AsyncIterable<RecordBatch> | Iterable<RecordBatch>): AsyncGenerator<RecordBatch> {
  const names = schema.fields.map((f: Field) => f.name).join('\u0000');
  for await (const b of batches) {
    if (b.schema.fields.map((f) => f.name).join('\u0000') !== names) {
      throw errors.usage(`writeCatalog: a batch has columns ${b.schema.fields.map((f) => f.name).join(', ')}, the schema ${schema.fields.map((f) => f.name).join(', ')}`);
    }
    yield b.schema === schema ? b : new RecordBatch(schema, b.data);
  }
}

async function* csvPieces(batches: AsyncIterable<RecordBatch>): AsyncGenerator<string> {
  let first = true;
  for await (const b of batches) {
    yield tableToCsv(new Table([b]), { header: first });
    first = false;
  }
}

async function writeStdout(out: NodeJS.WritableStream, schema: Schema, batches: AsyncIterable<RecordBatch>): Promise<number> {
  let rows = 0;
  let wroteHeader = false;
  const counted = (async function* () {
    for await (const b of batches) {
      rows += b.numRows;
      yield b;
    }
  })();
  for await (const piece of csvPieces(counted)) {
    wroteHeader = true;
    if (!out.write(piece)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  if (!wroteHeader) out.write(`${tableToCsv(new Table(schema))}`);
  return rows;
}

/** Fails early (IO) when `path`'s folder does not exist; returns the folder. */
export async function checkOutputFolder(path: string): Promise<string> {
  const folder = dirname(path);
  try {
    if (!(await stat(folder)).isDirectory()) throw new Error('not a folder');
  } catch (e) {
    throw errors.io(path, `output folder ${folder} does not exist or is not a folder`, { cause: e });
  }
  return folder;
}

/**
 * Write `batches` (each with the columns of `schema`) to `path`. Returns the
 * number of rows written.
 */
export async function writeCatalog(
  path: string,
  schema: Schema,
  batches: AsyncIterable<RecordBatch> | Iterable<RecordBatch>,
  options: WriteOptions = {},
): Promise<{ rows: number }> {
  const format = catalogFormat(path);
  const metadata = mergedMetadata(schema, options.metadata);
  const outSchema = new Schema(schema.fields, metadata);
  let rows = 0;
  const labelled = (async function* () {
    for await (const b of relabel(outSchema, batches)) {
      rows += b.numRows;
      yield b;
    }
  })();
  if (path === STDIO) {
    await writeStdout(options.stdout ?? process.stdout, outSchema, labelled);
    return { rows };
  }

  const folder = await checkOutputFolder(path);
  const tmp = temporaryPathFor(join(folder, basename(path)));
  track(tmp);
  let handle;
  try {
    handle = await open(tmp, 'wx');
    const fh = handle;
    const sink = async (bytes: Uint8Array | string): Promise<void> => {
      // writeFile writes all of it at the current position (write() may write part).
      await fh.writeFile(bytes);
    };
    if (format === 'parquet') await encodeParquet(outSchema, labelled, metadata, sink);
    else if (format === 'arrow' || format === 'arrows') await encodeIpc(outSchema, labelled, format === 'arrows', sink);
    else {
      let any = false;
      for await (const piece of csvPieces(labelled)) {
        any = true;
        await sink(piece);
      }
      if (!any) await sink(tableToCsv(new Table(outSchema)));
    }
    await fh.sync();
    await fh.close();
    handle = undefined;
    await rename(tmp, path);
    pending.delete(tmp);
    fsyncDir(folder); // the rename survives a power cut, as every skycal output (io/atomicFile.ts)
    return { rows };
  } catch (e) {
    await handle?.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    pending.delete(tmp);
    if (SkycalError.isSkycalError(e)) throw e;
    throw errors.io(path, e);
  }
}
