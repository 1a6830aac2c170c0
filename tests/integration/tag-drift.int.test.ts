// Tag drift (docs/tag-drift.md) end to end on real parts: reconcile and copy as processes fed by
// Knative's apiserver_receive_adapter mirror `v1` from one real registry into another; a pod's
// status says its container runs v1's first digest (written through the status subresource, as a
// kubelet would: none runs here); `v1` is pushed again upstream with other content; the monitor,
// in this process, probes the tag and finds the drift, then does what `monitoring.tagDrift.action`
// says: report, re-mirror the tag, or pin the mirror to the running digest.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { resolveConfig, type TagDriftAction } from '#shared/config/config.ts';
import type { ClusterImageSetAvailability, ImageSetMirror, MonitoredImage } from '#shared/crd/types.ts';
import { Kube } from '#shared/kube/client.ts';
import { createLogger } from '#shared/log.ts';
import { createRegistry } from '#shared/metrics.ts';
import { RegistryClient } from '#shared/registry/client.ts';
import { monitorDeps } from '../../functions/monitor/main.ts';
import { createMonitorMetrics } from '../../functions/monitor/metrics.ts';
import { runTick } from '../../functions/monitor/tick.ts';
import { harness, kubeConfig, type RegistryInfo } from '../harness/env.ts';
import {
  apply,
  eventually,
  imageSetMirror,
  kubectl,
  namespace,
  patchStatus,
  pod,
  registrySecret,
  samples,
  seed,
  uniq,
} from '../harness/fixtures.ts';
import type { RunningFunction } from '../harness/functions.ts';
import type { Adapter } from '../harness/knative.ts';
import { startMirroringPipeline } from '../harness/pipeline.ts';

const kube = new Kube(kubeConfig());
const log = createLogger('tag-drift-test', process.env['LOG_LEVEL'] ?? 'silent');
const LABEL = 'kuik-test/tag-drift';
let copy: RunningFunction;
let reconcile: RunningFunction;
let adapter: Adapter;
let ns: string;
let upstream: RegistryInfo;
let mirror: RegistryInfo;
let client: RegistryClient;

before(async () => {
  ({ tls: upstream, token: mirror } = harness().registries);
  ns = await namespace('drift');
  await registrySecret(ns, 'push', mirror);
  await registrySecret(ns, 'pull', upstream);
  ({ copy, reconcile, adapter } = await startMirroringPipeline(ns));
  client = new RegistryClient({ defaultHost: { ca: readFileSync(harness().pki.caCert) } });
});

after(async () => {
  await adapter?.stop();
  await reconcile?.stop();
  await copy?.stop();
  await client?.close();
});

const metricsRegistry = createRegistry('monitor');
const metrics = createMonitorMetrics(metricsRegistry);

/** One monitor tick, in this process, with `monitoring.tagDrift.action: action`. */
async function tick(selector: string, action: TagDriftAction) {
  const r = resolveConfig({
    monitoring: {
      tickBudget: '30s',
      minTickInterval: '0s',
      registries: { items: { [upstream.host]: { interval: '1s', maxPerInterval: 100, timeout: '20s' } } },
      tagDrift: { action },
    },
  });
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  const deps = monitorDeps(
    r.value.config,
    { port: 0, instance: uniq('monitor'), cisaSelector: `${LABEL}=${selector}` },
    kube,
    log,
    { client },
  );
  const s = await runTick(deps, metrics);
  assert.deepEqual(s.errors, []);
  return s;
}

async function driftOf(cisa: string, image: string): Promise<MonitoredImage['drift']> {
  const o = await kube.getKuik<ClusterImageSetAvailability>({
    kind: 'ClusterImageSetAvailability',
    name: cisa,
  });
  return o.status?.images?.find((i) => i.image === image)?.drift;
}

async function driftEvents(cisa: string): Promise<string[]> {
  const list = JSON.parse(await kubectl(['get', 'events.events.k8s.io', '-A', '-o', 'json'])) as {
    items: { reason?: string; note?: string; regarding?: { name?: string } }[];
  };
  return list.items
    .filter((e) => e.reason === 'TagDrift' && e.regarding?.name === cisa)
    .map((e) => e.note ?? '');
}

test('a tag pushed again upstream is reported as drift against the running digest and the mirror; remirror copies the new digest, pin copies back the running one', async () => {
  const repo = uniq('drift/app');
  const first = await seed(upstream, repo, 'v1');
  const image = first.ref;
  const ism = uniq('ism');
  await imageSetMirror(ns, ism, {
    filter: {
      include: [{ image: `${upstream.host.replace(/\./g, '\\.')}/${repo.replace('/', '\\/')}:.*` }],
    },
    mirrors: [{ registry: mirror.host, path: 'mirror', credentialSecret: { name: 'push' } }],
  });
  const ismRef = { kind: 'ImageSetMirror' as const, name: ism, namespace: ns };
  const mirrorEntry = async () =>
    (await kube.getKuik<ImageSetMirror>(ismRef)).status?.matchingImages?.[0]?.mirrors?.[0];
  const app = await pod(ns, [image], ['pull']);
  const mirrored = await eventually('first copy', async () => {
    const m = await mirrorEntry();
    return m?.mirroredAt ? m : undefined;
  });
  assert.equal(mirrored.sourceDigest, first.digest);

  // The kubelet pulled v1 and runs it.
  await patchStatus(
    'pod',
    app,
    {
      status: {
        phase: 'Running',
        containerStatuses: [
          {
            name: 'c0',
            image,
            imageID: `${upstream.host}/${repo}@${first.digest}`,
            ready: true,
            restartCount: 0,
            state: { running: { startedAt: new Date().toISOString() } },
          },
        ],
      },
    },
    ns,
  );
  const selector = uniq('sel');
  const cisa = uniq('cisa');
  await apply({
    apiVersion: 'kuik.enix.io/v1alpha1',
    kind: 'ClusterImageSetAvailability',
    metadata: { name: cisa, labels: { [LABEL]: selector } },
    spec: { filter: { include: [{ namespace: ns }] } },
  });

  // No drift while the tag, the mirror and the container agree.
  assert.equal((await tick(selector, 'report')).probed, 1);
  assert.equal(await driftOf(cisa, image), undefined);
  assert.deepEqual(await driftEvents(cisa), []);

  // v1 pushed again upstream, other bytes.
  const second = await seed(upstream, repo, 'v1', { fresh: true });
  assert.notEqual(second.digest, first.digest);

  // report: status, one Event, the metric; the mirror is left alone.
  await tick(selector, 'report');
  const reported = await driftOf(cisa, image);
  assert.equal(reported?.upstream, second.digest);
  assert.deepEqual(reported?.running, [{ digest: first.digest, containers: 1 }]);
  assert.deepEqual(reported?.mirrors, [{ image: mirrored.image, digest: first.digest }]);
  assert.equal(reported?.action, 'Reported');
  const events = await eventually('TagDrift event', async () => {
    const e = await driftEvents(cisa);
    return e.length > 0 ? e : undefined;
  });
  assert.match(events[0] ?? '', /reported only/);
  const counted = samples(await metricsRegistry.metrics(), 'kube_image_keeper_monitor_tag_drifts_total');
  assert.deepEqual(
    counted.map((s) => [s.labels['registry'], s.labels['action'], s.value]),
    [[upstream.host, 'Reported', 1]],
  );
  // The same drift again: no second Event, detectedAt kept.
  await tick(selector, 'report');
  assert.equal((await driftOf(cisa, image))?.detectedAt, reported?.detectedAt);
  assert.equal((await driftEvents(cisa)).length, 1);
  assert.equal((await mirrorEntry())?.sourceDigest, first.digest);

  // remirror: the mirror is copied again from the tag, and holds the new digest.
  await tick(selector, 'remirror');
  assert.equal((await driftOf(cisa, image))?.action, 'Remirrored');
  await eventually('mirror copied again from the tag', async () => {
    const m = await mirrorEntry();
    return m?.mirroredAt && m.sourceDigest === second.digest ? m : undefined;
  });

  // pin: the mirror now differs from what the container runs; it is pinned to the running digest
  // and that digest copied back under the tag.
  await tick(selector, 'pin');
  assert.equal((await driftOf(cisa, image))?.action, 'Pinned');
  const pinned = await eventually('mirror pinned and copied back', async () => {
    const m = await mirrorEntry();
    return m?.mirroredAt && m.sourceDigest === first.digest ? m : undefined;
  });
  assert.equal(pinned.pinnedDigest, first.digest);
  // Pinned and in agreement with the container: only the upstream tag differs now.
  await tick(selector, 'pin');
  const after = await driftOf(cisa, image);
  assert.deepEqual(after?.mirrors, [{ image: mirrored.image, digest: first.digest }]);
  assert.equal(after?.upstream, second.digest);
});
