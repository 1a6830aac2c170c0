import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { serializeOriginals } from '#shared/kube/pod-images.ts';
import { selectContainers } from './containers.ts';

const pod = (extra: Partial<V1Pod['spec']> = {}, annotations?: Record<string, string>): V1Pod => ({
  metadata: { name: 'p', namespace: 'ns', ...(annotations ? { annotations } : {}) },
  spec: {
    containers: [
      { name: 'app', image: 'nginx:1.27' },
      { name: 'side', image: 'busybox' },
    ],
    ...extra,
  },
});

test('CREATE selects containers and init containers and records both originals', () => {
  const s = selectContainers(pod({ initContainers: [{ name: 'setup', image: 'alpine:3' }] }), {
    operation: 'CREATE',
  });
  assert.deepEqual(
    s.containers.map((c) => c.key),
    ['app', 'side', 'init:setup'],
  );
  assert.deepEqual(s.originals, { app: 'nginx:1.27', side: 'busybox', 'init:setup': 'alpine:3' });
});

test('76 / reinvocation: containers already recorded are not routed again', () => {
  const p = pod(
    { initContainers: [{ name: 'setup', image: 'harbor/m/alpine:3' }] },
    {
      'kuik.enix.io/original-images': '{"app":"nginx:1.27","init:setup":"alpine:3","side":"busybox"}',
    },
  );
  const s = selectContainers(p, { operation: 'CREATE' });
  assert.deepEqual(s.containers, []);
  assert.equal(
    serializeOriginals(s.originals),
    '{"app":"nginx:1.27","init:setup":"alpine:3","side":"busybox"}',
  );
});

test('a malformed annotation is reported and treated as empty, never fatal', () => {
  const s = selectContainers(pod({}, { 'kuik.enix.io/original-images': '{not json' }), {
    operation: 'CREATE',
  });
  assert.ok(s.annotationError);
  assert.equal(s.containers.length, 2);
});

test('UPDATE routes only the containers whose image the update changes', () => {
  const old = pod({}, { 'kuik.enix.io/original-images': '{"app":"nginx:1.27","side":"busybox"}' });
  const next = structuredClone(old);
  next.spec!.containers[0]!.image = 'nginx:1.28';
  const s = selectContainers(next, { operation: 'UPDATE', oldObject: old });
  assert.deepEqual(
    s.containers.map((c) => [c.key, c.image]),
    [['app', 'nginx:1.28']],
  );
  assert.equal(s.originals['app'], 'nginx:1.28');
  // A metadata-only update routes nothing, so running containers are never restarted by us.
  assert.deepEqual(
    selectContainers(structuredClone(old), { operation: 'UPDATE', oldObject: old }).containers,
    [],
  );
});

test('the ephemeralcontainers subresource routes only newly added ephemeral containers', () => {
  const old = pod({ ephemeralContainers: [{ name: 'dbg1', image: 'busybox:1' }] });
  const next = pod({
    ephemeralContainers: [
      { name: 'dbg1', image: 'busybox:1' },
      { name: 'dbg2', image: 'alpine:3' },
    ],
  });
  const s = selectContainers(next, {
    operation: 'UPDATE',
    subResource: 'ephemeralcontainers',
    oldObject: old,
  });
  assert.deepEqual(
    s.containers.map((c) => [c.list, c.index, c.key]),
    [['ephemeralContainers', 1, 'ephemeral:dbg2']],
  );
});

const withVolumes = (annotations?: Record<string, string>) =>
  pod(
    {
      volumes: [
        { name: 'cfg', emptyDir: {} },
        { name: 'models', image: { reference: 'reg.example/models:v2', pullPolicy: 'IfNotPresent' } },
        { name: 'unset', image: {} },
      ],
    },
    annotations,
  );

test('CREATE selects image volumes as `volume:<name>` and records their originals; empty references are left', () => {
  const s = selectContainers(withVolumes(), { operation: 'CREATE' });
  assert.deepEqual(
    s.containers.map((c) => [c.list, c.index, c.key, c.image, c.imagePullPolicy]),
    [
      ['containers', 0, 'app', 'nginx:1.27', undefined],
      ['containers', 1, 'side', 'busybox', undefined],
      ['volumes', 1, 'volume:models', 'reg.example/models:v2', 'IfNotPresent'],
    ],
  );
  assert.equal(s.originals['volume:models'], 'reg.example/models:v2');
  // A reinvocation sees it recorded and leaves it.
  const again = selectContainers(
    withVolumes({ 'kuik.enix.io/original-images': serializeOriginals(s.originals) }),
    {
      operation: 'CREATE',
    },
  );
  assert.deepEqual(again.containers, []);
});

test('with imageVolumes off, image volumes are neither routed nor recorded', () => {
  const s = selectContainers(withVolumes(), { operation: 'CREATE' }, { imageVolumes: false });
  assert.deepEqual(
    s.containers.map((c) => c.key),
    ['app', 'side'],
  );
  assert.equal(s.originals['volume:models'], undefined);
});

test('UPDATE never routes an image volume (the API server keeps volumes immutable)', () => {
  const old = withVolumes({
    'kuik.enix.io/original-images':
      '{"app":"nginx:1.27","side":"busybox","volume:models":"reg.example/models:v2"}',
  });
  const next = structuredClone(old);
  next.spec!.containers[0]!.image = 'nginx:1.28';
  assert.deepEqual(
    selectContainers(next, { operation: 'UPDATE', oldObject: old }).containers.map((c) => c.key),
    ['app'],
  );
});
