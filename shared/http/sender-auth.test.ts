import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Hono } from 'hono';
import { ReaderAuth, requireReader } from './reader-auth.ts';
import { requireSender, SenderAuth, type TokenReviewer } from './sender-auth.ts';

// The API server's answers are the part these checks cannot make themselves; tests/integration/
// access.int.test.ts runs them against a real one. Here: header parsing, allow-lists, caching.
const reviewer =
  (calls: string[]): TokenReviewer =>
  async (token) => {
    calls.push(token);
    if (token === 'bad') return { ok: false, error: 'token not authenticated' };
    return { ok: true, value: `system:serviceaccount:${token}` };
  };

test('sender: the bearer token is required, reviewed for the audience, and its user allowed by name or prefix', async () => {
  const calls: string[] = [];
  const auth = new SenderAuth({
    audience: 'kuik-copy',
    senders: ['system:serviceaccount:kuik-system:*', 'system:serviceaccount:other:one'],
    review: reviewer(calls),
  });
  assert.deepEqual(await auth.check(undefined), {
    ok: false,
    error: "no bearer token (is Knative Eventing's authentication-oidc feature on? docs/security.md)",
  });
  assert.deepEqual(await auth.check('Basic abc'), {
    ok: false,
    error: "no bearer token (is Knative Eventing's authentication-oidc feature on? docs/security.md)",
  });
  assert.equal((await auth.check('Bearer kuik-system:src')).ok, true);
  assert.equal((await auth.check('bearer other:one')).ok, true);
  assert.deepEqual(await auth.check('Bearer other:two'), {
    ok: false,
    error: 'sender system:serviceaccount:other:two is not allowed',
  });
  assert.equal((await auth.check('Bearer bad')).ok, false);
  // Cached: the same tokens again cost no review.
  const before = calls.length;
  await auth.check('Bearer kuik-system:src');
  await auth.check('Bearer bad');
  assert.equal(calls.length, before);
});

test('sender: the verdict expires after its TTL', async () => {
  const calls: string[] = [];
  let now = 0;
  const auth = new SenderAuth({ audience: 'a', review: reviewer(calls), ttlMs: 1000, now: () => now });
  await auth.check('Bearer x');
  now = 999;
  await auth.check('Bearer x');
  now = 1001;
  await auth.check('Bearer x');
  assert.equal(calls.length, 2);
});

test('requireSender guards POST / only; requireReader guards /metrics only', async () => {
  const app = new Hono();
  app.post('/', (c) => c.text('ran'));
  app.get('/metrics', (c) => c.text('m'));
  app.get('/healthz', (c) => c.text('ok'));
  const sender = requireSender(app, new SenderAuth({ audience: 'a', review: reviewer([]) }));
  assert.equal((await sender.request('/', { method: 'POST' })).status, 401);
  assert.equal(
    await (await sender.request('/', { method: 'POST', headers: { authorization: 'Bearer t' } })).text(),
    'ran',
  );
  assert.equal((await sender.request('/metrics')).status, 200);
  const reader = requireReader(
    app,
    new ReaderAuth({
      authenticate: async (t) => (t === 'bad' ? 'nope' : { user: t, groups: [] }),
      authorize: async (who) => who.user === 'prom' || 'forbidden',
    }),
  );
  assert.equal((await reader.request('/metrics')).status, 401);
  assert.equal((await reader.request('/metrics', { headers: { authorization: 'Bearer bad' } })).status, 401);
  assert.equal(
    (await reader.request('/metrics', { headers: { authorization: 'Bearer other' } })).status,
    403,
  );
  assert.equal((await reader.request('/metrics', { headers: { authorization: 'Bearer prom' } })).status, 200);
  assert.equal((await reader.request('/healthz')).status, 200);
  assert.equal(await (await reader.request('/', { method: 'POST' })).text(), 'ran');
});
