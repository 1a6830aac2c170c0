import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiException } from '@kubernetes/client-node';
import type { Kube, KuikRef } from '../../shared/kube/client.ts';
import { createLogger } from '../../shared/log.ts';
import type { ReconcileDeps } from './mirror-set.ts';
import { reconcileAll } from './server.ts';

test('the resync goes on past a CR whose reconcile throws, and reports it', async () => {
  const items = (names: string[]) => ({ items: names.map((name) => ({ metadata: { name } })) });
  const kube = {
    custom: {
      listClusterCustomObject: async ({ plural }: { plural: string }) =>
        plural === 'clusterimagesetmirrors' ? items(['broken', 'fine']) : items([]),
    },
    getKuik: async (ref: KuikRef) => {
      if (ref.name === 'broken') throw new Error('etcd timed out');
      throw new ApiException(404, 'not found', {}, {});
    },
  } as unknown as Kube;
  const deps = { kube, log: createLogger('t', 'silent') } as unknown as ReconcileDeps;
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
