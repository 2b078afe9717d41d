/**
 * The web view's static files: a fixed table from URL to file, built once
 * at start from a few known folders of the package, so that no request can
 * name a path of its own. The page's compiled modules import the kernels and
 * the WCS code by relative URL, and get the very files Node runs
 * (dist/native-free-kernels, dist/src/wcs, ...); the Parquet reader is
 * hyparquet's browser build from node_modules. Nothing comes from a CDN.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { packageRoot } from '../packageFiles.js';

export interface StaticFile {
  readonly bytes: Buffer;
  readonly contentType: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

const DIST = join(packageRoot, 'dist');

function hyparquetSrc(): string {
  // The package's own entry (src/index.js): its folder holds the browser build's modules.
  const entry = createRequire(import.meta.url).resolve('hyparquet');
  return dirname(entry);
}

/** Files of `dir` (one level, or `depth` levels) whose names end in one of `extensions`, minus `skip`. */
function listFiles(dir: string, extensions: readonly string[], depth = 1, skip: readonly string[] = []): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (depth > 1) out.push(...listFiles(path, extensions, depth - 1, skip).map((p) => `${name}/${p}`));
    } else if (extensions.some((e) => name.endsWith(e)) && !skip.includes(name)) {
      out.push(name);
    }
  }
  return out;
}

/**
 * The compiled modules the page may load, from web/tsconfig.json's `include`
 * (`../DIR/*.ts` or `../DIR/FILE.ts`) less its `exclude`: the build's list of
 * browser-safe files is the server's list too, so a module that src/wcs starts
 * importing is served as soon as the build compiles it for the browser.
 */
function browserSafeModules(): { folder: string; files: string[] }[] {
  const config = JSON.parse(readFileSync(join(packageRoot, 'web', 'tsconfig.json'), 'utf8')) as { include: string[]; exclude?: string[] };
  const excluded = new Set((config.exclude ?? []).map((p) => p.replace(/^\.\.\//, '').replace(/\.ts$/, '.js')));
  const out: { folder: string; files: string[] }[] = [];
  for (const pattern of config.include) {
    if (!pattern.startsWith('../')) continue; // web/*.ts: mounted as /app/web above
    const rel = pattern.slice(3);
    const folder = dirname(rel);
    const name = rel.slice(folder.length + 1);
    const candidates = name === '*.ts' ? listFiles(join(DIST, folder), ['.js']) : [name.replace(/\.ts$/, '.js')];
    out.push({ folder, files: candidates.filter((f) => !excluded.has(`${folder}/${f}`)) });
  }
  return out;
}

/** URL path -> file, for every file the app serves. */
export function staticTable(): Map<string, StaticFile> {
  const table = new Map<string, StaticFile>();
  const add = (url: string, path: string) => {
    const contentType = CONTENT_TYPES[extname(path)];
    if (contentType === undefined) return;
    table.set(url, { bytes: readFileSync(path), contentType });
  };
  const mount = (prefix: string, dir: string, files: readonly string[]) => {
    for (const f of files) add(`${prefix}/${f}`, join(dir, f));
  };
  add('/', join(packageRoot, 'web', 'index.html'));
  add('/app/style.css', join(packageRoot, 'web', 'style.css'));
  mount('/app/web', join(DIST, 'web'), listFiles(join(DIST, 'web'), ['.js']));
  // The browser-safe modules are what web/tsconfig.json compiles without Node's types: one list, read from there.
  for (const { folder, files } of browserSafeModules()) mount(`/app/${folder}`, join(DIST, folder), files);
  const hp = hyparquetSrc();
  mount('/app/node_modules/hyparquet/src', hp, listFiles(hp, ['.js'], 1, ['node.js']));
  return table;
}
