/**
 * CSV is streamed batch by batch (issue 9): the first batch arrives while
 * most of the input is still unread, so memory is bounded by a batch, for
 * stdin as for files. The tokenizer is csv-parse; quoting and CRLF are its.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readCatalogBatches } from '../src/catalog/read.js';
import { csvToTable } from '../src/catalog/csv.js';

test('stdin CSV: the first batch is yielded after reading about one batch of input, not all of it', async () => {
  const rows = 200_000, perChunk = 1000;
  let produced = 0;
  async function* stdin(): AsyncGenerator<Buffer> {
    yield Buffer.from('id,x,y\n');
    for (let r = 0; r < rows; r += perChunk) {
      let text = '';
      for (let i = r; i < r + perChunk; i++) text += `${i},${i}.5,${2 * i}.25\n`;
      produced += perChunk;
      yield Buffer.from(text);
    }
  }
  const source = await readCatalogBatches('-', { stdin: stdin(), batchRows: 10_000 });
  let batches = 0, total = 0, producedAtFirst = -1;
  for await (const b of source) {
    if (batches === 0) producedAtFirst = produced;
    batches++;
    total += b.numRows;
  }
  assert.equal(total, rows);
  assert.equal(batches, 20);
  // Read-ahead of a few stream buffers at most: far from the 200,000 rows.
  assert.ok(producedAtFirst < 50_000, `${producedAtFirst} rows read before the first batch`);
});

test('the tokenizer: RFC 4180 quotes, doubled quotes, embedded newlines and CRLF; a short row is BAD_INPUT', () => {
  const t = csvToTable('name,x\r\n"a, ""b""\nc",1\r\nplain,2\r\n');
  assert.deepEqual(t.getChild('name')!.toArray(), ['a, "b"\nc', 'plain']);
  assert.throws(() => csvToTable('a,b\n1\n'), (e: Error & { code?: string }) => e.code === 'BAD_INPUT');
  assert.throws(() => csvToTable('a,b\n"1,2\n'), (e: Error & { code?: string }) => e.code === 'BAD_INPUT' && /unterminated quoted field/.test(e.message));
});

test('a record longer than CSV_MAX_RECORD_CHARS is BAD_INPUT, not an unbounded field', async () => {
  async function* stdin(): AsyncGenerator<Buffer> {
    yield Buffer.from('x\n');
    for (let i = 0; i < 40; i++) yield Buffer.alloc(1 << 20, 0x31); // 40 MiB of one unterminated number
  }
  await assert.rejects(async () => {
    for await (const _ of await readCatalogBatches('-', { stdin: stdin() })) void _;
  }, (e: Error & { code?: string }) => e.code === 'BAD_INPUT');
});
