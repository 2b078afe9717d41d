import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { quantileSorted, summarize } from '../src/stats.js';

test('summarize: median, p95 and max of 1..101 are 51, 96 and 101 (numpy linear quantiles)', () => {
  const s = summarize(Float64Array.from({ length: 101 }, (_, i) => 101 - i));
  assert.equal(s.median, 51);
  assert.equal(s.p95, 96);
  assert.equal(s.max, 101);
  assert.equal(s.mean, 51);
});

test('summarize leaves NaN out and counts it', () => {
  const s = summarize([NaN, 3, 1, NaN, 2]);
  assert.equal(s.count, 3);
  assert.equal(s.nanCount, 2);
  assert.equal(s.median, 2);
  assert.ok(Number.isNaN(summarize([NaN]).median));
});

test('quantiles are monotone in q and bounded by min and max', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), { minLength: 1, maxLength: 50 }), fc.double({ min: 0, max: 1, noNaN: true }), (xs, q) => {
      const sorted = Float64Array.from(xs).sort();
      const v = quantileSorted(sorted, q);
      return v >= sorted[0]! && v <= sorted[sorted.length - 1]! && quantileSorted(sorted, Math.min(1, q + 0.1)) >= v;
    }),
  );
});

test('median of an even count is the mean of the two middle values (numpy), of an odd count the middle one; NaN is left out', async () => {
  const { median } = await import('../src/stats.js');
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([5, NaN, 1, 3]), 3);
  assert.equal(median([7]), 7);
  assert.ok(Number.isNaN(median([])));
  assert.ok(Number.isNaN(median([NaN])));
});

test('quantile of unsorted values equals quantileSorted of the sorted finite values, and median is quantile 0.5 and summarize\'s median (law; 200 arrays)', async () => {
  const { median, quantile } = await import('../src/stats.js');
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), fc.constant(NaN)), { maxLength: 40 }), fc.double({ min: 0, max: 1, noNaN: true }), (xs, q) => {
      const sorted = Float64Array.from(xs.filter((v) => !Number.isNaN(v))).sort();
      assert.ok(Object.is(quantile(xs, q), quantileSorted(sorted, q)));
      assert.ok(Object.is(median(xs), quantile(xs, 0.5)));
      assert.ok(Object.is(median(xs), summarize(xs).median));
    }),
    { numRuns: 200 },
  );
});
