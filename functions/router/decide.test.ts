// The admission decision against plain data: §10.7 scenarios 75–81, §10.11 A–F, and the fixes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import type { ClusterImageSetMirror, ImageSetMirror, Mirror, ReplicatedImageSet } from '#shared/crd/types.ts';
import { compileGlobalSkip } from '#shared/filter/filter.ts';
import type { ImageReference } from '#shared/image/reference.ts';
import type { Outcome } from '#shared/registry/outcome.ts';
import type { CrRef, RoutingSet } from './alternatives.ts';
import { AvailabilityChecker, type Credential } from './availability.ts';
import { type AdmissionInput, admit, excerpt, type RouterDeps } from './decide.ts';

const API = 'kuik.enix.io/v1alpha1' as const;
const HARBOR_SECRET: V1Secret = {
  metadata: { name: 'enix-harbor-global', namespace: 'kuik-system' },
  type: 'kubernetes.io/dockerconfigjson',
  data: {
    '.dockerconfigjson': Buffer.from('{"auths":{"harbor.example.com":{"auth":"dTpw"}}}').toString('base64'),
  },
};

function cism(mirror: Partial<Mirror> = {}, priority = 0): ClusterImageSetMirror {
  return {
    apiVersion: API,
    kind: 'ClusterImageSetMirror',
    metadata: { name: 'global', uid: 'some-uid' },
    spec: {
      priority,
      filter: { include: [{ image: '.*' }] },
      mirrors: [{ registry: 'harbor.example.com', path: '/mirror', ...mirror }],
    },
  };
}

interface World {
  crs?: Partial<RoutingSet>;
  secrets?: V1Secret[];
  /** Outcome per normalized image; default Available. */
  registry?: Record<string, Outcome>;
  skipLabels?: string[];
  rewriteNever?: boolean;
  imageVolumes?: boolean;
}

function world(w: World) {
  const upserts: V1Secret[] = [];
  const stale: { cr: CrRef; image: string }[] = [];
  const probes: { image: string; creds: readonly Credential[] }[] = [];
  const skip = compileGlobalSkip(w.skipLabels ?? [], []);
  assert.ok(skip.ok);
  const deps: RouterDeps = {
    config: {
      rewriteOnNeverImagePullPolicy: w.rewriteNever ?? false,
      honorPrioritiesOnAlwaysImagePullPolicy: false,
      skip: skip.value,
      ...(w.imageVolumes === undefined ? {} : { imageVolumes: w.imageVolumes }),
    },
    routingSet: () => ({ cisms: [], isms: [], crises: [], riss: [], ...w.crs }),
    getSecret: async (ns, name) =>
      (w.secrets ?? []).find((s) => s.metadata?.namespace === ns && s.metadata?.name === name),
    credentialsFor: (secrets: readonly V1Secret[], _image: ImageReference) =>
      secrets.map((s) => ({ username: s.metadata?.name ?? '', password: 'x' })),
    checker: new AvailabilityChecker({
      ttlMs: 0,
      probe: async (image, creds) => {
        probes.push({ image: image.string, creds });
        const outcome = w.registry?.[image.string] ?? 'Available';
        return { outcome, message: outcome === 'Available' ? '' : `${outcome}: ${image.string}` };
      },
    }),
    upsertSecret: async (s) => void upserts.push(s),
    staleMirror: (cr, image) => void stale.push({ cr, image }),
  };
  return { deps, upserts, stale, probes };
}

function pod(
  extra: Partial<V1Pod> = {},
  containers = [{ name: 'c', image: 'nginx:1.27', imagePullPolicy: 'IfNotPresent' }],
): V1Pod {
  return {
    metadata: { name: 'p', namespace: 'ns-foo', ...extra.metadata },
    spec: { containers, ...extra.spec },
  };
}
const create = (p: V1Pod, dryRun = false): AdmissionInput => ({
  operation: 'CREATE',
  namespace: 'ns-foo',
  dryRun,
  object: p,
});

test('75: a static pod is left entirely alone, without annotation', async () => {
  const { deps } = world({
    crs: { cisms: [cism()] },
    registry: { 'docker.io/library/nginx:1.27': 'NotFound' },
  });
  const r = await admit(
    create(pod({ metadata: { annotations: { 'kubernetes.io/config.mirror': 'x' } } })),
    deps,
  );
  assert.equal(r.skipped, 'static-pod');
  assert.deepEqual(r.mutated, pod({ metadata: { annotations: { 'kubernetes.io/config.mirror': 'x' } } }));
});

test('77: a pod matching a global skip label is untouched, without annotation', async () => {
  const { deps } = world({
    skipLabels: ['kube-image-keeper.enix.io/image-caching-policy=ignore'],
    crs: { cisms: [cism()] },
  });
  const p = pod({ metadata: { labels: { 'kube-image-keeper.enix.io/image-caching-policy': 'ignore' } } });
  const r = await admit(create(p), deps);
  assert.equal(r.skipped, 'global-skip');
  assert.deepEqual(r.mutated, p);
});

test('79 / A: nothing to route → only the original-images annotation, no probe', async () => {
  const { deps, probes } = world({});
  const digest = `sha256:${'b'.repeat(64)}`;
  const r = await admit(
    create(pod({}, [{ name: 'c', image: `busybox@${digest}`, imagePullPolicy: 'IfNotPresent' }])),
    deps,
  );
  assert.equal(
    r.mutated.metadata?.annotations?.['kuik.enix.io/original-images'],
    `{"c":"busybox@${digest}"}`,
  );
  assert.equal(r.mutated.spec?.containers[0]?.image, `busybox@${digest}`);
  assert.equal(probes.length, 0);
});

test('A: original available → image unchanged, no pull secret, decision says why', async () => {
  const { deps, upserts } = world({
    crs: { cisms: [cism({ credentialSecret: { name: 'enix-harbor-global', namespace: 'kuik-system' } })] },
    secrets: [HARBOR_SECRET],
  });
  const r = await admit(create(pod()), deps);
  assert.equal(r.mutated.spec?.containers[0]?.image, 'nginx:1.27');
  assert.equal(r.mutated.spec?.imagePullSecrets, undefined);
  assert.equal(r.mutated.metadata?.annotations?.['kuik.enix.io/original-images'], '{"c":"nginx:1.27"}');
  assert.equal(r.decisions[0]?.reason, 'OriginalAvailable');
  assert.equal(r.mutated.metadata?.annotations?.['kuik.enix.io/rewritten-by'], undefined);
  assert.equal(upserts.length, 0);
});

test('B: original missing → mirror, secret copied into the pod namespace and referenced', async () => {
  const { deps, upserts } = world({
    crs: { cisms: [cism({ credentialSecret: { name: 'enix-harbor-global', namespace: 'kuik-system' } })] },
    secrets: [HARBOR_SECRET],
    registry: { 'docker.io/library/nginx:1.27': 'NotFound' },
  });
  const r = await admit(create(pod()), deps);
  assert.equal(r.mutated.spec?.containers[0]?.image, 'harbor.example.com/mirror/library/nginx:1.27');
  assert.deepEqual(r.mutated.spec?.imagePullSecrets, [{ name: 'kuik-enix-harbor-global-89a26e25fb568052' }]);
  assert.equal(upserts.length, 1);
  assert.equal(upserts[0]?.metadata?.namespace, 'ns-foo');
  assert.equal(upserts[0]?.metadata?.labels?.['kuik.enix.io/owner-uid'], 'some-uid');
  const a = r.mutated.metadata?.annotations ?? {};
  assert.equal(a['kuik.enix.io/rewritten-by'], '{"c":"ClusterImageSetMirror/global"}');
  assert.equal(a['kuik.enix.io/reason'], '{"c":"OnFailure"}');
  const d = JSON.parse(a['kuik.enix.io/decisions'] ?? '{}');
  assert.equal(d.c.rejected[0].image, 'docker.io/library/nginx:1.27');
  assert.equal(d.c.rejected[0].result, 'NotFound');
});

test('C (fixed): a missing credential secret skips that alternative instead of denying the pod', async () => {
  const { deps, upserts } = world({
    crs: { cisms: [cism({ credentialSecret: { name: 'gone', namespace: 'kuik-system' } })] },
    registry: { 'docker.io/library/nginx:1.27': 'Unreachable' },
  });
  const r = await admit(create(pod()), deps);
  assert.equal(r.mutated.spec?.containers[0]?.image, 'nginx:1.27');
  assert.equal(r.decisions[0]?.reason, 'AllUnavailable');
  assert.match(r.decisions[0]?.rejected[1]?.message ?? '', /credential secret kuik-system\/gone not found/);
  assert.equal(upserts.length, 0);
});

test('D: every alternative unavailable → image unchanged', async () => {
  const { deps } = world({
    crs: { cisms: [cism()] },
    registry: {
      'docker.io/library/nginx:1.27': 'Unreachable',
      'harbor.example.com/mirror/library/nginx:1.27': 'Unreachable',
    },
  });
  const r = await admit(create(pod()), deps);
  assert.equal(r.mutated.spec?.containers[0]?.image, 'nginx:1.27');
  assert.equal(r.decisions[0]?.rejected.length, 2);
});

test('E: imagePullPolicy Never is not routed unless configured', async () => {
  const never = [{ name: 'c', image: 'nginx:1.27', imagePullPolicy: 'Never' }];
  const reg = { 'docker.io/library/nginx:1.27': 'NotFound' as const };
  assert.equal(
    (await admit(create(pod({}, never)), world({ crs: { cisms: [cism()] }, registry: reg }).deps)).mutated
      .spec?.containers[0]?.image,
    'nginx:1.27',
  );
  const on = world({ crs: { cisms: [cism()] }, registry: reg, rewriteNever: true });
  assert.equal(
    (await admit(create(pod({}, never)), on.deps)).mutated.spec?.containers[0]?.image,
    'harbor.example.com/mirror/library/nginx:1.27',
  );
});

test('F: a mirror answering NotFound signals its stale status; dry run signals and writes nothing', async () => {
  const w = world({
    crs: { cisms: [cism({}, -1)] },
    registry: { 'harbor.example.com/mirror/library/nginx:1.27': 'NotFound' },
  });
  await admit(create(pod()), w.deps);
  assert.deepEqual(w.stale, [
    {
      cr: { kind: 'ClusterImageSetMirror', name: 'global', uid: 'some-uid' },
      image: 'harbor.example.com/mirror/library/nginx:1.27',
    },
  ]);
  const dry = world({
    crs: {
      cisms: [cism({ credentialSecret: { name: 'enix-harbor-global', namespace: 'kuik-system' } }, -1)],
    },
    secrets: [HARBOR_SECRET],
    registry: {
      'harbor.example.com/mirror/library/nginx:1.27': 'NotFound',
      'docker.io/library/nginx:1.27': 'NotFound',
    },
  });
  await admit(create(pod(), true), dry.deps);
  assert.deepEqual(dry.stale, []);
  assert.deepEqual(dry.upserts, []);
});

test('dry run computes the same rewrite and secret name without writing the copy', async () => {
  const w = world({
    crs: { cisms: [cism({ credentialSecret: { name: 'enix-harbor-global', namespace: 'kuik-system' } })] },
    secrets: [HARBOR_SECRET],
    registry: { 'docker.io/library/nginx:1.27': 'NotFound' },
  });
  const r = await admit(create(pod(), true), w.deps);
  assert.equal(r.mutated.spec?.containers[0]?.image, 'harbor.example.com/mirror/library/nginx:1.27');
  assert.deepEqual(r.mutated.spec?.imagePullSecrets, [{ name: 'kuik-enix-harbor-global-89a26e25fb568052' }]);
  assert.equal(w.upserts.length, 0);
});

test('81: a credential in the pod namespace is referenced as is, never copied', async () => {
  const ism: ImageSetMirror = {
    apiVersion: API,
    kind: 'ImageSetMirror',
    metadata: { name: 'local', namespace: 'ns-foo', uid: 'u2' },
    spec: {
      priority: -1,
      filter: { include: [{ image: '.*' }] },
      mirrors: [{ registry: 'harbor.example.com', path: 'm', credentialSecret: { name: 'harbor' } }],
    },
  };
  const w = world({
    crs: { isms: [ism] },
    secrets: [
      { metadata: { name: 'harbor', namespace: 'ns-foo' }, type: 'kubernetes.io/dockerconfigjson', data: {} },
    ],
  });
  const r = await admit(create(pod()), w.deps);
  assert.equal(r.mutated.spec?.containers[0]?.image, 'harbor.example.com/m/library/nginx:1.27');
  assert.deepEqual(r.mutated.spec?.imagePullSecrets, [{ name: 'harbor' }]);
  assert.equal(r.decisions[0]?.reason, 'Priority');
  assert.equal(w.upserts.length, 0);
});

test('a mirror pull secret, not the push credential, is what reaches the app namespace', async () => {
  const pull: V1Secret = {
    metadata: { name: 'harbor-pull', namespace: 'kuik-system' },
    type: 'kubernetes.io/dockerconfigjson',
    data: { x: 'eA==' },
  };
  const w = world({
    crs: {
      cisms: [
        cism({
          credentialSecret: { name: 'enix-harbor-global', namespace: 'kuik-system' },
          pullSecret: { name: 'harbor-pull', namespace: 'kuik-system' },
        }),
      ],
    },
    secrets: [HARBOR_SECRET, pull],
    registry: { 'docker.io/library/nginx:1.27': 'NotFound' },
  });
  await admit(create(pod()), w.deps);
  assert.equal(w.upserts.length, 1);
  assert.ok(w.upserts[0]?.metadata?.name?.startsWith('kuik-harbor-pull-'));
  assert.deepEqual(w.upserts[0]?.data, pull.data);
});

test('a failed secret copy falls through to the next available alternative', async () => {
  const second: Mirror = { registry: 'open.example.com', path: '' };
  const c = cism({ credentialSecret: { name: 'enix-harbor-global', namespace: 'kuik-system' } });
  c.spec.mirrors!.push(second);
  const w = world({
    crs: { cisms: [c] },
    secrets: [HARBOR_SECRET],
    registry: { 'docker.io/library/nginx:1.27': 'NotFound' },
  });
  w.deps.upsertSecret = async () => {
    throw new Error('forbidden');
  };
  const r = await admit(create(pod()), w.deps);
  assert.equal(r.mutated.spec?.containers[0]?.image, 'open.example.com/library/nginx:1.27');
  assert.equal(r.mutated.spec?.imagePullSecrets, undefined);
});

test('fixed §4.6 quirk: a discarded original with one alternative left routes to it', async () => {
  const ris: ReplicatedImageSet = {
    apiVersion: API,
    kind: 'ReplicatedImageSet',
    metadata: { name: 'r', namespace: 'ns-foo', uid: 'u3' },
    spec: {
      upstreams: [
        { registry: 'docker.io', path: '', discardAlternative: true, imageFilter: { include: ['.*'] } },
        { registry: 'mirror.example.com', path: '', imageFilter: { include: ['.*'] } },
      ],
    },
  };
  const w = world({ crs: { riss: [ris] } });
  const r = await admit(create(pod()), w.deps);
  assert.equal(r.mutated.spec?.containers[0]?.image, 'mirror.example.com/library/nginx:1.27');
  assert.equal(r.decisions[0]?.reason, 'OnlyAlternative');
});

test('init containers are routed and recorded; a reinvocation leaves them alone', async () => {
  const w = world({ crs: { cisms: [cism()] }, registry: { 'docker.io/library/alpine:3': 'NotFound' } });
  const p = pod({
    spec: {
      containers: [{ name: 'c', image: 'nginx:1.27' }],
      initContainers: [{ name: 'setup', image: 'alpine:3' }],
    },
  });
  const r = await admit(create(p), w.deps);
  assert.equal(r.mutated.spec?.initContainers?.[0]?.image, 'harbor.example.com/mirror/library/alpine:3');
  assert.equal(
    r.mutated.metadata?.annotations?.['kuik.enix.io/original-images'],
    '{"c":"nginx:1.27","init:setup":"alpine:3"}',
  );
  const again = await admit(create(r.mutated), w.deps);
  assert.deepEqual(again.mutated, r.mutated);
});

test('a pod with an unreadable pull secret is still admitted and routed', async () => {
  const w = world({ crs: { cisms: [cism()] }, registry: { 'docker.io/library/nginx:1.27': 'NotFound' } });
  w.deps.getSecret = async () => {
    throw new Error('etcd timeout');
  };
  const r = await admit(
    create(
      pod({ spec: { containers: [{ name: 'c', image: 'nginx:1.27' }], imagePullSecrets: [{ name: 'x' }] } }),
    ),
    w.deps,
  );
  assert.equal(r.mutated.spec?.containers[0]?.image, 'harbor.example.com/mirror/library/nginx:1.27');
  assert.ok(r.notes.some((n) => n.includes('unreadable')));
});

test('Pod UPDATE: an alternative needing a pull secret the pod lacks is not used (the field is immutable)', async () => {
  const w = world({
    crs: { cisms: [cism({ credentialSecret: { name: 'enix-harbor-global', namespace: 'kuik-system' } })] },
    secrets: [HARBOR_SECRET],
    registry: { 'docker.io/library/nginx:1.28': 'NotFound' },
  });
  const old = pod();
  const next = structuredClone(old);
  next.spec!.containers[0]!.image = 'nginx:1.28';
  const r = await admit(
    { operation: 'UPDATE', namespace: 'ns-foo', dryRun: false, object: next, oldObject: old },
    w.deps,
  );
  assert.equal(r.mutated.spec?.containers[0]?.image, 'nginx:1.28');
  assert.equal(r.mutated.spec?.imagePullSecrets, undefined);
  assert.equal(w.upserts.length, 0);
  // Once the pod lists the copy (it was routed at creation), an update can route through it.
  next.spec!.imagePullSecrets = [{ name: 'kuik-enix-harbor-global-89a26e25fb568052' }];
  old.spec!.imagePullSecrets = next.spec!.imagePullSecrets;
  const r2 = await admit(
    { operation: 'UPDATE', namespace: 'ns-foo', dryRun: false, object: next, oldObject: old },
    w.deps,
  );
  assert.equal(r2.mutated.spec?.containers[0]?.image, 'harbor.example.com/mirror/library/nginx:1.28');
  assert.deepEqual(r2.mutated.spec?.imagePullSecrets, next.spec!.imagePullSecrets);
});

test("a rejected image is shown cut to 256 characters in notes (its length is the sender's)", () => {
  assert.equal(excerpt('Bad:Image'), '"Bad:Image"');
  const shown = excerpt(`x${'A'.repeat(2 * 1024 * 1024)}`);
  assert.ok(shown.length < 300, String(shown.length));
  assert.match(shown, /… \(2097153 characters\)$/);
});

test('3 containers rerouted through one cluster-wide mirror: its pull secret copied and listed once', async () => {
  const { deps, upserts } = world({
    crs: { cisms: [cism({ credentialSecret: { name: 'enix-harbor-global', namespace: 'kuik-system' } })] },
    secrets: [HARBOR_SECRET],
    registry: {
      'docker.io/library/nginx:1.27': 'NotFound',
      'docker.io/library/redis:7': 'NotFound',
      'docker.io/library/busybox:1': 'NotFound',
    },
  });
  const r = await admit(
    create(
      pod({}, [
        { name: 'a', image: 'nginx:1.27', imagePullPolicy: 'IfNotPresent' },
        { name: 'b', image: 'redis:7', imagePullPolicy: 'IfNotPresent' },
        { name: 'c', image: 'busybox:1', imagePullPolicy: 'IfNotPresent' },
      ]),
    ),
    deps,
  );
  assert.deepEqual(
    r.mutated.spec?.containers.map((c) => c.image),
    [
      'harbor.example.com/mirror/library/nginx:1.27',
      'harbor.example.com/mirror/library/redis:7',
      'harbor.example.com/mirror/library/busybox:1',
    ],
  );
  assert.deepEqual(r.mutated.spec?.imagePullSecrets, [{ name: 'kuik-enix-harbor-global-89a26e25fb568052' }]);
  assert.equal(upserts.length, 1);
});

const withModels = (pullPolicy = 'IfNotPresent') =>
  pod({
    spec: {
      containers: [{ name: 'c', image: 'nginx:1.27', imagePullPolicy: 'IfNotPresent' }],
      volumes: [{ name: 'models', image: { reference: 'quay.io/org/models:v2', pullPolicy } }],
    },
  });

test('an image volume whose original is missing is routed to the mirror like a container, keyed volume:<name>', async () => {
  const { deps, upserts } = world({
    crs: { cisms: [cism({ credentialSecret: { name: 'enix-harbor-global', namespace: 'kuik-system' } })] },
    secrets: [HARBOR_SECRET],
    registry: { 'quay.io/org/models:v2': 'NotFound' },
  });
  const r = await admit(create(withModels()), deps);
  assert.equal(r.mutated.spec?.volumes?.[0]?.image?.reference, 'harbor.example.com/mirror/org/models:v2');
  assert.equal(r.mutated.spec?.volumes?.[0]?.image?.pullPolicy, 'IfNotPresent', 'pullPolicy untouched');
  assert.equal(
    r.mutated.spec?.containers[0]?.image,
    'nginx:1.27',
    'the container kept its available original',
  );
  // The kubelet pulls image volumes with the pod's pull secrets: the mirror's goes there.
  assert.deepEqual(r.mutated.spec?.imagePullSecrets, [{ name: 'kuik-enix-harbor-global-89a26e25fb568052' }]);
  assert.equal(upserts.length, 1);
  const a = r.mutated.metadata?.annotations ?? {};
  assert.equal(
    a['kuik.enix.io/original-images'],
    '{"c":"nginx:1.27","volume:models":"quay.io/org/models:v2"}',
  );
  assert.equal(a['kuik.enix.io/rewritten-by'], '{"volume:models":"ClusterImageSetMirror/global"}');
  assert.equal(a['kuik.enix.io/reason'], '{"c":"OriginalAvailable","volume:models":"OnFailure"}');
  const d = JSON.parse(a['kuik.enix.io/decisions'] ?? '{}');
  assert.equal(d['volume:models'].rejected[0].result, 'NotFound');
  const decision = r.decisions.find((x) => x.key === 'volume:models');
  assert.deepEqual([decision?.slot, decision?.container], ['volumes', 'models']);
});

test('an image volume with pullPolicy Never is recorded but not routed, as a container would be', async () => {
  const { deps, probes } = world({
    crs: { cisms: [cism()] },
    registry: { 'quay.io/org/models:v2': 'NotFound' },
  });
  const r = await admit(create(withModels('Never')), deps);
  assert.equal(r.mutated.spec?.volumes?.[0]?.image?.reference, 'quay.io/org/models:v2');
  assert.ok(!probes.some((p) => p.image.includes('models')));
});

test('imageVolumes off: the volume keeps its reference, unrecorded, and nothing is probed for it', async () => {
  const { deps, probes } = world({
    crs: { cisms: [cism()] },
    registry: { 'quay.io/org/models:v2': 'NotFound' },
    imageVolumes: false,
  });
  const r = await admit(create(withModels()), deps);
  assert.equal(r.mutated.spec?.volumes?.[0]?.image?.reference, 'quay.io/org/models:v2');
  assert.equal(r.mutated.metadata?.annotations?.['kuik.enix.io/original-images'], '{"c":"nginx:1.27"}');
  assert.ok(!probes.some((p) => p.image.includes('models')));
});

test('quota: a mirror refused for quota is chosen over an original that is gone (QuotaLimited), and is not stale', async () => {
  const { deps, stale } = world({
    crs: { cisms: [cism()] },
    registry: {
      'docker.io/library/nginx:1.27': 'NotFound',
      'harbor.example.com/mirror/library/nginx:1.27': 'QuotaExceeded',
    },
  });
  const r = await admit(create(pod()), deps);
  assert.equal(r.decisions[0]?.reason, 'QuotaLimited');
  assert.equal(r.mutated.spec?.containers[0]?.image, 'harbor.example.com/mirror/library/nginx:1.27');
  assert.deepEqual(
    r.decisions[0]?.rejected.map((x) => x.result),
    ['NotFound'],
  );
  assert.deepEqual(stale, []);
});

test('quota: an original refused for quota with nothing else available is kept as QuotaLimited, not AllUnavailable', async () => {
  const { deps } = world({
    crs: { cisms: [cism()] },
    registry: {
      'docker.io/library/nginx:1.27': 'QuotaExceeded',
      'harbor.example.com/mirror/library/nginx:1.27': 'NotFound',
    },
  });
  const r = await admit(create(pod()), deps);
  assert.equal(r.decisions[0]?.reason, 'QuotaLimited');
  assert.equal(r.decisions[0]?.by, 'original');
  assert.equal(r.mutated.spec?.containers[0]?.image, 'nginx:1.27');
  assert.deepEqual(
    r.decisions[0]?.rejected.map((x) => x.result),
    ['NotFound'],
  );
});

test('quota: an original refused for quota still yields to an available mirror, the refusal named in the decision', async () => {
  const { deps } = world({
    crs: { cisms: [cism()] },
    registry: { 'docker.io/library/nginx:1.27': 'QuotaExceeded' },
  });
  const r = await admit(create(pod()), deps);
  assert.equal(r.decisions[0]?.reason, 'OnFailure');
  assert.deepEqual(
    r.decisions[0]?.rejected.map((x) => x.result),
    ['QuotaExceeded'],
  );
});
