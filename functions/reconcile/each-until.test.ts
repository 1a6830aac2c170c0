import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eachUntil, rotate } from './each-until.ts';

test('rotate starts at the offset and wraps, for any offset', () => {
  assert.deepEqual(rotate([1, 2, 3, 4], 1), [2, 3, 4, 1]);
  assert.deepEqual(rotate([1, 2, 3, 4], 4), [1, 2, 3, 4]);
  assert.deepEqual(rotate([1, 2, 3, 4], 6), [3, 4, 1, 2]);
  assert.deepEqual(rotate([1, 2, 3, 4], -1), [4, 1, 2, 3]);
  assert.deepEqual(rotate([], 3), []);
});

test('every item runs once, never more than `concurrency` at a time', async () => {
  let running = 0;
  let peak = 0;
  const seen: number[] = [];
  const r = await eachUntil(
    Array.from({ length: 20 }, (_, i) => i),
    { concurrency: 3, now: Date.now },
    async (i) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((res) => setTimeout(res, 1 + (i % 3)));
      seen.push(i);
      running--;
    },
  );
  assert.deepEqual(r, { started: 20, notReached: 0 });
  assert.deepEqual(
    seen.sort((a, b) => a - b),
    Array.from({ length: 20 }, (_, i) => i),
  );
  assert.equal(peak, 3);
});

test('no item starts once the deadline is reached; started ones finish', async () => {
  let clock = 0;
  const finished: number[] = [];
  const r = await eachUntil(
    [0, 1, 2, 3, 4, 5],
    { concurrency: 1, stopAt: 2, now: () => clock },
    async (i) => {
      await Promise.resolve();
      clock++; // each item takes one tick of the fake clock
      finished.push(i);
    },
  );
  // Item 0 starts at 0, item 1 at 1; at 2 the deadline is reached and nothing else starts.
  assert.deepEqual(r, { started: 2, notReached: 4 });
  assert.deepEqual(finished, [0, 1]);
});

test('an empty list and a past deadline start nothing', async () => {
  assert.deepEqual(await eachUntil([], { concurrency: 4, now: Date.now }, async () => {}), {
    started: 0,
    notReached: 0,
  });
  assert.deepEqual(await eachUntil([1, 2], { concurrency: 4, stopAt: 0, now: () => 5 }, async () => {}), {
    started: 0,
    notReached: 2,
  });
});
