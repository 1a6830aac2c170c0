import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiException } from '@kubernetes/client-node';
import type { Kube, KuikRef } from '#shared/kube/client.ts';
import { createLogger } from '#shared/log.ts';
import type { ReconcileDeps } from './mirror-set.ts';
import { reconcileAll } from './server.ts';

test('the resync goes on past a CR whose reconcile throws, and reports it', async () => {
  const items = (names: string[]) => ({ items: names.map((name) => ({ metadata: { name } })) });
  const kube = {
    core: { listPodForAllNamespaces: async () => ({ items: [] }) },
    custom: {
      listClusterCustomObject: async ({ plural }: { plural: string }) =>
        plural === 'clusterimagesetmirrors' ? items(['broken', 'fine']) : items([]),
    },
    getKuik: async (ref: KuikRef) => {
      if (ref.name === 'broken') throw new Error('etcd timed out');
      throw new ApiException(404, 'not found', {}, {});
    },
  } as unknown as Kube;
  const deps = { kube, log: createLogger('t', 'silent'), now: Date.now } as unknown as ReconcileDeps;
  const summary = await reconcileAll(deps);
  assert.deepEqual(summary.failed.map((f) => `${f.ref.kind}/${f.ref.name}: ${f.error}`).sort(), [
    'ClusterImageSetMirror/broken: etcd timed out',
    'ClusterImageSetMirror/broken: etcd timed out',
  ]);
  assert.deepEqual(
    summary.mirrorSets.map((r) => `${r.ref.name} ${r.outcome}`),
    ['fine gone'],
  );
  assert.deepEqual(
    summary.secretOwners.map((r) => `${r.ref.name} ${r.outcome}`),
    ['fine gone'],
  );
});

test('the resync starts no CR after its deadline, reports what it did not reach, and starts at the offset', async () => {
  const names = ['a', 'b', 'c', 'd', 'e'];
  let clock = 0;
  const seen: string[] = [];
  const kube = {
    core: { listPodForAllNamespaces: async () => ({ items: [] }) },
    custom: {
      listClusterCustomObject: async ({ plural }: { plural: string }) => ({
        items: (plural === 'clusterimagesetmirrors' ? names : []).map((name) => ({ metadata: { name } })),
      }),
    },
    getKuik: async (ref: KuikRef) => {
      seen.push(`${ref.name}`);
      clock += 10; // each read takes 10 ms of the fake clock
      throw new ApiException(404, 'not found', {}, {});
    },
  } as unknown as Kube;
  const deps = { kube, log: createLogger('t', 'silent'), now: () => clock } as unknown as ReconcileDeps;
  // Secret owners (the five CISMs) first, one at a time: a at 0, b at 10, c at 20; none at 30.
  const summary = await reconcileAll(deps, undefined, { stopAt: 25, concurrency: 1, offset: 0 });
  assert.deepEqual(seen, ['a', 'b', 'c']);
  assert.equal(summary.notReached, 2 + 5);
  assert.deepEqual(
    summary.secretOwners.map((r) => r.ref.name),
    ['a', 'b', 'c'],
  );

  // Another offset starts elsewhere and wraps around.
  seen.length = 0;
  clock = 0;
  const all = await reconcileAll(deps, undefined, { concurrency: 1, offset: 3 });
  assert.deepEqual(seen.slice(0, 5), ['d', 'e', 'a', 'b', 'c']);
  assert.equal(all.notReached, 0);
});
