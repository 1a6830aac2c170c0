import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorMessage } from './errors.ts';

test('an Error gives its message; anything else thrown, its text', () => {
  assert.equal(errorMessage(new TypeError('bad')), 'bad');
  assert.equal(errorMessage('plain'), 'plain');
  assert.equal(errorMessage(42), '42');
  assert.equal(errorMessage(undefined), 'undefined');
});

test('a plain object with a message gives that message, not "[object Object]"', () => {
  assert.equal(
    errorMessage({ message: 'HEAD https://r/v2/x/manifests/1: 404' }),
    'HEAD https://r/v2/x/manifests/1: 404',
  );
  assert.equal(errorMessage({ message: 3 }), '[object Object]', 'a message that is not text is not one');
  assert.equal(errorMessage(null), 'null');
});
