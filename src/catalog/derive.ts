/**
 * Derived views (DESIGN.md §4-5): sky coordinates and calibrated fluxes are
 * computed when a catalog is read, never stored. A derivation names a column
 * kernel, its packed model, the input columns and the output fields; the
 * view copies each batch's inputs once into shared memory, runs the kernel
 * on the pool (every chunk of every Arrow column), and appends the outputs.
 *
 * withSky / withPixels / calibrated take either an Arrow Table (-> a Table)
 * or a stream of record batches with its schema (-> a stream), so a file far
 * larger than memory is processed one batch at a time.
 */
import { Float64, RecordBatch, Schema, Struct, Table, makeData, type Data, type Field, type Vector } from 'apache-arrow';
import { SkycalError } from '../errors.js';
import { KernelPool } from '../parallel/pool.js';
import { STATUS_NAMES } from '../../native-free-kernels/status.js';
import { SharedScratch, plainCopy, sharedFloat64, sharedUint8 } from '../parallel/shared.js';
import { requireColumns } from './columns.js';
import { checkKernelInputField, kernelInputValues } from './columnTypes.js';

/** Anything with a packed kernel model: TanSipWcs and PhotoCalib both are. */
export interface KernelModelSource {
  toKernelModel(): Float64Array;
}

export interface ColumnDerivation {
  readonly kernel: string;
  readonly model: Float64Array;
  readonly scalars?: readonly number[];
  /** Input column names; '' passes an empty (absent) column to the kernel. */
  readonly inputs: readonly string[];
  /** Float64 output fields, in the kernel's output order; null passes an empty (unwritten) output. */
  readonly outputs: readonly (Field | null)[];
  /**
   * The Uint8 status field this derivation writes; null: none. Derivations
   * of one view that name the same status field share it: its value is the
   * OR of their bits (e.g. pixel -> sky and every flux family into `status`).
   */
  readonly status: Field | null;
}

/** A schema with a stream of batches: what readCatalogBatches returns. */
export interface BatchSource extends AsyncIterable<RecordBatch> {
  readonly schema: Schema;
  readonly numRows?: number | undefined;
}

export interface DerivedBatches extends AsyncIterable<RecordBatch> {
  readonly schema: Schema;
  readonly numRows?: number | undefined;
  /** Rows with each status bit set in the batches read so far, by bit name (status.ts), over every status column. */
  readonly badByStatus: Readonly<Record<string, number>>;
}

/** A zeroed count per status bit name. */
export function emptyStatusCounts(): Record<string, number> {
  return Object.fromEntries(STATUS_NAMES.map(([, n]) => [n, 0]));
}

/** Add the rows of `status` with each bit set to `counts`. */
export function countStatusBits(status: Uint8Array, counts: Record<string, number>): void {
  const byValue = new Float64Array(256);
  for (let i = 0; i < status.length; i++) byValue[status[i]!]!++;
  for (let v = 1; v < 256; v++) {
    if (byValue[v] === 0) continue;
    for (const [bit, name] of STATUS_NAMES) if (v & bit) counts[name] = (counts[name] ?? 0) + byValue[v]!;
  }
}

export interface DeriveOptions {
  /** The pool to run on; without one, a pool of `workers` threads is made and closed per view. */
  pool?: KernelPool;
  workers?: number;
  /** Centroid columns prefix (`x`, `slot_Centroid`, `centroid`); auto-detected by default. */
  centroid?: string;
  /** Names the input in errors. */
  source?: string;
  /** File key/value metadata to add, e.g. {'skycal:wcs': runId}. */
  metadata?: Readonly<Record<string, string>>;
  /** After each batch: rows done so far, and bad points so far (non-zero status, summed over derivations). */
  onProgress?: (rowsDone: number, badPoints: number) => void;
}

/** The output schema: a derived field replaces an input column of its name in place, others are appended (status columns last). */
export function derivedSchema(input: Schema, derivations: readonly ColumnDerivation[], metadata?: Readonly<Record<string, string>>): Schema {
  const fields = input.fields.slice();
  // Status columns after every value column, so one shared status column has one place.
  for (const f of [...derivations.flatMap((d) => d.outputs), ...derivations.map((d) => d.status)]) {
    if (f === null) continue;
    const i = fields.findIndex((g) => g.name === f.name);
    if (i >= 0) fields[i] = f;
    else fields.push(f);
  }
  const meta = new Map(input.metadata);
  for (const [k, v] of Object.entries(metadata ?? {})) meta.set(k, v);
  return new Schema(fields, meta);
}

const floatData = (a: Float64Array): Data => makeData({ type: new Float64(), length: a.length, nullCount: 0, data: a });

/** Where a batch's inputs and outputs live. */
type ColumnMemory =
  /** In-thread: inputs read straight from Arrow where they can be, outputs are fresh plain arrays the batch owns. */
  | { kind: 'plain' }
  /** Pool, one-shot table: fresh shared arrays, handed over as they are. */
  | { kind: 'fresh-shared' }
  /** Pool, stream: shared arrays reused from batch to batch; outputs are copied out into arrays the batch owns. */
  | { kind: 'scratch'; scratch: SharedScratch };

/**
 * Run every derivation over one batch (or a whole table: any chunking).
 * Inputs are copied into shared memory for the pool; in-thread they are
 * read straight from Arrow where the column allows it.
 */
async function deriveColumns(
  columns: (name: string) => Vector,
  rows: number,
  derivations: readonly ColumnDerivation[],
  pool: KernelPool,
  memory: ColumnMemory,
  source: string,
  counts?: Record<string, number>,
): Promise<{ columns: Map<string, Data>; bad: number }> {
  // Small jobs run in-thread (pool.usesWorkers): there, shared memory would only cost copies.
  const mem: ColumnMemory = pool.usesWorkers(rows) ? memory : { kind: 'plain' };
  const newFloat64 = (key: string): Float64Array =>
    mem.kind === 'plain' ? new Float64Array(rows) : mem.kind === 'scratch' ? mem.scratch.float64(key, rows) : sharedFloat64(rows);
  const out = new Map<string, Data>();
  const inputsByName = new Map<string, Float64Array>();
  const input = (name: string): Float64Array => {
    if (name === '') return new Float64Array(0);
    let a = inputsByName.get(name);
    if (a === undefined) {
      // Type-checked and copied once per batch, whichever derivations read it.
      const column = columns(name);
      a = mem.kind === 'plain' ? kernelInputValues(column, name, source) : kernelInputValues(column, name, source, newFloat64(`in:${name}`));
      inputsByName.set(name, a);
    }
    return a;
  };
  // All derivations go to the pool at once (e.g. several flux families): its queue keeps every worker busy.
  const jobs = derivations.map((d, j) => {
    const outputs = d.outputs.map((f) => (f === null ? new Float64Array(0) : newFloat64(`out:${f.name}`)));
    // One status array per derivation (kernels overwrite theirs); shared names are ORed below.
    const status =
      d.status === null ? new Uint8Array(0) : mem.kind === 'plain' ? new Uint8Array(rows) : mem.kind === 'scratch' ? mem.scratch.uint8(`out:${d.status.name}:${j}`, rows) : sharedUint8(rows);
    return { kernel: d.kernel, model: d.model, scalars: d.scalars ?? [], inputs: d.inputs.map(input), outputs, status };
  });
  const bads = await Promise.all(jobs.map((job) => pool.run(job, rows)));
  // A reused shared view is copied into a plain buffer the batch can own.
  const own = <T extends Float64Array | Uint8Array>(a: T): T => (mem.kind === 'scratch' ? plainCopy(a) : a);
  const statuses = new Map<string, { type: Field['type']; bits: Uint8Array }>();
  derivations.forEach((d, j) => {
    const { outputs, status } = jobs[j]!;
    d.outputs.forEach((f, k) => f !== null && out.set(f.name, floatData(own(outputs[k]!))));
    if (d.status === null) return;
    const merged = statuses.get(d.status.name);
    if (merged === undefined) statuses.set(d.status.name, { type: d.status.type, bits: own(status) });
    else for (let i = 0; i < rows; i++) merged.bits[i]! |= status[i]!;
  });
  for (const [name, { type, bits }] of statuses) {
    if (counts !== undefined) countStatusBits(bits, counts);
    out.set(name, makeData({ type, length: rows, nullCount: 0, data: bits }));
  }
  const bad = bads.reduce((a, b) => a + b, 0);
  return { columns: out, bad };
}

function assemble(schema: Schema, rows: number, own: (name: string) => Data, derived: Map<string, Data>): RecordBatch {
  const children = schema.fields.map((f) => derived.get(f.name) ?? own(f.name));
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children }));
}

function checkInputs(schema: Schema, derivations: readonly ColumnDerivation[], source: string): void {
  const names = [...new Set(derivations.flatMap((d) => d.inputs).filter((n) => n !== ''))];
  requireColumns(schema, names, source);
  // Fail before any batch is read when the schema already says a column is not a number.
  for (const n of names) checkKernelInputField(schema.fields.find((f) => f.name === n)!, source);
}

async function withPool<T>(options: DeriveOptions, body: (pool: KernelPool) => Promise<T>): Promise<T> {
  if (options.pool) return body(options.pool);
  const pool = new KernelPool(options.workers === undefined ? {} : { workers: options.workers });
  try {
    return await body(pool);
  } finally {
    await pool.close();
  }
}

/** Derive over a whole table: each input column (all its chunks) is copied once and computed in one pool job. */
export async function deriveTable(table: Table, derivations: readonly ColumnDerivation[], options: DeriveOptions = {}): Promise<Table> {
  checkInputs(table.schema, derivations, options.source ?? 'table');
  const schema = derivedSchema(table.schema, derivations, options.metadata);
  const rows = table.numRows;
  const { columns: derived, bad } = await withPool(options, (pool) =>
    deriveColumns((n) => table.getChild(n)!, rows, derivations, pool, { kind: 'fresh-shared' }, options.source ?? 'table'),
  );
  options.onProgress?.(rows, bad);
  // Keep the table's batching: each output batch takes a zero-copy slice of the derived columns.
  let offset = 0;
  const batches = table.batches.map((batch) => {
    const slice = new Map([...derived].map(([name, data]) => [name, data.slice(offset, batch.numRows)]));
    offset += batch.numRows;
    return assemble(schema, batch.numRows, (n) => batch.getChild(n)!.data[0]!, slice);
  });
  return new Table(schema, batches);
}

/** Derive batch by batch; the next batch is read while the pool computes this one. */
export function deriveStream(source: BatchSource, derivations: readonly ColumnDerivation[], options: DeriveOptions = {}): DerivedBatches {
  checkInputs(source.schema, derivations, options.source ?? 'catalog');
  const schema = derivedSchema(source.schema, derivations, options.metadata);
  const badByStatus = emptyStatusCounts();
  return { schema, numRows: source.numRows, badByStatus, [Symbol.asyncIterator]: () => run(source, schema, derivations, options, badByStatus) };
}

async function* run(
  source: BatchSource,
  schema: Schema,
  derivations: readonly ColumnDerivation[],
  options: DeriveOptions,
  counts: Record<string, number>,
): AsyncGenerator<RecordBatch> {
  const pool = options.pool ?? new KernelPool(options.workers === undefined ? {} : { workers: options.workers });
  const iterator = source[Symbol.asyncIterator]();
  const scratch = new SharedScratch();
  let rowsDone = 0;
  let badPoints = 0;
  try {
    let next = iterator.next();
    for (;;) {
      const step = await next;
      if (step.done) break;
      const batch = step.value;
      // Start reading (decoding) the next batch while the workers compute this one.
      next = iterator.next();
      next.catch(() => {});
      const { columns: derived, bad } = await deriveColumns(
        (n) => batch.getChild(n)!,
        batch.numRows,
        derivations,
        pool,
        { kind: 'scratch', scratch },
        options.source ?? 'catalog',
        counts,
      );
      rowsDone += batch.numRows;
      badPoints += bad;
      options.onProgress?.(rowsDone, badPoints);
      yield assemble(schema, batch.numRows, (n) => batch.getChild(n)!.data[0]!, derived);
    }
  } finally {
    await iterator.return?.();
    if (options.pool === undefined) await pool.close();
  }
}
