/**
 * IPC stream framing (src/catalog/ipcMessages.ts), against what Arrow JS
 * itself writes and reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Dictionary, Float64, Int32, RecordBatch, Table, Utf8, makeVector, tableFromIPC, tableToIPC, vectorFromArray } from 'apache-arrow';
import { IPC_END_OF_STREAM, ipcStreamMessages } from '../src/catalog/ipcMessages.js';
import { fuzzSeed } from './helpers.js';

/** A table of batches of the given sizes, cut from one table so that they share its schema (and one dictionary id, as recompute's jobs do: streamPiece). */
function table(batchSizes: number[], withDictionary: boolean): Table {
  const n = batchSizes.reduce((a, b) => a + b, 0);
  const whole = new Table({
    x: makeVector(Float64Array.from({ length: n }, (_, i) => i / 8)),
    ...(withDictionary && { band: vectorFromArray(Array.from({ length: n }, (_, i) => 'ugriz'[Math.floor(i / 7) % 5]!), new Dictionary(new Utf8(), new Int32(), 7)) }),
  });
  let at = 0;
  const batches = batchSizes.map((size) => {
    const piece = whole.slice(at, (at += size));
    return piece.batches.length === 1 ? piece.batches[0]! : new RecordBatch(whole.schema);
  });
  return new Table(whole.schema, batches);
}

const concat = (parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
};

test('ipcStreamMessages: the messages tile the stream up to its end marker, one schema first, then dictionaries and batches as Arrow JS wrote them; two streams joined by their framing read back as one table (property over batch sizes, with and without dictionaries)', () => {
  fc.assert(
    fc.property(fc.array(fc.nat({ max: 300 }), { minLength: 1, maxLength: 5 }), fc.boolean(), (sizes, dict) => {
      const t = table(sizes, dict);
      const bytes = tableToIPC(t, 'stream');
      const messages = ipcStreamMessages(bytes);
      assert.equal(messages[0]!.type, 'schema');
      assert.equal(messages.filter((m) => m.type === 'recordBatch').length, t.batches.length);
      messages.forEach((m, i) => assert.equal(m.start, i === 0 ? 0 : messages[i - 1]!.end, 'contiguous'));
      assert.deepEqual(bytes.subarray(messages.at(-1)!.end), IPC_END_OF_STREAM, 'then the end marker, nothing else');
      // Two streams of one schema joined: the first's schema, both bodies, one end marker.
      const second = tableToIPC(table([...sizes].reverse(), dict), 'stream');
      const body = (b: Uint8Array, head: boolean) => ipcStreamMessages(b).filter((m) => head || m.type !== 'schema').map((m) => b.subarray(m.start, m.end));
      const joined = tableFromIPC(concat([...body(bytes, true), ...body(second, false), IPC_END_OF_STREAM]));
      const want = [...t.getChild('x')!, ...table([...sizes].reverse(), dict).getChild('x')!];
      assert.deepEqual([...joined.getChild('x')!], want);
      if (dict) assert.deepEqual([...joined.getChild('band')!], [...t.getChild('band')!, ...table([...sizes].reverse(), dict).getChild('band')!]);
    }),
    { numRuns: 40, ...fuzzSeed() },
  );
});

test('ipcStreamMessages: framing that is not an IPC stream is a RangeError naming the byte', () => {
  const good = tableToIPC(new Table({ x: makeVector(new Float64Array([1, 2])) }), 'stream');
  const noMarker = good.slice();
  noMarker[0] = 0;
  assert.throws(() => ipcStreamMessages(noMarker), /no continuation marker at byte 0/);
  const longMeta = good.slice();
  new DataView(longMeta.buffer).setInt32(4, 1 << 30, true);
  assert.throws(() => ipcStreamMessages(longMeta), /metadata of 1073741824 bytes/);
  // A batch message cut short: its body lies past the end.
  const messages = ipcStreamMessages(good);
  const batch = messages.find((m) => m.type === 'recordBatch')!;
  assert.throws(() => ipcStreamMessages(good.subarray(0, batch.end - 1)), /past the end/);
  assert.deepEqual(ipcStreamMessages(new Uint8Array()), []);
});
