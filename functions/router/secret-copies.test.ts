import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiException, type V1Secret } from '@kubernetes/client-node';
import { copyIsCurrent, SecretCopies, slimCopy } from './secret-copies.ts';
import { secretCopy } from './secret-copy.ts';

const source: V1Secret = {
  metadata: { name: 'cred', namespace: 'kuik-system', resourceVersion: '7' },
  type: 'kubernetes.io/dockerconfigjson',
  data: { '.dockerconfigjson': 'eyJhdXRocyI6e319' },
};
const owner = { kind: 'ClusterImageSetMirror', name: 'global', uid: 'u' };
const wanted = secretCopy(source, 'app', owner);
const stored = (over: Partial<V1Secret> = {}): V1Secret =>
  slimCopy({
    ...wanted,
    metadata: { ...wanted.metadata, resourceVersion: '100', managedFields: [{ manager: 'x' }] },
    ...over,
  });

function world(cache: V1Secret | undefined, fail: { create?: number } = {}) {
  const calls: string[] = [];
  let there = cache;
  const copies = new SecretCopies(() => cache, {
    create: async (s) => {
      calls.push('create');
      if (fail.create) throw new ApiException(fail.create, 'conflict', {}, {});
      there = s;
      return s;
    },
    replace: async (s) => {
      calls.push(`replace@${s.metadata?.resourceVersion}`);
      there = s;
      return s;
    },
    read: async () => {
      calls.push('read');
      return there;
    },
  });
  const setThere = (s: V1Secret) => {
    there = s;
  };
  return { copies, calls, setThere };
}

test('a copy the watch shows current is not written at all', async () => {
  const w = world(stored());
  assert.equal(await w.copies.ensure(wanted), 'current');
  assert.deepEqual(w.calls, []);
});

test('a missing copy is created once, however many admissions ask at the same time or just after', async () => {
  const w = world(undefined);
  const r = await Promise.all([w.copies.ensure(wanted), w.copies.ensure(wanted), w.copies.ensure(wanted)]);
  assert.deepEqual(r, ['created', 'created', 'created']);
  // The watch has not shown the new copy yet: the write just made is trusted meanwhile.
  assert.equal(await w.copies.ensure(wanted), 'current');
  assert.deepEqual(w.calls, ['create']);
});

test('a rotated source replaces the copy, under the cached resourceVersion', async () => {
  const w = world(stored({ data: { '.dockerconfigjson': 'b2xk' } }));
  assert.equal(await w.copies.ensure(wanted), 'replaced');
  assert.deepEqual(w.calls, ['replace@100']);
});

test('a copy whose owner labels were changed is written back', async () => {
  const w = world(stored({ metadata: { ...wanted.metadata, labels: {}, resourceVersion: '5' } }));
  assert.equal(await w.copies.ensure(wanted), 'replaced');
});

test('a create refused with 409 (made meanwhile) reads the copy and stops when it is current', async () => {
  const w = world(undefined, { create: 409 });
  w.setThere(stored());
  assert.equal(await w.copies.ensure(wanted), 'current');
  assert.deepEqual(w.calls, ['create', 'read']);
});

test('copyIsCurrent compares type, data and the wanted labels, not server fields', () => {
  assert.ok(copyIsCurrent(stored(), wanted));
  assert.ok(!copyIsCurrent(undefined, wanted));
  assert.ok(!copyIsCurrent(stored({ type: 'Opaque' }), wanted));
  assert.ok(!copyIsCurrent(stored({ data: { ...wanted.data, extra: 'eA==' } }), wanted));
});
