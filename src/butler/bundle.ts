/**
 * Sharing: `export` writes a bundle — a folder, or a single ustar file when
 * the name ends in `.tar` — holding `manifest.json` (runs with parents,
 * config and times, their datasets and failure markers, the inputs they read,
 * the ref named and its moves, the sha256 of every file) and `files/<sha256>`.
 *
 * `import` reads and vets the whole bundle before writing anything: every
 * path must be relative and stay inside the bundle (no absolute paths, no
 * `..`, no links or special files), every file must match its checksum, and
 * every dataset must name a file the bundle carries. Then files are placed
 * and the runs and refs written in one registry transaction.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { SkycalError, errors } from '../errors.js';
import { INPUT_LIMITS, readFileBounded } from '../io/readBounded.js';
import { canonicalDataId, dataIdMatches, parseDataId, type DataId } from './dataId.js';
import { sha256Hex } from './hash.js';
import type { NewEntry, RefKind } from './registry.js';
import { iso, parseTime, type Repository } from './repository.js';
import { storageClass } from './storageClasses.js';
import { readTar, writeTar } from './tar.js';

const BUNDLE_VERSION = 1;

interface ManifestRun {
  id: string; stage: string; parents: string[]; configJson: string; configHash: string; softwareVersion: string;
  host: string; user: string; begunAt: number; committedAt: number;
  entries: NewEntry[];
  inputs: { runId: string; type: string; dataId: string }[];
}
interface Manifest {
  bundleVersion: number;
  createdAt: string;
  source: { at: string; asOf: string | null };
  datasetTypes: { name: string; storageClass: string }[];
  /** Oldest first, so parents come before children. */
  runs: ManifestRun[];
  refs: { name: string; kind: RefKind; runId: string; moves: { runId: string | null; at: number; reason: string }[] }[];
  files: { path: string; sha256: string; size: number }[];
}

export function exportBundle(
  repo: Repository,
  out: string,
  options: { at?: string; asOf?: string | number; types?: readonly string[]; where?: DataId | string } = {},
): { runs: number; files: number; path: string } {
  const at = options.at ?? 'main';
  const asOf = options.asOf === undefined ? undefined : parseTime(options.asOf);
  const tip = repo.resolveRef(at, asOf);
  if (tip === null) throw errors.badInput('export', `${at} has no runs`);
  const where = options.where === undefined ? {} : typeof options.where === 'string' ? parseDataId(options.where) : options.where;
  const types = options.types ?? [];
  const keep = (type: string, dataId: string) =>
    (types.length === 0 || types.some((t) => type === t || type.startsWith(`${t}.`))) && dataIdMatches(parseDataId(dataId), where);
  const reg = repo.registry;
  const history = reg.history(tip, asOf).reverse();
  const files = new Map<string, number>();
  const runs: ManifestRun[] = history.map((run) => {
    const entries = reg.runEntries(run.id).filter((e) => keep(e.type, e.dataId));
    for (const e of entries) if (e.fileHash) files.set(e.fileHash, e.size!);
    return {
      id: run.id, stage: run.stage, parents: [...run.parents], configJson: run.configJson, configHash: run.configHash,
      softwareVersion: run.softwareVersion, host: run.host, user: run.user, begunAt: run.begunAt, committedAt: run.committedAt!,
      entries: entries.map((e) => ({ type: e.type, dataId: e.dataId, kind: e.kind, fileHash: e.fileHash, size: e.size, reason: e.reason })),
      inputs: reg.inputsOf(run.id).filter((e) => keep(e.type, e.dataId)).map((e) => ({ runId: e.runId, type: e.type, dataId: e.dataId })),
    };
  });
  const inBundle = new Set(runs.map((r) => r.id));
  for (const r of runs) r.inputs = r.inputs.filter((i) => inBundle.has(i.runId));
  // The ref named, and every tag that points into the exported history.
  const named = reg.ref(at);
  const refs: Manifest['refs'] = [...(named ? [named] : []), ...reg.refs().filter((r) => r.kind === 'tag' && r.name !== at && r.runId !== null && inBundle.has(r.runId))]
    .map((ref) => ({
      name: ref.name, kind: ref.kind, runId: ref.name === at ? tip : ref.runId!,
      moves: reg.refMoves(ref.name).filter((m) => (asOf === undefined || m.at <= asOf) && (m.runId === null || inBundle.has(m.runId)))
        .map((m) => ({ runId: m.runId, at: m.at, reason: m.reason })),
    }));
  const manifest: Manifest = {
    bundleVersion: BUNDLE_VERSION, createdAt: new Date().toISOString(), source: { at, asOf: iso(asOf ?? null) },
    datasetTypes: reg.datasetTypes(), runs, refs,
    files: [...files].map(([hash, size]) => ({ path: `files/${hash}`, sha256: hash, size })),
  };
  const payload = [
    ...manifest.files.map((f) => ({ path: f.path, bytes: repo.store.read(f.sha256) })),
    { path: 'manifest.json', bytes: new TextEncoder().encode(JSON.stringify(manifest, null, 1) + '\n') },
  ];
  if (existsSync(out)) throw errors.conflict(`export: ${out} already exists`);
  const temp = join(dirname(resolve(out)), `.${Date.now()}-${process.pid}.partial`);
  try {
    if (out.endsWith('.tar')) writeFileSync(temp, writeTar(payload));
    else {
      mkdirSync(join(temp, 'files'), { recursive: true });
      for (const p of payload) writeFileSync(join(temp, p.path), p.bytes);
    }
    renameSync(temp, out); // the bundle appears whole or not at all
  } catch (e) {
    rmSync(temp, { recursive: true, force: true });
    throw SkycalError.isSkycalError(e) ? e : errors.io(out, e);
  }
  return { runs: runs.length, files: manifest.files.length, path: out };
}

/** A relative path that stays inside its folder: no absolute paths, no `..`, no backslashes or NULs. */
export function checkBundlePath(path: string, source: string): string {
  const bad = path === '' || path.startsWith('/') || /^[A-Za-z]:/.test(path) || path.includes('\\') || path.includes('\0') ||
    path.split('/').some((seg) => seg === '..');
  if (bad) throw errors.badInput(source, `refusing path ${JSON.stringify(path)}: it escapes the bundle`);
  return path.split('/').filter((s) => s !== '' && s !== '.').join('/');
}

/** Every regular file of a bundle folder, by relative path; links and special files are refused. */
function readBundleFolder(root: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      const rel = relative(root, full).split(sep).join('/');
      checkBundlePath(rel, root);
      const st = lstatSync(full);
      if (st.isSymbolicLink()) throw errors.badInput(root, `refusing ${rel}: a symbolic link`);
      if (st.isDirectory()) walk(full);
      else if (st.isFile()) files.set(rel, readFileSync(full));
      else throw errors.badInput(root, `refusing ${rel}: not a regular file`);
    }
  };
  walk(root);
  return files;
}

function readBundle(path: string): Map<string, Uint8Array> {
  if (!existsSync(path)) throw errors.notFound(`bundle ${path}`);
  const st = lstatSync(path);
  if (st.isSymbolicLink()) throw errors.badInput(path, 'refusing a bundle that is a symbolic link');
  if (st.isDirectory()) return readBundleFolder(path);
  const files = new Map<string, Uint8Array>();
  for (const e of readTar(readFileBounded(path, { label: 'bundle', maxBytes: INPUT_LIMITS.dataset }), path)) {
    const p = checkBundlePath(e.path, path);
    if (e.type === 'file') {
      if (files.has(p)) throw errors.badInput(path, `${p} appears twice`);
      files.set(p, e.bytes);
    }
  }
  return files;
}

function parseManifest(files: Map<string, Uint8Array>, source: string): Manifest {
  const raw = files.get('manifest.json');
  if (raw === undefined) throw errors.badInput(source, 'no manifest.json');
  let m: Manifest;
  try {
    m = JSON.parse(new TextDecoder().decode(raw)) as Manifest;
  } catch (e) {
    throw errors.badInput(source, `manifest.json is not JSON: ${(e as Error).message}`);
  }
  if (m.bundleVersion !== BUNDLE_VERSION || !Array.isArray(m.runs) || !Array.isArray(m.files) || !Array.isArray(m.refs)) {
    throw errors.badInput(source, `manifest.json: not a skycal bundle (version ${BUNDLE_VERSION})`);
  }
  const listed = new Set<string>(['manifest.json']);
  for (const f of m.files) {
    const p = checkBundlePath(String(f.path), source);
    if (p !== `files/${f.sha256}` || !/^[0-9a-f]{64}$/.test(f.sha256)) throw errors.badInput(source, `manifest names file ${JSON.stringify(f.path)} oddly`);
    const bytes = files.get(p);
    if (bytes === undefined) throw errors.badInput(source, `${p} is listed in the manifest but missing`);
    if (bytes.length !== f.size || sha256Hex(bytes) !== f.sha256) throw errors.badInput(source, `${p}: checksum mismatch`);
    listed.add(p);
  }
  for (const p of files.keys()) if (!listed.has(p)) throw errors.badInput(source, `${p} is not listed in the manifest`);
  for (const r of m.runs) {
    for (const e of r.entries) {
      canonicalDataId(e.dataId);
      if (e.kind === 'dataset' && !listed.has(`files/${e.fileHash}`)) throw errors.badInput(source, `run ${r.id}: ${e.type} ${e.dataId} names a file the bundle lacks`);
      if (e.kind !== 'dataset' && e.kind !== 'failure') throw errors.badInput(source, `run ${r.id}: bad entry kind ${String(e.kind)}`);
    }
  }
  return m;
}

export function importBundle(repo: Repository, path: string): { runs: number; skippedRuns: number; files: number; refs: string[] } {
  const source = `bundle ${path}`;
  const files = readBundle(path);
  const m = parseManifest(files, source);
  const reg = repo.registry;
  const typeClass = new Map(m.datasetTypes.map((t) => [t.name, t.storageClass]));
  // Dataset content is checked by its storage class too, before anything is written.
  for (const r of m.runs) {
    for (const e of r.entries) {
      if (e.kind !== 'dataset') continue;
      const sc = reg.datasetType(e.type)?.storageClass ?? typeClass.get(e.type);
      if (sc === undefined) throw errors.badInput(source, `dataset type ${e.type} is neither in the bundle nor in the repository`);
      storageClass(sc).normalise(files.get(`files/${e.fileHash}`)!, `${source}: ${e.type} ${e.dataId}`);
    }
  }
  const staged = m.files.map((f) => repo.store.stage(files.get(f.path)!));
  try {
    return reg.write(() => {
      for (const t of m.datasetTypes) {
        const have = reg.datasetType(t.name);
        if (have === undefined) reg.addDatasetType({ name: t.name, storageClass: storageClass(t.storageClass).name });
        else if (have.storageClass !== t.storageClass) throw errors.conflict(`dataset type ${t.name} is ${have.storageClass} here, ${t.storageClass} in the bundle`);
      }
      for (const s of staged) repo.store.place(s);
      let added = 0;
      let skipped = 0;
      for (const r of m.runs) {
        const existing = reg.run(r.id);
        if (existing !== undefined) {
          if (existing.state !== 'committed' || existing.configHash !== r.configHash || existing.stage !== r.stage || existing.committedAt !== r.committedAt) {
            throw errors.conflict(`run ${r.id} exists here with different content`);
          }
          skipped++;
          continue;
        }
        for (const p of r.parents) if (reg.run(p)?.state !== 'committed') throw errors.badInput(source, `run ${r.id}: parent ${p} is neither in the bundle nor here`);
        reg.insertRun({ ...r, branch: null, leaseExpiresAt: null }, []);
        for (const e of r.entries) reg.addEntry(r.id, e);
        reg.markCommitted(r.id, r.committedAt);
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
        if (have === undefined || (have.runId === null && have.kind === 'branch' && ref.kind === 'branch')) {
          // Replay the ref's recorded moves so `--as-of` answers as it did where the bundle came from.
          let current: string | null | undefined = have === undefined ? undefined : null;
          for (const mv of ref.moves) {
            if (mv.reason === 'delete' || (current !== undefined && mv.runId === current)) continue;
            if (!reg.moveRef(ref.name, ref.kind, current, mv.runId, mv.reason, mv.at)) throw errors.conflict(`ref ${ref.name} moved while importing`);
            current = mv.runId;
          }
          if (current !== ref.runId) reg.moveRef(ref.name, ref.kind, current, ref.runId, 'import', reg.nextTime());
        } else if (have.runId !== ref.runId) {
          if (have.kind !== 'branch' || ref.kind !== 'branch' || (have.runId !== null && !reg.isAncestor(have.runId, ref.runId))) {
            throw errors.conflict(`${have.kind} ${ref.name} exists here at ${have.runId} and cannot move to the bundle's ${ref.runId}`);
          }
          reg.moveRef(ref.name, 'branch', have.runId, ref.runId, 'import', reg.nextTime());
        }
        refs.push(ref.name);
      }
      return { runs: added, skippedRuns: skipped, files: m.files.length, refs };
    });
  } catch (e) {
    for (const s of staged) repo.store.discard(s);
    throw e;
  }
}
