/** The History page's lane layout (web/graph.ts, compiled for the browser and run here as the same module). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layoutGraph } from '../web/graph.js';

test('a linear history takes one lane, one edge per parent', () => {
  const g = layoutGraph([{ id: 'c', parents: ['b'] }, { id: 'b', parents: ['a'] }, { id: 'a', parents: [] }]);
  assert.deepEqual(g.lane, [0, 0, 0]);
  assert.deepEqual(g.edges, [{ from: 0, to: 1 }, { from: 1, to: 2 }]);
  assert.equal(g.lanes, 1);
});

test('a merge draws both parents: the second parent takes a second lane that joins at the fork', () => {
  // m = merge(j, t); j and t both on s.
  const g = layoutGraph([
    { id: 'm', parents: ['j', 't'] },
    { id: 't', parents: ['s'] },
    { id: 'j', parents: ['s'] },
    { id: 's', parents: [] },
  ]);
  assert.equal(g.lanes, 2);
  assert.equal(g.lane[0], 0);
  assert.notEqual(g.lane[1], g.lane[2], 'the two sides of the merge are in different lanes');
  assert.equal(g.lane[3], 0, 'the fork point continues the first lane');
  assert.deepEqual(g.edges.map((e) => `${e.from}->${e.to}`).sort(), ['0->1', '0->2', '1->3', '2->3']);
});

test('parents outside the list (an as-of or one-ref view) draw no edge', () => {
  const g = layoutGraph([{ id: 'b', parents: ['a'] }]);
  assert.deepEqual(g.edges, []);
  assert.deepEqual(g.lane, [0]);
});
