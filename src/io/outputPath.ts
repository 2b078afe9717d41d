/**
 * What an output path (`--out`) may name. One rule for every command:
 * a regular file or a new name is replaced atomically; a character device or
 * FIFO (`/dev/stdout`, `/dev/null`) is written through; a symbolic link, a
 * folder, a socket or a block device is refused (replacing it would destroy
 * what it names); and nothing inside a protected folder (the repository
 * being read) is ever an output.
 */
import { lstatSync, realpathSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, isAbsolute } from 'node:path';
import { errors } from '../errors.js';

export interface OutputCheck {
  /** Folders no output may land in (e.g. the repository root). */
  readonly notInside?: readonly string[];
}

export type OutputKind = 'file' | 'device';

/** Where a possibly missing path really lands: its folder's real path plus its name. */
function realTarget(path: string): string {
  const abs = resolve(path);
  try {
    return realpathSync(abs);
  } catch {
    try {
      return join(realpathSync(dirname(abs)), basename(abs));
    } catch {
      return abs;
    }
  }
}

function isInside(child: string, folder: string): boolean {
  const rel = relative(folder, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** USAGE unless `path` may be written; says whether to replace it ('file') or write through ('device'). */
export function checkOutputPath(path: string, options: OutputCheck = {}): OutputKind {
  if (path === '') throw errors.usage('--out: empty path');
  for (const folder of options.notInside ?? []) {
    if (isInside(realTarget(path), realTarget(folder))) {
      throw errors.usage(`${path}: refusing to write inside the repository ${folder} (it would break it)`);
    }
  }
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return 'file'; // a new name
  }
  if (st.isFile()) return 'file';
  if (st.isCharacterDevice() || st.isFIFO()) return 'device';
  const what = st.isSymbolicLink() ? 'a symbolic link' : st.isDirectory() ? 'a folder' : 'not a regular file';
  throw errors.usage(`${path}: refusing to replace an output that is ${what}; name a regular file`);
}
