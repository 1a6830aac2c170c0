import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import {
  describeSlot,
  originalImages,
  parseOriginals,
  podImageRefs,
  serializeOriginals,
  setPodImage,
  slotOfKey,
} from './pod-images.ts';

const pod = (): V1Pod => ({
  metadata: { name: 'p' },
  spec: {
    containers: [{ name: 'app', image: 'nginx:1', imagePullPolicy: 'IfNotPresent' }],
    initContainers: [{ name: 'setup', image: 'alpine:3' }],
    ephemeralContainers: [{ name: 'debug', image: 'busybox' }],
    volumes: [
      { name: 'cfg', configMap: { name: 'c' } },
      { name: 'models', image: { reference: 'reg.example/models:v2', pullPolicy: 'Always' } },
      { name: 'later', image: {} },
    ],
  },
});

test('every image reference of a pod, image volumes included, keyed as the annotations key them', () => {
  assert.deepEqual(
    podImageRefs(pod()).map((r) => [r.slot, r.index, r.key, r.image, r.pullPolicy]),
    [
      ['containers', 0, 'app', 'nginx:1', 'IfNotPresent'],
      ['initContainers', 0, 'init:setup', 'alpine:3', undefined],
      ['ephemeralContainers', 0, 'ephemeral:debug', 'busybox', undefined],
      ['volumes', 1, 'volume:models', 'reg.example/models:v2', 'Always'],
      ['volumes', 2, 'volume:later', '', undefined],
    ],
  );
});

test('the imageVolumes switch and ephemeral: false leave those references out', () => {
  assert.deepEqual(
    podImageRefs(pod(), { imageVolumes: false, ephemeral: false }).map((r) => r.key),
    ['app', 'init:setup'],
  );
  assert.deepEqual(podImageRefs({ metadata: {} }), []);
});

test('setPodImage writes a container image or an image volume reference in place', () => {
  const p = pod();
  setPodImage(p, { slot: 'volumes', index: 1 }, 'mirror.example/m/models:v2');
  setPodImage(p, { slot: 'initContainers', index: 0 }, 'mirror.example/m/alpine:3');
  setPodImage(p, { slot: 'volumes', index: 0 }, 'ignored'); // a configMap volume: nothing to set
  assert.equal(p.spec?.volumes?.[1]?.image?.reference, 'mirror.example/m/models:v2');
  assert.equal(p.spec?.initContainers?.[0]?.image, 'mirror.example/m/alpine:3');
  assert.deepEqual(p.spec?.volumes?.[0], { name: 'cfg', configMap: { name: 'c' } });
});

test('keys name their slot; messages call a volume an image volume', () => {
  assert.equal(slotOfKey('volume:models'), 'volumes');
  assert.equal(slotOfKey('init:setup'), 'initContainers');
  assert.equal(slotOfKey('app'), 'containers');
  assert.equal(describeSlot('volumes', 'models'), 'image volume models');
  assert.equal(describeSlot('initContainers', 'setup'), 'container setup');
});

test('a malformed original-images value is reported and read as empty; non-string values are dropped', () => {
  assert.ok(parseOriginals('[1,2]').error);
  assert.ok(parseOriginals('{not json').error);
  assert.deepEqual(parseOriginals('{"a":"x","b":3}').map, { a: 'x' });
  assert.deepEqual(parseOriginals(undefined), { map: {} });
});

test('annotation keys are serialized sorted and compact', () => {
  assert.equal(serializeOriginals({ z: '1', a: '2', 'init:b': '3' }), '{"a":"2","init:b":"3","z":"1"}');
});

test('original images are the annotation values, normalized; a malformed annotation names none', () => {
  const annotated = (value: string): V1Pod => ({
    metadata: { name: 'p', annotations: { 'kuik.enix.io/original-images': value } },
    spec: { containers: [{ name: 'c', image: 'mirror.local/x/nginx:1' }] },
  });
  assert.deepEqual(originalImages(annotated('{"c":"nginx:1","volume:v":"quay.io/a/b:2"}')), [
    'docker.io/library/nginx:1',
    'quay.io/a/b:2',
  ]);
  assert.deepEqual(
    originalImages(annotated('{"c":"nginx:1","volume:v":"quay.io/a/b:2"}'), { imageVolumes: false }),
    ['docker.io/library/nginx:1'],
  );
  assert.deepEqual(originalImages(annotated('{broken')), []);
  assert.deepEqual(originalImages(annotated('["nginx:1"]')), []);
});
