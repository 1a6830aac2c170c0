import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import type { CopyRequest } from '#shared/copy-request.ts';
import type { ClusterImageSetMirror, ImageSetMirror } from '#shared/crd/types.ts';
import { allowedDestination, allowedSource, sourceNamespace } from './allowed-secrets.ts';

const ism: ImageSetMirror = {
  apiVersion: 'kuik.enix.io/v1alpha1',
  kind: 'ImageSetMirror',
  metadata: { name: 'm', namespace: 'a', uid: 'u' },
  spec: { mirrors: [{ registry: 'mirror.example', path: 'team', credentialSecret: { name: 'push' } }] },
};
const cism: ClusterImageSetMirror = {
  apiVersion: 'kuik.enix.io/v1alpha1',
  kind: 'ClusterImageSetMirror',
  metadata: { name: 'c', uid: 'u' },
  spec: {
    mirrors: [
      { registry: 'mirror.example', path: 'all', credentialSecret: { name: 'push', namespace: 'ops' } },
    ],
  },
};
const req = (over: Partial<CopyRequest> = {}): CopyRequest => ({
  owner: { kind: 'ImageSetMirror', name: 'm', namespace: 'a', uid: 'u' },
  source: 'docker.io/library/nginx:1',
  destination: 'mirror.example/team/docker.io/library/nginx:1',
  platforms: [{ architecture: 'amd64' }],
  ...over,
});
const pod = (namespace: string, image: string, secrets: string[]): V1Pod => ({
  metadata: { name: 'p', namespace },
  spec: { containers: [{ name: 'c', image }], imagePullSecrets: secrets.map((name) => ({ name })) },
});

test('destination: the spec’s credential, in the ImageSetMirror’s own namespace, whatever the request says', () => {
  assert.deepEqual(allowedDestination(ism, req()), { ok: true, value: { namespace: 'a', name: 'push' } });
  assert.deepEqual(allowedDestination(ism, req({ destinationSecret: { namespace: 'a', name: 'push' } })), {
    ok: true,
    value: { namespace: 'a', name: 'push' },
  });
  const forged = allowedDestination(ism, req({ destinationSecret: { namespace: 'b', name: 'push' } }));
  assert.equal(forged.ok, false);
  assert.match(
    forged.ok ? '' : forged.error,
    /b\/push is not the credential ImageSetMirror a\/m names .* \(a\/push\)/,
  );
  const noCred = { ...ism, spec: { mirrors: [{ registry: 'mirror.example', path: 'team' }] } };
  const r = allowedDestination(noCred, req({ destinationSecret: { namespace: 'a', name: 'push' } }));
  assert.match(r.ok ? '' : r.error, /\(none\)/);
});

test('destination: a cluster kind’s credential where its spec says', () => {
  const d = 'mirror.example/all/docker.io/library/nginx:1';
  assert.deepEqual(allowedDestination(cism, req({ destination: d })), {
    ok: true,
    value: { namespace: 'ops', name: 'push' },
  });
  assert.equal(
    allowedDestination(cism, req({ destination: d, destinationSecret: { namespace: 'a', name: 'push' } })).ok,
    false,
  );
});

test('source namespace: an ImageSetMirror’s own only; a cluster kind’s any', () => {
  assert.deepEqual(sourceNamespace(ism, req()), { ok: true, value: undefined });
  assert.deepEqual(sourceNamespace(ism, req({ sourcePullSecrets: { namespace: 'a', names: ['r'] } })), {
    ok: true,
    value: 'a',
  });
  const r = sourceNamespace(ism, req({ sourcePullSecrets: { namespace: 'b', names: ['r'] } }));
  assert.match(
    r.ok ? '' : r.error,
    /namespace b: ImageSetMirror a\/m may only use Secrets of its own namespace/,
  );
  assert.deepEqual(sourceNamespace(cism, req({ sourcePullSecrets: { namespace: 'b', names: ['r'] } })), {
    ok: true,
    value: 'b',
  });
});

test('source: some pod in the namespace runs the image (as written in its spec) and lists every secret', () => {
  const asked = req({ sourcePullSecrets: { namespace: 'b', names: ['r1', 'r2'] } });
  assert.deepEqual(allowedSource(asked, [pod('b', 'nginx:1', ['r1', 'r2', 'other'])]), {
    ok: true,
    value: undefined,
  });
  assert.equal(
    allowedSource(asked, [pod('b', 'nginx:1', ['r1'])]).ok,
    false,
    'a secret the pod does not list',
  );
  assert.equal(allowedSource(asked, [pod('b', 'nginx:2', ['r1', 'r2'])]).ok, false, 'another image');
  assert.equal(allowedSource(asked, [pod('c', 'nginx:1', ['r1', 'r2'])]).ok, false, 'another namespace');
  assert.equal(allowedSource(asked, []).ok, false);
  assert.deepEqual(
    allowedSource(req(), []),
    { ok: true, value: undefined },
    'no pull secrets asked: nothing to check',
  );
});

test('source: a pod that mounts the image as an image volume vouches for its pull secrets', () => {
  const asked = req({ sourcePullSecrets: { namespace: 'b', names: ['r1'] } });
  const mounting: V1Pod = {
    metadata: { name: 'p', namespace: 'b' },
    spec: {
      containers: [{ name: 'c', image: 'app:1' }],
      volumes: [{ name: 'data', image: { reference: 'nginx:1' } }],
      imagePullSecrets: [{ name: 'r1' }],
    },
  };
  assert.deepEqual(allowedSource(asked, [mounting]), { ok: true, value: undefined });
});
