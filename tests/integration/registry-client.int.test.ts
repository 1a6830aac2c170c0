// The registry client against the harness's real registries (distribution 2.8: TLS + htpasswd,
// TLS + bearer tokens). A fault proxy stands in front of them only for what a real registry does
// not do on demand: stalls, 5xx, 429 with Docker Hub's headers, stale tag caches.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { credentialsForImage } from '#shared/registry/credentials.ts';
import {
  OCI_INDEX,
  OCI_MANIFEST,
  type ProbeResult,
  RegistryClient,
  type RetryPolicy,
  uploadPath,
} from '#shared/registry/index.ts';
import { harness, type RegistryInfo } from '../harness/env.ts';
import { type FaultProxy, startFaultProxy } from '../harness/fault-proxy.ts';
import { seed, startOwnRegistry, uniq } from '../harness/fixtures.ts';
import { PULL_ONLY_PASSWORD, PULL_ONLY_USER } from '../harness/registry.ts';

// Real backoff is 1 s then 3 s; the shape (3 attempts, never on 429) is what is under test.
const FAST_RETRY: RetryPolicy = { attempts: 3, backoffMs: [20, 60], jitter: 0.1 };
const MANIFESTS = /\/manifests\//;

let ca: string;
const clients: RegistryClient[] = [];
const proxies: FaultProxy[] = [];

before(async () => {
  ca = await readFile(harness().registries.tls.caFile, 'utf8');
});
after(async () => {
  await Promise.all([...clients.map((c) => c.close()), ...proxies.map((p) => p.close())]);
});

/** A fresh client (empty pools, pings and token cache) trusting the harness CA for these hosts. */
function client(hosts: string[], extra: { insecure?: boolean; noCa?: boolean; retry?: RetryPolicy } = {}) {
  const opts = { ...(extra.noCa ? {} : { ca }), ...(extra.insecure ? { insecure: true } : {}) };
  const c = new RegistryClient({
    hosts: Object.fromEntries(hosts.map((h) => [h, opts])),
    retry: extra.retry ?? FAST_RETRY,
  });
  clients.push(c);
  return c;
}

const cred = (reg: RegistryInfo) => ({ username: reg.username, password: reg.password });

async function proxy(reg: RegistryInfo, tls = true): Promise<FaultProxy> {
  const pki = harness().pki;
  const p = await startFaultProxy({
    upstream: reg.host,
    caFile: reg.caFile,
    ...(tls ? { tls: { certFile: pki.webhookCert, keyFile: pki.webhookKey } } : {}),
  });
  proxies.push(p);
  return p;
}

function assertOutcome(r: ProbeResult, outcome: ProbeResult['outcome'], message?: RegExp) {
  assert.equal(r.outcome, outcome, `expected ${outcome}, got ${r.outcome}: ${r.message}`);
  assert.equal(r.available, outcome === 'Available');
  if (message) assert.match(r.message, message);
}

async function tokenStats(reg: RegistryInfo): Promise<{ issued: number; byScope: Record<string, number> }> {
  const url = new URL('/stats', reg.tokenRealm);
  return (await (await fetch(url)).json()) as { issued: number; byScope: Record<string, number> };
}

for (const kind of ['tls', 'token'] as const) {
  describe(`registry ${kind}`, () => {
    test('a pushed image is Available by tag and by digest, HEAD and GET, with its digest', async () => {
      const reg = harness().registries[kind];
      const c = client([reg.host]);
      const repo = uniq('probe/app');
      const seeded = await seed(reg, repo, 'v1');
      for (const method of ['HEAD', 'GET'] as const) {
        const byTag = await c.probe(seeded.ref, { credentials: [cred(reg)], method, timeoutMs: 5000 });
        assertOutcome(byTag, 'Available');
        assert.equal(byTag.message, '');
        assert.equal(byTag.descriptor?.digest, seeded.digest);
        assert.equal(byTag.descriptor?.mediaType, OCI_INDEX);
        assert.equal(byTag.requests, 1);
        const byDigest = await c.probe(`${reg.host}/${repo}@${seeded.digest}`, {
          credentials: [cred(reg)],
          method,
        });
        assertOutcome(byDigest, 'Available');
        assert.equal(byDigest.descriptor?.digest, seeded.digest);
      }
      const m = await c.getManifest(seeded.ref, { credential: cred(reg) });
      assert.equal(m.descriptor.digest, seeded.digest);
      assert.equal((JSON.parse(m.body.toString()) as { manifests: unknown[] }).manifests.length, 2);
    });

    test('a missing tag is NotFound with the image not found prefix', async () => {
      const reg = harness().registries[kind];
      const c = client([reg.host]);
      const repo = uniq('probe/missing');
      await seed(reg, repo, 'v1');
      for (const method of ['HEAD', 'GET'] as const) {
        const r = await c.probe(`${reg.host}/${repo}:nope`, { credentials: [cred(reg)], method });
        assertOutcome(r, 'NotFound', /^image not found: /);
        assert.match(r.message, new RegExp(`${repo}:nope`));
      }
      const get = await c.probe(`${reg.host}/${repo}:nope`, { credentials: [cred(reg)], method: 'GET' });
      assert.match(get.message, /MANIFEST_UNKNOWN/);
    });

    test('a wrong password is InvalidAuth, and the message never contains it', async () => {
      const reg = harness().registries[kind];
      const c = client([reg.host]);
      const repo = uniq('probe/denied');
      await seed(reg, repo, 'v1');
      const password = 'wrong-Pa55-do-not-print';
      const r = await c.probe(`${reg.host}/${repo}:v1`, {
        credentials: [{ username: reg.username, password }],
      });
      assertOutcome(r, 'InvalidAuth', /^authentication failed: /);
      assert.doesNotMatch(r.message, new RegExp(password));
      assert.doesNotMatch(JSON.stringify(r), /wrong-Pa55|Bearer |Basic /);
    });

    test('no credentials on a registry that requires them is InvalidAuth', async () => {
      const reg = harness().registries[kind];
      const r = await client([reg.host]).probe(`${reg.host}/${uniq('probe/anon')}:v1`);
      assertOutcome(r, 'InvalidAuth', /^authentication failed: /);
    });

    test('credentials from a dockerconfigjson Secret are tried in order until one works', async () => {
      const reg = harness().registries[kind];
      const c = client([reg.host]);
      const repo = uniq('probe/secret');
      const seeded = await seed(reg, repo, 'v1');
      const auth = (u: string, p: string) => Buffer.from(`${u}:${p}`).toString('base64');
      const dockerconfig = (auths: Record<string, { auth: string }>) => ({
        metadata: { namespace: 'ns', name: 'pull' },
        type: 'kubernetes.io/dockerconfigjson',
        data: { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths })).toString('base64') },
      });
      // The more specific key (host/repo) comes first and holds a wrong password.
      const secret = dockerconfig({
        [`${reg.host}/${repo}`]: { auth: auth(reg.username, 'stale-password') },
        [`https://${reg.host}`]: { auth: auth(reg.username, reg.password) },
      });
      const found = credentialsForImage([secret], `${reg.host}/${repo}`);
      assert.ok(found.ok);
      assert.equal(found.value.length, 2);
      const r = await c.probe(seeded.ref, { credentials: found.value });
      assertOutcome(r, 'Available');
      assert.deepEqual(
        r.attempts.map((a) => a.outcome),
        ['InvalidAuth', 'Available'],
      );
      assert.match(r.attempts[0]!.credential, /secret ns\/pull/);

      const allWrong = credentialsForImage(
        [
          dockerconfig({
            [reg.host]: { auth: auth('nobody', 'x') },
            [`${reg.host}/${repo}`]: { auth: auth('nobody2', 'y') },
          }),
        ],
        `${reg.host}/${repo}`,
      );
      assert.ok(allWrong.ok);
      const denied = await c.probe(seeded.ref, { credentials: allWrong.value });
      assertOutcome(denied, 'InvalidAuth', /^authentication failed: 2 credentials tried: /);
      assert.match(denied.message, /nobody2.*; .*nobody/);
    });
  });
}

test('registry token: a pull-only identity (a pull secret, not a push credential) can probe', async () => {
  const reg = harness().registries.token;
  const seeded = await seed(reg, uniq('probe/pullonly'), 'v1');
  const r = await client([reg.host]).probe(seeded.ref, {
    credentials: [{ username: PULL_ONLY_USER, password: PULL_ONLY_PASSWORD }],
  });
  assertOutcome(r, 'Available');
});

test('registry token: 64 concurrent probes and 64 more cost ONE token request for the scope', async () => {
  const reg = harness().registries.token;
  const repo = uniq('probe/tokens');
  const seeded = await seed(reg, repo, 'v1');
  const c = client([reg.host]);
  const scope = `repository:${repo}:pull`;
  // Counted from here: seeding (skopeo) may ask the token server for this scope too.
  const before = (await tokenStats(reg)).byScope[scope] ?? 0;
  const concurrent = await Promise.all(
    Array.from({ length: 64 }, () => c.probe(seeded.ref, { credentials: [cred(reg)], timeoutMs: 10_000 })),
  );
  for (const r of concurrent) assertOutcome(r, 'Available');
  for (let i = 0; i < 64; i++)
    assertOutcome(await c.probe(seeded.ref, { credentials: [cred(reg)] }), 'Available');
  // One token fetch for all 128 probes. On the wire that is one request, unless a connection
  // failed under load and the transport retried that same fetch (at most its retry attempts).
  assert.equal(c.transport.stats.tokenFetches, 1, JSON.stringify(c.transport.stats));
  const stats = await tokenStats(reg);
  const onWire = (stats.byScope[scope] ?? 0) - before;
  assert.ok(onWire >= 1 && onWire <= FAST_RETRY.attempts, `${onWire} token requests for ${scope}`);
  assert.equal(c.transport.stats.pings, 1);
  // Keep-alive (HTTP/2 here): 128 probes over a handful of connections, not one each.
  assert.ok(c.transport.stats.connections <= 4, `${c.transport.stats.connections} connections`);

  // Another credential is another cache key: its own token, never the first one's.
  const other = await c.probe(seeded.ref, {
    credentials: [{ username: PULL_ONLY_USER, password: PULL_ONLY_PASSWORD }],
  });
  assertOutcome(other, 'Available');
  assert.equal(c.transport.stats.tokenFetches, 2);
  assert.ok(((await tokenStats(reg)).byScope[scope] ?? 0) - before > onWire);
});

test('a registry that is stopped is Unreachable, and Available again once restarted', async () => {
  const own = await startOwnRegistry('stoppable');
  try {
    const reg = own.info;
    const seeded = await seed(reg, uniq('probe/stop'), 'v1');
    const c = client([reg.host]);
    assertOutcome(await c.probe(seeded.ref, { credentials: [cred(reg)] }), 'Available');
    await own.stop();
    const down = await c.probe(seeded.ref, { credentials: [cred(reg)], timeoutMs: 5000 });
    assertOutcome(down, 'Unreachable', /^registry unreachable: .*ECONNREFUSED/);
    await own.restart();
    // The pool drops the dead keep-alive connection and dials again.
    assertOutcome(await c.probe(seeded.ref, { credentials: [cred(reg)] }), 'Available');
  } finally {
    await own.stop();
  }
});

describe('faults injected by a proxy in front of the real registry', () => {
  test('a registry that stalls past the timeout is Unreachable, timed out, without a retry', async () => {
    const reg = harness().registries.tls;
    const seeded = await seed(reg, uniq('probe/stall'), 'v1');
    const p = await proxy(reg);
    const ref = seeded.ref.replace(reg.host, p.host);
    const c = client([p.host]);
    // Warm the ping first, so that on a loaded machine the 300 ms go to the stalled request.
    assertOutcome(await c.probe(ref, { credentials: [cred(reg)] }), 'Available');
    p.fault({ path: MANIFESTS, action: { stall: true } });
    const before = p.count({ path: MANIFESTS });
    const r = await c.probe(ref, { credentials: [cred(reg)], timeoutMs: 300 });
    assertOutcome(r, 'Unreachable', /^registry unreachable: .*timed out after 300 ms/);
    assert.equal(p.count({ path: MANIFESTS }) - before, 1);
  });

  test('a stall during the token handshake also ends at the deadline', async () => {
    const reg = harness().registries.token;
    const p = await proxy(reg);
    p.fault({ path: /^\/v2\/$/, action: { stall: true } });
    const r = await client([p.host]).probe(`${p.host}/${uniq('probe/stallping')}:v1`, {
      credentials: [cred(reg)],
      timeoutMs: 300,
    });
    assertOutcome(r, 'Unreachable', /timed out after 300 ms/);
  });

  test('503 twice, then the registry answers: retried, Available after 3 manifest requests', async () => {
    const reg = harness().registries.tls;
    const seeded = await seed(reg, uniq('probe/flaky'), 'v1');
    const p = await proxy(reg);
    p.fault({ path: MANIFESTS, times: 2, action: { respond: { status: 503 } } });
    const r = await client([p.host]).probe(seeded.ref.replace(reg.host, p.host), {
      credentials: [cred(reg)],
    });
    assertOutcome(r, 'Available');
    assert.equal(p.count({ path: MANIFESTS }), 3);
    assert.equal(r.requests, 3);
  });

  for (const status of [500, 502, 504, 408, 522]) {
    test(`${status} on every attempt: Unreachable after 3 attempts`, async () => {
      const reg = harness().registries.tls;
      const p = await proxy(reg);
      p.fault({ path: MANIFESTS, action: { respond: { status } } });
      const r = await client([p.host]).probe(`${p.host}/${uniq('probe/down')}:v1`, {
        credentials: [cred(reg)],
      });
      assertOutcome(r, 'Unreachable', new RegExp(`^registry unreachable: .*: ${status}`));
      assert.equal(p.count({ path: MANIFESTS }), 3);
    });
  }

  test("with kuik's real 1 s backoff and a 500 ms budget, a 503 is reported at once, not retried", async () => {
    const reg = harness().registries.tls;
    const p = await proxy(reg);
    const c = client([p.host], { retry: { attempts: 3, backoffMs: [1000, 3000], jitter: 0.1 } });
    const ref = `${p.host}/${uniq('probe/budget')}:v1`;
    // Warm the ping and credentials, so that the 500 ms budget is the manifest request's alone.
    assertOutcome(await c.probe(ref, { credentials: [cred(reg)] }), 'NotFound');
    p.fault({ path: MANIFESTS, action: { respond: { status: 503 } } });
    const before = p.count({ path: MANIFESTS });
    const r = await c.probe(ref, { credentials: [cred(reg)], timeoutMs: 500 });
    assertOutcome(r, 'Unreachable', /: 503 Service Unavailable/);
    assert.equal(p.count({ path: MANIFESTS }) - before, 1);
  });

  // Issue 14 item 5a: the ping used to retry with kuik's 1 s / 3 s backoff on its own budget, so a
  // caller with a 2 s deadline saw `timed out after 2000 ms` instead of the status.
  for (const [what, action, problem] of [
    [
      '503',
      { respond: { status: 503 } },
      /GET https:\/\/[^ ]+\/v2\/: unexpected status 503 Service Unavailable$/,
    ],
    ['a connection reset', { reset: true }, /GET https:\/\/[^ ]+\/v2\/: .*(closed|reset|ECONNRESET)/i],
  ] as const) {
    test(`${what} on /v2/ with kuik's real backoff: Unreachable naming it after 3 pings, not a timeout`, async () => {
      const reg = harness().registries.tls;
      const p = await proxy(reg);
      const c = client([p.host], { retry: { attempts: 3, backoffMs: [1000, 3000], jitter: 0.1 } });
      p.fault({ path: /^\/v2\/$/, action });
      const r = await c.probe(`${p.host}/${uniq('probe/pingdown')}:v1`, {
        credentials: [cred(reg)],
        timeoutMs: 2000,
      });
      assertOutcome(r, 'Unreachable', /^registry unreachable: /);
      assert.match(r.message, problem);
      assert.doesNotMatch(r.message, /timed out/);
      // All three attempts made: the short backoff fitted the 2 s, the answer is the last real one.
      assert.equal(p.count({ path: /^\/v2\/$/ }), 3);
      assert.equal(p.count({ path: MANIFESTS }), 0);
    });
  }

  test('a connection reset is retried like a network error', async () => {
    const reg = harness().registries.tls;
    const seeded = await seed(reg, uniq('probe/reset'), 'v1');
    const p = await proxy(reg);
    p.fault({ path: MANIFESTS, times: 1, action: { reset: true } });
    const r = await client([p.host]).probe(seeded.ref.replace(reg.host, p.host), {
      credentials: [cred(reg)],
    });
    assertOutcome(r, 'Available');
    assert.equal(p.count({ path: MANIFESTS }), 2);
  });

  test("429 with Docker Hub's headers: QuotaExceeded after exactly one request, headers handed back", async () => {
    const reg = harness().registries.token;
    const seeded = await seed(reg, uniq('probe/quota'), 'v1');
    const p = await proxy(reg);
    p.fault({
      path: MANIFESTS,
      action: {
        respond: {
          status: 429,
          headers: {
            'ratelimit-limit': '100;w=21600',
            'ratelimit-remaining': '0;w=21600',
            'docker-ratelimit-source': '192.0.2.7',
          },
          body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}',
        },
      },
    });
    const c = client([p.host]);
    for (const method of ['HEAD', 'GET'] as const) {
      const before = p.count({ path: MANIFESTS });
      const r = await c.probe(seeded.ref.replace(reg.host, p.host), { credentials: [cred(reg)], method });
      assertOutcome(r, 'QuotaExceeded', /^rate limit exceeded: .*429.*ratelimit-remaining: 0;w=21600/);
      assert.equal(p.count({ path: MANIFESTS }) - before, 1);
      assert.equal(r.requests, 1);
      assert.equal(r.rateLimit?.limit, 100);
      assert.equal(r.rateLimit?.remaining, 0);
      assert.equal(r.rateLimit?.windowSeconds, 21600);
      assert.equal(r.rateLimit?.source, '192.0.2.7');
    }
  });

  test('429 without rate-limit headers is QuotaExceeded too, still without a retry', async () => {
    const reg = harness().registries.tls;
    const p = await proxy(reg);
    p.fault({ path: MANIFESTS, action: { respond: { status: 429 } } });
    const r = await client([p.host]).probe(`${p.host}/${uniq('probe/q')}:v1`, { credentials: [cred(reg)] });
    assertOutcome(r, 'QuotaExceeded', /^rate limit exceeded: /);
    assert.equal(p.count({ path: MANIFESTS }), 1);
  });

  test('RateLimit-Remaining: 0 on a 200 is QuotaExceeded; a remaining quota is Available and reported', async () => {
    const reg = harness().registries.token;
    const seeded = await seed(reg, uniq('probe/zero'), 'v1');
    const p = await proxy(reg);
    const ref = seeded.ref.replace(reg.host, p.host);
    const c = client([p.host]);
    const remove = p.fault({
      path: MANIFESTS,
      action: { addHeaders: { 'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '0;w=21600' } },
    });
    const spent = await c.probe(ref, { credentials: [cred(reg)] });
    assertOutcome(spent, 'QuotaExceeded', /^rate limit exceeded: .*no quota left/);
    assert.equal(spent.requests, 1);
    remove();
    p.fault({
      path: MANIFESTS,
      action: { addHeaders: { 'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '42;w=21600' } },
    });
    const fine = await c.probe(ref, { credentials: [cred(reg)] });
    assertOutcome(fine, 'Available');
    assert.equal(fine.rateLimit?.remaining, 42);
  });

  test('a HEAD 200 without Docker-Content-Digest is Unreachable (HEAD strictness, §9)', async () => {
    const reg = harness().registries.tls;
    const p = await proxy(reg);
    p.fault({
      path: MANIFESTS,
      action: { respond: { status: 200, headers: { 'content-type': OCI_INDEX, 'content-length': '10' } } },
    });
    const r = await client([p.host]).probe(`${p.host}/${uniq('probe/strict')}:v1`, {
      credentials: [cred(reg)],
    });
    assertOutcome(r, 'Unreachable', /lacks the Docker-Content-Digest header/);
  });
});

describe('resolveDigest (§4.7 step 8)', () => {
  test('a consistent registry: Available with 2 requests for a tag, 1 for a digest', async () => {
    const reg = harness().registries.token;
    const seeded = await seed(reg, uniq('probe/resolve'), 'v1');
    const c = client([reg.host]);
    for (const method of ['HEAD', 'GET'] as const) {
      const r = await c.probe(seeded.ref, { credentials: [cred(reg)], method, resolveDigest: true });
      assertOutcome(r, 'Available');
      assert.equal(r.requests, 2);
    }
    const byDigest = await c.probe(seeded.ref.replace(/:v1$/, `@${seeded.digest}`), {
      credentials: [cred(reg)],
      resolveDigest: true,
    });
    assertOutcome(byDigest, 'Available');
    assert.equal(byDigest.requests, 1);
  });

  test('a stale cache serving a tag whose digest was deleted: NotFound, tag/digest inconsistency', async () => {
    const reg = harness().registries.tls;
    const repo = uniq('probe/stale');
    const first = await seed(reg, repo, 'v1', { fresh: true });
    const p = await proxy(reg);
    const viaProxy = first.ref.replace(reg.host, p.host);
    const c = client([reg.host, p.host]);
    // The proxy sees the tag once per method and keeps that answer, like a pull-through cache.
    for (const method of ['HEAD', 'GET'] as const) {
      assertOutcome(await c.probe(viaProxy, { credentials: [cred(reg)], method }), 'Available');
    }
    p.fault({ path: /\/manifests\/v1$/, action: { replay: true } });

    // Upstream, the tag moves to another image and the old manifest is deleted by digest.
    const moved = await seed(reg, repo, 'v1', { fresh: true });
    assert.notEqual(moved.digest, first.digest);
    await c.deleteManifest(`${reg.host}/${repo}@${first.digest}`, { credential: cred(reg) });
    const direct = await c.probe(first.ref, { credentials: [cred(reg)], resolveDigest: true });
    assertOutcome(direct, 'Available');
    assert.equal(direct.descriptor?.digest, moved.digest);

    for (const method of ['HEAD', 'GET'] as const) {
      const unseen = await c.probe(viaProxy, { credentials: [cred(reg)], method });
      assertOutcome(unseen, 'Available');
      assert.equal(unseen.descriptor?.digest, first.digest);
      const caught = await c.probe(viaProxy, { credentials: [cred(reg)], method, resolveDigest: true });
      assertOutcome(caught, 'NotFound', /^image not found: .*tag\/digest inconsistency/);
      assert.match(caught.message, new RegExp(first.digest));
      assert.equal(caught.requests, 2);
    }
  });

  const byDigestFault = async (
    status: number,
    method: 'HEAD' | 'GET',
    headers: Record<string, string> = {},
  ) => {
    const reg = harness().registries.tls;
    const seeded = await seed(reg, uniq('probe/bydigest'), 'v1');
    const p = await proxy(reg);
    p.fault({ path: /\/manifests\/sha256:/, action: { respond: { status, headers } } });
    const r = await client([p.host]).probe(seeded.ref.replace(reg.host, p.host), {
      credentials: [cred(reg)],
      method,
      resolveDigest: true,
    });
    assert.equal(p.count({ path: /\/manifests\/sha256:/ }), 1);
    return r;
  };

  test('by-digest 405 on HEAD gets the benefit of the doubt: Available', async () => {
    assertOutcome(await byDigestFault(405, 'HEAD'), 'Available');
  });
  test('by-digest 405 on GET: Unreachable', async () => {
    assertOutcome(await byDigestFault(405, 'GET'), 'Unreachable', /^registry unreachable: /);
  });
  test('by-digest 501 on HEAD: Available', async () => {
    assertOutcome(await byDigestFault(501, 'HEAD'), 'Available');
  });
  test('by-digest 401: InvalidAuth', async () => {
    assertOutcome(await byDigestFault(401, 'HEAD'), 'InvalidAuth', /^authentication failed: /);
  });
  test('by-digest 429 with RateLimit-Remaining 0: QuotaExceeded', async () => {
    const r = await byDigestFault(429, 'HEAD', { 'ratelimit-remaining': '0;w=21600' });
    assertOutcome(r, 'QuotaExceeded', /^rate limit exceeded: /);
    assert.equal(r.requests, 2);
  });
});

describe('TLS and insecure registries', () => {
  test('without the private CA the certificate is refused: Unreachable, naming the TLS problem', async () => {
    const reg = harness().registries.tls;
    const r = await client([reg.host], { noCa: true }).probe(`${reg.host}/${uniq('probe/tls')}:v1`, {
      credentials: [cred(reg)],
    });
    assertOutcome(r, 'Unreachable', /^registry unreachable: .*certificate/);
  });

  test('insecure: a self-signed (unknown CA) registry is probed without verification', async () => {
    const reg = harness().registries.tls;
    const seeded = await seed(reg, uniq('probe/insecure'), 'v1');
    const r = await client([reg.host], { noCa: true, insecure: true }).probe(seeded.ref, {
      credentials: [cred(reg)],
    });
    assertOutcome(r, 'Available');
  });

  test('insecure: a plain-HTTP registry is reached over HTTP; without insecure it is Unreachable', async () => {
    const reg = harness().registries.tls;
    const seeded = await seed(reg, uniq('probe/http'), 'v1');
    const p = await proxy(reg, false);
    const ref = seeded.ref.replace(reg.host, p.host);
    assertOutcome(
      await client([p.host], { insecure: true }).probe(ref, { credentials: [cred(reg)] }),
      'Available',
    );
    assertOutcome(await client([p.host]).probe(ref, { credentials: [cred(reg)] }), 'Unreachable');
  });
});

test('the transport serves the copy engine: push a blob and a manifest, delete by digest; pull-only may not push', async () => {
  const reg = harness().registries.token;
  const c = client([reg.host]);
  const repo = uniq('transport/push');
  const push = [{ repository: repo, actions: ['pull', 'push'] as const }];
  const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const config = Buffer.from(
    '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}',
  );

  const start = await c.transport.request(reg.host, {
    method: 'POST',
    path: uploadPath({ registry: reg.host, repository: repo }),
    scopes: push,
    credential: cred(reg),
  });
  await start.body.dump();
  assert.equal(start.status, 202);
  const location = new URL(start.headers.location as string, `https://${reg.host}`);
  location.searchParams.set('digest', sha(config));
  const put = await c.transport.request(reg.host, {
    method: 'PUT',
    path: location.toString(),
    headers: { 'content-type': 'application/octet-stream' },
    body: config,
    scopes: push,
    credential: cred(reg),
  });
  await put.body.dump();
  assert.equal(put.status, 201);

  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha(config),
        size: config.length,
      },
      layers: [],
    }),
  );
  const putManifest = await c.transport.request(reg.host, {
    method: 'PUT',
    path: `/v2/${repo}/manifests/v1`,
    headers: { 'content-type': OCI_MANIFEST },
    body: manifest,
    scopes: push,
    credential: cred(reg),
  });
  await putManifest.body.dump();
  assert.equal(putManifest.status, 201);
  const probed = await c.probe(`${reg.host}/${repo}:v1`, { credentials: [cred(reg)] });
  assertOutcome(probed, 'Available');
  assert.equal(probed.descriptor?.digest, sha(manifest));
  assert.equal(probed.descriptor?.mediaType, OCI_MANIFEST);

  // A pull secret's identity gets a token without push: the registry refuses the upload.
  const refused = await c.transport.request(reg.host, {
    method: 'POST',
    path: uploadPath({ registry: reg.host, repository: repo }),
    scopes: push,
    credential: { username: PULL_ONLY_USER, password: PULL_ONLY_PASSWORD },
  });
  await refused.body.dump();
  assert.equal(refused.status, 401);

  await c.deleteManifest(`${reg.host}/${repo}@${sha(manifest)}`, { credential: cred(reg) });
  assertOutcome(await c.probe(`${reg.host}/${repo}:v1`, { credentials: [cred(reg)] }), 'NotFound');
  const byDigest = await c.probe(`${reg.host}/${repo}@${sha(manifest)}`, { credentials: [cred(reg)] });
  assertOutcome(byDigest, 'NotFound');
});

test('an invalid reference is Unreachable with the parser message, not an exception', async () => {
  const r = await client([]).probe('Not A Reference');
  assertOutcome(r, 'Unreachable', /^registry unreachable: invalid reference/);
  assert.equal(r.requests, 0);
});
