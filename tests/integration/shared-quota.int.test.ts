// Quota shared across clusters (docs/shared-quota.md), on real parts: two control planes (two
// etcd + kube-apiserver pairs, as two clusters), each with its own monitor, CISA, pods and pull
// secret, probing the same images through the fault proxy, which enforces one rate limit per
// credential in front of a real registry (10 manifest requests per sliding 30 s, Docker Hub's
// headers). Both clusters publish what they see as records in a second real registry they share.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { resolveConfig } from '#shared/config/config.ts';
import { Kube } from '#shared/kube/client.ts';
import { createLogger } from '#shared/log.ts';
import { isQuotaTag, quotaPacing } from '#shared/quota.ts';
import { RegistryClient } from '#shared/registry/client.ts';
import { repoOf } from '#shared/registry/repo.ts';
import { monitorDeps } from '../../functions/monitor/main.ts';
import { type MonitorDeps, runTick } from '../../functions/monitor/tick.ts';
import { harness } from '../harness/env.ts';
import type { FaultProxy } from '../harness/fault-proxy.ts';
import { proxyInFrontOf, registrySecretArgs, seed, uniq } from '../harness/fixtures.ts';
import { type PrivateControlPlane, startPrivateControlPlane } from '../harness/private-controlplane.ts';

const log = createLogger('shared-quota-test', process.env['LOG_LEVEL'] ?? 'silent');
const LIMIT = 10;
const WINDOW = 30;
const cleanups: (() => Promise<unknown>)[] = [];
let cps: PrivateControlPlane[] = [];
let proxy: FaultProxy;

before(async () => {
  cps = await Promise.all([startPrivateControlPlane('quota-a'), startPrivateControlPlane('quota-b')]);
  const { tls } = harness().registries;
  proxy = await proxyInFrontOf(tls);
});
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  await proxy?.close();
  await Promise.all(cps.map((cp) => cp.stop()));
});

/** One cluster: namespace, pull secret, a pod using `images`, a CISA, and its monitor's deps. */
async function cluster(
  cp: PrivateControlPlane,
  id: string,
  images: string[],
  shared: { registry: string; repository: string },
): Promise<MonitorDeps> {
  const { tls } = harness().registries;
  const ns = 'apps';
  await cp.kubectl(['create', 'namespace', ns]);
  await cp.kubectl(['create', 'namespace', 'kuik-system']);
  const secret = (name: string, namespace: string, host: string) =>
    cp.kubectl(registrySecretArgs(namespace, name, tls, host));
  // The same credential in both clusters: one quota between them.
  await secret('pull', ns, proxy.host);
  await secret('quota-records', 'kuik-system', shared.registry);
  await cp.kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'app', namespace: ns },
          spec: {
            containers: images.map((image, i) => ({ name: `c${i}`, image })),
            imagePullSecrets: [{ name: 'pull' }],
          },
        },
        {
          apiVersion: 'kuik.enix.io/v1alpha1',
          kind: 'ClusterImageSetAvailability',
          metadata: { name: 'all' },
          spec: { filter: { include: [{ namespace: ns }] } },
        },
      ],
    }),
  );
  const r = resolveConfig({
    monitoring: {
      tickBudget: '30s',
      minTickInterval: '0s',
      // The configured pacing alone would allow 100 probes a second: only the quota holds them back.
      registries: { items: { [proxy.host]: { interval: '1s', maxPerInterval: 100, timeout: '20s' } } },
      sharedQuota: { ...shared, credentialSecret: { namespace: 'kuik-system', name: 'quota-records' } },
    },
  });
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  const client = new RegistryClient({
    defaultHost: { ca: await readFile(tls.caFile, 'utf8') },
    retry: { attempts: 2, backoffMs: [50], jitter: 0 },
  });
  cleanups.push(() => client.close());
  return monitorDeps(
    r.value.config,
    { port: 0, instance: `monitor-${id}`, cluster: id },
    new Kube(cp.kc()),
    log,
    {
      client,
    },
  );
}

const refusals = () => proxy.requests.filter((r) => /\/manifests\//.test(r.path) && r.result === 429).length;

test('two clusters sharing one credential pace their probes to stay under its rate limit together, and stop when it is spent', async () => {
  const { tls, token } = harness().registries;
  const repo = uniq('quota/app');
  for (const tag of ['a', 'b', 'c']) await seed(tls, repo, tag);
  const images = ['a', 'b', 'c'].map((t) => `${proxy.host}/${repo}:${t}`);
  const shared = { registry: token.host, repository: uniq('kuik/quota') };
  const [a, b] = [
    await cluster(cps[0]!, 'cluster-a', images, shared),
    await cluster(cps[1]!, 'cluster-b', images, shared),
  ];
  proxy.quota({ limit: LIMIT, windowSeconds: WINDOW, path: /\/manifests\// });

  // A first, alone: no cluster has reported this registry's rate limit, so its first probe goes
  // alone, learns it, and the rest waits for the next tick.
  const probed = { a: 0, b: 0 };
  probed.a += (await runTick(a)).probed;
  assert.equal(probed.a, 1);
  // B reads A's record: two clusters now, each gets half.
  probed.b += (await runTick(b)).probed;
  assert.ok(probed.a > 0 && probed.b > 0, `both clusters probed (${JSON.stringify(probed)})`);

  // Both tick back to back, concurrently, until together they made more probes than the limit:
  // without the shared records each would spend the quota at its own pace and the registry would
  // refuse some.
  const goal = LIMIT + 4;
  const deadline = Date.now() + 5 * 60_000;
  const loop = async (deps: MonitorDeps, k: 'a' | 'b') => {
    while (probed.a + probed.b < goal && refusals() === 0 && Date.now() < deadline) {
      const s = await runTick(deps);
      probed[k] += s.probed;
      assert.deepEqual(s.errors, [], `cluster ${k}: tick errors`);
      if (s.probed === 0) await new Promise((r) => setTimeout(r, 500));
    }
  };
  await Promise.all([loop(a, 'a'), loop(b, 'b')]);
  assert.equal(refusals(), 0, `the registry refused ${refusals()} of ${probed.a + probed.b} probes`);
  assert.ok(probed.a + probed.b >= goal, `probes made: ${JSON.stringify(probed)}`);

  // One record per cluster in the shared repository, both counted.
  const records = await a.quota!.store.read();
  assert.deepEqual(records.map((r) => r.cluster).sort(), ['cluster-a', 'cluster-b']);
  const tags = await repoOf(
    new RegistryClient({ defaultHost: { ca: await readFile(token.caFile, 'utf8') } }),
    { registry: token.host, repository: shared.repository },
    { username: token.username, password: token.password },
    ['pull'],
    10_000,
  ).listTags();
  assert.equal(tags.filter(isQuotaTag).length, 2);
  const p = quotaPacing(records, 'cluster-a', Date.now());
  assert.equal(p[0]?.clusters, 2);
  assert.equal(p[0]?.limit, LIMIT);

  // Someone else (a third user of the credential) spends the rest of a longer quota; the first
  // probe that sees it spent stops its registry's probes in both clusters until the window has
  // passed: no further request reaches the registry.
  // (First let every record of the short quota age out of its window, so that only the new one counts.)
  const newest = Math.max(
    ...records.map((r) => r.observedAt),
    ...(await b.quota!.store.read()).map((r) => r.observedAt),
  );
  await new Promise((r) => setTimeout(r, Math.max(0, newest + WINDOW * 1000 + 1000 - Date.now())));
  proxy.quota({ limit: LIMIT, windowSeconds: 600, path: /\/manifests\// });
  const spender = new RegistryClient({ defaultHost: { ca: await readFile(tls.caFile, 'utf8') } });
  cleanups.push(() => spender.close());
  while (refusals() === 0)
    await spender.probe(images[0]!, { credentials: [{ username: tls.username, password: tls.password }] });
  const spentAt = proxy.count({ path: /\/manifests\// });
  const first = await runTick(a);
  assert.equal(
    proxy.count({ path: /\/manifests\// }) - spentAt,
    1,
    `the tick stopped probing the registry at the first refusal (${JSON.stringify(first)})`,
  );
  const seen = await a.quota!.store.read();
  assert.ok(
    seen.some((r) => r.remaining === 0),
    'a cluster published the spent quota',
  );
  const before = proxy.count({ path: /\/manifests\// });
  const ta = await runTick(a);
  const tb = await runTick(b);
  assert.equal(ta.probed + tb.probed, 0, 'no probe while the quota is spent');
  assert.equal(proxy.count({ path: /\/manifests\// }), before);
});
