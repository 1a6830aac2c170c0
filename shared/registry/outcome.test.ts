import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  combineFailures,
  failureMessage,
  isRetryableStatus,
  outcomeForStatus,
  parseRateLimit,
  quotaExhausted,
} from './outcome.ts';

test('§4.7 step 7: 429 → QuotaExceeded, 404 → NotFound, 401/403 → InvalidAuth, anything else → Unreachable', () => {
  assert.equal(outcomeForStatus(429), 'QuotaExceeded');
  assert.equal(outcomeForStatus(404), 'NotFound');
  assert.equal(outcomeForStatus(401), 'InvalidAuth');
  assert.equal(outcomeForStatus(403), 'InvalidAuth');
  for (const s of [400, 405, 408, 500, 502, 503, 504, 522, 200])
    assert.equal(outcomeForStatus(s), 'Unreachable');
});

test("messages carry kuik's prefixes", () => {
  assert.equal(failureMessage('NotFound', 'x'), 'image not found: x');
  assert.equal(failureMessage('InvalidAuth', 'x'), 'authentication failed: x');
  assert.equal(failureMessage('QuotaExceeded', 'x'), 'rate limit exceeded: x');
  assert.equal(failureMessage('Unreachable', 'x'), 'registry unreachable: x');
});

test('retried statuses are exactly 408, 499, 500, 502, 503, 504, 522 — never 429', () => {
  const retried = [];
  for (let s = 100; s < 600; s++) if (isRetryableStatus(s)) retried.push(s);
  assert.deepEqual(retried, [408, 499, 500, 502, 503, 504, 522]);
  assert.equal(isRetryableStatus(429), false);
});

test("Docker Hub's rate-limit headers are parsed and kept raw", () => {
  const rl = parseRateLimit({
    'ratelimit-limit': '100;w=21600',
    'ratelimit-remaining': '76;w=21600',
    'docker-ratelimit-source': '192.0.2.1',
    'content-type': 'x',
  });
  assert.deepEqual(rl, {
    limit: 100,
    remaining: 76,
    windowSeconds: 21600,
    source: '192.0.2.1',
    raw: {
      'ratelimit-limit': '100;w=21600',
      'ratelimit-remaining': '76;w=21600',
      'docker-ratelimit-source': '192.0.2.1',
    },
  });
  assert.equal(quotaExhausted(rl), false);
  assert.equal(parseRateLimit({ 'content-type': 'x' }), undefined);
});

test('RateLimit-Remaining 0;w=… (and a bare 0) means the quota is spent; 10 and 0.5 do not', () => {
  const q = (v: string) => quotaExhausted(parseRateLimit({ 'ratelimit-remaining': v }));
  assert.equal(q('0;w=21600'), true);
  assert.equal(q('0'), true);
  assert.equal(q(' 0;w=60'), true);
  assert.equal(q('10;w=21600'), false);
  assert.equal(q('01'), false);
  assert.equal(quotaExhausted(undefined), false);
});

test('ratelimit-reset is read as seconds', () => {
  assert.equal(parseRateLimit({ 'ratelimit-reset': '3600' })?.resetSeconds, 3600);
});

test('several credentials: the most specific failure wins, InvalidAuth only when all were refused', () => {
  assert.equal(combineFailures(['InvalidAuth', 'NotFound']), 'NotFound');
  assert.equal(combineFailures(['NotFound', 'InvalidAuth']), 'NotFound');
  assert.equal(combineFailures(['InvalidAuth', 'Unreachable']), 'Unreachable');
  assert.equal(combineFailures(['QuotaExceeded', 'Unreachable']), 'QuotaExceeded');
  assert.equal(combineFailures(['InvalidAuth', 'InvalidAuth']), 'InvalidAuth');
});
