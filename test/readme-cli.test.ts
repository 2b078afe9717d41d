import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliReference } from '../src/cli/help.js';
import { repoRoot } from './helpers.js';

test('the README\'s command reference is the one the option tables generate (help and README cannot drift)', async () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const block = /<!-- cli-reference:start[^>]*-->\n```\n([\s\S]*?)\n```\n<!-- cli-reference:end -->/.exec(readme);
  assert.ok(block, 'README.md has the cli-reference block');
  assert.equal(block[1], await cliReference(), 'stale: run `npx tsc -b && node scripts/gen-cli-reference.mjs`');
});
