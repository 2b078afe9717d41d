/**
 * The layers of ARCHITECTURE.md, enforced: kernels -> base utilities ->
 * objects and I/O -> repository -> jobs -> the library root -> benchmarks and
 * demo -> CLI and server. A module may import its own layer or lower ones,
 * never a higher one; the kernels import only ./... files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { repoRoot } from './helpers.js';
import { filesUnder, specifiers } from './imports.js';

/** Rank of each folder (or top-level file) of the library; a new folder must be given one here and in ARCHITECTURE.md. */
const LAYERS: Readonly<Record<string, number>> = {
  'native-free-kernels': 0,
  'src/errors.ts': 1, 'src/random.ts': 1, 'src/stats.ts': 1, 'src/packageFiles.ts': 1, 'src/numeric': 1,
  'src/fits': 2, 'src/wcs': 2, 'src/photocalib': 2, 'src/catalog': 2, 'src/parallel': 2, 'src/plot': 2, 'src/io': 2,
  'src/butler': 3,
  'src/recompute': 4, 'src/compare': 4,
  'src/index.ts': 5,
  'src/bench': 6, 'src/demo': 6,
  'src/cli': 7, 'src/serve': 7,
};
const NAMES = ['kernels', 'base utilities', 'objects and I/O', 'repository', 'jobs', 'library root', 'benchmarks and demo', 'CLI and server'];

/** The layer key of a project path: its folder under src/ (or the top-level file), or the kernel folder. */
export function layerKey(rel: string): string {
  const parts = rel.split(sep).join('/').split('/');
  if (parts[0] === 'native-free-kernels') return 'native-free-kernels';
  if (parts[0] === 'src') return parts.length === 2 ? `src/${parts[1]!.replace(/\.js$/, '.ts')}` : `src/${parts[1]}`;
  return rel;
}

/** Packages that only one layer may load (the heavy native and wasm ones). */
const PACKAGE_HOMES: Readonly<Record<string, readonly string[]>> = {
  'better-sqlite3': ['src/butler'],
  libpq: ['src/butler'],
  '@resvg/resvg-js': ['src/plot'],
};

/** Every import that points the wrong way, as text. */
export function layerViolations(root: string): string[] {
  const out: string[] = [];
  for (const top of ['native-free-kernels', 'src']) {
    for (const file of filesUnder(join(root, top), '.ts')) {
      const rel = relative(root, file);
      const key = layerKey(rel);
      const rank = LAYERS[key];
      if (rank === undefined) {
        out.push(`${rel}: ${key} has no layer (add it to LAYERS in test/layers.test.ts and to ARCHITECTURE.md)`);
        continue;
      }
      const text = readFileSync(file, 'utf8');
      for (const { spec } of specifiers(text)) {
        if (key === 'native-free-kernels') {
          if (!spec.startsWith('./')) out.push(`${rel}: the kernels import only ./... files, not ${spec}`);
          continue;
        }
        if (!spec.startsWith('.')) {
          const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
          const homes = PACKAGE_HOMES[pkg];
          if (homes && !homes.includes(key)) out.push(`${rel}: ${pkg} belongs to ${homes.join(', ')}`);
          continue;
        }
        const target = layerKey(relative(root, resolve(dirname(file), spec)));
        const targetRank = LAYERS[target];
        if (targetRank === undefined) out.push(`${rel}: ${spec} is outside the layered folders`);
        else if (targetRank > rank) out.push(`${rel} (${NAMES[rank]}) imports ${spec} (${NAMES[targetRank]})`);
      }
      if (key === 'native-free-kernels' && /\brequire\s*\(/.test(text)) out.push(`${rel}: require()`);
    }
  }
  return out;
}

test('no module imports a higher layer; the kernels import only ./... files', () => {
  assert.ok(filesUnder(join(repoRoot, 'native-free-kernels'), '.ts').length > 0 && filesUnder(join(repoRoot, 'src'), '.ts').length > 50);
  assert.deepEqual(layerViolations(repoRoot), []);
});

test('the scanner the layer test uses finds static, bare, re-exported and dynamic imports, and nothing in strings that are not imports', () => {
  const text = [
    "import { x } from 'node:fs';",
    "export * from '../src/a.js';",
    "import type { T } from './t.js';",
    "import './side-effect.js';",
    'const m = await import("../cli/main.js");',
    "export { y } from './y.js'; const s = 'from here';",
    "const note = 'imported from elsewhere';",
  ].join('\n');
  assert.deepEqual(specifiers(text).map((s) => `${s.dynamic ? 'dynamic ' : ''}${s.spec}`), [
    'node:fs', '../src/a.js', './t.js', './side-effect.js', 'dynamic ../cli/main.js', './y.js',
  ]);
});

test('the layer check catches a lower layer importing a higher one (a wcs module importing the CLI, a kernel importing node:fs)', async () => {
  const { mkdirSync, writeFileSync, cpSync } = await import('node:fs');
  const { tempDir } = await import('./helpers.js');
  const d = tempDir();
  try {
    cpSync(join(repoRoot, 'native-free-kernels'), join(d.path, 'native-free-kernels'), { recursive: true, filter: (p) => !p.endsWith('.js') });
    mkdirSync(join(d.path, 'src', 'wcs'), { recursive: true });
    mkdirSync(join(d.path, 'src', 'cli'), { recursive: true });
    writeFileSync(join(d.path, 'src', 'cli', 'main.ts'), "import { loadWcs } from '../wcs/load.js';\n");
    writeFileSync(join(d.path, 'src', 'wcs', 'load.ts'), "import { main } from '../cli/main.js';\nimport { x } from '../stats.js';\n");
    writeFileSync(join(d.path, 'src', 'stats.ts'), 'export const x = 1;\n');
    writeFileSync(join(d.path, 'native-free-kernels', 'bad.ts'), "import { readFileSync } from 'node:fs';\n");
    assert.deepEqual(layerViolations(d.path).sort(), [
      'native-free-kernels/bad.ts: the kernels import only ./... files, not node:fs',
      `src${sep}wcs${sep}load.ts (objects and I/O) imports ../cli/main.js (CLI and server)`,
    ].sort());
  } finally {
    d.cleanup();
  }
});

test('the package entries: skycal (the library, no demo), skycal/demo and skycal/kernels', async () => {
  const root = await import('skycal' as string);
  const demo = await import('skycal/demo' as string);
  const kernels = await import('skycal/kernels' as string);
  assert.equal(typeof root.loadWcs, 'function');
  assert.equal(typeof root.Repository, 'function');
  assert.equal('runDemo' in root, false, 'the demo is not part of the library root');
  assert.equal(typeof demo.runDemo, 'function');
  assert.equal(typeof kernels.tanSipPixelToSkyDeg, 'function');
});
