/** A catalog's schema from the few bytes that carry it (a bundle's import checks catalogs without reading them whole). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import { writeCatalog } from '../src/catalog/write.js';
import { catalogSchemaOfBytes, schemaBytesOfFile } from '../src/catalog/schemaOf.js';
import { tempDir } from './helpers.js';

const names = (s: { fields: { name: string; type: unknown }[] }) => s.fields.map((f) => `${f.name}:${String(f.type)}`);

test('schemaBytesOfFile gives the schema the whole file gives, for Parquet, Arrow IPC file and stream, reading only footer or first message', async () => {
  const dir = tempDir();
  try {
    const n = 300_000; // several batches and row groups, so the schema is a small part of the file
    const table = tableFromArrays({ id: BigInt64Array.from({ length: n }, (_, i) => 2n ** 60n + BigInt(i)), x: Float64Array.from({ length: n }, (_, i) => i * 0.5), band: Array.from({ length: n }, (_, i) => (i % 2 ? 'g' : 'r')) });
    for (const ext of ['parquet', 'arrow', 'arrows']) {
      const path = join(dir.path, `c.${ext}`);
      await writeCatalog(path, table.schema, table.batches);
      const whole = readFileSync(path);
      const few = schemaBytesOfFile(path, path);
      assert.ok(few.length < whole.length / 100, `${ext}: ${few.length} of ${whole.length} bytes`);
      assert.deepEqual(names(catalogSchemaOfBytes(few, path).schema), names(catalogSchemaOfBytes(whole, path).schema), ext);
      // Cut the file where its schema lies: BAD_INPUT naming the source, never a RangeError.
      const cut = join(dir.path, `cut.${ext}`);
      writeFileSync(cut, ext === 'arrows' ? whole.subarray(0, 12) : Buffer.concat([whole.subarray(0, 8), whole.subarray(whole.length - 10)]));
      assert.throws(() => catalogSchemaOfBytes(schemaBytesOfFile(cut, 'cut'), 'cut'), (e: any) => e.code === 'BAD_INPUT' && /cut/.test(e.message), ext);
    }
  } finally {
    dir.cleanup();
  }
});
