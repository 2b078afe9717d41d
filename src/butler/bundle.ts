/**
 * Sharing: `export` writes a bundle — a folder, or a single tar file when
 * the name ends in `.tar` — holding `manifest.json` (runs with parents,
 * config and times, their datasets and failure markers, the inputs they read,
 * the ref named and its moves, the sha256 of every file) and `files/<sha256>`.
 * Files are streamed from the store into the bundle, and from the bundle into
 * the repository's tmp/, so a bundle of large catalogs is never in memory.
 *
 * `import` checks the whole bundle before anything becomes visible: every
 * path relative and inside the bundle (no absolute paths, no `..`, no links
 * or special files, no duplicates), every file matching its checksum and
 * size, and every manifest field by the rules the CLI applies (run ids,
 * stages, ref names, canonical dataIds, configs that hash to their
 * configHash, ISO times, known storage classes). Files are staged in tmp/
 * while they are read and renamed into store/ only at the end of the one
 * registry transaction that adds the runs and refs, after every check passed;
 * a refused import leaves nothing in store/.
 */
import { closeSync, existsSync, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, rmSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, relative, resolve, sep } from 'node:path';
import { SkycalError, errors } from '../errors.js';
import { AtomicFileWriter, writeNewFileDurable } from '../io/atomicFile.js';
import { AtomicFolder } from '../io/atomicOutput.js';
import { checkOutputPath } from '../io/outputPath.js';
import { canonicalDataId, dataIdMatches, parseDataId, parseWhere, type DataIdInput } from './dataId.js';
import { canonicalJson, sha256Hex } from './hash.js';
import type { NewEntry, RefKind } from './registry.js';
import { iso, parseTime, type Repository } from './repository.js';
import { RUN_ID } from './runOrigin.js';
import { storageClass } from './storageClasses.js';
import { schemaBytesOfFile } from '../catalog/schemaOf.js';
import { forEachTarEntry, packTar, type PackEntry } from './tar.js';
import { checkRefName, checkStageName, checkTypeName } from './typeSpec.js';

const BUNDLE_VERSION = 1;
/** manifest.json is read into memory; anything larger is not a manifest skycal wrote. */
const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;
const MAX_TEXT = 4096;

interface ManifestRun {
  id: string; stage: string; parents: string[]; configJson: string; configHash: string; softwareVersion: string;
  host: string; user: string; begunAt: number; committedAt: number;
  entries: NewEntry[];
  inputs: { runId: string; type: string; dataId: string }[];
}
interface ManifestRef { name: string; kind: RefKind; runId: string; moves: { runId: string | null; at: number; reason: string }[] }
interface Manifest {
  bundleVersion: number;
  createdAt: string;
  source: { at: string; asOf: string | null };
  datasetTypes: { name: string; storageClass: string }[];
  /** Oldest first, so parents come before children. */
  runs: ManifestRun[];
  refs: ManifestRef[];
  files: { path: string; sha256: string; size: number }[];
}

export async function exportBundle(
  repo: Repository,
  out: string,
  options: { at?: string; asOf?: string | number; types?: readonly string[]; where?: DataIdInput | string } = {},
): Promise<{ runs: number; files: number; path: string }> {
  const at = options.at ?? 'main';
  const asOf = options.asOf === undefined ? undefined : parseTime(options.asOf);
  const where = parseWhere(options.where);
  const types = options.types ?? [];
  const keep = (type: string, dataId: string) =>
    (types.length === 0 || types.some((t) => type === t || type.startsWith(`${t}.`))) && dataIdMatches(parseDataId(dataId), where);
  const reg = repo.registry;
  const manifest = reg.read((): Manifest => {
    const tip = repo.resolveRef(at, asOf);
    if (tip === null) throw errors.badInput('export', `${at} has no runs`);
    const history = reg.history(tip, asOf).reverse();
    const files = new Map<string, number>();
    const runs: ManifestRun[] = history.map((run) => {
      const entries = reg.runEntries(run.id).filter((e) => keep(e.type, e.dataId));
      for (const e of entries) if (e.fileHash) files.set(e.fileHash, e.size!);
      return {
        id: run.id, stage: run.stage, parents: [...run.parents], configJson: run.configJson, configHash: run.configHash,
        softwareVersion: run.softwareVersion, host: run.host, user: run.user, begunAt: run.begunAt, committedAt: run.committedAt!,
        entries: entries.map((e) => ({ type: e.type, dataId: e.dataId, kind: e.kind, fileHash: e.fileHash, size: e.size, reason: e.reason, format: e.format })),
        inputs: reg.inputsOf(run.id).filter((e) => keep(e.type, e.dataId)).map((e) => ({ runId: e.runId, type: e.type, dataId: e.dataId })),
      };
    });
    const inBundle = new Set(runs.map((r) => r.id));
    for (const r of runs) r.inputs = r.inputs.filter((i) => inBundle.has(i.runId));
    // The ref named, and every tag that points into the exported history.
    const named = reg.ref(at);
    const refs: ManifestRef[] = [...(named ? [named] : []), ...reg.refs().filter((r) => r.kind === 'tag' && r.name !== at && r.runId !== null && inBundle.has(r.runId))]
      .map((ref) => ({
        name: ref.name, kind: ref.kind, runId: ref.name === at ? tip : ref.runId!,
        moves: reg.refMoves(ref.name).filter((m) => (asOf === undefined || m.at <= asOf) && (m.runId === null || inBundle.has(m.runId)))
          .map((m) => ({ runId: m.runId, at: m.at, reason: m.reason })),
      }));
    return {
      bundleVersion: BUNDLE_VERSION, createdAt: new Date().toISOString(), source: { at, asOf: iso(asOf ?? null) },
      datasetTypes: reg.datasetTypes(), runs, refs,
      files: [...files].map(([hash, size]) => ({ path: `files/${hash}`, sha256: hash, size })),
    };
  });
  const manifestBytes = new TextEncoder().encode(JSON.stringify(manifest, null, 1) + '\n');
  if (existsSync(out)) throw errors.conflict(`export: ${out} already exists`);
  checkOutputPath(out, { notInside: [repo.root] });
  try {
    if (out.endsWith('.tar')) {
      const writer = new AtomicFileWriter(out, { notInside: [repo.root] });
      const entries: PackEntry[] = [
        ...manifest.files.map((f) => ({ path: f.path, size: f.size, file: repo.store.pathOf(f.sha256) })),
        { path: 'manifest.json', size: manifestBytes.length, bytes: manifestBytes },
      ];
      try {
        await packTar(entries, (chunk) => writer.write(chunk));
        writer.commit(); // the bundle appears whole or not at all
      } catch (e) {
        writer.abort();
        throw e;
      }
    } else {
      // Built aside like every folder output: whole or not at all, removed on Ctrl-C, a killed export's temporary removed by the next.
      const folder = AtomicFolder.createNew(resolve(out));
      try {
        mkdirSync(join(folder.path, 'files'));
        for (const f of manifest.files) copyDurable(repo.store.pathOf(f.sha256), join(folder.path, f.path));
        writeNewFileDurable(join(folder.path, 'manifest.json'), manifestBytes);
        folder.commit();
      } catch (e) {
        folder.abort();
        throw e;
      }
    }
  } catch (e) {
    throw SkycalError.isSkycalError(e) ? e : errors.io(out, e);
  }
  return { runs: manifest.runs.length, files: manifest.files.length, path: out };
}

/** Copy a file in chunks (never whole in memory) to a new durable file. */
function copyDurable(from: string, to: string): void {
  const src = openSync(from, 'r');
  const writer = new ChunkFile(to);
  try {
    // Sized to the file (at most 1 MiB) and not zero-filled: an export copies every file, most far smaller.
    const buf = Buffer.allocUnsafe(Math.max(1, Math.min(1 << 20, fstatSync(src).size)));
    for (;;) {
      const n = readSync(src, buf, 0, buf.length, null);
      if (n === 0) break;
      writer.write(buf.subarray(0, n));
    }
    writer.finish();
  } catch (e) {
    writer.abort();
    throw e;
  } finally {
    closeSync(src);
  }
}

/** A new file written chunk by chunk while its sha256 is computed; fsynced on finish. */
class ChunkFile {
  private fd: number | undefined;
  private readonly hash = createHash('sha256');
  size = 0;

  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, 'wx', 0o444);
    } catch (e) {
      throw errors.io(path, e);
    }
  }

  write(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    let off = 0;
    try {
      while (off < chunk.length) off += writeSyncAll(this.fd!, chunk, off);
    } catch (e) {
      this.abort();
      throw errors.io(this.path, e);
    }
  }

  finish(): string {
    try {
      fsyncSync(this.fd!);
      closeSync(this.fd!);
      this.fd = undefined;
    } catch (e) {
      this.abort();
      throw errors.io(this.path, e);
    }
    return this.hash.digest('hex');
  }

  abort(): void {
    if (this.fd !== undefined) {
      try { closeSync(this.fd); } catch { /* closed */ }
      this.fd = undefined;
    }
    rmSync(this.path, { force: true });
  }
}

function writeSyncAll(fd: number, chunk: Uint8Array, off: number): number {
  return writeSync(fd, chunk, off, chunk.length - off);
}

/** A relative path that stays inside its folder: no absolute paths, no `..`, no backslashes or NULs. */
export function checkBundlePath(path: string, source: string): string {
  const bad = typeof path !== 'string' || path === '' || path.startsWith('/') || /^[A-Za-z]:/.test(path) || path.includes('\\') || path.includes('\0') ||
    path.split('/').some((seg) => seg === '..');
  if (bad) throw errors.badInput(source, `refusing path ${JSON.stringify(path)}: it escapes the bundle`);
  return path.split('/').filter((s) => s !== '' && s !== '.').join('/');
}

/** A bundle's content as read: the manifest's bytes and every file staged in the repository's tmp/. */
interface ReadBundle {
  manifest: Uint8Array | undefined;
  files: Map<string, { tempPath: string; sha256: string; size: number }>;
}

function discardStaged(read: ReadBundle): void {
  for (const f of read.files.values()) rmSync(f.tempPath, { force: true });
}

async function readBundle(repo: Repository, path: string, source: string): Promise<ReadBundle> {
  if (!existsSync(path)) throw errors.notFound(`bundle ${path}`);
  const st = lstatSync(path);
  if (st.isSymbolicLink()) throw errors.badInput(path, 'refusing a bundle that is a symbolic link');
  mkdirSync(repo.store.tmpDir, { recursive: true });
  const out: ReadBundle = { manifest: undefined, files: new Map() };
  const seen = new Set<string>();
  const take = (rel: string, size: number) => {
    const p = checkBundlePath(rel, source);
    if (seen.has(p)) throw errors.badInput(source, `${p} appears twice`);
    seen.add(p);
    if (p === 'manifest.json') {
      if (size > MAX_MANIFEST_BYTES) throw errors.badInput(source, `manifest.json is ${size} bytes (at most ${MAX_MANIFEST_BYTES})`);
      const chunks: Uint8Array[] = [];
      // Copy: a reader may hand the same buffer again for the next chunk.
      return { onChunk: (c: Uint8Array) => void chunks.push(Buffer.from(c)), onEnd: () => void (out.manifest = Buffer.concat(chunks)) };
    }
    if (!/^files\/[0-9a-f]{64}$/.test(p)) throw errors.badInput(source, `${p} is not a bundle file (manifest.json or files/<sha256>)`);
    const file = new ChunkFile(repo.store.newTempPath());
    out.files.set(p, { tempPath: file.path, sha256: '', size: 0 });
    return {
      onChunk: (c: Uint8Array) => file.write(c),
      onEnd: () => void out.files.set(p, { tempPath: file.path, sha256: file.finish(), size: file.size }),
    };
  };
  try {
    if (st.isDirectory()) readBundleFolder(path, source, take);
    else if (st.isFile()) {
      await forEachTarEntry(path, source, (h) => (h.type === 'file' ? take(h.path, h.size) : (checkBundlePath(h.path, source), undefined)));
    } else throw errors.badInput(path, 'a bundle is a folder or a .tar file');
  } catch (e) {
    discardStaged(out);
    throw e;
  }
  return out;
}

/** Every regular file of a bundle folder, streamed by relative path; links and special files are refused. */
function readBundleFolder(root: string, source: string, take: (rel: string, size: number) => { onChunk(c: Uint8Array): void; onEnd(): void }): void {
  const buf = Buffer.alloc(1 << 20);
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const rel = relative(root, full).split(sep).join('/');
      checkBundlePath(rel, source);
      const st = lstatSync(full);
      if (st.isSymbolicLink()) throw errors.badInput(source, `refusing ${rel}: a symbolic link`);
      if (st.isDirectory()) walk(full);
      else if (st.isFile()) {
        const sink = take(rel, st.size);
        const fd = openSync(full, 'r');
        try {
          for (;;) {
            const n = readSync(fd, buf, 0, buf.length, null);
            if (n === 0) break;
            sink.onChunk(buf.subarray(0, n));
          }
        } finally {
          closeSync(fd);
        }
        sink.onEnd();
      } else throw errors.badInput(source, `refusing ${rel}: not a regular file`);
    }
  };
  walk(root);
}

// -- manifest validation: every field, with the rules the CLI applies, before anything is written

function field(source: string, where: string, message: string): SkycalError {
  return errors.badInput(source, `manifest.json: ${where}: ${message}`);
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function text(x: unknown, source: string, where: string, max = MAX_TEXT): string {
  if (typeof x !== 'string' || x.length > max) throw field(source, where, `expected text (at most ${max} characters), got ${JSON.stringify(x)?.slice(0, 80)}`);
  return x;
}

function time(x: unknown, source: string, where: string): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) throw field(source, where, `expected epoch milliseconds, got ${JSON.stringify(x)}`);
  return x;
}

function array(x: unknown, source: string, where: string): unknown[] {
  if (!Array.isArray(x)) throw field(source, where, 'expected a list');
  return x;
}

/** Run a CLI name rule; its BAD_INPUT becomes a manifest error naming the field. */
function rule<T>(source: string, where: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw field(source, where, SkycalError.isSkycalError(e) ? e.message : String(e));
  }
}

const MOVE_REASONS = new Set(['create', 'commit', 'merge', 'move', 'delete', 'import', 'rebase']);

export function parseManifest(raw: Uint8Array | undefined, source: string): Manifest {
  if (raw === undefined) throw errors.badInput(source, 'no manifest.json');
  let m: unknown;
  try {
    m = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch (e) {
    throw errors.badInput(source, `manifest.json is not JSON: ${(e as Error).message}`);
  }
  if (!isObject(m) || m['bundleVersion'] !== BUNDLE_VERSION || !Array.isArray(m['runs']) || !Array.isArray(m['files']) || !Array.isArray(m['refs'])) {
    throw errors.badInput(source, `manifest.json: not a skycal bundle (version ${BUNDLE_VERSION})`);
  }
  rule(source, 'createdAt', () => parseTime(text(m['createdAt'], source, 'createdAt')));
  const src = m['source'];
  if (!isObject(src)) throw field(source, 'source', 'expected {at, asOf}');
  text(src['at'], source, 'source.at');
  if (src['asOf'] !== null) rule(source, 'source.asOf', () => parseTime(text(src['asOf'], source, 'source.asOf')));

  const datasetTypes = array(m['datasetTypes'], source, 'datasetTypes').map((t, i) => {
    if (!isObject(t)) throw field(source, `datasetTypes[${i}]`, 'expected {name, storageClass}');
    const name = rule(source, `datasetTypes[${i}].name`, () => checkTypeName(text(t['name'], source, `datasetTypes[${i}].name`)));
    const sc = rule(source, `datasetTypes[${i}].storageClass`, () => storageClass(text(t['storageClass'], source, `datasetTypes[${i}].storageClass`)).name);
    return { name, storageClass: sc };
  });
  if (new Set(datasetTypes.map((t) => t.name)).size !== datasetTypes.length) throw field(source, 'datasetTypes', 'a type is listed twice');

  const files = (m['files'] as unknown[]).map((f, i) => {
    const where = `files[${i}]`;
    if (!isObject(f)) throw field(source, where, 'expected {path, sha256, size}');
    const sha = text(f['sha256'], source, `${where}.sha256`);
    const path = checkBundlePath(text(f['path'], source, `${where}.path`), source);
    if (!/^[0-9a-f]{64}$/.test(sha) || path !== `files/${sha}`) throw field(source, where, `names file ${JSON.stringify(f['path'])} oddly`);
    const size = f['size'];
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw field(source, `${where}.size`, `expected a byte count, got ${JSON.stringify(size)}`);
    return { path, sha256: sha, size };
  });
  if (new Set(files.map((f) => f.sha256)).size !== files.length) throw field(source, 'files', 'a file is listed twice');
  const fileSize = new Map(files.map((f) => [f.sha256, f.size]));

  const runIds = new Set<string>();
  const runs = (m['runs'] as unknown[]).map((r, i): ManifestRun => {
    const where = `runs[${i}]`;
    if (!isObject(r)) throw field(source, where, 'expected a run');
    const id = text(r['id'], source, `${where}.id`);
    if (!RUN_ID.test(id)) throw field(source, `${where}.id`, `not a run id (r- and 12 hex digits): ${JSON.stringify(id)}`);
    if (runIds.has(id)) throw field(source, where, `run ${id} is listed twice`);
    const stageText = text(r['stage'], source, `${where}.stage`);
    const stage = stageText === 'merge' ? stageText : rule(source, `${where}.stage`, () => checkStageName(stageText));
    const parents = array(r['parents'], source, `${where}.parents`).map((p, j) => {
      const pid = text(p, source, `${where}.parents[${j}]`);
      if (!RUN_ID.test(pid)) throw field(source, `${where}.parents[${j}]`, `not a run id: ${JSON.stringify(pid)}`);
      return pid;
    });
    if (new Set(parents).size !== parents.length || parents.length > 2) throw field(source, `${where}.parents`, 'at most two distinct parents');
    const configJson = text(r['configJson'], source, `${where}.configJson`, 16 * 1024 * 1024);
    let config: unknown;
    try {
      config = JSON.parse(configJson);
    } catch (e) {
      throw field(source, `${where}.configJson`, `not JSON: ${(e as Error).message}`);
    }
    if (canonicalJson(config) !== configJson) throw field(source, `${where}.configJson`, 'not in canonical form');
    const configHash = text(r['configHash'], source, `${where}.configHash`);
    if (sha256Hex(configJson) !== configHash) throw field(source, `${where}.configHash`, 'does not match the sha256 of configJson');
    const begunAt = time(r['begunAt'], source, `${where}.begunAt`);
    const committedAt = time(r['committedAt'], source, `${where}.committedAt`);
    if (committedAt < begunAt) throw field(source, where, 'committed before it began');
    const seenEntries = new Set<string>();
    const entries = array(r['entries'], source, `${where}.entries`).map((e, j): NewEntry => {
      const ew = `${where}.entries[${j}]`;
      if (!isObject(e)) throw field(source, ew, 'expected an entry');
      const type = rule(source, `${ew}.type`, () => checkTypeName(text(e['type'], source, `${ew}.type`)));
      const dataIdText = text(e['dataId'], source, `${ew}.dataId`);
      const dataId = rule(source, `${ew}.dataId`, () => canonicalDataId(dataIdText));
      if (dataId !== dataIdText) throw field(source, `${ew}.dataId`, `not canonical (keys sorted): ${JSON.stringify(dataIdText)}, expected ${dataId}`);
      if (seenEntries.has(`${type} ${dataId}`)) throw field(source, ew, `${type} ${dataId} is listed twice in run ${id}`);
      seenEntries.add(`${type} ${dataId}`);
      const kind = e['kind'];
      if (kind === 'dataset') {
        const hash = text(e['fileHash'], source, `${ew}.fileHash`);
        if (!fileSize.has(hash)) throw field(source, ew, `${type} ${dataId} names a file the bundle lacks`);
        if (e['size'] !== fileSize.get(hash)) throw field(source, `${ew}.size`, `${JSON.stringify(e['size'])} is not the file's size ${fileSize.get(hash)}`);
        const format = e['format'] ?? null;
        if (format !== null && format !== 'parquet' && format !== 'arrow' && format !== 'arrows') throw field(source, `${ew}.format`, `unknown catalog format ${JSON.stringify(format)}`);
        if (e['reason'] !== null && e['reason'] !== undefined) throw field(source, `${ew}.reason`, 'a dataset has no reason');
        return { type, dataId, kind, fileHash: hash, size: fileSize.get(hash)!, reason: null, format };
      }
      if (kind === 'failure') {
        if (e['fileHash'] !== null || (e['size'] !== null && e['size'] !== undefined)) throw field(source, ew, 'a failure marker names no file');
        const reason = text(e['reason'], source, `${ew}.reason`);
        if (reason.trim() === '') throw field(source, `${ew}.reason`, 'a failure needs a reason');
        return { type, dataId, kind, fileHash: null, size: null, reason };
      }
      throw field(source, `${ew}.kind`, `bad entry kind ${JSON.stringify(kind)}`);
    });
    const inputs = array(r['inputs'], source, `${where}.inputs`).map((x, j) => {
      const iw = `${where}.inputs[${j}]`;
      if (!isObject(x)) throw field(source, iw, 'expected {runId, type, dataId}');
      const runId = text(x['runId'], source, `${iw}.runId`);
      if (!runIds.has(runId)) throw field(source, `${iw}.runId`, `names run ${JSON.stringify(runId)}, which is not earlier in the bundle`);
      const type = rule(source, `${iw}.type`, () => checkTypeName(text(x['type'], source, `${iw}.type`)));
      const dataIdText = text(x['dataId'], source, `${iw}.dataId`);
      if (rule(source, `${iw}.dataId`, () => canonicalDataId(dataIdText)) !== dataIdText) throw field(source, `${iw}.dataId`, 'not canonical');
      return { runId, type, dataId: dataIdText };
    });
    runIds.add(id);
    return {
      id, stage, parents, configJson, configHash, begunAt, committedAt, entries, inputs,
      softwareVersion: text(r['softwareVersion'], source, `${where}.softwareVersion`),
      host: text(r['host'], source, `${where}.host`), user: text(r['user'], source, `${where}.user`),
    };
  });

  const refNames = new Set<string>();
  const refs = (m['refs'] as unknown[]).map((ref, i): ManifestRef => {
    const where = `refs[${i}]`;
    if (!isObject(ref)) throw field(source, where, 'expected a ref');
    const name = rule(source, `${where}.name`, () => checkRefName(text(ref['name'], source, `${where}.name`)));
    if (refNames.has(name)) throw field(source, where, `ref ${name} is listed twice`);
    refNames.add(name);
    const kind = ref['kind'];
    if (kind !== 'branch' && kind !== 'tag') throw field(source, `${where}.kind`, `expected branch or tag, got ${JSON.stringify(kind)}`);
    const runId = text(ref['runId'], source, `${where}.runId`);
    if (!runIds.has(runId)) throw field(source, `${where}.runId`, `names run ${JSON.stringify(runId)}, which the bundle lacks`);
    const moves = array(ref['moves'], source, `${where}.moves`).map((mv, j) => {
      const mw = `${where}.moves[${j}]`;
      if (!isObject(mv)) throw field(source, mw, 'expected {runId, at, reason}');
      const mr = mv['runId'];
      if (mr !== null && (typeof mr !== 'string' || !runIds.has(mr))) throw field(source, `${mw}.runId`, `names run ${JSON.stringify(mr)}, which the bundle lacks`);
      const reason = text(mv['reason'], source, `${mw}.reason`);
      if (!MOVE_REASONS.has(reason)) throw field(source, `${mw}.reason`, `unknown reason ${JSON.stringify(reason)}`);
      return { runId: mr as string | null, at: time(mv['at'], source, `${mw}.at`), reason };
    });
    return { name, kind, runId, moves };
  });
  return {
    bundleVersion: BUNDLE_VERSION, createdAt: m['createdAt'] as string, source: { at: src['at'] as string, asOf: src['asOf'] as string | null },
    datasetTypes, runs, refs, files,
  };
}

export interface ImportOptions {
  /** Import the bundle's named ref (the one it was exported `--at`) under this name instead. */
  readonly as?: string;
}

export async function importBundle(repo: Repository, path: string, options: ImportOptions = {}): Promise<{ runs: number; skippedRuns: number; files: number; refs: string[] }> {
  const source = `bundle ${path}`;
  const rename = options.as === undefined ? undefined : checkRefName(options.as);
  const read = await readBundle(repo, path, source);
  try {
    const m = parseManifest(read.manifest, source);
    const listed = new Set(['manifest.json', ...m.files.map((f) => f.path)]);
    for (const p of read.files.keys()) if (!listed.has(p)) throw errors.badInput(source, `${p} is not listed in the manifest`);
    for (const f of m.files) {
      const got = read.files.get(f.path);
      if (got === undefined) throw errors.badInput(source, `${f.path} is listed in the manifest but missing`);
      if (got.size !== f.size || got.sha256 !== f.sha256) throw errors.badInput(source, `${f.path}: checksum mismatch`);
    }
    if (rename !== undefined) {
      const named = m.refs.find((r) => r.name === m.source.at);
      if (named === undefined) throw errors.badInput(source, `--as: the bundle has no ref ${m.source.at} to rename`);
      if (m.refs.some((r) => r.name === rename && r !== named)) throw errors.conflict(`--as ${rename}: the bundle already carries a ref of that name`);
      named.name = rename;
    }
    const reg = repo.registry;
    const typeClass = new Map(m.datasetTypes.map((t) => [t.name, t.storageClass]));
    // Dataset content is checked by its storage class too, before anything is written.
    const checkedFiles = new Set<string>();
    for (const r of m.runs) {
      for (const e of r.entries) {
        if (e.kind !== 'dataset') continue;
        const sc = reg.datasetType(e.type)?.storageClass ?? typeClass.get(e.type);
        if (sc === undefined) throw errors.badInput(source, `dataset type ${e.type} is neither in the bundle nor in the repository`);
        if (checkedFiles.has(`${sc} ${e.fileHash}`)) continue;
        checkedFiles.add(`${sc} ${e.fileHash}`);
        const staged = read.files.get(`files/${e.fileHash}`)!;
        const label = `${source}: ${e.type} ${e.dataId}`;
        storageClass(sc).normalise(contentForCheck(sc, staged.tempPath, staged.size, label), label);
      }
    }
    checkAncestryBound(repo, m, source);
    return reg.write(() => {
      for (const t of m.datasetTypes) {
        const have = reg.datasetType(t.name);
        if (have !== undefined && have.storageClass !== t.storageClass) throw errors.conflict(`dataset type ${t.name} is ${have.storageClass} here, ${t.storageClass} in the bundle`);
      }
      for (const t of m.datasetTypes) if (reg.datasetType(t.name) === undefined) reg.addDatasetType(t);
      let added = 0;
      let skipped = 0;
      const inBundle = new Set<string>();
      for (const r of m.runs) {
        const existing = reg.run(r.id);
        if (existing !== undefined) {
          if (existing.state !== 'committed' || existing.configHash !== r.configHash || existing.stage !== r.stage || existing.committedAt !== r.committedAt) {
            throw errors.conflict(`run ${r.id} exists here with different content`);
          }
          skipped++;
          inBundle.add(r.id);
          continue;
        }
        for (const p of r.parents) {
          if (!inBundle.has(p) && reg.run(p)?.state !== 'committed') throw errors.badInput(source, `run ${r.id}: parent ${p} is neither earlier in the bundle nor here`);
        }
        reg.insertRun({ ...r, branch: null, leaseExpiresAt: null, leaseMs: null }, []);
        for (const e of r.entries) reg.addEntry(r.id, e);
        reg.markCommitted(r.id, r.committedAt);
        inBundle.add(r.id);
        added++;
      }
      for (const r of m.runs) {
        for (const i of r.inputs) {
          const e = reg.entry(i.runId, i.type, i.dataId);
          if (e) reg.recordInput(r.id, e.id);
        }
      }
      const refs: string[] = [];
      for (const ref of m.refs) {
        const have = reg.ref(ref.name);
        const renamed = rename !== undefined && ref.name === rename;
        if (have === undefined || (have.runId === null && have.kind === 'branch' && ref.kind === 'branch')) {
          // Replay the ref's recorded moves so `--as-of` answers as it did where the bundle came from
          // (a renamed ref starts here: its history elsewhere belongs to another name).
          let current: string | null | undefined = have === undefined ? undefined : null;
          for (const mv of renamed ? [] : ref.moves) {
            if (mv.reason === 'delete' || (current !== undefined && mv.runId === current)) continue;
            if (!reg.moveRef(ref.name, ref.kind, current, mv.runId, mv.reason, mv.at)) throw errors.conflict(`ref ${ref.name} moved while importing`);
            current = mv.runId;
          }
          if (current !== ref.runId) reg.moveRef(ref.name, ref.kind, current, ref.runId, 'import', reg.nextTime());
        } else if (have.runId !== ref.runId) {
          if (have.kind !== 'branch' || ref.kind !== 'branch' || (have.runId !== null && !reg.isAncestor(have.runId, ref.runId))) {
            throw errors.conflict(`${have.kind} ${ref.name} exists here at ${have.runId} and cannot move to the bundle's ${ref.runId}` +
              (ref.kind === 'branch' ? `; import it under another name with --as NAME` : ''));
          }
          reg.moveRef(ref.name, 'branch', have.runId, ref.runId, 'import', reg.nextTime());
        }
        refs.push(ref.name);
      }
      // Every check passed: place the files last, under the lock, so nothing removes one between here and
      // COMMIT, and a refused import leaves nothing in store/. A file already stored is kept as it is.
      for (const f of m.files) {
        const staged = read.files.get(f.path)!;
        repo.store.place({ hash: f.sha256, size: f.size, tempPath: staged.tempPath });
      }
      return { runs: added, skippedRuns: skipped, files: m.files.length, refs };
    });
  } finally {
    discardStaged(read);
  }
}

/**
 * The registry keeps one ancestry row per (run, ancestor), so a chain of n
 * runs costs n(n+1)/2 rows: a 20,000-run chain would be 2e8 rows (many GB,
 * hours). Count what an import would write (an upper bound for merges)
 * before writing anything, and refuse beyond the bound rather than never
 * finish. A registry that stores ancestry per first-parent segment lifts it.
 */
export const MAX_IMPORT_ANCESTRY_ROWS = 20_000_000;

function checkAncestryBound(repo: Repository, m: Manifest, source: string): void {
  const reg = repo.registry;
  const size = new Map<string, number>();
  let rows = 0;
  reg.read(() => {
    const historySize = (id: string): number => {
      let n = size.get(id);
      if (n === undefined) {
        n = reg.history(id).length;
        size.set(id, n);
      }
      return n;
    };
    for (const r of m.runs) {
      if (reg.run(r.id) !== undefined) continue;
      const n = 1 + r.parents.reduce((s, p) => s + (size.get(p) ?? (reg.run(p) ? historySize(p) : 0)), 0);
      size.set(r.id, n);
      rows += n;
      if (rows > MAX_IMPORT_ANCESTRY_ROWS) {
        throw errors.badInput(source, `the bundle's history is too deep to import: it would write more than ${MAX_IMPORT_ANCESTRY_ROWS} ancestry rows ` +
          `(${m.runs.length} runs; a chain of n runs needs n(n+1)/2). Export a shorter history (--as-of, or from a later tag)`);
      }
    }
  });
}

/** The bytes a storage class needs to vet a staged file: a catalog's head and tail suffice; others are small and read whole. */
function contentForCheck(storageClassName: string, path: string, size: number, label: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    // A catalog is checked by its schema, which its footer or first message carries: never read whole.
    if (storageClassName === 'ArrowTable') return schemaBytesOfFile(path, label);
    const bytes = Buffer.alloc(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, bytes, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}
