import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MatchingImage } from '#shared/crd/types.ts';
import { dropMirror, planRetention } from './retention.ts';

const NOW = Date.parse('2026-11-25T10:00:00Z');
const H = 3_600_000;
const entry = (unusedSince: string | undefined, mirroredAt?: string): MatchingImage => ({
  image: 'docker.io/library/nginx:1',
  ...(unusedSince ? { unusedSince } : {}),
  mirrors: [
    { image: 'm.example.com/library/nginx:1', ...(mirroredAt ? { mirroredAt } : {}) },
    { image: 'n.example.com/library/nginx:1' },
  ],
});

test('in-use entries and disabled cleanup keep everything', () => {
  assert.deepEqual(
    planRetention([entry(undefined, 't')], { enabled: true, retentionMs: 0 }, NOW).deletions,
    [],
  );
  const off = planRetention([entry('2020-01-01T00:00:00Z', 't')], { enabled: false, retentionMs: 0 }, NOW);
  assert.deepEqual(off.deletions, []);
  assert.equal(off.entries[0]!.mirrors!.length, 2);
});

test('within retention: kept, and the smallest remaining time is the requeue', () => {
  const p = planRetention(
    [
      entry('2026-11-25T09:00:00Z', 't'),
      { ...entry('2026-11-25T09:30:00Z', 't'), image: 'docker.io/library/redis:7' },
    ],
    { enabled: true, retentionMs: 2 * H },
    NOW,
  );
  assert.deepEqual(p.deletions, []);
  assert.equal(p.requeueAfterMs, 1 * H);
});

test('expired: copied mirrors are planned for deletion, never-copied ones dropped at once', () => {
  const p = planRetention(
    [entry('2026-11-25T07:00:00Z', '2026-11-24T00:00:00Z')],
    { enabled: true, retentionMs: 2 * H },
    NOW,
  );
  assert.deepEqual(
    p.deletions.map((d) => d.mirror.image),
    ['m.example.com/library/nginx:1'],
  );
  assert.deepEqual(
    p.entries[0]!.mirrors!.map((m) => m.image),
    ['m.example.com/library/nginx:1'],
  );
  assert.deepEqual(dropMirror(p.entries, 'docker.io/library/nginx:1', 'm.example.com/library/nginx:1'), []);
});

test('the instant-expiry marker expires at once, whatever the retention', () => {
  const p = planRetention(
    [entry('0001-01-01T01:00:00Z', 't')],
    { enabled: true, retentionMs: 1000 * H },
    NOW,
  );
  assert.equal(p.deletions.length, 1);
});

test('fixed quirk: an unused entry without mirrors stays while cleanup is off', () => {
  const bare: MatchingImage = {
    image: 'docker.io/library/nginx:1',
    unusedSince: '2026-11-25T09:00:00Z',
    mirrors: [],
  };
  assert.equal(planRetention([bare], { enabled: false, retentionMs: 0 }, NOW).entries.length, 1);
  assert.equal(planRetention([bare], { enabled: true, retentionMs: 0 }, NOW).entries.length, 0);
});
