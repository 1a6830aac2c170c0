import assert from 'node:assert/strict';
import { test } from 'node:test';
import { identityKey, identityOf } from './identity.ts';

test('the same object keeps its number; an equal but distinct object gets another', () => {
  const a = { x: 1 };
  assert.equal(identityOf(a), identityOf(a));
  assert.notEqual(identityOf(a), identityOf({ x: 1 }));
});

test('a list key follows the objects and their order', () => {
  const a = {};
  const b = {};
  assert.equal(identityKey([a, b]), identityKey([a, b]));
  assert.notEqual(identityKey([a, b]), identityKey([b, a]));
  assert.equal(identityKey([a, b], '.'), `${identityOf(a)}.${identityOf(b)}`);
  assert.equal(identityKey([]), '');
});
