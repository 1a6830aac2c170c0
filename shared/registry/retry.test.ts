import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, DEFAULT_RETRY, sleepWithin } from './retry.ts';

test('default backoff is ~1 s then ~3 s with ±10 % jitter', () => {
  assert.equal(DEFAULT_RETRY.attempts, 3);
  assert.equal(
    backoffDelay(DEFAULT_RETRY, 1, () => 0),
    900,
  );
  assert.equal(
    backoffDelay(DEFAULT_RETRY, 1, () => 0.5),
    1000,
  );
  assert.equal(
    backoffDelay(DEFAULT_RETRY, 1, () => 1),
    1100,
  );
  assert.equal(
    backoffDelay(DEFAULT_RETRY, 2, () => 0),
    2700,
  );
  assert.equal(
    backoffDelay(DEFAULT_RETRY, 2, () => 1),
    3300,
  );
  // Beyond the list, the last delay repeats.
  assert.equal(
    backoffDelay(DEFAULT_RETRY, 5, () => 0.5),
    3000,
  );
});

test('a backoff that would end past the deadline is not started', async () => {
  assert.equal(await sleepWithin(1000, Date.now() + 50), false);
  assert.equal(await sleepWithin(1, Date.now() + 10_000), true);
  assert.equal(await sleepWithin(1, undefined), true);
});

test('an aborted signal ends the backoff', async () => {
  const ac = new AbortController();
  const p = sleepWithin(60_000, undefined, ac.signal);
  ac.abort();
  assert.equal(await p, false);
});
