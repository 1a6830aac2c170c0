import assert from 'node:assert/strict';
import { test } from 'node:test';
import { envNumber } from './env-number.ts';

test('envNumber: the default when unset or empty, the value in its unit, a clear refusal below the minimum', () => {
  assert.equal(envNumber({}, 'X_MS', 30_000, { min: 'zero' }), 30_000);
  assert.equal(envNumber({ X_MS: ' ' }, 'X_MS', 30_000, { min: 'zero' }), 30_000);
  assert.equal(envNumber({ X_MS: '0' }, 'X_MS', 30_000, { min: 'zero' }), 0);
  assert.equal(envNumber({ X_S: '1.5' }, 'X_S', 10_000, { min: 'positive', unit: 1000 }), 1500);
  assert.throws(
    () => envNumber({ X_MS: '-1' }, 'X_MS', 1, { min: 'zero' }),
    /X_MS must be a number ≥ 0, got "-1"/,
  );
  assert.throws(
    () => envNumber({ X: '0' }, 'X', 1, { min: 'positive' }),
    /X must be a positive number, got "0"/,
  );
  assert.throws(
    () => envNumber({ X: 'soon' }, 'X', 1, { min: 'zero' }),
    /X must be a number ≥ 0, got "soon"/,
  );
});
