import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, tempDir } from './helpers.js';

test('native-free-kernels/sipPoly.ts is exactly what scripts/gen-sip-poly.mjs generates, byte for byte', () => {
  const d = tempDir();
  try {
    const out = join(d.path, 'sipPoly.ts');
    execFileSync(process.execPath, [join(repoRoot, 'scripts', 'gen-sip-poly.mjs'), out]);
    const generated = readFileSync(out);
    const committed = readFileSync(join(repoRoot, 'native-free-kernels', 'sipPoly.ts'));
    assert.ok(generated.length > 10_000, 'the generator wrote the evaluators');
    assert.ok(generated.equals(committed), 'regenerate with: node scripts/gen-sip-poly.mjs');
  } finally {
    d.cleanup();
  }
});
