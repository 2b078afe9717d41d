/**
 * Tar archives for bundles, streamed with tar-stream so that a bundle with
 * large catalogs is never held in memory: `packTar` writes entries from files
 * on disk, `forEachTarEntry` hands each entry's bytes in chunks to the
 * caller. Our own checks stay ours: only regular files and folders (links,
 * devices, FIFOs refused), every path relative and inside the archive, no
 * size field beyond what the archive itself can hold, and tar-stream's
 * header checksums; duplicates and content checksums are the caller's
 * (bundle.ts), which sees every path.
 */
import { createReadStream, fstatSync, openSync, closeSync } from 'node:fs';
import tar from 'tar-stream';
import { SkycalError, errors } from '../errors.js';

export interface PackEntry {
  readonly path: string;
  readonly size: number;
  /** A file on disk, streamed, or bytes already in memory (the manifest). */
  readonly file?: string;
  readonly bytes?: Uint8Array;
}

/** Pack entries into chunks handed to `sink` in order (an AtomicFileWriter's write). */
export async function packTar(entries: readonly PackEntry[], sink: (chunk: Uint8Array) => void, mtime = new Date()): Promise<void> {
  const pack = tar.pack();
  const drained = (async () => {
    for await (const chunk of pack) sink(chunk as Uint8Array);
  })();
  try {
    for (const e of entries) {
      await new Promise<void>((resolve, reject) => {
        const header = { name: e.path, size: e.size, mode: 0o644, mtime, type: 'file' as const };
        if (e.bytes !== undefined) {
          pack.entry(header, Buffer.from(e.bytes.buffer, e.bytes.byteOffset, e.bytes.length), (err) => (err ? reject(err) : resolve()));
          return;
        }
        const out = pack.entry(header, (err) => (err ? reject(err) : resolve()));
        const input = createReadStream(e.file!);
        input.on('error', reject);
        input.pipe(out);
      });
    }
    pack.finalize();
  } catch (e) {
    pack.destroy(e as Error);
    await drained.catch(() => {});
    throw e;
  }
  await drained;
}

export interface TarEntryHeader {
  readonly path: string;
  readonly type: 'file' | 'directory';
  readonly size: number;
}

/** An error thrown by the caller's sink, told apart from tar-stream's own parse errors. */
class VisitError extends Error {
  constructor(readonly inner: unknown) {
    super(inner instanceof Error ? inner.message : String(inner));
  }
}

const KIND: Record<string, string> = {
  link: 'a hard link', symlink: 'a symbolic link', 'character-device': 'a character device',
  'block-device': 'a block device', fifo: 'a FIFO', 'contiguous-file': 'a contiguous file',
};

/**
 * Read a tar file entry by entry: `onEntry` gets the header, then each
 * chunk of a file's bytes through `onChunk`, then `onEnd`. Anything that is
 * not a regular file or folder, or a size larger than the archive, is
 * BAD_INPUT before its bytes are read.
 */
export async function forEachTarEntry(
  path: string,
  source: string,
  visit: (header: TarEntryHeader) => { onChunk(chunk: Uint8Array): void; onEnd(): void } | undefined,
): Promise<void> {
  let archiveSize: number;
  try {
    const fd = openSync(path, 'r');
    try {
      archiveSize = fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw errors.io(path, e);
  }
  const extract = tar.extract();
  const input = createReadStream(path);
  input.on('error', (e) => extract.destroy(e));
  input.pipe(extract);
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const name = h.name;
      const size = h.size ?? 0;
      if (h.type !== 'file' && h.type !== 'directory') {
        throw errors.badInput(source, `${name} is ${KIND[h.type ?? ''] ?? `an entry of type ${JSON.stringify(h.type)}`}; bundles hold regular files only`);
      }
      if (!Number.isSafeInteger(size) || size < 0 || size > archiveSize) {
        throw errors.badInput(source, `${name}: size field ${size} exceeds the archive (${archiveSize} bytes)`);
      }
      // tar-stream never ends a folder entry that claims content: refuse it before reading.
      if (h.type === 'directory' && size !== 0) throw errors.badInput(source, `${name}: a folder entry with ${size} bytes of content`);
      const ours = <T>(fn: () => T): T => {
        try {
          return fn();
        } catch (e) {
          throw new VisitError(e);
        }
      };
      const type = h.type;
      const sink = ours(() => visit({ path: name, type, size }));
      for await (const chunk of entry) ours(() => sink?.onChunk(chunk as Uint8Array));
      ours(() => sink?.onEnd());
    }
  } catch (e) {
    input.destroy();
    if (e instanceof VisitError && !SkycalError.isSkycalError(e.inner)) {
      // Our own sink failed (not the archive): a bug or a file-system error, never disguised as bad input.
      const inner = e.inner as NodeJS.ErrnoException;
      if (typeof inner?.code === 'string' && /^E[A-Z]+$/.test(inner.code)) throw errors.io(path, inner);
      throw errors.internal(inner);
    }
    if (e instanceof VisitError) throw e.inner;
    if (SkycalError.isSkycalError(e)) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) throw errors.io(path, e);
    throw errors.badInput(source, `not a readable tar archive: ${(e as Error).message}`);
  }
}
