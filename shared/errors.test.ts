import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorMessage } from './errors.ts';

test('an Error gives its message; anything else thrown, its text', () => {
  assert.equal(errorMessage(new TypeError('bad')), 'bad');
  assert.equal(errorMessage('plain'), 'plain');
  assert.equal(errorMessage(42), '42');
  assert.equal(errorMessage(undefined), 'undefined');
});
