import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LruCache } from './lru.ts';

test('never holds more than its size, and keeps what is used', () => {
  const c = new LruCache<number, number>(10);
  for (let i = 0; i < 1000; i++) {
    c.set(i, i);
    if (i === 0) c.set(0, 0);
    assert.equal(c.get(0), 0); // kept hot by use
    assert.ok(c.size <= 10);
  }
  assert.equal(c.get(0), 0);
  assert.equal(c.get(999), 999);
});

test('a hot key survives a stream of cold ones; a cold key is evicted', () => {
  const c = new LruCache<string, number>(8);
  c.set('hot', 1);
  c.set('cold', 2);
  for (let i = 0; i < 100; i++) {
    c.set(`k${i}`, i);
    assert.equal(c.get('hot'), 1);
  }
  assert.equal(c.get('cold'), undefined);
});

test('undefined values and overwrites behave like a Map', () => {
  const c = new LruCache<string, number | undefined>(4);
  c.set('u', undefined);
  assert.equal(c.has('u'), true);
  c.set('a', 1);
  c.set('a', 2);
  assert.equal(c.get('a'), 2);
  c.clear();
  assert.equal(c.size, 0);
  assert.throws(() => new LruCache(0), RangeError);
});
