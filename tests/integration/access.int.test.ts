// Access checks of the functions' HTTP endpoints (issue 14), against the real API server:
//   - sender authentication on the trigger, the way Knative Eventing's `authentication-oidc`
//     feature sends it: a ServiceAccount token minted for the function's audience in
//     `Authorization: Bearer`, checked with a TokenReview (KUIK_SENDER_AUDIENCE);
//   - reader authentication on /metrics, as kube-rbac-proxy does it: TokenReview, then a
//     SubjectAccessReview for `get` on the non-resource URL (KUIK_METRICS_AUTH).
// The copy function runs as its own process with both on.
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
  await kubectl(['create', 'serviceaccount', 'scraper', '-n', ns]);
  // What a Prometheus needs: get on the non-resource URLs.
  const role = `${ns}-metrics-reader`;
  await kubectl([
    'create',
    'clusterrole',
    role,
    '--verb=get',
    '--non-resource-url=/metrics',
    '--non-resource-url=/status/images',
  ]);
  await kubectl([
    'create',
    'clusterrolebinding',
    role,
    `--clusterrole=${role}`,
    `--serviceaccount=${ns}:scraper`,
  ]);
  fn = await startFunction('copy', {
    env: {
      KUIK_METRICS_AUTH: 'true',
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

test('health needs no token; /metrics needs one allowed to get it: 401 without, 403 for another, 200 for the scraper', async () => {
  assert.equal((await fetch(`http://127.0.0.1:${fn.port}/readyz`)).status, 200);
  assert.equal((await fetch(`http://127.0.0.1:${fn.port}/healthz`)).status, 200);
  const metrics = async (authorization?: string) =>
    await fetch(`http://127.0.0.1:${fn.port}/metrics`, { headers: authorization ? { authorization } : {} });
  const none = await metrics();
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer');
  // Tokens for the API server's own audience, as a Prometheus pod's projected token is.
  const apiToken = async (sa: string) => (await kubectl(['create', 'token', sa, '-n', ns])).trim();
  const stranger = await metrics(`Bearer ${await apiToken('stranger')}`);
  assert.equal(stranger.status, 403);
  assert.match(
    String(((await stranger.json()) as { error: string }).error),
    new RegExp(`system:serviceaccount:${ns}:stranger may not get /metrics`),
  );
  const scraper = await metrics(`Bearer ${await apiToken('scraper')}`);
  assert.equal(scraper.status, 200);
  assert.match(await scraper.text(), /^# HELP /m);
});
