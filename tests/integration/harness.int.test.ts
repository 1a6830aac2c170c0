// The harness's real parts answer as the real things do: these tests would fail against a fake.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { test } from 'node:test';
import { CoreV1Api, VersionApi } from '@kubernetes/client-node';
import { harness, kubeConfig } from '../harness/env.ts';
import { kubectl, namespace, seed, uniq } from '../harness/fixtures.ts';
import { inspectRaw } from '../harness/registry.ts';

test('kube-apiserver is the pinned real version and stores a Pod', async () => {
  const kc = kubeConfig();
  const version = await kc.makeApiClient(VersionApi).getCode();
  assert.equal(version.gitVersion, 'v1.35.4');
  const ns = await namespace('harness');
  const core = kc.makeApiClient(CoreV1Api);
  const pod = await core.createNamespacedPod({
    namespace: ns,
    body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } },
  });
  // Defaulting ran in the real apiserver: IfNotPresent for a tagged image.
  assert.equal(pod.spec?.containers[0]?.imagePullPolicy, 'IfNotPresent');
  assert.equal(pod.status?.phase, 'Pending');
});

test('kube-apiserver rejects an invalid Pod with its validation message', async () => {
  const ns = await namespace('harness');
  await assert.rejects(
    kubectl(
      ['create', '-n', ns, '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'Bad_Name' },
        spec: { containers: [{ name: 'c', image: 'x' }] },
      }),
    ),
    /a lowercase RFC 1123 subdomain/,
  );
});

test('the kuik and Knative CRDs are established', async () => {
  const names = await kubectl(['get', 'crd', '-o', 'name']);
  for (const crd of [
    'imagesetmirrors.kuik.enix.io',
    'clusterimagesetavailabilities.kuik.enix.io',
    'services.serving.knative.dev',
    'apiserversources.sources.knative.dev',
    'pingsources.sources.knative.dev',
    'jobsinks.sinks.knative.dev',
  ]) {
    assert.match(
      names,
      new RegExp(`customresourcedefinition.apiextensions.k8s.io/${crd.replace(/\./g, '\\.')}`),
    );
  }
});

for (const kind of ['tls', 'token'] as const) {
  test(`registry ${kind}: skopeo pushes a two-platform index and reads it back by digest`, async () => {
    const reg = harness().registries[kind];
    const repo = uniq('harness/app');
    const seeded = await seed(reg, repo, 'v1');
    const { raw, digest } = await inspectRaw(reg, seeded.ref);
    assert.equal(digest, seeded.digest);
    const index = JSON.parse(raw) as {
      mediaType: string;
      manifests: { platform: { architecture: string } }[];
    };
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(index.manifests.map((m) => m.platform.architecture).sort(), ['amd64', 'arm64']);
  });

  test(`registry ${kind}: refuses a wrong password`, async () => {
    const reg = harness().registries[kind];
    const repo = uniq('harness/denied');
    await assert.rejects(
      inspectRaw({ ...reg, password: 'wrong' }, `${reg.host}/${repo}:v1`),
      /unauthorized|invalid username\/password|authentication required/i,
    );
  });
}

test('registry tls: /v2/ needs credentials over TLS signed by the harness CA', async () => {
  const reg = harness().registries.tls;
  const ca = await readFile(reg.caFile);
  const status = (auth?: string) =>
    new Promise<number>((resolve, reject) => {
      const [hostname, port] = reg.host.split(':');
      const req = request(
        { hostname, port: Number(port), path: '/v2/', ca, headers: auth ? { authorization: auth } : {} },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
  assert.equal(await status(), 401);
  assert.equal(
    await status(`Basic ${Buffer.from(`${reg.username}:${reg.password}`).toString('base64')}`),
    200,
  );
});

test('the kube-apiserver audit log records who called what', async () => {
  const ns = await namespace('audit');
  const { readFile } = await import('node:fs/promises');
  const lines = (await readFile(harness().apiserver.auditLog, 'utf8'))
    .trim()
    .split('\n')
    .map(
      (l) =>
        JSON.parse(l) as {
          verb: string;
          user: { username: string };
          objectRef?: { resource?: string; name?: string };
        },
    );
  assert.ok(
    lines.some(
      (e) =>
        e.verb === 'create' &&
        e.objectRef?.resource === 'namespaces' &&
        e.objectRef.name === ns &&
        e.user.username === 'kuik-test-admin',
    ),
  );
});
