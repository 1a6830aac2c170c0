import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Kube } from '#shared/kube/client.ts';
import { clusterSnapshot } from './snapshot.ts';

function fakeKube(failFirst = false) {
  const calls = { pods: 0, cisms: 0, isms: 0 };
  const kube = {
    core: {
      listPodForAllNamespaces: async () => {
        calls.pods++;
        if (failFirst && calls.pods === 1) throw new Error('etcd timed out');
        return {
          items: [
            { metadata: { name: 'a', namespace: 'one' } },
            { metadata: { name: 'b', namespace: 'two' } },
          ],
        };
      },
    },
    custom: {
      listClusterCustomObject: async ({ plural }: { plural: string }) => {
        if (plural === 'clusterimagesetmirrors') {
          calls.cisms++;
          return { items: [{ metadata: { name: 'global' } }] };
        }
        calls.isms++;
        return {
          items: [
            { metadata: { name: 'x', namespace: 'one' } },
            { metadata: { name: 'y', namespace: 'two' } },
          ],
        };
      },
    },
  } as unknown as Kube;
  return { kube, calls };
}

test('one list serves every mirror set: a namespace sees its own pods and ISMs and every CISM', async () => {
  const { kube, calls } = fakeKube();
  const snap = clusterSnapshot(kube, () => 0);
  const one = await snap.view('one');
  const all = await snap.view(undefined);
  await snap.view('two');
  assert.deepEqual(
    one.pods.map((p) => p.metadata?.name),
    ['a'],
  );
  assert.deepEqual(
    one.isms.map((i) => i.metadata.name),
    ['x'],
  );
  assert.deepEqual(
    one.cisms.map((c) => c.metadata.name),
    ['global'],
  );
  assert.equal(all.pods.length, 2);
  assert.deepEqual(calls, { pods: 1, cisms: 1, isms: 1 });
});

test('a snapshot older than its maximum age is listed again; a failed list is not kept', async () => {
  let clock = 0;
  const { kube, calls } = fakeKube(true);
  const snap = clusterSnapshot(kube, () => clock, 1000);
  await assert.rejects(snap.view('one'), /etcd timed out/);
  assert.equal((await snap.view('one')).pods.length, 1);
  clock = 1000;
  await snap.view('one');
  assert.equal(calls.pods, 2);
  clock = 1001;
  await snap.view('one');
  assert.equal(calls.pods, 3);
});
