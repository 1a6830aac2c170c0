import assert from 'node:assert/strict';
import { test } from 'node:test';
import { documents, resolveKo, traefikManifest } from './knative.ts';
import { CA_ENV, COPY_RECORD_ENV, overlay } from './kuik.ts';

test('documents splits a YAML stream and drops empty or comment-only documents', () => {
  const docs = documents(
    '# header\n---\nkind: A\nmetadata: {name: a}\n---\n# only a comment\n---\nkind: B\n',
  );
  assert.deepEqual(docs, ['kind: A\nmetadata: {name: a}', 'kind: B']);
});

test("resolveKo points ko:// references at the images packed from each project's commands", () => {
  const out = resolveKo(
    'image: ko://knative.dev/eventing/cmd/apiserver_receive_adapter\nvalue: ko://knative.dev/serving/cmd/queue\n',
    'v0.49.2',
    'v0.42.2',
  );
  assert.equal(
    out,
    'image: 10.201.0.1:5000/knative/eventing/apiserver-receive-adapter:v0.49.2\nvalue: 10.201.0.1:5000/knative/serving/queue:v0.42.2\n',
  );
});

test('Traefik runs on ports above 1024 as a non-root user, with a private and a public Service', () => {
  const docs = documents(traefikManifest('reg/traefik:v1'));
  const deploy = docs.find((d) => d.startsWith('kind: Deployment') || d.includes('kind: Deployment'))!;
  assert.match(deploy, /--entrypoints\.privweb\.address=:8081/);
  assert.match(deploy, /runAsUser: 65532/);
  assert.equal(docs.filter((d) => /kind: Service\n/.test(`${d}\n`)).length, 2);
});

test('the overlay changes only the image and the test settings of the four workloads and the config', () => {
  const k = JSON.parse(overlay('/tmp/x/overlay', '10.201.0.1:5000/kuik/kuik-functions:abc', '{a: 1}')) as {
    resources: string[];
    images: { name: string; newName: string; newTag: string }[];
    patches: { target: { kind: string; name: string }; patch: string }[];
  };
  assert.deepEqual(k.images, [
    { name: 'localhost/kuik-functions', newName: '10.201.0.1:5000/kuik/kuik-functions', newTag: 'abc' },
  ]);
  assert.ok(k.resources[0]!.endsWith('manifests'));
  assert.ok(!k.resources[0]!.startsWith('/'), 'kustomize refuses absolute resource paths');
  assert.deepEqual(
    k.patches.map((p) => `${p.target.kind}/${p.target.name}`),
    [
      'Deployment/kuik-router',
      'Service/kuik-reconcile',
      'Service/kuik-monitor',
      'JobSink/kuik-copy',
      'ConfigMap/kuik-config',
    ],
  );
  for (const p of k.patches.slice(0, 4)) {
    assert.ok(
      (JSON.parse(p.patch) as { value: unknown }[]).some(
        (op) => JSON.stringify(op.value) === JSON.stringify(CA_ENV),
      ),
    );
  }
  const job = JSON.parse(k.patches[3]!.patch) as { value: unknown }[];
  assert.ok(job.some((op) => JSON.stringify(op.value) === JSON.stringify(COPY_RECORD_ENV)));
  assert.deepEqual(JSON.parse(k.patches[4]!.patch), [
    { op: 'replace', path: '/data/config.yaml', value: '{a: 1}' },
  ]);
});
