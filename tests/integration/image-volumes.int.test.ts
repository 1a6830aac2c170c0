// Image volumes (`spec.volumes[].image.reference`, on by default in Kubernetes 1.35) end to end on
// the real parts: the harness's kube-apiserver 1.35 stores them, the router (a real mutating
// webhook) routes them, reconcile and copy (processes fed by Knative's ApiServerSource adapter)
// mirror them between real registries — an image and a plain OCI artifact — the monitor probes
// them and `kuik explain` shows them. The origin registry belongs to this file so that it can be
// stopped; the mirror is the harness's. Tests run in order: the origin goes down in the third.
//
// Not here: a pod that mounts an image volume and runs from the mirror on a real node. The harness
// runs no kubelet, and Debian's containerd 1.6 predates image volumes (containerd 2.1).
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { resolveConfig } from '#shared/config/config.ts';
import type { ClusterImageSetAvailability, ImageSetMirror } from '#shared/crd/types.ts';
import { Kube } from '#shared/kube/client.ts';
import { createLogger } from '#shared/log.ts';
import { RegistryClient } from '#shared/registry/client.ts';
import { monitorDeps } from '../../functions/monitor/main.ts';
import { runTick } from '../../functions/monitor/tick.ts';
import { harness, kubeConfig, type RegistryInfo } from '../harness/env.ts';
import {
  apply,
  eventually,
  imageSetMirror,
  kubectl,
  namespace,
  registrySecret,
  seed,
  seedArtifact,
  startOwnRegistry,
  uniq,
} from '../harness/fixtures.ts';
import { type RunningFunction, startFunction } from '../harness/functions.ts';
import type { Adapter } from '../harness/knative.ts';
import { startMirroringPipeline } from '../harness/pipeline.ts';
import { run } from '../harness/proc.ts';
import { inspectRaw, type RunningRegistry } from '../harness/registry.ts';
import { registerRouterWebhook, waitActive } from '../harness/webhook.ts';

const LABEL = { key: 'kuik-volumes-test', value: 'on' };
const core = kubeConfig().makeApiClient(CoreV1Api);
const kube = new Kube(kubeConfig());
let origin: RunningRegistry;
let mirror: RegistryInfo;
let other: RegistryInfo;
let copy: RunningFunction;
let reconcile: RunningFunction;
let router: RunningFunction;
let adapter: Adapter;
let unregister: () => Promise<void>;
let ns: string;
let ism: string;
let data: { ref: string; digest: string };
let model: { ref: string; digest: string; artifactType: string };
let app: { ref: string };
const mirrored = (ref: string) => `${mirror.host}/mirror/${ref.slice(origin.info.host.length + 1)}`;

/** The pod under test: a container from a registry no CR routes, and two image volumes from the origin. */
function podWithVolumes(name: string): V1Pod {
  return {
    metadata: { name },
    spec: {
      containers: [{ name: 'app', image: app.ref, volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
      imagePullSecrets: [{ name: 'pull' }, { name: 'other' }],
      volumes: [
        { name: 'data', image: { reference: data.ref } },
        { name: 'model', image: { reference: model.ref, pullPolicy: 'IfNotPresent' } },
      ],
    },
  };
}

before(async () => {
  const h = harness();
  mirror = h.registries.tls;
  other = h.registries.token;
  origin = await startOwnRegistry('origin');
  data = await seed(origin.info, 'vol/data', '1');
  model = await seedArtifact(origin.info, 'vol/model', '1', {
    files: { 'model.bin': 'weights', LICENSE: 'CC0' },
  });
  app = await seed(other, uniq('vol/app'), '1');

  ns = await namespace('volumes');
  await kubectl(['label', 'namespace', ns, `${LABEL.key}=${LABEL.value}`]);
  await registrySecret(ns, 'pull', origin.info);
  await registrySecret(ns, 'push', mirror);
  await registrySecret(ns, 'other', other);
  // Two platforms, so the image's index is copied unchanged (same digest as the origin's).
  const config =
    'mirroring:\n  platforms:\n    - architecture: amd64\n    - architecture: arm64\n' +
    'routing:\n  activeCheck:\n    timeout: 5s\n    cacheTTL: 0s\n';
  ({ copy, reconcile, adapter } = await startMirroringPipeline(ns, config));
  ism = uniq('volumes');
  await imageSetMirror(ns, ism, {
    filter: { include: [{ image: `${origin.info.host.replace(/\./g, '\\.')}/.*` }] },
    mirrors: [{ registry: mirror.host, path: 'mirror', credentialSecret: { name: 'push' } }],
  });
  router = await startFunction('router', { config });
  unregister = await registerRouterWebhook({
    name: uniq('kuik-router-volumes'),
    url: `https://127.0.0.1:${router.webhookPort}/mutate`,
    namespaceLabel: LABEL,
  });
  // Active, and its CR cache holds the ImageSetMirror: a container from the origin gets a decision.
  await waitActive(
    ns,
    { metadata: { name: 'probe' }, spec: { containers: [{ name: 'c', image: data.ref }] } },
    (p) => (p.metadata?.annotations?.['kuik.enix.io/decisions'] ?? '').includes('"c"'),
  );
});

after(async () => {
  await unregister?.();
  await adapter?.stop();
  await router?.stop();
  await reconcile?.stop();
  await copy?.stop();
  await origin?.stop();
});

test('the API server stores image volumes (pullPolicy defaulted); with the origin up the router records them as volume:NAME and leaves them', async () => {
  const created = await core.createNamespacedPod({ namespace: ns, body: podWithVolumes('first') });
  const volumes = created.spec?.volumes ?? [];
  assert.deepEqual(
    volumes.map((v) => [v.name, v.image?.reference, v.image?.pullPolicy]),
    [
      ['data', data.ref, 'IfNotPresent'],
      ['model', model.ref, 'IfNotPresent'],
    ],
  );
  const a = created.metadata?.annotations ?? {};
  assert.deepEqual(JSON.parse(a['kuik.enix.io/original-images'] ?? '{}'), {
    app: app.ref,
    'volume:data': data.ref,
    'volume:model': model.ref,
  });
  const decisions = JSON.parse(a['kuik.enix.io/decisions'] ?? '{}');
  assert.equal(decisions['volume:data']?.reason, 'OriginalAvailable');
  assert.equal(decisions['volume:model']?.reason, 'OriginalAvailable');
  assert.equal(a['kuik.enix.io/rewritten-by'], undefined);
});

test('reconcile counts image volumes in use and mirrors them: the image and the OCI artifact land with their digests', async () => {
  const ref = { kind: 'ImageSetMirror' as const, name: ism, namespace: ns };
  const entries = await eventually(
    'both volume images mirrored',
    async () => {
      const o = await kube.getKuik<ImageSetMirror>(ref);
      const list = o.status?.matchingImages ?? [];
      return list.length === 2 && list.every((e) => e.mirrors?.[0]?.mirroredAt) ? list : undefined;
    },
    120_000,
  ).catch(async (err: Error) => {
    const status = JSON.stringify((await kube.getKuik<ImageSetMirror>(ref)).status);
    const log = (await readFile(copy.proc.logFile, 'utf8')).split('\n').slice(-10).join('\n');
    throw new Error(`${err.message}\nstatus: ${status}\ncopy log:\n${log}`);
  });
  assert.deepEqual(
    entries.map((e) => [e.image, e.mirrors?.[0]?.image]),
    [data.ref, model.ref].sort().map((r) => [r, mirrored(r)]),
  );
  assert.equal((await inspectRaw(mirror, mirrored(data.ref))).digest, data.digest);
  const artifact = await inspectRaw(mirror, mirrored(model.ref));
  assert.equal(artifact.digest, model.digest, 'the artifact manifest byte for byte');
  assert.equal(JSON.parse(artifact.raw).artifactType, model.artifactType);
  const modelMirror = entries.find((e) => e.image === model.ref)?.mirrors?.[0];
  assert.equal(modelMirror?.platforms, undefined, 'an artifact has no platforms to record');
  assert.equal(modelMirror?.digest, model.digest);
});

test('origin down: the router rewrites the image volume references to the mirror, with the pull secret and annotations', async () => {
  await origin.stop();
  const created = await core.createNamespacedPod({ namespace: ns, body: podWithVolumes('second') });
  assert.deepEqual(
    (created.spec?.volumes ?? []).map((v) => [v.name, v.image?.reference]),
    [
      ['data', mirrored(data.ref)],
      ['model', mirrored(model.ref)],
    ],
  );
  assert.equal(created.spec?.containers[0]?.image, app.ref, 'the container has no alternative');
  assert.deepEqual(
    created.spec?.imagePullSecrets?.map((s) => s.name),
    ['pull', 'other', 'push'],
  );
  const a = created.metadata?.annotations ?? {};
  assert.deepEqual(JSON.parse(a['kuik.enix.io/rewritten-by'] ?? '{}'), {
    'volume:data': `ImageSetMirror/${ism}`,
    'volume:model': `ImageSetMirror/${ism}`,
  });
  assert.deepEqual(JSON.parse(a['kuik.enix.io/reason'] ?? '{}'), {
    'volume:data': 'OnFailure',
    'volume:model': 'OnFailure',
  });
  assert.equal(
    JSON.parse(a['kuik.enix.io/decisions'] ?? '{}')['volume:model']?.rejected?.[0]?.image,
    model.ref,
  );
  // The reroute Event (kubectl describe pod) names the volumes.
  const events = await eventually('reroute event', async () => {
    const list = await kube.events.listNamespacedEvent({ namespace: ns });
    return list.items.find((e) => e.regarding?.name === 'second' && /image volume model/.test(e.note ?? ''));
  });
  assert.match(events.note ?? '', /image volume data: .* → .*\(OnFailure via ImageSetMirror\//);
});

test('the monitor probes image volumes: the mirror copies Available, the stopped origin Unreachable', async () => {
  const selector = uniq('vol');
  const cisa = uniq('volumes');
  await apply({
    apiVersion: 'kuik.enix.io/v1alpha1',
    kind: 'ClusterImageSetAvailability',
    metadata: { name: cisa, labels: { 'kuik-test/monitor': selector } },
    spec: { filter: { include: [{ namespace: ns }] } },
  });
  const fast = { interval: '1s', maxPerInterval: 100, timeout: '20s' };
  const r = resolveConfig({
    monitoring: {
      tickBudget: '60s',
      minTickInterval: '0s',
      registries: { items: { [origin.info.host]: fast, [mirror.host]: fast, [other.host]: fast } },
    },
  });
  assert.ok(r.ok);
  const client = new RegistryClient({
    defaultHost: { ca: await readFile(harness().pki.caCert, 'utf8') },
    retry: { attempts: 2, backoffMs: [50], jitter: 0 },
  });
  try {
    const deps = monitorDeps(
      r.value.config,
      { port: 0, instance: uniq('monitor'), cisaSelector: `kuik-test/monitor=${selector}` },
      kube,
      createLogger('volumes-monitor', 'silent'),
      { client },
    );
    const statuses = await eventually(
      'every image probed',
      async () => {
        await runTick(deps);
        const o = await kube.getKuik<ClusterImageSetAvailability>({
          kind: 'ClusterImageSetAvailability',
          name: cisa,
        });
        const images = o.status?.images ?? [];
        return images.length > 0 && images.every((i) => i.status !== 'Scheduled')
          ? Object.fromEntries(images.map((i) => [i.image, [i.status, i.original]]))
          : undefined;
      },
      120_000,
    );
    assert.deepEqual(statuses, {
      [app.ref]: ['Available', true],
      [data.ref]: ['Unreachable', true],
      [model.ref]: ['Unreachable', true],
      [mirrored(data.ref)]: ['Available', false],
      [mirrored(model.ref)]: ['Available', false],
    });
  } finally {
    await client.close();
    await kubectl(['delete', 'cisa', cisa, '--wait=false']);
  }
});

test('kuik explain shows each image volume, its alternatives and where it goes', async () => {
  const h = harness();
  const config = join(h.runDir, `${ism}-config.yaml`);
  await writeFile(config, 'routing: {activeCheck: {timeout: 20s}}\n');
  const out = await run(
    process.execPath,
    [join(h.repoRoot, 'scripts/kuik.ts'), 'explain', '-n', ns, 'second', '--config', config],
    { env: { KUBECONFIG: h.kubeconfig, NODE_EXTRA_CA_CERTS: h.pki.caCert } },
  );
  assert.ok(out.includes(`image volume model: ${model.ref}`), out);
  assert.ok(out.includes(`→ ${mirrored(model.ref)}   (OnFailure, from ImageSetMirror/${ism})`), out);
  assert.ok(out.includes(`image volume data: ${data.ref}`), out);
  assert.ok(out.includes(`2. ${mirrored(data.ref)}  [ImageSetMirror/${ism}]  chosen`), out);
  const wide = await run(
    process.execPath,
    [join(h.repoRoot, 'scripts/kuik.ts'), 'explain', '-n', ns, 'second', '--config', config, '-o', 'wide'],
    { env: { KUBECONFIG: h.kubeconfig, NODE_EXTRA_CA_CERTS: h.pki.caCert } },
  );
  assert.match(wide, /volume:model\s/);
});
