/**
 * A raw ustar writer for tests that craft hostile archives (`..` paths,
 * absolute paths, links, devices, duplicated entries, lying size fields)
 * that a well-behaved packer refuses to write. skycal itself packs and
 * unpacks with tar-stream (src/butler/tar.ts).
 */
const BLOCK = 512;

export interface RawTarEntry {
  readonly path: string;
  readonly bytes: Uint8Array;
  /** Type flag: '0' file (default), '1' hard link, '2' symlink, '3' char device, '4' block device, '5' folder, '6' FIFO. */
  readonly flag?: string;
  /** Lie in the size field (fuzzing). */
  readonly sizeField?: string;
  readonly linkname?: string;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function putString(block: Uint8Array, offset: number, width: number, text: string): void {
  const bytes = new TextEncoder().encode(text).subarray(0, width);
  block.set(bytes, offset);
}

export function writeTar(files: readonly RawTarEntry[], mtime = 1_700_000_000): Uint8Array {
  const size = files.reduce((s, f) => s + BLOCK + Math.ceil(f.bytes.length / BLOCK) * BLOCK, 2 * BLOCK);
  const out = new Uint8Array(size);
  let off = 0;
  for (const f of files) {
    const h = out.subarray(off, off + BLOCK);
    putString(h, 0, 100, f.path);
    putString(h, 100, 8, octal(0o644, 8));
    putString(h, 108, 8, octal(0, 8));
    putString(h, 116, 8, octal(0, 8));
    putString(h, 124, 12, f.sizeField ?? octal(f.bytes.length, 12));
    putString(h, 136, 12, octal(mtime, 12));
    h.fill(0x20, 148, 156); // checksum field counts as spaces
    h[156] = (f.flag ?? '0').charCodeAt(0);
    if (f.linkname !== undefined) putString(h, 157, 100, f.linkname);
    putString(h, 257, 6, 'ustar\0');
    putString(h, 263, 2, '00');
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += h[i]!;
    putString(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
    out.set(f.bytes, off + BLOCK);
    off += BLOCK + Math.ceil(f.bytes.length / BLOCK) * BLOCK;
  }
  return out;
}
