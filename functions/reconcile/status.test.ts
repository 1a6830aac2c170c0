// §5.3 bookkeeping: the §10.8 scenarios that are about status (107–110, 113–121, 125–127).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import type { ClusterImageSetMirror, ImageSetMirror, MatchingImage, Mirror } from '#shared/crd/types.ts';
import { compileSelection } from '#shared/filter/filter.ts';
import { currentImages, originalImages } from '#shared/kube/pod-images.ts';
import { rfc3339 } from '#shared/time.ts';
import { syncMatchingImages } from './status.ts';

const NOW = Date.parse('2026-11-25T10:00:00.123Z');
const pod = (
  image: string,
  opts: {
    original?: string;
    ns?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  } = {},
): V1Pod => ({
  metadata: {
    name: 'p',
    namespace: opts.ns ?? 'default',
    labels: opts.labels ?? {},
    annotations: {
      ...opts.annotations,
      ...(opts.original ? { 'kuik.enix.io/original-images': JSON.stringify({ c: opts.original }) } : {}),
    },
  },
  spec: { containers: [{ name: 'c', image }] },
});

function sync(
  cr: ImageSetMirror | ClusterImageSetMirror,
  pods: V1Pod[],
  previous: MatchingImage[],
  mirrorPrefixes: string[] = [],
) {
  const sel = compileSelection(cr);
  assert.ok(sel.ok);
  return syncMatchingImages({
    pods: pods.filter((p) => sel.value.podMatcher(p)),
    previous,
    imageFilter: sel.value.imageFilter,
    isMirrored: (image) => mirrorPrefixes.some((p) => image.startsWith(`${p}/`)),
    mirrors: cr.spec.mirrors ?? [],
    now: NOW,
  }).matchingImages;
}
const ism = (
  filter: ImageSetMirror['spec']['filter'],
  mirrors: Mirror[] = [{ registry: 'mirror.example.com', path: 'cache' }],
): ImageSetMirror => ({
  apiVersion: 'kuik.enix.io/v1alpha1',
  kind: 'ImageSetMirror',
  metadata: { name: 'm', namespace: 'default' },
  spec: { filter, mirrors },
});

test('107 / 110: a rewritten pod uses both its current and its original image', () => {
  const p = pod('b.example.com/test/foo:v1', { original: 'a.example.com/test/foo:v1' });
  assert.deepEqual(currentImages(p), ['b.example.com/test/foo:v1']);
  assert.deepEqual(originalImages(p), ['a.example.com/test/foo:v1']);
});

test('108 / 117: an original kept in use by a rerouted pod keeps its entry (kuik #567)', () => {
  const prev: MatchingImage[] = [
    {
      image: 'a.example.com/test/foo:v1',
      mirrors: [{ image: 'b.example.com/test/foo:v1', mirroredAt: '2026-01-01T00:00:00Z' }],
    },
  ];
  const out = sync(
    ism({ include: [{ image: 'a\\.example\\.com/.*' }] }, [{ registry: 'b.example.com', path: '' }]),
    [pod('b.example.com/test/foo:v1', { original: 'a.example.com/test/foo:v1' })],
    prev,
    ['b.example.com'],
  );
  assert.equal(out.length, 1);
  assert.equal(out[0]!.image, 'a.example.com/test/foo:v1');
  assert.equal(out[0]!.unusedSince, undefined);
  assert.equal(out[0]!.mirrors![0]!.mirroredAt, '2026-01-01T00:00:00Z');
});

test('109 / 116: an original never creates an entry by itself', () => {
  assert.deepEqual(
    sync(
      ism({ include: [{ image: 'a\\.example\\.com/.*' }] }),
      [pod('b.example.com/test/foo:v1', { original: 'a.example.com/test/foo:v1' })],
      [],
    ),
    [],
  );
  assert.deepEqual(
    sync(
      ism({ include: [{ image: 'docker\\.io/library/nginx:.*' }] }),
      [pod('rewritten.example.com/library/nginx:1.25', { original: 'docker.io/library/nginx:1.25' })],
      [],
    ),
    [],
  );
});

test('113 / 114: an entry nobody uses gets unusedSince = now (seconds), and keeps it afterwards', () => {
  const cr = ism({ include: [{ image: 'docker\\.io/library/nginx:.*' }] });
  const prev: MatchingImage[] = [
    {
      image: 'docker.io/library/nginx:latest',
      mirrors: [{ image: 'mirror.example.com/cache/library/nginx:latest' }],
    },
  ];
  const once = sync(cr, [], prev);
  assert.equal(once[0]!.unusedSince, '2026-11-25T10:00:00Z');
  const twice = syncMatchingImages({
    pods: [],
    previous: once,
    imageFilter: () => true,
    isMirrored: () => false,
    mirrors: cr.spec.mirrors!,
    now: NOW + 3_600_000,
  });
  assert.equal(twice.matchingImages[0]!.unusedSince, '2026-11-25T10:00:00Z');
});

test('115: a pod running the rewritten image keeps that entry under a filter on it', () => {
  const prev: MatchingImage[] = [
    {
      image: 'rewritten.example.com/library/nginx:1.25',
      mirrors: [{ image: 'mirror.example.com/cache/library/nginx:1.25', mirroredAt: '2026-01-01T00:00:00Z' }],
    },
  ];
  const out = sync(
    ism({ include: [{ image: 'rewritten\\.example\\.com/.*' }] }),
    [pod('rewritten.example.com/library/nginx:1.25', { original: 'docker.io/library/nginx:1.25' })],
    prev,
  );
  assert.equal(out.length, 1);
  assert.equal(out[0]!.unusedSince, undefined);
});

test('118–121: pods excluded by label or annotation filters do not keep an entry in use', () => {
  const prev: MatchingImage[] = [
    {
      image: 'docker.io/library/nginx:1',
      mirrors: [{ image: 'mirror.example.com/cache/library/nginx:1', mirroredAt: 't' }],
    },
  ];
  const nginx = { image: 'docker\\.io/library/nginx:.*' };
  assert.ok(
    sync(
      ism({ include: [nginx], exclude: [{ label: 'cnpg.io/podRole=instance' }] }),
      [pod('nginx:1', { labels: { 'cnpg.io/podRole': 'instance' } })],
      prev,
    )[0]!.unusedSince,
  );
  assert.equal(
    sync(
      ism({ include: [nginx], exclude: [{ label: 'cnpg.io/podRole=instance' }] }),
      [pod('nginx:1', { labels: { app: 'foo' } })],
      prev,
    )[0]!.unusedSince,
    undefined,
  );
  assert.ok(
    sync(
      ism({ include: [nginx, { label: 'app=mirror-me' }] }),
      [pod('nginx:1', { labels: { app: 'skip-me' } })],
      prev,
    )[0]!.unusedSince,
  );
  assert.ok(
    sync(
      ism({ include: [nginx, { annotation: 'my.company.com/custom-annotation' }] }),
      [pod('nginx:1')],
      prev,
    )[0]!.unusedSince,
  );
});

test('125–127: a CISM namespace filter decides which pods keep an entry in use', () => {
  const cism = (filter: ClusterImageSetMirror['spec']['filter']): ClusterImageSetMirror => ({
    apiVersion: 'kuik.enix.io/v1alpha1',
    kind: 'ClusterImageSetMirror',
    metadata: { name: 'c' },
    spec: { filter, mirrors: [{ registry: 'mirror.example.com', path: 'cache' }] },
  });
  const prev: MatchingImage[] = [
    {
      image: 'docker.io/library/nginx:1',
      mirrors: [{ image: 'mirror.example.com/cache/library/nginx:1', mirroredAt: 't' }],
    },
  ];
  const nginx = { image: 'docker\\.io/library/nginx:.*' };
  assert.ok(
    sync(
      cism({ include: [nginx, { namespace: 'ns-in-scope' }] }),
      [pod('nginx:1', { ns: 'ns-out-scope' })],
      prev,
    )[0]!.unusedSince,
  );
  assert.equal(
    sync(
      cism({ include: [nginx, { namespace: 'ns-in-scope' }] }),
      [pod('nginx:1', { ns: 'ns-out-scope' }), pod('nginx:1', { ns: 'ns-in-scope' })],
      prev,
    )[0]!.unusedSince,
    undefined,
  );
  assert.ok(
    sync(
      cism({ include: [nginx], exclude: [{ namespace: 'ns-out-scope' }] }),
      [pod('nginx:1', { ns: 'ns-out-scope' })],
      prev,
    )[0]!.unusedSince,
  );
});

test('a new image gets one pending mirror per spec mirror; narrowing the filter marks instant expiry', () => {
  const cr = ism({ include: [{ image: '.*' }] }, [
    { registry: 'm1.example.com', path: 'a' },
    { registry: 'm2.example.com', path: '' },
  ]);
  const out = sync(cr, [pod('nginx:1.27')], []);
  assert.deepEqual(out, [
    {
      image: 'docker.io/library/nginx:1.27',
      mirrors: [
        { image: 'm1.example.com/a/library/nginx:1.27' },
        { image: 'm2.example.com/library/nginx:1.27' },
      ],
    },
  ]);
  const narrowed = sync(ism({ include: [{ image: 'quay\\.io/.*' }] }), [pod('nginx:1.27')], out);
  assert.equal(narrowed[0]!.unusedSince, '0001-01-01T01:00:00Z');
});

test('fixed #572: a mirror removed from the spec leaves the status; one added is appended', () => {
  const prev: MatchingImage[] = [
    {
      image: 'docker.io/library/nginx:1',
      mirrors: [{ image: 'old.example.com/library/nginx:1', mirroredAt: 't' }],
    },
  ];
  const out = sync(
    ism({ include: [{ image: '.*' }] }, [{ registry: 'new.example.com', path: '' }]),
    [pod('nginx:1')],
    prev,
  );
  assert.deepEqual(out[0]!.mirrors, [{ image: 'new.example.com/library/nginx:1' }]);
});

test('digest-pinned images are tracked, and mirror copies are never tracked (loop protection)', () => {
  const d = `sha256:${'c'.repeat(64)}`;
  const out = sync(
    ism({ include: [{ image: '.*' }] }),
    [pod(`nginx@${d}`), pod('mirror.example.com/cache/library/redis:7')],
    [],
    ['mirror.example.com/cache'],
  );
  assert.deepEqual(
    out.map((e) => e.image),
    [`docker.io/library/nginx@${d}`],
  );
  assert.equal(out[0]!.mirrors![0]!.image, `mirror.example.com/cache/library/nginx@${d}`);
});

test('entries are sorted by image and timestamps have second precision', () => {
  const out = sync(ism({ include: [{ image: '.*' }] }), [pod('redis:7'), pod('nginx:1')], []);
  assert.deepEqual(
    out.map((e) => e.image),
    ['docker.io/library/nginx:1', 'docker.io/library/redis:7'],
  );
  assert.equal(rfc3339(NOW), '2026-11-25T10:00:00Z');
});

const mounting = (reference: string, original?: string): V1Pod => ({
  metadata: {
    name: 'p',
    namespace: 'default',
    annotations: original
      ? { 'kuik.enix.io/original-images': JSON.stringify({ c: 'app:1', 'volume:models': original }) }
      : {},
  },
  spec: {
    containers: [{ name: 'c', image: 'app:1' }],
    ephemeralContainers: [{ name: 'dbg', image: 'busybox:1' }],
    volumes: [{ name: 'models', image: { reference } }],
  },
});

test('an image volume is an image in use: tracked, mirrored, and kept in use by its original', () => {
  assert.deepEqual(currentImages(mounting('quay.io/org/models:v2')), [
    'docker.io/library/app:1',
    'quay.io/org/models:v2',
  ]);
  const cr = ism({ include: [{ image: 'quay\\.io/.*' }] });
  const [entry] = sync(cr, [mounting('quay.io/org/models:v2')], []);
  assert.deepEqual(entry, {
    image: 'quay.io/org/models:v2',
    mirrors: [{ image: 'mirror.example.com/cache/org/models:v2' }],
  });
  // Routed to the mirror: the annotation's `volume:` original keeps the entry in use.
  const routed = mounting('mirror.example.com/cache/org/models:v2', 'quay.io/org/models:v2');
  assert.deepEqual(originalImages(routed), ['docker.io/library/app:1', 'quay.io/org/models:v2']);
  const [kept] = sync(cr, [routed], [entry!]);
  assert.equal(kept?.unusedSince, undefined);
});

test('imageVolumes off: image volumes and their recorded originals are not images in use', () => {
  const routed = mounting('mirror.example.com/cache/org/models:v2', 'quay.io/org/models:v2');
  assert.deepEqual(currentImages(routed, { imageVolumes: false }), ['docker.io/library/app:1']);
  assert.deepEqual(originalImages(routed, { imageVolumes: false }), ['docker.io/library/app:1']);
  const cr = ism({ include: [{ image: 'quay\\.io/.*' }] });
  const sel = compileSelection(cr);
  assert.ok(sel.ok);
  const r = syncMatchingImages({
    pods: [mounting('quay.io/org/models:v2')],
    previous: [],
    imageFilter: sel.value.imageFilter,
    isMirrored: () => false,
    mirrors: cr.spec.mirrors ?? [],
    now: NOW,
    imageVolumes: false,
  });
  assert.deepEqual(r.matchingImages, []);
});
