import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './helpers.js';

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('native-free-kernels imports only modules relative to itself (./...)', () => {
  const dir = join(repoRoot, 'native-free-kernels');
  const files = tsFiles(dir);
  assert.ok(files.length > 0, 'the kernel folder has sources');
  const offending: string[] = [];
  const specifier = /(?:^|[\s;])(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(specifier)) {
      const spec = m[1] ?? m[2] ?? m[3] ?? '';
      if (!spec.startsWith('./')) offending.push(`${f}: ${spec}`);
    }
    if (/\brequire\s*\(/.test(text)) offending.push(`${f}: require()`);
  }
  assert.deepEqual(offending, []);
});

test('the import scan itself catches a non-relative import', () => {
  const specifier = /(?:^|[\s;])(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]/gm;
  const found = [..."import { x } from 'node:fs';\nexport * from '../src/a.js';".matchAll(specifier)].map((m) => m[1]);
  assert.deepEqual(found, ['node:fs', '../src/a.js']);
});
