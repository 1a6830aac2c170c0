import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseReference } from '#shared/image/reference.ts';
import { AvailabilityChecker, type Credential, type ProbeResult } from './availability.ts';

const ref = (s: string) => {
  const r = parseReference(s);
  assert.ok(r.ok);
  return r.value;
};
const available: ProbeResult = { outcome: 'Available', message: '' };

test('concurrent checks of one reference share a single probe', async () => {
  let probes = 0;
  const checker = new AvailabilityChecker({
    ttlMs: 1000,
    probe: async () => {
      probes++;
      await new Promise((r) => setTimeout(r, 20));
      return available;
    },
  });
  const results = await Promise.all(Array.from({ length: 50 }, () => checker.check(ref('nginx:1'), [])));
  assert.equal(probes, 1);
  assert.ok(results.every((r) => r.outcome === 'Available'));
});

test('a verdict is reused within the TTL and probed again after it', async () => {
  let now = 0;
  let probes = 0;
  const checker = new AvailabilityChecker({
    ttlMs: 1000,
    now: () => now,
    probe: async () => {
      probes++;
      return available;
    },
  });
  await checker.check(ref('nginx:1'), []);
  now = 999;
  assert.equal((await checker.check(ref('nginx:1'), [])).cached, true);
  now = 1001;
  assert.equal((await checker.check(ref('nginx:1'), [])).cached, false);
  assert.equal(probes, 2);
});

test('different credentials never share a verdict (fixes the cross-namespace quirk)', async () => {
  const seen: (readonly Credential[])[] = [];
  const checker = new AvailabilityChecker({
    ttlMs: 60_000,
    probe: async (_i, creds) => {
      seen.push(creds);
      return creds.length > 0 ? available : { outcome: 'InvalidAuth', message: 'authentication failed: 401' };
    },
  });
  assert.equal(
    (await checker.check(ref('private.example.com/app:1'), [{ username: 'a', password: 'p' }])).outcome,
    'Available',
  );
  assert.equal((await checker.check(ref('private.example.com/app:1'), [])).outcome, 'InvalidAuth');
  assert.equal(seen.length, 2);
});

test('a probe that rejects is not cached and does not poison later checks', async () => {
  let fail = true;
  const checker = new AvailabilityChecker({
    ttlMs: 60_000,
    probe: async () => {
      if (fail) throw new Error('boom');
      return available;
    },
  });
  await assert.rejects(checker.check(ref('nginx:1'), []), /boom/);
  fail = false;
  assert.equal((await checker.check(ref('nginx:1'), [])).outcome, 'Available');
});
