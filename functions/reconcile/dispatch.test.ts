import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import type { ClusterImageSetMirror, ImageSetMirror } from '#shared/crd/types.ts';
import { dispatch, mirrorSetsForPod } from './dispatch.ts';

const add = 'dev.knative.apiserver.resource.add';

test('kuik kinds map to their reconciles; RIS and CISA are acknowledged with nothing to do', () => {
  const d = (kind: string, namespace?: string) =>
    dispatch(add, {
      apiVersion: 'kuik.enix.io/v1alpha1',
      kind,
      metadata: { name: 'x', ...(namespace ? { namespace } : {}) },
    });
  assert.deepEqual(d('ImageSetMirror', 'ns'), {
    ok: true,
    value: {
      mirrorSets: [{ kind: 'ImageSetMirror', name: 'x', namespace: 'ns' }],
      secretOwners: [],
      replicated: [],
    },
  });
  assert.deepEqual(d('ClusterImageSetMirror'), {
    ok: true,
    value: {
      mirrorSets: [{ kind: 'ClusterImageSetMirror', name: 'x' }],
      secretOwners: [{ kind: 'ClusterImageSetMirror', name: 'x' }],
      replicated: [],
    },
  });
  assert.deepEqual(d('ClusterReplicatedImageSet'), {
    ok: true,
    value: {
      mirrorSets: [],
      secretOwners: [{ kind: 'ClusterReplicatedImageSet', name: 'x' }],
      replicated: [{ kind: 'ClusterReplicatedImageSet', name: 'x' }],
    },
  });
  assert.deepEqual(d('ReplicatedImageSet', 'ns'), {
    ok: true,
    value: {
      mirrorSets: [],
      secretOwners: [],
      replicated: [{ kind: 'ReplicatedImageSet', name: 'x', namespace: 'ns' }],
    },
  });
  // ApiServerSource sends cluster-scoped objects with an empty namespace.
  assert.ok(
    dispatch(add, {
      apiVersion: 'kuik.enix.io/v1alpha1',
      kind: 'ClusterImageSetMirror',
      metadata: { name: 'x', namespace: '' },
    }).ok,
  );
});

test('malformed events are refused with a reason', () => {
  for (const [type, data] of [
    [
      'dev.knative.apiserver.ref.add',
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'n' } },
    ],
    [add, null],
    [add, { kind: 'Pod' }],
    [add, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }],
    [add, { apiVersion: 'kuik.enix.io/v1alpha1', kind: 'ImageSetMirror', metadata: { name: 'x' } }],
    [add, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x', namespace: 'n' } }],
  ] as const) {
    const r = dispatch(type, data);
    assert.equal(r.ok, false, JSON.stringify(data));
  }
});

test('a pod maps to the mirror sets that select it and one of its images', () => {
  const pod: V1Pod = {
    metadata: { name: 'p', namespace: 'app', labels: { tier: 'web' } },
    spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] },
  };
  const cism = (name: string, filter: ClusterImageSetMirror['spec']['filter']): ClusterImageSetMirror => ({
    apiVersion: 'kuik.enix.io/v1alpha1',
    kind: 'ClusterImageSetMirror',
    metadata: { name },
    spec: { filter },
  });
  const ism = (name: string, namespace: string): ImageSetMirror => ({
    apiVersion: 'kuik.enix.io/v1alpha1',
    kind: 'ImageSetMirror',
    metadata: { name, namespace },
    spec: { filter: { include: [{ image: '.*' }] } },
  });
  const refs = mirrorSetsForPod(
    pod,
    [
      cism('all', { include: [{ image: '.*' }] }),
      cism('redis', { include: [{ image: '.*redis.*' }] }),
      cism('db-tier', { include: [{ label: 'tier=db' }] }),
      cism('broken', { include: [{ image: '[' }] }),
    ],
    [ism('here', 'app'), ism('there', 'other')],
    () => false,
  );
  assert.deepEqual(
    refs.map((r) => r.name),
    ['all', 'here'],
  );
  assert.deepEqual(
    mirrorSetsForPod(pod, [cism('all', { include: [{ image: '.*' }] })], [], () => true),
    [],
  );
});
