import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  parseRecord,
  QUOTA_TARGET,
  type QuotaRecord,
  quotaPacing,
  quotaTag,
  recordAnnotations,
  recordOf,
  registryPacing,
} from './quota.ts';
import { parseRateLimit } from './registry/outcome.ts';

const T = Date.parse('2026-01-01T00:00:00Z');
const rec = (over: Partial<QuotaRecord> = {}): QuotaRecord => ({
  cluster: 'a',
  registry: 'docker.io',
  credential: 'robot',
  limit: 100,
  remaining: 60,
  windowSeconds: 21600,
  observedAt: T,
  ...over,
});

test("a record is read from Docker Hub's headers and survives the manifest's annotations", () => {
  const rl = parseRateLimit({ 'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '76;w=21600' });
  const r = recordOf(rl, { cluster: 'a', registry: 'docker.io', credential: 'robot', observedAt: T });
  assert.deepEqual(r, rec({ remaining: 76 }));
  assert.deepEqual(parseRecord(recordAnnotations(r!)), r);
  assert.equal(recordOf(parseRateLimit({ 'ratelimit-remaining': '3' }), { ...r!, observedAt: T }), undefined);
  assert.equal(parseRecord({ 'kuik.enix.io/quota-cluster': 'a' }), undefined);
});

test('each cluster has its own tag per quota', () => {
  assert.notEqual(quotaTag('a', 'docker.io', 'robot'), quotaTag('b', 'docker.io', 'robot'));
  assert.notEqual(quotaTag('a', 'docker.io', 'robot'), quotaTag('a', 'docker.io', 'other'));
  assert.match(quotaTag('a', 'docker.io', 'robot'), /^kuik-quota\.[0-9a-f]{12}\.[0-9a-f]{16}$/);
});

test('two clusters reporting one quota each get half of its target share', () => {
  const p = quotaPacing([rec(), rec({ cluster: 'b', remaining: 50, observedAt: T + 1000 })], 'a', T + 2000);
  assert.equal(p.length, 1);
  assert.equal(p[0]?.clusters, 2);
  assert.equal(p[0]?.remaining, 50);
  assert.equal(p[0]?.spacingMs, (21600_000 * 2) / (100 * QUOTA_TARGET));
  assert.equal(p[0]?.notBefore, undefined);
});

test('a cluster that has not reported yet counts itself in', () => {
  const p = quotaPacing([rec({ cluster: 'b' })], 'a', T);
  assert.equal(p[0]?.clusters, 2);
});

test('a spent quota stops probes until its reset, or a window after it was seen', () => {
  const spent = quotaPacing([rec({ remaining: 0 })], 'a', T + 1);
  assert.equal(spent[0]?.notBefore, T + 21600_000);
  const reset = quotaPacing([rec({ remaining: 0, resetSeconds: 60 })], 'a', T + 1);
  assert.equal(reset[0]?.notBefore, T + 60_000);
  assert.deepEqual(registryPacing(spent, 'docker.io'), {
    spacingMs: 21600_000 / (100 * QUOTA_TARGET),
    notBefore: T + 21600_000,
  });
  assert.equal(registryPacing(spent, 'quay.io'), undefined);
});

test('records older than their window are ignored', () => {
  assert.deepEqual(quotaPacing([rec()], 'a', T + 21600_001), []);
});
