/**
 * A minimal POSIX ustar reader and writer: regular files and directories
 * only. The reader refuses links, devices, pax/GNU extension headers and bad
 * checksums instead of guessing, and returns the entries for the caller to
 * vet before anything is written.
 */
import { SkycalError } from '../errors.js';

const BLOCK = 512;

export interface TarEntry {
  readonly path: string;
  readonly type: 'file' | 'directory';
  readonly bytes: Uint8Array;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function putString(block: Uint8Array, offset: number, width: number, text: string): void {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > width) throw new SkycalError('BAD_INPUT', `tar: ${JSON.stringify(text)} is longer than ${width} bytes`);
  block.set(bytes, offset);
}

export function writeTar(files: readonly { path: string; bytes: Uint8Array }[], mtime = Math.floor(Date.now() / 1000)): Uint8Array {
  const size = files.reduce((s, f) => s + BLOCK + Math.ceil(f.bytes.length / BLOCK) * BLOCK, 2 * BLOCK);
  const out = new Uint8Array(size);
  let off = 0;
  for (const f of files) {
    const h = out.subarray(off, off + BLOCK);
    putString(h, 0, 100, f.path);
    putString(h, 100, 8, octal(0o644, 8));
    putString(h, 108, 8, octal(0, 8));
    putString(h, 116, 8, octal(0, 8));
    putString(h, 124, 12, octal(f.bytes.length, 12));
    putString(h, 136, 12, octal(mtime, 12));
    h.fill(0x20, 148, 156); // checksum field counts as spaces
    h[156] = 0x30; // '0': regular file
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

function readString(block: Uint8Array, offset: number, width: number): string {
  const field = block.subarray(offset, offset + width);
  const nul = field.indexOf(0);
  return new TextDecoder('utf-8', { fatal: false }).decode(nul < 0 ? field : field.subarray(0, nul));
}

function readOctal(block: Uint8Array, offset: number, width: number, what: string): number {
  const text = readString(block, offset, width).trim();
  if (!/^[0-7]+$/.test(text)) throw new SkycalError('BAD_INPUT', `tar: bad ${what} field ${JSON.stringify(text)}`);
  return parseInt(text, 8);
}

export function readTar(bytes: Uint8Array, source = 'tar file'): TarEntry[] {
  const entries: TarEntry[] = [];
  let off = 0;
  while (off + BLOCK <= bytes.length) {
    const h = bytes.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) return entries;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (readOctal(h, 148, 8, 'checksum') !== sum) throw new SkycalError('BAD_INPUT', `${source}: header checksum mismatch at byte ${off}`);
    const name = readString(h, 0, 100);
    const prefix = readString(h, 257, 6) === 'ustar' ? readString(h, 345, 155) : '';
    const path = prefix ? `${prefix}/${name}` : name;
    const flag = String.fromCharCode(h[156]!);
    const size = readOctal(h, 124, 12, 'size');
    const start = off + BLOCK;
    if (start + size > bytes.length) throw new SkycalError('BAD_INPUT', `${source}: ${path} is truncated`);
    if (flag === '0' || flag === '\0') entries.push({ path, type: 'file', bytes: bytes.slice(start, start + size) });
    else if (flag === '5') entries.push({ path, type: 'directory', bytes: new Uint8Array() });
    else {
      const kind = flag === '1' ? 'a hard link' : flag === '2' ? 'a symbolic link' : `an entry of type ${JSON.stringify(flag)}`;
      throw new SkycalError('BAD_INPUT', `${source}: ${path} is ${kind}; bundles hold regular files only`);
    }
    off = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  throw new SkycalError('BAD_INPUT', `${source}: no end-of-archive marker (truncated?)`);
}
