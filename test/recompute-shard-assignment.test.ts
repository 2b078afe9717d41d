import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assignShards, compareDataIds, parseShardArg, parseShardCount, type ShardItem } from '../src/recompute/shards.js';
import { errorCodeOf } from './helpers.js';

/** Distinct dataIds with catalog sizes (many equal sizes, so that the tie-breaks matter). */
const items = fc.uniqueArray(
  fc.record({
    dataId: fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 200 })).map(([d, v]) => `detector=${d},instrument=HSC,visit=${v}`),
    bytes: fc.oneof(fc.constantFrom(0, 1000, 1000, 5000), fc.integer({ min: 0, max: 1e7 })),
  }),
  { selector: (it) => it.dataId, maxLength: 60 },
);

const shuffled = <T>(xs: readonly T[], seed: number): T[] => {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
};

test('shard assignment is a partition: every dataId in exactly one of the N shards, each shard in canonical order (property, N 1..70)', () => {
  fc.assert(
    fc.property(items, fc.integer({ min: 1, max: 70 }), (its, n) => {
      const shards = assignShards(its, n);
      assert.equal(shards.length, n);
      const all = shards.flat();
      assert.deepEqual([...all].sort(compareDataIds), its.map((i) => i.dataId).sort(compareDataIds));
      assert.equal(new Set(all).size, all.length);
      for (const s of shards) assert.deepEqual(s, [...s].sort(compareDataIds));
    }),
    { numRuns: 300, seed: 13 },
  );
});

test('shard assignment is deterministic: the same for any order the dataIds come in (property)', () => {
  fc.assert(
    fc.property(items, fc.integer({ min: 1, max: 20 }), fc.integer(), (its, n, seed) => {
      assert.deepEqual(assignShards(shuffled(its, seed), n), assignShards(its, n));
    }),
    { numRuns: 300, seed: 14 },
  );
});

test("shard assignment is balanced within Graham's list-scheduling bound: largest shard <= total/N + (1 - 1/N) x largest catalog (property)", () => {
  fc.assert(
    fc.property(items, fc.integer({ min: 1, max: 20 }), (its: ShardItem[], n) => {
      const size = new Map(its.map((i) => [i.dataId, i.bytes]));
      const loads = assignShards(its, n).map((s) => s.reduce((a, d) => a + size.get(d)!, 0));
      const total = its.reduce((a, i) => a + i.bytes, 0);
      const largest = Math.max(0, ...its.map((i) => i.bytes));
      assert.ok(Math.max(...loads) <= total / n + (1 - 1 / n) * largest + 1e-6, `${loads} for total ${total}, largest ${largest}`);
    }),
    { numRuns: 300, seed: 15 },
  );
});

test('more shards than dataIds: each dataId alone in the lowest shards, the rest empty; equal sizes go round in canonical order', () => {
  const its = ['visit=3', 'visit=1', 'visit=2'].map((dataId) => ({ dataId, bytes: 10 }));
  assert.deepEqual(assignShards(its, 5), [['visit=1'], ['visit=2'], ['visit=3'], [], []]);
  assert.deepEqual(assignShards([...its, { dataId: 'visit=0', bytes: 25 }], 2), [['visit=0'], ['visit=1', 'visit=2', 'visit=3']]);
  assert.deepEqual(assignShards([], 3), [[], [], []]);
});

test('--shard I/N and --plan N: zero-based I < N, decimal digits only; anything else is USAGE', () => {
  assert.deepEqual(parseShardArg('0/1'), { index: 0, count: 1 });
  assert.deepEqual(parseShardArg('3/4'), { index: 3, count: 4 });
  for (const bad of ['4/4', '-1/4', '0/0', '1/0', 'junk', '', '1/', '/4', '1/2/3', ' 1/4', '1/4 ', '01/4', '1.0/4', '0x1/4', '1/4e0', '0/100001']) {
    assert.equal(errorCodeOf(() => parseShardArg(bad)), 'USAGE', bad);
  }
  assert.equal(parseShardCount('12'), 12);
  for (const bad of ['0', '-3', '1.5', 'two', '', '100001', '1e3']) assert.equal(errorCodeOf(() => parseShardCount(bad)), 'USAGE', bad);
  assert.equal(errorCodeOf(() => assignShards([{ dataId: 'a=1', bytes: 1 }, { dataId: 'a=1', bytes: 2 }], 2)), 'USAGE');
});
