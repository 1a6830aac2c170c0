// Sender authentication on the trigger endpoints (issue 14), the way Knative Eventing's
// `authentication-oidc` feature sends it: a ServiceAccount token minted for the function's audience
// in `Authorization: Bearer`, checked by the function with a TokenReview against the real API
// server. The copy function runs as its own process with KUIK_SENDER_AUDIENCE set.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { kubectl, namespace } from '../harness/fixtures.ts';
import { type RunningFunction, startFunction } from '../harness/functions.ts';

let fn: RunningFunction;
let ns: string;
const token = async (sa: string, audience: string) =>
  (await kubectl(['create', 'token', sa, '-n', ns, '--audience', audience, '--duration=10m'])).trim();

before(async () => {
  ns = await namespace('sender');
  await kubectl(['create', 'serviceaccount', 'sender', '-n', ns]);
  await kubectl(['create', 'serviceaccount', 'stranger', '-n', ns]);
  fn = await startFunction('copy', {
    env: {
      KUIK_SENDER_AUDIENCE: 'kuik-copy',
      KUIK_SENDER_IDENTITIES: `system:serviceaccount:${ns}:sender`,
    },
  });
});
after(async () => {
  await fn?.stop();
});

/** A POST that passes the sender check reaches the handler, which refuses a non-event with 400. */
async function post(authorization?: string): Promise<{ status: number; error: string }> {
  const res = await fetch(`http://127.0.0.1:${fn.port}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: '{}',
  });
  return { status: res.status, error: String(((await res.json()) as { error?: string }).error) };
}

test('a token of the expected sender for the function’s audience gets through', async () => {
  const r = await post(`Bearer ${await token('sender', 'kuik-copy')}`);
  assert.equal(r.status, 400, r.error);
  assert.doesNotMatch(r.error, /unauthenticated/);
});

test('no token, a token for another audience, another sender or garbage: 401 with the reason', async () => {
  const none = await post();
  assert.equal(none.status, 401);
  assert.match(none.error, /no bearer token/);
  const otherAudience = await post(`Bearer ${await token('sender', 'kuik-reconcile')}`);
  assert.equal(otherAudience.status, 401);
  const stranger = await post(`Bearer ${await token('stranger', 'kuik-copy')}`);
  assert.equal(stranger.status, 401);
  assert.match(stranger.error, new RegExp(`sender system:serviceaccount:${ns}:stranger is not allowed`));
  const garbage = await post('Bearer not-a-token');
  assert.equal(garbage.status, 401);
});

test('health and metrics need no token', async () => {
  assert.equal((await fetch(`http://127.0.0.1:${fn.port}/readyz`)).status, 200);
  assert.equal((await fetch(`http://127.0.0.1:${fn.port}/metrics`)).status, 200);
});
