import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogSampler } from './log-sampler.ts';

test('the first line of a kind is logged, its repeats are counted and reported with the next one', () => {
  let now = 0;
  const s = new LogSampler({ windowMs: 1000, now: () => now });
  assert.deepEqual(s.take('a'), { log: true, suppressed: 0 });
  for (let i = 0; i < 9; i++) assert.equal(s.take('a').log, false);
  assert.deepEqual(s.take('b'), { log: true, suppressed: 0 });
  now = 1000;
  assert.deepEqual(s.take('a'), { log: true, suppressed: 9 });
});

test('drain reports repeats nobody logged once their window is over, and forgets them', () => {
  let now = 0;
  const s = new LogSampler({ windowMs: 1000, now: () => now });
  s.take('a');
  s.take('a');
  s.take('a');
  s.take('b');
  assert.deepEqual(s.drain(), { repeats: [], overflow: 0 });
  now = 1500;
  assert.deepEqual(s.drain(), { repeats: [['a', 2]], overflow: 0 });
  assert.equal(s.keys, 0);
  assert.deepEqual(s.take('a'), { log: true, suppressed: 0 });
});

test('kinds are bounded: past maxKeys, new kinds are counted as overflow, not logged', () => {
  const s = new LogSampler({ windowMs: 1000, maxKeys: 2, now: () => 0 });
  s.take('a');
  s.take('b');
  assert.equal(s.take('c').log, false);
  assert.equal(s.keys, 2);
  assert.equal(s.drain().overflow, 1);
});
