import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SecretCache } from './secret-cache.ts';

test('one fetch for concurrent and repeated reads within the TTL; again after it', async () => {
  let now = 0;
  const c = new SecretCache(
    async (ns, name) => ({ metadata: { namespace: ns, name } }),
    1000,
    () => now,
  );
  await Promise.all(Array.from({ length: 20 }, () => c.get('a', 's')));
  assert.equal(c.fetches, 1);
  now = 999;
  await c.get('a', 's');
  assert.equal(c.fetches, 1);
  now = 1001;
  await c.get('a', 's');
  assert.equal(c.fetches, 2);
});

test('absent secrets are remembered, errors are not', async () => {
  let fail = true;
  const c = new SecretCache(async () => {
    if (fail) throw new Error('boom');
    return undefined;
  }, 1000);
  await assert.rejects(c.get('a', 'x'), /boom/);
  fail = false;
  assert.equal(await c.get('a', 'x'), undefined);
  assert.equal(await c.get('a', 'x'), undefined);
  assert.equal(c.fetches, 2);
});
