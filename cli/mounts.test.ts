import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1PodSpec } from '@kubernetes/client-node';
import { fileSources } from './mounts.ts';

const spec: V1PodSpec = {
  containers: [
    {
      name: 'router',
      volumeMounts: [
        { name: 'config', mountPath: '/etc/kube-image-keeper' },
        { name: 'ca', mountPath: '/etc/ssl/kuik/ca.pem', subPath: 'ca.crt' },
        { name: 'mapped', mountPath: '/etc/mapped/' },
        { name: 'both', mountPath: '/etc/both' },
      ],
    },
  ],
  volumes: [
    { name: 'config', configMap: { name: 'kuik-config' } },
    { name: 'ca', secret: { secretName: 'registry-ca' } },
    {
      name: 'mapped',
      configMap: { name: 'bundle', items: [{ key: 'ca-bundle.crt', path: 'certs/ca.pem' }] },
    },
    {
      name: 'both',
      projected: {
        sources: [
          { configMap: { name: 'cm', items: [{ key: 'k', path: 'x.pem' }] } },
          { secret: { name: 's' } },
        ],
      },
    },
  ],
};
const c = spec.containers[0];

test('a file under a ConfigMap volume is that ConfigMap’s key', () => {
  assert.deepEqual(fileSources(spec, c, '/etc/kube-image-keeper/config.yaml'), [
    { kind: 'ConfigMap', name: 'kuik-config', key: 'config.yaml' },
  ]);
});

test('subPath mounts, items mappings and projected volumes are followed', () => {
  assert.deepEqual(fileSources(spec, c, '/etc/ssl/kuik/ca.pem'), [
    { kind: 'Secret', name: 'registry-ca', key: 'ca.crt' },
  ]);
  assert.deepEqual(fileSources(spec, c, '/etc/mapped/certs/ca.pem'), [
    { kind: 'ConfigMap', name: 'bundle', key: 'ca-bundle.crt' },
  ]);
  assert.deepEqual(fileSources(spec, c, '/etc/both/x.pem'), [
    { kind: 'ConfigMap', name: 'cm', key: 'k' },
    { kind: 'Secret', name: 's', key: 'x.pem' },
  ]);
});

test('a path from no volume, or a key the items do not map, has no source', () => {
  assert.deepEqual(fileSources(spec, c, '/usr/share/ca.pem'), []);
  assert.deepEqual(fileSources(spec, c, '/etc/mapped/other.pem'), []);
  assert.deepEqual(fileSources(spec, c, '/etc/kube-image-keeper-other/config.yaml'), []);
});
