// The router end to end: a real MutatingWebhookConfiguration on the real kube-apiserver sends Pod
// admissions to the router process (node functions/main.ts), which probes real registries. The
// "origin" registry belongs to this file so it can be stopped; the mirror is the harness's.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import type { ClusterImageSetMirror } from '#shared/crd/types.ts';
import { Kube } from '#shared/kube/client.ts';
import { harness, kubeConfig, type RegistryInfo } from '../harness/env.ts';
import {
  apply,
  eventually,
  kubectl,
  namespace,
  ownerReplicaSet,
  registrySecret,
  seed,
  startOwnRegistry,
  uniq,
} from '../harness/fixtures.ts';
import { type RunningFunction, startFunction } from '../harness/functions.ts';
import type { RunningRegistry } from '../harness/registry.ts';
import { registerRouterWebhook, waitActive } from '../harness/webhook.ts';

const LABEL = { key: 'kuik-router-test', value: 'on' };
const core = kubeConfig().makeApiClient(CoreV1Api);
const kube = new Kube(kubeConfig());
let origin: RunningRegistry;
let mirror: RegistryInfo;
let router: RunningFunction;
let unregister: () => Promise<void>;
let cism: string;
let webDigest: string;
const img = (repo: string) => `${origin.info.host}/${repo}`;
const mirrored = (repo: string) => `${mirror.host}/mirror/${repo}`;

function dockerConfig(reg: RegistryInfo): string {
  const auth = Buffer.from(`${reg.username}:${reg.password}`).toString('base64');
  return JSON.stringify({ auths: { [reg.host]: { auth } } });
}

async function appNamespace(prefix: string, withPullSecret = true): Promise<string> {
  const ns = await namespace(prefix);
  await kubectl(['label', 'namespace', ns, `${LABEL.key}=${LABEL.value}`]);
  if (withPullSecret) {
    await registrySecret(ns, 'origin-pull', origin.info);
  }
  return ns;
}

function pod(name: string, image: string, extra: Partial<V1Pod['spec']> = {}): V1Pod {
  return {
    metadata: { name },
    spec: { containers: [{ name: 'app', image }], imagePullSecrets: [{ name: 'origin-pull' }], ...extra },
  };
}

before(async () => {
  const h = harness();
  mirror = h.registries.tls;
  origin = await startOwnRegistry('origin');
  // The same layout pushed to both registries: the mirror holds byte-identical copies.
  for (const repo of ['app/web:1', 'app/other:1', 'app/debug:1']) {
    const [name, tag] = repo.split(':') as [string, string];
    const s = await seed(origin.info, name, tag);
    await seed(mirror, `mirror/${name}`, tag);
    if (repo === 'app/web:1') webDigest = s.digest;
  }
  await seed(origin.info, 'app/missing', '1');
  await kubectl(['create', 'namespace', 'kuik-system']).catch(() => '');
  await apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'mirror-cred', namespace: 'kuik-system' },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': Buffer.from(dockerConfig(mirror)).toString('base64') },
  });
  cism = uniq('global');
  await apply({
    apiVersion: 'kuik.enix.io/v1alpha1',
    kind: 'ClusterImageSetMirror',
    metadata: { name: cism },
    spec: {
      filter: { include: [{ image: `${origin.info.host.replace(/\./g, '\\.')}/.*` }] },
      mirrors: [
        {
          registry: mirror.host,
          path: 'mirror',
          credentialSecret: { name: 'mirror-cred', namespace: 'kuik-system' },
        },
      ],
    },
  });
  router = await startFunction('router', {
    config: 'routing:\n  activeCheck:\n    timeout: 2s\n    cacheTTL: 0s\n',
  });
  unregister = await registerRouterWebhook({
    name: uniq('kuik-router'),
    url: `https://127.0.0.1:${router.webhookPort}/mutate`,
    namespaceLabel: LABEL,
  });
  const probeNs = await appNamespace('probe', false);
  await waitActive(
    probeNs,
    pod('probe', 'busybox:1'),
    (p) => p.metadata?.annotations?.['kuik.enix.io/original-images'] !== undefined,
  );
});

after(async () => {
  await unregister?.();
  await router?.stop();
  await origin?.stop();
});

test('original registry up: the pod keeps its image, only the original-images annotation is added', async () => {
  const ns = await appNamespace('up');
  const created = await core.createNamespacedPod({ namespace: ns, body: pod('web', img('app/web:1')) });
  assert.equal(created.spec?.containers[0]?.image, img('app/web:1'));
  assert.deepEqual(
    created.spec?.imagePullSecrets?.map((s) => s.name),
    ['origin-pull'],
  );
  const a = created.metadata?.annotations ?? {};
  assert.equal(a['kuik.enix.io/original-images'], JSON.stringify({ app: img('app/web:1') }));
  assert.equal(a['kuik.enix.io/rewritten-by'], undefined);
  assert.equal(JSON.parse(a['kuik.enix.io/decisions'] ?? '{}').app.reason, 'OriginalAvailable');
});

test('original registry stopped: the pod is rewritten to the mirror with a copied pull secret and an event', async () => {
  await origin.stop();
  const ns = await appNamespace('down');
  const created = await core.createNamespacedPod({ namespace: ns, body: pod('web', img('app/web:1')) });
  assert.equal(created.spec?.containers[0]?.image, mirrored('app/web:1'));
  const copy = created.spec?.imagePullSecrets?.find((s) => s.name?.startsWith('kuik-mirror-cred-'));
  assert.ok(copy, JSON.stringify(created.spec?.imagePullSecrets));
  const secret = await core.readNamespacedSecret({ namespace: ns, name: copy.name! });
  const owner = await kube.getKuik<ClusterImageSetMirror>({ kind: 'ClusterImageSetMirror', name: cism });
  assert.equal(secret.metadata?.labels?.['kuik.enix.io/owner-uid'], owner.metadata.uid);
  assert.equal(secret.metadata?.labels?.['kuik.enix.io/owner-kind'], 'ClusterImageSetMirror');
  const a = created.metadata?.annotations ?? {};
  assert.equal(a['kuik.enix.io/rewritten-by'], JSON.stringify({ app: `ClusterImageSetMirror/${cism}` }));
  assert.equal(a['kuik.enix.io/reason'], JSON.stringify({ app: 'OnFailure' }));
  const d = JSON.parse(a['kuik.enix.io/decisions'] ?? '{}').app;
  assert.equal(d.rejected[0].image, img('app/web:1'));
  assert.equal(d.rejected[0].result, 'Unreachable');
  const ev = await eventually('ImageRerouted event', async () => {
    const list = await kube.events.listNamespacedEvent({ namespace: ns });
    return list.items.find((e) => e.reason === 'ImageRerouted' && e.regarding?.name === 'web');
  });
  assert.equal(ev.regarding?.uid, created.metadata?.uid);
  assert.match(ev.note ?? '', /→/);
});

test('digest-pinned and init containers are routed too', async () => {
  const ns = await appNamespace('pinned');
  const created = await core.createNamespacedPod({
    namespace: ns,
    body: pod('pinned', `${origin.info.host}/app/web@${webDigest}`, {
      initContainers: [{ name: 'setup', image: img('app/other:1') }],
    }),
  });
  assert.equal(created.spec?.containers[0]?.image, `${mirror.host}/mirror/app/web@${webDigest}`);
  assert.equal(created.spec?.initContainers?.[0]?.image, mirrored('app/other:1'));
  assert.deepEqual(JSON.parse(created.metadata?.annotations?.['kuik.enix.io/original-images'] ?? '{}'), {
    app: `${origin.info.host}/app/web@${webDigest}`,
    'init:setup': img('app/other:1'),
  });
});

test('server-side dry run shows the rewrite but writes no secret copy', async () => {
  const ns = await appNamespace('dry');
  const out = JSON.parse(
    await kubectl(
      ['create', '-n', ns, '--dry-run=server', '-o', 'json', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'Pod', ...pod('dry', img('app/web:1')) }),
    ),
  ) as V1Pod;
  assert.equal(out.spec?.containers[0]?.image, mirrored('app/web:1'));
  const copyName = out.spec?.imagePullSecrets?.find((s) => s.name?.startsWith('kuik-'))?.name;
  assert.ok(copyName);
  const secrets = await core.listNamespacedSecret({ namespace: ns });
  assert.deepEqual(secrets.items.map((s) => s.metadata?.name).sort(), ['origin-pull']);
  assert.equal((await core.listNamespacedPod({ namespace: ns })).items.length, 0);
});

test('Pod UPDATE: a changed image is routed when the pod already lists the pull secret; others are left alone', async () => {
  const ns = await appNamespace('update');
  // Created while the origin is down: both containers routed, the secret copy listed.
  const created = await core.createNamespacedPod({
    namespace: ns,
    body: pod('u', img('app/web:1'), {
      containers: [
        { name: 'app', image: img('app/web:1') },
        { name: 'side', image: img('app/debug:1') },
      ],
    }),
  });
  assert.equal(created.spec?.containers[1]?.image, mirrored('app/debug:1'));
  await kubectl(['set', 'image', 'pod/u', '-n', ns, `app=${img('app/other:1')}`]);
  const stored = await core.readNamespacedPod({ namespace: ns, name: 'u' });
  assert.equal(stored.spec?.containers[0]?.image, mirrored('app/other:1'));
  assert.equal(stored.spec?.containers[1]?.image, mirrored('app/debug:1'));
  assert.equal(
    JSON.parse(stored.metadata?.annotations?.['kuik.enix.io/original-images'] ?? '{}').app,
    img('app/other:1'),
  );
});

test('Pod UPDATE: an alternative needing a pull secret the pod lacks is not used, and the update still succeeds', async () => {
  await origin.restart();
  const ns = await appNamespace('update2');
  await core.createNamespacedPod({ namespace: ns, body: pod('v', img('app/web:1')) });
  await origin.stop();
  await kubectl(['set', 'image', 'pod/v', '-n', ns, `app=${img('app/other:1')}`]);
  const stored = await core.readNamespacedPod({ namespace: ns, name: 'v' });
  assert.equal(stored.spec?.containers[0]?.image, img('app/other:1'));
  assert.deepEqual(
    stored.spec?.imagePullSecrets?.map((s) => s.name),
    ['origin-pull'],
  );
});

test('an ephemeral container added through pods/ephemeralcontainers is routed', async () => {
  const ns = await appNamespace('ephemeral');
  await core.createNamespacedPod({ namespace: ns, body: pod('e', mirrored('app/web:1')) });
  await kubectl([
    'patch',
    'pod',
    'e',
    '-n',
    ns,
    '--subresource=ephemeralcontainers',
    '--type=strategic',
    '-p',
    JSON.stringify({ spec: { ephemeralContainers: [{ name: 'dbg', image: img('app/debug:1') }] } }),
  ]);
  const stored = await core.readNamespacedPod({ namespace: ns, name: 'e' });
  assert.equal(stored.spec?.ephemeralContainers?.[0]?.image, mirrored('app/debug:1'));
});

test('a mirror answering NotFound clears its stale mirroredAt in the CR status', async () => {
  const source = `${img('app/missing:1')}`;
  const stale = mirrored('app/missing:1');
  await kube.updateStatus<ClusterImageSetMirror>({ kind: 'ClusterImageSetMirror', name: cism }, (o) => {
    o.status = {
      matchingImages: [{ image: source, mirrors: [{ image: stale, mirroredAt: '2026-01-01T00:00:00Z' }] }],
    };
    return true;
  });
  const ns = await appNamespace('stale');
  const created = await core.createNamespacedPod({ namespace: ns, body: pod('s', source) });
  assert.equal(created.spec?.containers[0]?.image, source);
  // The router acts on the status its watch cache holds, which follows the write above a moment
  // later: admit pods until it has seen it and acted.
  let i = 0;
  await eventually('mirroredAt cleared', async () => {
    const o = await kube.getKuik<ClusterImageSetMirror>({ kind: 'ClusterImageSetMirror', name: cism });
    const m = o.status?.matchingImages?.[0]?.mirrors?.[0];
    if (m && m.mirroredAt === undefined) return true;
    await core.createNamespacedPod({ namespace: ns, body: pod(`s-${i++}`, source) });
    return undefined;
  });
});

test('the router serves its metrics: reviews by outcome, decisions, probes by registry', async () => {
  const text = await (await fetch(`http://127.0.0.1:${router.port}/metrics`)).text();
  assert.match(
    text,
    /kube_image_keeper_router_reviews_total\{operation="CREATE",outcome="rerouted",function="router"\} [1-9]/,
  );
  assert.match(
    text,
    /kube_image_keeper_router_decisions_total\{reason="OnFailure",kind="ClusterImageSetMirror",function="router"\} [1-9]/,
  );
  assert.match(
    text,
    new RegExp(
      `kube_image_keeper_router_probes_total\\{registry="${origin.info.host.replace(/\./g, '\\.')}",result="Unreachable",function="router"\\} [1-9]`,
    ),
  );
  assert.match(
    text,
    /kube_image_keeper_router_stale_mirror_signals_total\{result="cleared",function="router"\} 1/,
  );
});

/** Requests the API server served for `resource`, by the verbs given, since it started. */
/**
 * Writes (create, update, patch) of `resource` in `namespace`, from the API server's audit log:
 * only this test's namespace counts, not what the files running beside it write.
 */
async function writesIn(namespace: string, resource: string): Promise<number> {
  let n = 0;
  for (const line of (await readFile(harness().apiserver.auditLog, 'utf8')).split('\n')) {
    if (!line.includes(`"${resource}"`)) continue;
    const e = JSON.parse(line) as { verb?: string; objectRef?: { resource?: string; namespace?: string } };
    if (e.objectRef?.resource !== resource || e.objectRef.namespace !== namespace) continue;
    if (e.verb === 'create' || e.verb === 'update' || e.verb === 'patch') n++;
  }
  return n;
}

test('pods of one ReplicaSet rerouted alike: one event whose series counts every pod, in a few writes', async () => {
  const ns = await appNamespace('series');
  // The pods below name this ReplicaSet as their owner.
  const rs = await ownerReplicaSet(ns);
  const before = await writesIn(ns, 'events');
  const t0 = Date.now();
  const pods = 12;
  for (let i = 0; i < pods; i++) {
    const created = await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { generateName: 'shop-7d9f8-', ownerReferences: [rs] },
        spec: {
          containers: [{ name: 'app', image: img('app/web:1') }],
          imagePullSecrets: [{ name: 'origin-pull' }],
        },
      },
    });
    assert.equal(created.spec?.containers[0]?.image, mirrored('app/web:1'));
  }
  const ev = await eventually('the series counts every pod', async () => {
    const list = await kube.events.listNamespacedEvent({
      namespace: ns,
      fieldSelector: `regarding.name=${rs.name}`,
    });
    const found = list.items.filter((e) => e.reason === 'ImageRerouted');
    return found.length === 1 && (found[0]?.series?.count ?? 1) === pods ? found[0] : undefined;
  });
  assert.equal(ev.regarding?.uid, rs.uid);
  // `kubectl describe` shows the same count.
  assert.match(await kubectl(['describe', 'replicaset', '-n', ns, rs.name]), /ImageRerouted/);
  assert.match(await kubectl(['describe', 'replicaset', '-n', ns, rs.name]), /\(x12 over/);
  // Written as: a create for the first pod, then one series update per 5 s at most (each pod used
  // to cost a write, after a list: 12 writes for 12 pods).
  const writes = (await writesIn(ns, 'events')) - before;
  // The aggregator's bound, whatever the machine's speed: the create, then at most one series
  // update per 5 s window the pods took (and the window still open at the end).
  const bound = 2 + Math.ceil((Date.now() - t0) / 5000);
  assert.ok(writes <= bound, `${writes} event writes for ${pods} pods (bound ${bound})`);
});

test('a current pull-secret copy is not written again; a rotated source or a deleted copy is', async () => {
  const ns = await appNamespace('copies');
  const first = await core.createNamespacedPod({ namespace: ns, body: pod('first', img('app/web:1')) });
  const copyName = first.spec?.imagePullSecrets?.find((s) => s.name?.startsWith('kuik-mirror-cred-'))?.name;
  assert.ok(copyName);
  // Wait until the copy's watch has seen it, then admit more pods routed through the same mirror.
  await eventually('copy stored', () => core.readNamespacedSecret({ namespace: ns, name: copyName }));
  await new Promise((r) => setTimeout(r, 1000));
  const before = await writesIn(ns, 'secrets');
  for (let i = 0; i < 5; i++) {
    const p = await core.createNamespacedPod({ namespace: ns, body: pod(`again-${i}`, img('app/web:1')) });
    assert.deepEqual(
      p.spec?.imagePullSecrets?.map((s) => s.name),
      ['origin-pull', copyName],
    );
  }
  assert.equal((await writesIn(ns, 'secrets')) - before, 0, 'no secret written');

  // The source rotates: the copy follows (the source is re-read within the 10 s secret cache).
  const source = await core.readNamespacedSecret({ namespace: 'kuik-system', name: 'mirror-cred' });
  const rotated = { ...source.data, rotated: Buffer.from('yes').toString('base64') };
  await core.replaceNamespacedSecret({
    namespace: 'kuik-system',
    name: 'mirror-cred',
    body: { ...source, data: rotated },
  });
  try {
    let i = 0;
    await eventually(
      'copy follows the rotated source',
      async () => {
        await core.createNamespacedPod({ namespace: ns, body: pod(`rotated-${i++}`, img('app/web:1')) });
        const copy = await core.readNamespacedSecret({ namespace: ns, name: copyName });
        return copy.data?.['rotated'] === rotated['rotated'] ? copy : undefined;
      },
      60_000,
      1000,
    );
  } finally {
    const now = await core.readNamespacedSecret({ namespace: 'kuik-system', name: 'mirror-cred' });
    await core.replaceNamespacedSecret({
      namespace: 'kuik-system',
      name: 'mirror-cred',
      body: { ...now, data: source.data ?? {} },
    });
  }

  // Deleted: the next admission makes it again.
  await core.deleteNamespacedSecret({ namespace: ns, name: copyName });
  let j = 0;
  await eventually(
    'deleted copy made again',
    async () => {
      await core.createNamespacedPod({ namespace: ns, body: pod(`deleted-${j++}`, img('app/web:1')) });
      return await core.readNamespacedSecret({ namespace: ns, name: copyName });
    },
    60_000,
    500,
  );
});

test('router down: failurePolicy Ignore admits the pod unchanged', async () => {
  await router.stop();
  try {
    const ns = await appNamespace('routerdown');
    const created = await core.createNamespacedPod({ namespace: ns, body: pod('w', img('app/web:1')) });
    assert.equal(created.spec?.containers[0]?.image, img('app/web:1'));
    assert.equal(created.metadata?.annotations?.['kuik.enix.io/original-images'], undefined);
  } finally {
    await router.restart();
  }
});
