// §10.7 scenario 80 and the §4.9 example (docs/behaviour.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Secret } from '@kubernetes/client-node';
import { secretCopy, secretCopyName } from './secret-copy.ts';

const source: V1Secret = {
  metadata: {
    name: 'enix-harbor-global',
    namespace: 'kuik-system',
    resourceVersion: '42',
    uid: 'secret-uid',
  },
  type: 'kubernetes.io/dockerconfigjson',
  data: { '.dockerconfigjson': 'eyJhdXRocyI6e319' },
};
const owner = { kind: 'ClusterImageSetMirror', name: 'global', uid: 'some-uid' };

test('the copy name reproduces kuik: kuik-enix-harbor-global-89a26e25fb568052', () => {
  assert.equal(
    secretCopyName({ name: 'enix-harbor-global', namespace: 'kuik-system' }, 'some-uid'),
    'kuik-enix-harbor-global-89a26e25fb568052',
  );
});

test('80: the same name in every namespace, kuik- once, source untouched', () => {
  const before = structuredClone(source);
  const foo = secretCopy(source, 'ns-foo', owner);
  const bar = secretCopy(source, 'ns-bar', owner);
  assert.equal(foo.metadata?.name, bar.metadata?.name);
  assert.ok(foo.metadata?.name?.startsWith('kuik-enix-harbor-global-'));
  assert.equal(foo.metadata?.name?.match(/kuik-/g)?.length, 1);
  assert.equal(foo.metadata?.namespace, 'ns-foo');
  assert.deepEqual(source, before);
  // Copying a copy's source again must not grow the name (regression kuik #604).
  assert.equal(secretCopy(source, 'ns-foo', owner).metadata?.name, foo.metadata?.name);
});

test('the copy carries type, data and the five owner labels, and no server fields', () => {
  const c = secretCopy(source, 'ns-foo', owner);
  assert.equal(c.type, 'kubernetes.io/dockerconfigjson');
  assert.deepEqual(c.data, source.data);
  assert.notEqual(c.data, source.data);
  assert.deepEqual(
    Object.fromEntries(
      Object.entries(c.metadata?.labels ?? {}).filter(([k]) => k.startsWith('kuik.enix.io/')),
    ),
    {
      'kuik.enix.io/owner-version': 'v1alpha1',
      'kuik.enix.io/owner-group': 'kuik.enix.io',
      'kuik.enix.io/owner-kind': 'ClusterImageSetMirror',
      'kuik.enix.io/owner-uid': 'some-uid',
      'kuik.enix.io/owner-name': 'global',
    },
  );
  assert.equal(c.metadata?.resourceVersion, undefined);
  assert.equal(c.metadata?.uid, undefined);
});

test('long secret names are cut to 231 characters so the copy name stays within 253', () => {
  const name = secretCopyName({ name: 'x'.repeat(300), namespace: 'kuik-system' }, 'u');
  assert.ok(name.length <= 253);
  assert.equal(name.length, 5 + 231 + 1 + 16);
});
