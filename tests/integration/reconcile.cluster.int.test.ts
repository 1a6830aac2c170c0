// reconcile end to end: Knative's own apiserver_receive_adapter watches the real kube-apiserver and
// delivers CloudEvents to the reconcile function (in this process, on a real socket); copy requests
// go to a CloudEvent sink standing in for the copy function.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sendCloudEvent } from '#shared/cloudevents.ts';
import type { ClusterImageSetMirror, ImageSetMirror } from '#shared/crd/types.ts';
import { listen, type Serving } from '#shared/http/serve.ts';
import { Kube } from '#shared/kube/client.ts';
import { createLogger } from '#shared/log.ts';
import { createRegistry } from '#shared/metrics.ts';
import { createReconcileMetrics } from '../../functions/reconcile/metrics.ts';
import type { CopyRequest, ReconcileDeps } from '../../functions/reconcile/mirror-set.ts';
import { createReconcileApp } from '../../functions/reconcile/server.ts';
import { kubeConfig } from '../harness/env.ts';
import {
  apply,
  eventually,
  imageSetMirror,
  kubectl,
  namespace,
  uniq,
  waitUntilReconcileReceives,
} from '../harness/fixtures.ts';
import { type Adapter, RECONCILE_SOURCE, startApiServerSourceAdapter } from '../harness/knative.ts';

const kube = new Kube(kubeConfig());
const copies: CopyRequest[] = [];
let server: Serving;
let adapter: Adapter;
let ns: string;

const deps: ReconcileDeps = {
  kube,
  log: createLogger('reconcile', process.env['LOG_LEVEL'] ?? 'silent'),
  skip: () => false,
  platforms: [{ architecture: 'amd64' }],
  requestCopy: async (req) => void copies.push(req),
  deleteImage: async () => 'absent',
  warn: async () => {},
  now: Date.now,
};

before(async () => {
  ns = await namespace('reconcile');
  const registry = createRegistry('reconcile');
  server = await listen(createReconcileApp(deps, registry, createReconcileMetrics(registry)), {
    port: 0,
    host: '127.0.0.1',
  });
  adapter = await startApiServerSourceAdapter({
    sink: `http://127.0.0.1:${server.port}/`,
    resources: RECONCILE_SOURCE,
  });
  await waitUntilReconcileReceives(ns);
});

after(async () => {
  await adapter?.stop();
  await server?.close();
});

test('an ImageSetMirror and a Pod: status fills, a copy is requested, the pod going away marks it unused', async () => {
  const name = uniq('ism');
  await imageSetMirror(ns, name, {
    filter: { include: [{ image: 'docker\\.io/library/nginx:.*' }] },
    mirrors: [{ registry: 'mirror.example.com', path: 'cache', credentialSecret: { name: 'push' } }],
  });
  const ref = { kind: 'ImageSetMirror' as const, name, namespace: ns };
  await kubectl([
    'run',
    'web',
    '-n',
    ns,
    '--image=nginx:1.27',
    '--restart=Never',
    '--overrides',
    JSON.stringify({ spec: { imagePullSecrets: [{ name: 'pull' }] } }),
  ]);
  const cr = await eventually('status', async () => {
    const o = await kube.getKuik<ImageSetMirror>(ref);
    return o.status?.matchingImages?.length ? o : undefined;
  });
  assert.deepEqual(cr.metadata.finalizers, ['kuik.enix.io/mirror-cleanup']);
  assert.deepEqual(cr.status?.matchingImages, [
    {
      image: 'docker.io/library/nginx:1.27',
      mirrors: [{ image: 'mirror.example.com/cache/library/nginx:1.27' }],
    },
  ]);
  const req = await eventually('copy request', async () => copies.find((c) => c.owner.name === name));
  assert.deepEqual(req, {
    owner: { kind: 'ImageSetMirror', name, namespace: ns, uid: cr.metadata.uid },
    source: 'docker.io/library/nginx:1.27',
    destination: 'mirror.example.com/cache/library/nginx:1.27',
    sourcePullSecrets: { namespace: ns, names: ['pull'] },
    destinationSecret: { namespace: ns, name: 'push' },
    platforms: [{ architecture: 'amd64' }],
  });

  await kubectl(['delete', 'pod', 'web', '-n', ns, '--wait=false', '--grace-period=0', '--force']);
  const unused = await eventually('unusedSince', async () => {
    const o = await kube.getKuik<ImageSetMirror>(ref);
    return o.status?.matchingImages?.[0]?.unusedSince;
  });
  assert.match(unused, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

  // Deleting the CR: nothing was mirrored, so the finalizer goes and the CR with it.
  await kubectl(['delete', 'ism', name, '-n', ns, '--wait=false']);
  await eventually('CR gone', async () =>
    (await kubectl(['get', 'ism', '-n', ns, '-o', 'name'])).includes(name) ? undefined : true,
  );
});

test('a ClusterImageSetMirror gets both finalizers; deleting it deletes its secret copies everywhere', async () => {
  const name = uniq('cism');
  await apply({
    apiVersion: 'kuik.enix.io/v1alpha1',
    kind: 'ClusterImageSetMirror',
    metadata: { name },
    spec: { mirrors: [] },
  });
  const cism = await eventually('finalizers', async () => {
    const o = await kube.getKuik<ClusterImageSetMirror>({ kind: 'ClusterImageSetMirror', name });
    return (o.metadata.finalizers ?? []).length === 2 ? o : undefined;
  });
  assert.deepEqual([...(cism.metadata.finalizers ?? [])].sort(), [
    'kuik.enix.io/mirror-cleanup',
    'kuik.enix.io/secret-cleanup',
  ]);
  const other = await namespace('copies');
  for (const where of [ns, other]) {
    await kubectl(['create', 'secret', 'generic', 'kuik-copy', '-n', where, '--from-literal=x=y']);
    await kubectl([
      'label',
      'secret',
      'kuik-copy',
      '-n',
      where,
      `kuik.enix.io/owner-uid=${cism.metadata.uid}`,
    ]);
  }
  await kubectl(['delete', 'cism', name, '--wait=false']);
  await eventually('copies deleted', async () =>
    (
      await kubectl([
        'get',
        'secrets',
        '-A',
        '-l',
        `kuik.enix.io/owner-uid=${cism.metadata.uid}`,
        '-o',
        'name',
      ])
    ).trim() === ''
      ? true
      : undefined,
  );
  await eventually('CR gone', async () =>
    (await kubectl(['get', 'cism', '-o', 'name'])).includes(name) ? undefined : true,
  );
});

test('a malformed event is refused with 400 and its reason, and writes nothing', async () => {
  const url = `http://127.0.0.1:${server.port}/`;
  await assert.rejects(
    sendCloudEvent(url, {
      id: 'x',
      type: 'dev.knative.apiserver.resource.add',
      source: '/t',
      data: { kind: 'Pod' },
    }),
    /answered 400/,
  );
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"hello":1}',
  });
  assert.equal(res.status, 400);
  assert.match(((await res.json()) as { error: string }).error, /CloudEvent/);
});

test('duplicated and replayed events converge to the same status', async () => {
  const name = uniq('dup');
  await imageSetMirror(ns, name, {
    filter: { include: [{ image: '.*redis.*' }] },
    mirrors: [{ registry: 'mirror.example.com' }],
  });
  await kubectl(['run', 'cache', '-n', ns, '--image=redis:7', '--restart=Never']);
  const ref = { kind: 'ImageSetMirror' as const, name, namespace: ns };
  const first = await eventually('status', async () => {
    const o = await kube.getKuik<ImageSetMirror>(ref);
    return o.status?.matchingImages?.length ? o : undefined;
  });
  // Replay the same (stale) event five times, as a retrying source would.
  const url = `http://127.0.0.1:${server.port}/`;
  const stale = {
    apiVersion: 'kuik.enix.io/v1alpha1',
    kind: 'ImageSetMirror',
    metadata: { name, namespace: ns },
  };
  for (let i = 0; i < 5; i++)
    await sendCloudEvent(url, {
      id: 'same-id',
      type: 'dev.knative.apiserver.resource.update',
      source: '/t',
      data: stale,
    });
  const again = await kube.getKuik<ImageSetMirror>(ref);
  assert.deepEqual(again.status, first.status);
});
