import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import jsonpatch from 'fast-json-patch';
import { AvailabilityChecker } from './availability.ts';
import type { RouterDeps } from './decide.ts';
import { handleReview } from './handle.ts';
import { oneMirrorDeps } from './test-deps.ts';

const deps = (over: Partial<RouterDeps> = {}) => oneMirrorDeps(over);
const pod: V1Pod = {
  metadata: { name: 'p', namespace: 'ns' },
  spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] },
};
const ar = (request: Record<string, unknown>) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request,
});
const req = {
  uid: 'u-1',
  kind: { group: '', version: 'v1', kind: 'Pod' },
  operation: 'CREATE',
  namespace: 'ns',
  object: pod,
};

test('a CREATE answers allowed with a JSON patch that applies to the pod', async () => {
  const h = await handleReview(ar(req), deps(), 1000);
  assert.equal(h.outcome, 'rerouted');
  const resp = (
    h.body as {
      response: { uid: string; allowed: boolean; patchType: string; patch: string; warnings: string[] };
    }
  ).response;
  assert.equal(resp.uid, 'u-1');
  assert.equal(resp.allowed, true);
  assert.equal(resp.patchType, 'JSONPatch');
  const patched = jsonpatch.applyPatch(
    structuredClone(pod),
    JSON.parse(Buffer.from(resp.patch, 'base64').toString()),
  ).newDocument;
  assert.equal(patched.spec?.containers[0]?.image, 'harbor.example.com/m/library/nginx:1.27');
  assert.equal(patched.metadata?.annotations?.['kuik.enix.io/original-images'], '{"c":"nginx:1.27"}');
  assert.match(resp.warnings[0] ?? '', /container c uses harbor\.example\.com\/m\/library\/nginx:1\.27/);
});

test('garbage without a uid gets a 400 (the apiserver then admits unchanged)', async () => {
  for (const body of [null, 'x', { kind: 'AdmissionReview' }, ar({ operation: 'CREATE' })]) {
    const h = await handleReview(body, deps(), 1000);
    assert.equal(h.status, 400);
    assert.equal(h.outcome, 'invalid');
  }
});

test('a review with a uid but a malformed pod is allowed unchanged', async () => {
  const h = await handleReview(ar({ ...req, object: { spec: 'nope' } }), deps(), 1000);
  assert.equal(h.status, 200);
  assert.deepEqual((h.body as { response: unknown }).response, { uid: 'u-1', allowed: true });
});

test('an exception inside the decision is allowed unchanged, never denied', async () => {
  const h = await handleReview(
    ar(req),
    deps({
      routingSet: () => {
        throw new Error('cache exploded');
      },
    }),
    1000,
  );
  assert.equal(h.outcome, 'error');
  assert.deepEqual((h.body as { response: unknown }).response, { uid: 'u-1', allowed: true });
});

test('a decision past its deadline is allowed unchanged', async () => {
  const slow = new AvailabilityChecker({
    ttlMs: 0,
    probe: () => new Promise((r) => setTimeout(r, 500, { outcome: 'Available', message: '' })),
  });
  const h = await handleReview(ar(req), deps({ checker: slow }), 50);
  assert.equal(h.outcome, 'timeout');
  assert.deepEqual((h.body as { response: unknown }).response, { uid: 'u-1', allowed: true });
});

test('DELETE and non-Pod kinds are ignored', async () => {
  assert.equal((await handleReview(ar({ ...req, operation: 'DELETE' }), deps(), 1000)).outcome, 'ignored');
  assert.equal(
    (
      await handleReview(
        ar({ ...req, kind: { group: 'apps', version: 'v1', kind: 'Deployment' } }),
        deps(),
        1000,
      )
    ).outcome,
    'ignored',
  );
});

test('a review whose pod names another namespace than the request writes no Secret copy (issue 14)', async () => {
  const upserts: { namespace?: string | undefined }[] = [];
  const withCredential = () =>
    oneMirrorDeps(
      {
        getSecret: async (namespace, name) => ({
          metadata: { name, namespace },
          type: 'kubernetes.io/dockerconfigjson',
          data: { '.dockerconfigjson': Buffer.from('{"auths":{}}').toString('base64') },
        }),
        upsertSecret: async (s) => void upserts.push({ namespace: s.metadata?.namespace }),
      },
      { credentialSecret: { name: 'cred', namespace: 'kuik-system' } },
    );
  // As the apiserver sends it: the copy goes into the pod's namespace.
  const genuine = await handleReview(ar(req), withCredential(), 1000);
  assert.equal(genuine.outcome, 'rerouted');
  assert.deepEqual(upserts, [{ namespace: 'ns' }]);
  // Forged: the request says `victim`, the pod `ns`. Nothing written anywhere, the pod untouched.
  upserts.length = 0;
  const forged = await handleReview(ar({ ...req, namespace: 'victim' }), withCredential(), 1000);
  assert.equal(forged.outcome, 'ignored');
  assert.match(forged.error ?? '', /namespace victim carries a pod of namespace ns/);
  assert.deepEqual(upserts, []);
  assert.deepEqual((forged.body as { response: unknown }).response, { uid: 'u-1', allowed: true });
  // Neither names a namespace: nowhere to write a copy.
  const none = await handleReview(
    ar({ ...req, namespace: undefined, object: { ...pod, metadata: { name: 'p' } } }),
    withCredential(),
    1000,
  );
  assert.equal(none.outcome, 'ignored');
  assert.deepEqual(upserts, []);
});
