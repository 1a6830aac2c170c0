import assert from 'node:assert/strict';
import { test } from 'node:test';
import { claimTag, isClaimTag, otherClaim } from './claims.ts';

test('claim tags are valid tags, per cluster and per reference', () => {
  const a = claimTag('cluster-a', { tag: '1.27' });
  assert.match(a, /^[\w][\w.-]{0,127}$/);
  assert.ok(isClaimTag(a));
  assert.notEqual(a, claimTag('cluster-b', { tag: '1.27' }));
  assert.notEqual(a, claimTag('cluster-a', { tag: '1.28' }));
  assert.equal(a, claimTag('cluster-a', { tag: '1.27' }));
});

test("another cluster's claim on the same reference is recognised; ours and other references are not", () => {
  const ref = { tag: '1.27' };
  assert.equal(otherClaim(claimTag('b', ref), 'a', ref), true);
  assert.equal(otherClaim(claimTag('a', ref), 'a', ref), false);
  assert.equal(otherClaim(claimTag('b', { tag: '1.28' }), 'a', ref), false);
  assert.equal(otherClaim('latest', 'a', ref), false);
  const pinned = { digest: `sha256:${'a'.repeat(64)}` };
  assert.equal(otherClaim(claimTag('b', pinned), 'a', pinned), true);
});
