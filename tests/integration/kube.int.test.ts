// shared/kube against the real kube-apiserver: the watch cache follows changes, relists on its
// timer, and concurrent status writers never lose each other's updates (kuik's merge patches did).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import type { ImageSetMirror } from '#shared/crd/types.ts';
import { Kube } from '#shared/kube/client.ts';
import { WatchCache } from '#shared/kube/watch-cache.ts';
import { createLogger } from '#shared/log.ts';
import { kubeConfig } from '../harness/env.ts';
import { kubectl, namespace, uniq } from '../harness/fixtures.ts';

const log = createLogger('test', 'silent');
const ism = (name: string, ns: string) =>
  JSON.stringify({
    apiVersion: 'kuik.enix.io/v1alpha1',
    kind: 'ImageSetMirror',
    metadata: { name, namespace: ns },
    spec: { mirrors: [{ registry: 'm.example.com' }] },
  });

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('the watch cache lists, then follows creates, updates and deletes; and relists on its timer', async (t) => {
  const ns = await namespace('watch');
  await kubectl(['apply', '-f', '-'], ism('before', ns));
  const cache = new WatchCache<ImageSetMirror>({
    kc: kubeConfig(),
    apiVersion: 'kuik.enix.io/v1alpha1',
    kind: 'ImageSetMirror',
    path: '/apis/kuik.enix.io/v1alpha1/imagesetmirrors',
    log,
    relistMs: 500,
  });
  await cache.start();
  t.after(() => cache.stop());
  assert.ok(cache.synced);
  assert.ok(cache.get(ns, 'before'));
  await kubectl(['apply', '-f', '-'], ism('after', ns));
  await until('add', () => cache.get(ns, 'after') !== undefined);
  await kubectl(['patch', 'ism', 'after', '-n', ns, '--type=merge', '-p', '{"spec":{"priority":-3}}']);
  await until('update', () => cache.get(ns, 'after')?.spec.priority === -3);
  await kubectl(['delete', 'ism', 'before', '-n', ns]);
  await until('delete', () => cache.get(ns, 'before') === undefined);
  const relists = cache.relists;
  await until('a timed relist', () => cache.relists > relists + 1, 5000);
  assert.deepEqual(
    cache.list(ns).map((o) => o.metadata.name),
    ['after'],
  );
});

/** An ImageSetMirror in a namespace of its own, with a client of its own (nothing cached). */
async function freshMirrorSet(prefix: string) {
  const ns = await namespace(prefix);
  const name = uniq('ism');
  await kubectl(['apply', '-f', '-'], ism(name, ns));
  return { kube: new Kube(kubeConfig()), ref: { kind: 'ImageSetMirror' as const, name, namespace: ns } };
}

test('concurrent status writers both land: resourceVersion precondition and retry on conflict', async () => {
  const { kube, ref } = await freshMirrorSet('status');
  const add = (image: string) =>
    kube.updateStatus<ImageSetMirror>(ref, (o) => {
      o.status = { matchingImages: [...(o.status?.matchingImages ?? []), { image, mirrors: [] }] };
      return true;
    });
  await Promise.all(Array.from({ length: 8 }, (_, i) => add(`docker.io/library/img${i}:1`)));
  const stored = await kube.getKuik<ImageSetMirror>(ref);
  assert.equal(stored.status?.matchingImages?.length, 8);
});

test('updateStatus from an object already read: no GET when it is current; a stale one is refused and redone from a fresh read', async () => {
  const { kube, ref } = await freshMirrorSet('status-from');
  const add = (image: string) => (o: ImageSetMirror) => {
    o.status = { matchingImages: [...(o.status?.matchingImages ?? []), { image, mirrors: [] }] };
    return true;
  };
  const read = await kube.getKuik<ImageSetMirror>(ref);
  let gets = 0;
  const getKuik = kube.getKuik.bind(kube);
  kube.getKuik = async <T>(r: typeof ref) => {
    gets++;
    return await getKuik<T>(r);
  };
  await kube.updateStatus<ImageSetMirror>(ref, add('docker.io/library/a:1'), read);
  assert.equal(gets, 0, 'current object: written without a GET');
  // `read` is stale now (the write above changed the resourceVersion).
  await kube.updateStatus<ImageSetMirror>(ref, add('docker.io/library/b:1'), read);
  assert.equal(gets, 1, 'stale object: one 409, one GET');
  const stored = await getKuik<ImageSetMirror>(ref);
  assert.deepEqual(
    stored.status?.matchingImages?.map((m) => m.image),
    ['docker.io/library/a:1', 'docker.io/library/b:1'],
  );
  assert.equal(read.status, undefined, 'the object passed in is not changed');
});

test('updateObject adds a finalizer and tolerates a deleted object', async () => {
  const { kube, ref } = await freshMirrorSet('fin');
  const withFinalizer = await kube.updateObject<ImageSetMirror>(ref, (o) => {
    o.metadata.finalizers = [...(o.metadata.finalizers ?? []), 'kuik.enix.io/mirror-cleanup'];
    return true;
  });
  assert.deepEqual(withFinalizer?.metadata.finalizers, ['kuik.enix.io/mirror-cleanup']);
  assert.equal(await kube.updateObject({ ...ref, name: 'does-not-exist' }, () => true), undefined);
});

test('a repeated event bumps the stored event’s series, across processes and under concurrency; another note is another event', async () => {
  const ns = await namespace('events');
  const name = uniq('ism');
  await kubectl(['apply', '-f', '-'], ism(name, ns));
  const a = new Kube(kubeConfig());
  const cr = await a.getKuik<ImageSetMirror>({ kind: 'ImageSetMirror', name, namespace: ns });
  const regarding = {
    apiVersion: 'kuik.enix.io/v1alpha1',
    kind: 'ImageSetMirror',
    name,
    namespace: ns,
    uid: cr.metadata.uid,
  };
  const warn = {
    type: 'Warning' as const,
    reason: 'InvalidFilter',
    action: 'Reconcile',
    note: 'filter is invalid: spec.filter.include[0].label: bad',
    controller: 'kuik.enix.io/reconcile',
  };
  const list = async () =>
    (await a.events.listNamespacedEvent({ namespace: ns, fieldSelector: `regarding.name=${name}` })).items;

  assert.equal(await a.recordEvent(regarding, warn), undefined);
  assert.equal(await a.recordEvent(regarding, warn), undefined);
  // A fresh process (a function scaled from zero) finds the stored event and adds to it.
  assert.equal(await new Kube(kubeConfig()).recordEvent(regarding, warn), undefined);
  let events = await list();
  assert.equal(events.length, 1);
  assert.equal(events[0]?.series?.count, 3);
  assert.ok(events[0]?.series?.lastObservedTime);

  // Concurrent repeats, from one process and from another, lose no count.
  const b = new Kube(kubeConfig());
  const errors = await Promise.all([
    ...Array.from({ length: 4 }, () => a.recordEvent(regarding, warn)),
    ...Array.from({ length: 4 }, () => b.recordEvent(regarding, warn)),
  ]);
  assert.deepEqual(errors, Array(8).fill(undefined));
  events = await list();
  assert.equal(events.length, 1);
  assert.equal(events[0]?.series?.count, 11);

  assert.equal(await a.recordEvent(regarding, { ...warn, note: 'filter is invalid: other' }), undefined);
  events = await list();
  assert.equal(events.length, 2);
});

test('addToEventSeries: repeats counted in memory land in one write, a known event is patched without a list, a stale one is re-read', async () => {
  const ns = await namespace('series-add');
  const regarding = { apiVersion: 'v1', kind: 'ConfigMap', name: 'cm', namespace: ns, uid: 'u-1' };
  const facts = {
    type: 'Normal' as const,
    reason: 'ImageRerouted',
    action: 'Route',
    note: 'container app: a → b',
    controller: 'kuik.enix.io/router',
  };
  const a = new Kube(kubeConfig());
  const first = await a.addToEventSeries(regarding, facts, 5);
  assert.equal(first.count, 5);
  const second = await a.addToEventSeries(regarding, facts, 3, first);
  assert.equal(second.count, 8);
  // Another process, knowing nothing, finds the stored event and adds to it.
  const third = await new Kube(kubeConfig()).addToEventSeries(regarding, facts, 2);
  assert.equal(third.count, 10);
  // `second` is stale now (409 on its resourceVersion): read again, nothing lost.
  const fourth = await a.addToEventSeries(regarding, facts, 1, second);
  assert.equal(fourth.count, 11);
  const events = await a.events.listNamespacedEvent({ namespace: ns, fieldSelector: 'regarding.name=cm' });
  assert.equal(events.items.length, 1);
  assert.equal(events.items[0]?.series?.count, 11);
  assert.equal(events.items[0]?.regarding?.uid, 'u-1');
});

test('with a role from before series (events create only), a repeat is still recorded, as a new event', async () => {
  const ns = await namespace('events-old-role');
  await kubectl(['create', 'serviceaccount', 'old', '-n', ns]);
  await kubectl([
    'create',
    'role',
    'events-create',
    '-n',
    ns,
    '--verb=create',
    '--resource=events.events.k8s.io',
  ]);
  await kubectl([
    'create',
    'rolebinding',
    'old',
    '-n',
    ns,
    '--role=events-create',
    `--serviceaccount=${ns}:old`,
  ]);
  const token = (await kubectl(['create', 'token', 'old', '-n', ns])).trim();
  const cluster = kubeConfig().getCurrentCluster();
  assert.ok(cluster);
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'old', token }],
    contexts: [{ name: 'old', cluster: cluster.name, user: 'old' }],
    currentContext: 'old',
  });
  const limited = new Kube(kc);
  const regarding = { apiVersion: 'v1', kind: 'ConfigMap', name: 'cm', namespace: ns };
  const facts = {
    type: 'Normal' as const,
    reason: 'Test',
    action: 'Test',
    note: 'the same note',
    controller: 'kuik.enix.io/test',
  };
  assert.equal(await limited.recordEvent(regarding, facts), undefined);
  assert.equal(await limited.recordEvent(regarding, facts), undefined);
  const admin = new Kube(kubeConfig());
  const events = await admin.events.listNamespacedEvent({
    namespace: ns,
    fieldSelector: 'regarding.name=cm',
  });
  assert.equal(events.items.length, 2);
  assert.ok(events.items.every((e) => e.series === undefined));
});
