// Status at a glance, on the real kube-apiserver: the printer columns of the five kinds render real
// values (`kubectl get`, whose tables the API server builds from the CRDs' columns), and
// `kubectl wait --for=condition=Ready` works on each kind, written by the function that owns that
// kind's status: reconcile (mirror sets, RIS/CRIS), the copy function (mirror sets, after a copy),
// the monitor (CISA). Then a copy's progress, held mid-upload: in status, in the log and in the
// gauges, and gone from status once the copy completes.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { parseConfig, resolveConfig } from '#shared/config/config.ts';
import type { ImageSetMirror } from '#shared/crd/types.ts';
import { listen, type Serving } from '#shared/http/serve.ts';
import { Kube, type KuikRef } from '#shared/kube/client.ts';
import { createLogger } from '#shared/log.ts';
import { createRegistry } from '#shared/metrics.ts';
import { RegistryClient } from '#shared/registry/client.ts';
import { RegistryTransport } from '#shared/registry/transport.ts';
import { COPY_TRANSPORT } from '../../functions/copy/engine/copy.ts';
import { type CopyDeps, DEFAULT_SETTINGS } from '../../functions/copy/handle.ts';
import { createCopyMetrics } from '../../functions/copy/metrics.ts';
import { createCopyApp } from '../../functions/copy/server.ts';
import { monitorDeps } from '../../functions/monitor/main.ts';
import { createMonitorMetrics } from '../../functions/monitor/metrics.ts';
import { createMonitorApp } from '../../functions/monitor/server.ts';
import { reconcileDeps } from '../../functions/reconcile/main.ts';
import { reconcileMirrorSet } from '../../functions/reconcile/mirror-set.ts';
import { reconcileReplicated } from '../../functions/reconcile/replicated.ts';
import { copyEventPost, mirrorSetToCopy } from '../harness/copy-event.ts';
import { harness, kubeConfig, type RegistryInfo } from '../harness/env.ts';
import type { FaultProxy } from '../harness/fault-proxy.ts';
import {
  apply,
  eventually,
  imageSetMirror,
  kubectl,
  namespace,
  pod,
  proxyInFrontOf,
  registrySecret,
  samples,
  seed,
  uniq,
} from '../harness/fixtures.ts';
import { imageManifest } from '../harness/registry.ts';

const MiB = 1024 * 1024;
const kube = new Kube(kubeConfig());
const log = createLogger('status-test', process.env['LOG_LEVEL'] ?? 'silent');
let ca: string;
let tls: RegistryInfo;
let token: RegistryInfo;
let ns: string;
let client: RegistryClient;
let transport: RegistryTransport;
let copyServer: Serving;
const cleanups: (() => Promise<unknown>)[] = [];

before(async () => {
  ({ tls, token } = harness().registries);
  ca = await readFile(harness().pki.caCert, 'utf8');
  ns = await namespace('status');
  client = new RegistryClient({ defaultHost: { ca } });
  transport = new RegistryTransport({ ...COPY_TRANSPORT, defaultHost: { ca } });
  const registry = createRegistry('copy');
  const deps: CopyDeps = { kube, transport, log, now: Date.now, settings: DEFAULT_SETTINGS };
  copyServer = await listen(createCopyApp(deps, registry, createCopyMetrics(registry)), {
    port: 0,
    host: '127.0.0.1',
  });
  await registrySecret(ns, 'pull', tls);
  await registrySecret(ns, 'push', token);
});
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  await copyServer?.close();
  await transport?.close();
  await client?.close();
});

/** Reconcile's own dependencies, sending copy requests to the copy function of this file. */
function reconcile() {
  const cfg = parseConfig('mirroring:\n  platforms: [{architecture: amd64}]\n');
  assert.ok(cfg.ok);
  return reconcileDeps(
    cfg.value.config,
    { COPY_SINK: `http://127.0.0.1:${copyServer.port}/` },
    kubeConfig(),
    log,
    client,
  );
}

/** `kubectl get` of one object as the API server's table: column name → cell. */
async function columns(resource: string, name: string, opts: { ns?: string; wide?: boolean } = {}) {
  const out = await kubectl([
    'get',
    resource,
    name,
    ...(opts.ns ? ['-n', opts.ns] : []),
    ...(opts.wide ? ['-o', 'wide'] : []),
  ]);
  const [header = '', row = ''] = out.trimEnd().split('\n');
  // Cells are left-aligned under their header: cut the row where each header starts.
  const starts = [...header.matchAll(/\S+/g)].map((m) => ({ name: m[0], at: m.index ?? 0 }));
  return Object.fromEntries(
    starts.map((s, i) => [s.name, row.slice(s.at, starts[i + 1]?.at ?? row.length).trim()]),
  );
}

/** `kubectl wait` started now (before the status it waits for is written), settled later. */
function wait(resource: string, condition: string, opts: { ns?: string } = {}): Promise<string> {
  const p = kubectl([
    'wait',
    `--for=condition=${condition}`,
    resource,
    ...(opts.ns ? ['-n', opts.ns] : []),
    '--timeout=240s',
  ]);
  p.catch(() => {}); // awaited by the test; no unhandled rejection meanwhile
  return p;
}

/** A pod running a fresh image `repo`:v1 and an ImageSetMirror of exactly that image to `mirror`; its name. */
async function podAndMirrorSet(repo: string, mirror: object): Promise<string> {
  const src = await seed(tls, uniq(repo), 'v1', { archs: ['amd64'] });
  await pod(ns, [src.ref], ['pull']);
  const name = uniq('ism');
  await imageSetMirror(ns, name, {
    filter: { include: [{ image: `${src.ref.replace(/[.]/g, '\\.')}` }] },
    mirrors: [mirror],
  });
  return name;
}

describe('printer columns and kubectl wait --for=condition=Ready', () => {
  test('ImageSetMirror: Ready once the copy lands, with Images/Mirrored/Pending/Failing columns', async () => {
    const name = await podAndMirrorSet('status/ok', {
      registry: token.host,
      path: 'mirror-ok',
      credentialSecret: { name: 'push' },
    });
    const ready = wait(`ism/${name}`, 'Ready', { ns });
    const ref: KuikRef = { kind: 'ImageSetMirror', name, namespace: ns };
    // Reconcile writes the entry (Ready Unknown: a copy is due) and requests the copy; the copy
    // function answers once it has written mirroredAt (and Ready True).
    const r = await reconcileMirrorSet(ref, reconcile());
    assert.deepEqual(r.errors, []);
    assert.equal(r.copiesRequested, 1);
    assert.match(await ready, /condition met/);
    const cr = await kube.getKuik<ImageSetMirror>(ref);
    const cond = cr.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(cond?.observedGeneration, cr.metadata.generation);
    const cells = await columns('ism', name, { ns, wide: true });
    assert.deepEqual(
      { ...cells, AGE: cells['AGE'] ? 'set' : '' },
      {
        NAME: name,
        IMAGES: '1',
        MIRRORED: '1',
        PENDING: '0',
        FAILING: '0',
        READY: 'True',
        AGE: 'set',
        REASON: 'Mirrored',
        MESSAGE: '1 mirror of 1 image in use in place',
      },
    );
  });

  test('ImageSetMirror: Ready=False with MirrorFailed when the copy fails', async () => {
    // No credential: the token registry refuses the push.
    const name = await podAndMirrorSet('status/fail', { registry: token.host, path: 'mirror-fail' });
    const failed = wait(`ism/${name}`, 'Ready=false', { ns });
    await reconcileMirrorSet({ kind: 'ImageSetMirror', name, namespace: ns }, reconcile());
    assert.match(await failed, /condition met/);
    const cells = await columns('ism', name, { ns, wide: true });
    assert.equal(cells['READY'], 'False');
    assert.equal(cells['FAILING'], '1');
    assert.equal(cells['MIRRORED'], '0');
    assert.equal(cells['REASON'], 'MirrorFailed');
    assert.match(cells['MESSAGE'] ?? '', /^1 of 1 mirror failed: /);
  });

  test('ClusterImageSetMirror: Ready=False InvalidFilter, then Ready once the filter is fixed (new generation)', async () => {
    const name = uniq('cism');
    const ref: KuikRef = { kind: 'ClusterImageSetMirror', name };
    const deps = reconcile();
    cleanups.push(async () => {
      await kubectl(['delete', 'cism', name, '--wait=false']);
      await reconcileMirrorSet(ref, deps); // lets the finalizer go
    });
    await apply({
      apiVersion: 'kuik.enix.io/v1alpha1',
      kind: 'ClusterImageSetMirror',
      metadata: { name },
      spec: { filter: { include: [{ label: '===' }] }, mirrors: [{ registry: token.host, path: 'cism' }] },
    });
    const invalid = wait(`cism/${name}`, 'Ready=false');
    await reconcileMirrorSet(ref, deps);
    assert.match(await invalid, /condition met/);
    assert.equal((await columns('cism', name, { wide: true }))['REASON'], 'InvalidFilter');

    await kubectl([
      'patch',
      'cism',
      name,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { filter: { include: [{ image: `.*/${uniq('nothing')}/.*` }] } } }),
    ]);
    const ready = wait(`cism/${name}`, 'Ready');
    await reconcileMirrorSet(ref, deps);
    assert.match(await ready, /condition met/);
    const cr = await kube.getKuik<ImageSetMirror>(ref);
    assert.equal(cr.metadata.generation, 2);
    assert.equal(cr.status?.conditions?.[0]?.observedGeneration, 2);
    const cells = await columns('cism', name, { wide: true });
    assert.equal(cells['READY'], 'True');
    assert.equal(cells['IMAGES'], '0');
    assert.equal(cells['REASON'], 'NothingToMirror');
  });

  test('ReplicatedImageSet and ClusterReplicatedImageSet: Upstreams and Priority columns, Ready, InvalidFilter', async () => {
    const ris = uniq('ris');
    await apply({
      apiVersion: 'kuik.enix.io/v1alpha1',
      kind: 'ReplicatedImageSet',
      metadata: { name: ris, namespace: ns },
      spec: {
        priority: -5,
        upstreams: [
          { registry: 'quay.io', path: '/x', imageFilter: { include: ['/x/.+'] } },
          { registry: 'ghcr.io', path: '/x' },
        ],
      },
    });
    const ready = wait(`ris/${ris}`, 'Ready', { ns });
    assert.equal(
      await reconcileReplicated({ kind: 'ReplicatedImageSet', name: ris, namespace: ns }, kube, Date.now),
      'written',
    );
    assert.match(await ready, /condition met/);
    const cells = await columns('ris', ris, { ns, wide: true });
    assert.equal(cells['UPSTREAMS'], '2');
    assert.equal(cells['PRIORITY'], '-5');
    assert.equal(cells['READY'], 'True');
    assert.equal(cells['REASON'], 'Valid');

    const cris = uniq('cris');
    cleanups.push(() => kubectl(['delete', 'cris', cris, '--wait=false']));
    await apply({
      apiVersion: 'kuik.enix.io/v1alpha1',
      kind: 'ClusterReplicatedImageSet',
      metadata: { name: cris },
      // Label selectors are not checked at admission (docs/crds.md): the router skips this one.
      spec: { filter: { include: [{ label: '===' }] }, upstreams: [{ registry: 'quay.io', path: '/y' }] },
    });
    const invalid = wait(`cris/${cris}`, 'Ready=false');
    await reconcileReplicated({ kind: 'ClusterReplicatedImageSet', name: cris }, kube, Date.now);
    assert.match(await invalid, /condition met/);
    const c = await columns('cris', cris, { wide: true });
    assert.equal(c['UPSTREAMS'], '1');
    assert.equal(c['REASON'], 'InvalidFilter');
    // A second reconcile with nothing new writes nothing (no status churn for watchers).
    assert.equal(
      await reconcileReplicated({ kind: 'ClusterReplicatedImageSet', name: cris }, kube, Date.now),
      'unchanged',
    );
  });

  test('ClusterImageSetAvailability: Ready=False with ImagesUnavailable when an image in use is gone, Ready when all are there', async () => {
    const LABEL = 'kuik-test/status';
    const selector = uniq('sel');
    const r = resolveConfig({
      monitoring: {
        tickBudget: '30s',
        minTickInterval: '0s',
        registries: { items: { [tls.host]: { interval: '1s', maxPerInterval: 100, timeout: '20s' } } },
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
    const registry = createRegistry('monitor');
    const monitor = await listen(createMonitorApp(deps, registry, createMonitorMetrics(registry)), {
      port: 0,
      host: '127.0.0.1',
    });
    cleanups.push(() => monitor.close());
    const tick = async () => {
      const res = await fetch(`http://127.0.0.1:${monitor.port}/`, {
        method: 'POST',
        headers: { 'x-connector': 'cron-connector' },
        body: '',
      });
      assert.equal(res.status, 200);
    };

    const mon = await namespace('status-cisa');
    await registrySecret(mon, 'pull', tls);
    const present = await seed(tls, uniq('status/cisa'), 'v1', { archs: ['amd64'] });
    const missing = `${present.ref.slice(0, -':v1'.length)}:gone`;
    await pod(mon, [present.ref, missing], ['pull']);
    const cisa = uniq('cisa');
    cleanups.push(() => kubectl(['delete', 'cisa', cisa, '--wait=false']));
    await apply({
      apiVersion: 'kuik.enix.io/v1alpha1',
      kind: 'ClusterImageSetAvailability',
      metadata: { name: cisa, labels: { [LABEL]: selector } },
      spec: { filter: { include: [{ namespace: mon }] } },
    });
    const unavailable = wait(`cisa/${cisa}`, 'Ready=false');
    await eventually(
      'the monitor found the missing tag',
      async () => {
        await tick();
        const cells = await columns('cisa', cisa);
        return cells['UNAVAILABLE'] === '1' && cells['AVAILABLE'] === '1' ? true : undefined;
      },
      120_000,
    );
    assert.match(await unavailable, /condition met/);
    const cells = await columns('cisa', cisa, { wide: true });
    assert.equal(cells['IMAGES'], '2');
    assert.equal(cells['READY'], 'False');
    assert.equal(cells['REASON'], 'ImagesUnavailable');
    assert.equal(cells['MESSAGE'], `1 of 2 images in use unavailable: ${missing} (NotFound)`);
    assert.ok(cells['AGE']);

    // The pod with the missing tag replaced by one without: once the monitor sees the gone tag
    // unused, Ready flips to True.
    await kubectl(['delete', 'pods', '--all', '-n', mon, '--wait=false', '--grace-period=0', '--force']);
    await pod(mon, [present.ref], ['pull']);
    const ready = wait(`cisa/${cisa}`, 'Ready');
    await eventually(
      'Ready once only available images are in use',
      async () => {
        await tick();
        return (await columns('cisa', cisa))['READY'] === 'True' ? true : undefined;
      },
      120_000,
    );
    assert.match(await ready, /condition met/);
  });

  test('kubectl get ism,cism,ris,cris,cisa -A shows a READY column for every kind', async () => {
    const out = await kubectl(['get', 'ism,cism,ris,cris,cisa', '-A']);
    const headers = out.split('\n').filter((l) => /^(NAMESPACE\s+)?NAME\s/.test(l));
    assert.equal(headers.length, 5, out);
    for (const h of headers) assert.match(h, /\sREADY\s+AGE$/, h);
  });
});

describe('copy progress', () => {
  let mirror: FaultProxy;
  before(async () => {
    // The mirror registry as the CRs name it: a proxy in front of the token registry that can hold
    // an upload mid-way, so the copy is caught in the middle however fast the machine is.
    mirror = await proxyInFrontOf(token);
    await registrySecret(ns, 'push-proxy', token, mirror.host);
  });
  after(async () => {
    await mirror?.close();
  });

  test('a 16 MiB copy held mid-upload shows bytes done of total and a percentage in status, log and gauges; success clears it', async () => {
    const src = await seed(tls, uniq('status/big'), 'v1', { archs: ['amd64'], layerMb: 16, layers: 1 });
    const raw = await imageManifest(tls, src.ref);
    const total = raw.config.size + raw.layers.reduce((n, l) => n + l.size, 0);
    assert.ok(total > 16 * MiB, `${total}`);

    const { name, destination, req } = await mirrorSetToCopy({
      namespace: ns,
      source: src.ref,
      registry: mirror.host,
      path: 'progress',
      push: 'push-proxy',
    });
    const ref: KuikRef = { kind: 'ImageSetMirror', name, namespace: ns };

    // A copy function with 4 MiB chunks and a progress report every 200 ms, logging to memory.
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n'))
          if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const registry = createRegistry('copy');
    const metrics = createCopyMetrics(registry);
    // Wired as functions/copy/main.ts wires it.
    const app = createCopyApp(
      {
        kube,
        transport,
        log: createLogger('copy', 'info', sink),
        now: Date.now,
        settings: { ...DEFAULT_SETTINGS, chunkBytes: 4 * MiB, progressEveryMs: 200 },
        metrics,
      },
      registry,
      metrics,
    );
    // The second chunk of the layer waits until the test has seen the progress.
    let release = () => {};
    const hold = new Promise<void>((r) => {
      release = r;
    });
    // The config blob's PATCH and the layer's first chunk go by (in either order); the next one waits.
    mirror.fault({ method: 'PATCH', after: 2, times: 1, action: { hold } });

    const copying = Promise.resolve(app.request('/', copyEventPost(req)));
    try {
      const seen = await eventually(
        'progress in status',
        async () => {
          const m = (await kube.getKuik<ImageSetMirror>(ref)).status?.matchingImages?.[0]?.mirrors?.[0];
          return m?.progress && m.progress.bytesDone >= 4 * MiB ? m.progress : undefined;
        },
        120_000,
      );
      assert.equal(seen.bytesTotal, total);
      assert.ok(seen.percent > 0 && seen.percent < 100, JSON.stringify(seen));
      assert.equal(seen.percent, Math.floor((seen.bytesDone * 100) / total));
      assert.match(seen.updatedAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);

      const progressLines = lines.filter((l) => String(l['msg']).startsWith('copy progress:'));
      assert.ok(progressLines.length > 0);
      const last = progressLines.at(-1) as Record<string, unknown>;
      assert.equal(last['destination'], destination);
      assert.equal(last['bytes_total'], total);
      assert.match(String(last['msg']), /^copy progress: \d+\.\d MiB of \d+\.\d MiB \(\d+%\)$/);

      const text = await (await app.request('/metrics')).text();
      const done = samples(text, 'kube_image_keeper_copy_progress_done_bytes');
      const size = samples(text, 'kube_image_keeper_copy_progress_size_bytes');
      assert.deepEqual(size, [
        { labels: { function: 'copy', registry: mirror.host, image: destination }, value: total },
      ]);
      assert.equal(done.length, 1);
      assert.ok((done[0]?.value ?? 0) >= 4 * MiB && (done[0]?.value ?? 0) < total, JSON.stringify(done));
    } catch (err) {
      // Let the copy finish before failing, so nothing outlives the test.
      release();
      await copying.catch(() => undefined);
      throw err;
    }
    release();
    const res = await copying;
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(((await res.json()) as { outcome: string }).outcome, 'mirrored');
    const m = (await kube.getKuik<ImageSetMirror>(ref)).status?.matchingImages?.[0]?.mirrors?.[0];
    assert.ok(m?.mirroredAt);
    assert.equal(m?.progress, undefined);
    // The gauges only show copies in flight.
    const after = await (await app.request('/metrics')).text();
    assert.deepEqual(samples(after, 'kube_image_keeper_copy_progress_size_bytes'), []);
  });
});
