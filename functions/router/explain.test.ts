import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import type { RouterDeps } from './decide.ts';
import { explainPod, podAsWritten, renderExplanation } from './explain.ts';
import { oneMirrorDeps } from './test-deps.ts';

const deps: RouterDeps = oneMirrorDeps(
  {
    getSecret: async () => ({ metadata: { name: 's', namespace: 'kuik-system' }, data: {} }),
    upsertSecret: async () => {
      throw new Error('explain must never write');
    },
    staleMirror: () => {
      throw new Error('explain must never signal');
    },
  },
  { credentialSecret: { name: 's', namespace: 'kuik-system' } },
);

test('an admitted pod is explained as written: originals restored, kuik annotations dropped', () => {
  const admitted: V1Pod = {
    metadata: {
      name: 'p',
      annotations: {
        'kuik.enix.io/original-images': '{"app":"nginx:1.27","init:i":"alpine:3"}',
        'kuik.enix.io/reason': '{}',
        keep: 'me',
      },
    },
    spec: {
      containers: [{ name: 'app', image: 'harbor.example.com/m/library/nginx:1.27' }],
      initContainers: [{ name: 'i', image: 'x/alpine:3' }],
    },
  };
  const p = podAsWritten(admitted, 'ns');
  assert.equal(p.spec?.containers[0]?.image, 'nginx:1.27');
  assert.equal(p.spec?.initContainers?.[0]?.image, 'alpine:3');
  assert.deepEqual(p.metadata?.annotations, { keep: 'me' });
  assert.equal(admitted.spec?.containers[0]?.image, 'harbor.example.com/m/library/nginx:1.27');
});

test('explain runs the real decision as a dry run and lists every alternative with its verdict', async () => {
  const a = await explainPod(
    { metadata: { name: 'p' }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } },
    'ns',
    deps,
  );
  const text = renderExplanation(a, 'ns/p');
  assert.match(text, /container app: nginx:1\.27/);
  assert.match(
    text,
    /→ harbor\.example\.com\/m\/library\/nginx:1\.27 {3}\(OnFailure, from ClusterImageSetMirror\/g\)/,
  );
  assert.match(
    text,
    / 1\. docker\.io\/library\/nginx:1\.27 {2}\[original\] {2}NotFound: image not found: nope/,
  );
  assert.match(
    text,
    / 2\. harbor\.example\.com\/m\/library\/nginx:1\.27 {2}\[ClusterImageSetMirror\/g\] {2}chosen/,
  );
});

test('an admitted pod’s image volumes are restored too, and explained as image volumes', async () => {
  const admitted: V1Pod = {
    metadata: {
      name: 'p',
      annotations: { 'kuik.enix.io/original-images': '{"app":"quay.io/a:1","volume:models":"models:v2"}' },
    },
    spec: {
      containers: [{ name: 'app', image: 'quay.io/a:1' }],
      volumes: [
        {
          name: 'models',
          image: { reference: 'harbor.example.com/m/library/models:v2', pullPolicy: 'IfNotPresent' },
        },
      ],
    },
  };
  const written = podAsWritten(admitted, 'ns');
  assert.equal(written.spec?.volumes?.[0]?.image?.reference, 'models:v2');
  const text = renderExplanation(await explainPod(admitted, 'ns', deps), 'ns/p');
  assert.match(text, /^image volume models: models:v2$/m);
  assert.match(
    text,
    /→ harbor\.example\.com\/m\/library\/models:v2 {3}\(OnFailure, from ClusterImageSetMirror\/g\)/,
  );
});

test('a refusal for quota is explained as not gone, and QuotaLimited says why it was chosen', () => {
  const text = renderExplanation(
    {
      mutated: {},
      notes: [],
      decisions: [
        {
          slot: 'containers',
          container: 'c',
          key: 'c',
          original: 'docker.io/library/nginx:1',
          chosen: 'docker.io/library/nginx:1',
          by: 'original',
          reason: 'QuotaLimited',
          rejected: [
            {
              image: 'harbor.example.com/m/library/nginx:1',
              by: 'ClusterImageSetMirror/g',
              result: 'NotFound',
              message: 'image not found',
            },
          ],
          alternatives: [
            { image: 'docker.io/library/nginx:1', by: 'original' },
            { image: 'harbor.example.com/m/library/nginx:1', by: 'ClusterImageSetMirror/g' },
          ],
        },
        {
          slot: 'containers',
          container: 'd',
          key: 'd',
          original: 'docker.io/library/redis:7',
          chosen: 'harbor.example.com/m/library/redis:7',
          by: 'ClusterImageSetMirror/g',
          reason: 'OnFailure',
          rejected: [
            {
              image: 'docker.io/library/redis:7',
              by: 'original',
              result: 'QuotaExceeded',
              message: 'rate limit exceeded: …',
            },
          ],
          alternatives: [
            { image: 'docker.io/library/redis:7', by: 'original' },
            { image: 'harbor.example.com/m/library/redis:7', by: 'ClusterImageSetMirror/g' },
          ],
        },
      ],
    },
    'p',
  );
  assert.match(text, /unchanged {3}\(QuotaLimited\)/);
  assert.match(text, /only refused us for quota/);
  assert.match(text, /QuotaExceeded: rate limit exceeded: …\n {6}refused for quota, not gone/);
});
