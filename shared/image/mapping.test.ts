import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ReplicatedUpstream } from '../crd/types.ts';
import {
  collectMirrorPrefixes,
  isMirroredImage,
  mapReplicatedUpstreams,
  mirrorForReference,
  mirrorPrefix,
  mirrorReference,
  type UpstreamMapping,
} from './mapping.ts';
import { type ImageReference, parseReference } from './reference.ts';

const SHA = `sha256:${'0123456789abcdef'.repeat(4)}`;

function ref(s: string): ImageReference {
  const r = parseReference(s);
  assert.ok(r.ok, s);
  return r.value;
}

function refs(m: UpstreamMapping): string[] {
  assert.ok(m.matched, 'expected an upstream to match');
  return m.alternatives.map((a) => a.reference);
}

describe('§2.4 mirror mapping table', () => {
  const rows: [string, { registry: string; path: string }, string][] = [
    [
      'docker.io/library/nginx:1.29',
      { registry: 'harbor.example.com', path: '/mirror' },
      'harbor.example.com/mirror/library/nginx:1.29',
    ],
    [
      'docker.io/library/nginx',
      { registry: 'harbor.example.com', path: 'mirror/' },
      'harbor.example.com/mirror/library/nginx',
    ],
    [
      'quay.io/prometheus/node-exporter:v1',
      { registry: 'harbor.example.com', path: '' },
      'harbor.example.com/prometheus/node-exporter:v1',
    ],
    [
      'registry.k8s.io/kube-apiserver:v1.30.0',
      { registry: 'reg:5000', path: '/k8s' },
      'reg:5000/k8s/kube-apiserver:v1.30.0',
    ],
    [
      'docker-registry.example.com/my-app/api:v2',
      { registry: 'fast-registry.internal', path: '/my-app-cache' },
      'fast-registry.internal/my-app-cache/my-app/api:v2',
    ],
    [
      'rewritten.example.com/library/nginx:1.25',
      { registry: 'mirror.example.com', path: 'cache' },
      'mirror.example.com/cache/library/nginx:1.25',
    ],
  ];
  for (const [source, mirror, want] of rows) {
    test(`${source} in {${mirror.registry}, ${JSON.stringify(mirror.path)}} is ${want}`, () => {
      assert.equal(mirrorReference(ref(source), mirror), want);
    });
  }

  test('QUIRK kept: images of two registries with the same path share one mirror location', () => {
    const m = { registry: 'harbor.example.com', path: 'mirror' };
    assert.equal(
      mirrorReference(ref('docker.io/bitnami/redis:7'), m),
      mirrorReference(ref('ghcr.io/bitnami/redis:7'), m),
    );
  });

  test('a digest-only reference maps with its digest', () => {
    assert.equal(
      mirrorReference(ref(`nginx@${SHA}`), { registry: 'harbor.example.com', path: 'mirror' }),
      `harbor.example.com/mirror/library/nginx@${SHA}`,
    );
  });

  test('a tag+digest reference maps with both', () => {
    assert.equal(
      mirrorReference(ref(`nginx:1.27@${SHA}`), { registry: 'harbor.example.com', path: 'mirror' }),
      `harbor.example.com/mirror/library/nginx:1.27@${SHA}`,
    );
  });

  test('mirrorPrefix is cleanJoin(registry, path)', () => {
    assert.equal(mirrorPrefix({ registry: 'reg:5000', path: '/k8s/' }), 'reg:5000/k8s');
    assert.equal(mirrorPrefix({}), '');
  });
});

describe('§2.5 replicated-upstream mapping', () => {
  const thanos: ReplicatedUpstream[] = [
    { registry: 'docker.io', path: '/thanosio/thanos', imageFilter: { include: ['/thanosio/thanos:.+'] } },
    { registry: 'quay.io', path: '/thanos/thanos/', imageFilter: { include: ['/thanos/thanos:.+'] } },
  ];

  test('thanos example: docker.io image matches upstream 0, suffix is the tag', () => {
    const m = mapReplicatedUpstreams(ref('thanosio/thanos:v0.35.0').string, thanos);
    assert.ok(m.matched);
    assert.equal(m.matchIndex, 0);
    assert.equal(m.discardOriginal, false);
    assert.deepEqual(refs(m), ['docker.io/thanosio/thanos:v0.35.0', 'quay.io/thanos/thanos:v0.35.0']);
    assert.deepEqual(
      m.alternatives.map((a) => a.index),
      [0, 1],
    );
  });

  test('thanos example from the quay side maps back to docker.io', () => {
    const m = mapReplicatedUpstreams('quay.io/thanos/thanos:v0.35.0', thanos);
    assert.deepEqual(refs(m), ['docker.io/thanosio/thanos:v0.35.0', 'quay.io/thanos/thanos:v0.35.0']);
  });

  test('enix example: three registries with the same path', () => {
    const include = ['/enix/x509-certificate-exporter:.+'];
    const ups: ReplicatedUpstream[] = ['quay.io', 'ghcr.io', 'docker.io'].map((registry) => ({
      registry,
      path: '/enix/',
      imageFilter: { include },
    }));
    const m = mapReplicatedUpstreams('quay.io/enix/x509-certificate-exporter:3.0', ups);
    assert.deepEqual(refs(m), [
      'quay.io/enix/x509-certificate-exporter:3.0',
      'ghcr.io/enix/x509-certificate-exporter:3.0',
      'docker.io/enix/x509-certificate-exporter:3.0',
    ]);
  });

  test('registry-only upstreams: suffix is the whole repository path', () => {
    const ups: ReplicatedUpstream[] = [
      { registry: 'docker.io', path: '', imageFilter: { include: ['.*'] } },
      { registry: 'mirror.example.com', path: '' },
    ];
    const m = mapReplicatedUpstreams('docker.io/library/redis:7', ups);
    assert.deepEqual(refs(m), ['docker.io/library/redis:7', 'mirror.example.com/library/redis:7']);
  });

  test('the filter sees the remainder after the registry, with its leading slash', () => {
    const ups: ReplicatedUpstream[] = [
      { registry: 'docker.io', path: '', imageFilter: { include: ['library/.*'] } },
    ];
    assert.equal(mapReplicatedUpstreams('docker.io/library/redis:7', ups).matched, false);
  });

  test('an upstream without imageFilter never matches but is still a target', () => {
    const ups: ReplicatedUpstream[] = [
      { registry: 'mirror.example.com', path: '' },
      { registry: 'docker.io', path: '', imageFilter: { include: ['/library/.*'] } },
    ];
    assert.equal(mapReplicatedUpstreams('mirror.example.com/library/redis:7', ups).matched, false);
    assert.deepEqual(refs(mapReplicatedUpstreams('docker.io/library/redis:7', ups)), [
      'mirror.example.com/library/redis:7',
      'docker.io/library/redis:7',
    ]);
  });

  test('the first matching upstream in declaration order wins', () => {
    const ups: ReplicatedUpstream[] = [
      { registry: 'docker.io', path: '/library', imageFilter: { include: ['/library/.*'] } },
      { registry: 'docker.io', path: '', imageFilter: { include: ['.*'] } },
    ];
    const m = mapReplicatedUpstreams('docker.io/library/redis:7', ups);
    assert.ok(m.matched);
    assert.equal(m.matchIndex, 0);
  });

  test('no matching upstream: the CR contributes nothing', () => {
    const m = mapReplicatedUpstreams('ghcr.io/foo/bar:1', thanos);
    assert.deepEqual(m, { matched: false, reason: 'no-match', invalid: [] });
  });

  test('discardAlternative on the match drops the original and that upstream', () => {
    const ups: ReplicatedUpstream[] = [
      { registry: 'docker.io', path: '', discardAlternative: true, imageFilter: { include: ['.*'] } },
      { registry: 'mirror.example.com', path: '' },
    ];
    const m = mapReplicatedUpstreams('docker.io/library/redis:7', ups);
    assert.ok(m.matched);
    assert.equal(m.discardOriginal, true);
    assert.deepEqual(refs(m), ['mirror.example.com/library/redis:7']);
  });

  test('discardAlternative on a non-matching upstream only removes it as a target', () => {
    const ups: ReplicatedUpstream[] = [
      { registry: 'docker.io', path: '', imageFilter: { include: ['.*'] } },
      { registry: 'slow.example.com', path: '', discardAlternative: true },
      { registry: 'mirror.example.com', path: '' },
    ];
    const m = mapReplicatedUpstreams('docker.io/library/redis:7', ups);
    assert.ok(m.matched);
    assert.equal(m.discardOriginal, false);
    assert.deepEqual(refs(m), ['docker.io/library/redis:7', 'mirror.example.com/library/redis:7']);
  });

  test('an upstream whose filter does not compile is skipped as match and as target, and reported', () => {
    const ups: ReplicatedUpstream[] = [
      { registry: 'docker.io', path: '', imageFilter: { include: ['(broken'] } },
      { registry: 'mirror.example.com', path: '', imageFilter: { include: ['.*'] } },
      { registry: 'docker.io', path: '', imageFilter: { include: ['.*'] } },
    ];
    const m = mapReplicatedUpstreams('docker.io/library/redis:7', ups);
    assert.ok(m.matched);
    assert.equal(m.matchIndex, 2);
    assert.deepEqual(refs(m), ['mirror.example.com/library/redis:7', 'docker.io/library/redis:7']);
    assert.equal(m.invalid.length, 1);
    assert.equal(m.invalid[0]?.index, 0);
    assert.equal(m.invalid[0]?.error.field, 'spec.upstreams[0].imageFilter.include[0]');
  });

  test('QUIRK fixed: the registry prefix needs a boundary (docker.io does not match docker.io2)', () => {
    const ups: ReplicatedUpstream[] = [
      { registry: 'docker.io', path: '', imageFilter: { include: ['.*'] } },
      { registry: 'mirror.example.com', path: '' },
    ];
    assert.equal(mapReplicatedUpstreams('docker.io2/library/redis:7', ups).matched, false);
  });

  test('QUIRK fixed: an image outside the matching upstream path yields no garbage alternatives', () => {
    const ups: ReplicatedUpstream[] = [
      { registry: 'docker.io', path: '/thanosio/thanos', imageFilter: { include: ['.*'] } },
      { registry: 'quay.io', path: '/thanos/thanos' },
    ];
    const m = mapReplicatedUpstreams('docker.io/library/nginx:1', ups);
    assert.deepEqual(m, { matched: false, reason: 'outside-upstream-path', invalid: [] });
  });

  test('QUIRK fixed: a repository that only shares a name prefix is outside the upstream path', () => {
    const ups: ReplicatedUpstream[] = [
      { registry: 'docker.io', path: '/thanosio/thanos', imageFilter: { include: ['.*'] } },
      { registry: 'quay.io', path: '/thanos/thanos' },
    ];
    assert.equal(mapReplicatedUpstreams('docker.io/thanosio/thanos-extra:1', ups).matched, false);
  });

  test('a digest-pinned image maps to every upstream with the same digest', () => {
    const ups: ReplicatedUpstream[] = [
      {
        registry: 'docker.io',
        path: '/thanosio/thanos',
        imageFilter: { include: ['/thanosio/thanos[:@].+'] },
      },
      { registry: 'quay.io', path: '/thanos/thanos' },
    ];
    assert.deepEqual(refs(mapReplicatedUpstreams(`docker.io/thanosio/thanos@${SHA}`, ups)), [
      `docker.io/thanosio/thanos@${SHA}`,
      `quay.io/thanos/thanos@${SHA}`,
    ]);
    assert.deepEqual(refs(mapReplicatedUpstreams(`docker.io/thanosio/thanos:v1@${SHA}`, ups)), [
      `docker.io/thanosio/thanos:v1@${SHA}`,
      `quay.io/thanos/thanos:v1@${SHA}`,
    ]);
  });

  test('no upstreams at all: nothing matches', () => {
    assert.equal(mapReplicatedUpstreams('docker.io/library/redis:7', undefined).matched, false);
  });
});

describe('§2.6 mirror-loop protection', () => {
  const cism = { metadata: {}, spec: { mirrors: [{ registry: 'harbor.example.com', path: '/mirror' }] } };
  const ismA = {
    metadata: { namespace: 'a' },
    spec: { mirrors: [{ registry: 'reg-a.example.com', path: '' }] },
  };
  const ismB = {
    metadata: { namespace: 'b' },
    spec: { mirrors: [{ registry: 'reg-b.example.com', path: 'x' }] },
  };

  test('a CISM mirror prefix excludes its copies for pods of every namespace', () => {
    const p = collectMirrorPrefixes([cism], [ismA, ismB], { forCluster: false });
    assert.equal(isMirroredImage('harbor.example.com/mirror/library/nginx:1', 'a', p), true);
    assert.equal(isMirroredImage('harbor.example.com/mirror/library/nginx:1', 'zzz', p), true);
  });

  test('reconciling an ISM, another namespace ISM mirror does not count', () => {
    const p = collectMirrorPrefixes([cism], [ismA, ismB], { forCluster: false });
    assert.equal(isMirroredImage('reg-a.example.com/library/nginx:1', 'a', p), true);
    assert.equal(isMirroredImage('reg-a.example.com/library/nginx:1', 'b', p), false);
  });

  test('reconciling a CISM, ISM mirrors of all namespaces count', () => {
    const p = collectMirrorPrefixes([cism], [ismA, ismB], { forCluster: true });
    assert.equal(isMirroredImage('reg-a.example.com/library/nginx:1', 'b', p), true);
    assert.equal(isMirroredImage('reg-b.example.com/x/library/nginx:1', 'zzz', p), true);
  });

  test('an ordinary image is not a mirror copy', () => {
    const p = collectMirrorPrefixes([cism], [ismA], { forCluster: true });
    assert.equal(isMirroredImage('docker.io/library/nginx:1', 'a', p), false);
  });

  test('QUIRK fixed: a sibling path sharing a name prefix is not a mirror copy', () => {
    const p = collectMirrorPrefixes([cism], [], { forCluster: true });
    assert.equal(isMirroredImage('harbor.example.com/mirror2/library/nginx:1', 'a', p), false);
    assert.equal(isMirroredImage('harbor.example.com/mirrors/library/nginx:1', 'a', p), false);
  });

  test('QUIRK fixed: a mirror with neither registry nor path does not exclude every image', () => {
    const p = collectMirrorPrefixes([{ metadata: {}, spec: { mirrors: [{}] } }], [], { forCluster: true });
    assert.equal(p.cluster.length, 0);
    assert.equal(isMirroredImage('docker.io/library/nginx:1', 'a', p), false);
  });
});

describe('§2.7 choosing the mirror that owns a reference', () => {
  const mirrors = [
    { registry: 'harbor.example.com', path: '', credentialSecret: { name: 'root' } },
    { registry: 'harbor.example.com', path: '/team', credentialSecret: { name: 'team' } },
    { registry: 'harbor.example.com', path: 'team/', credentialSecret: { name: 'team-dup' } },
  ];

  test('the longest prefix wins', () => {
    assert.equal(
      mirrorForReference(mirrors, 'harbor.example.com/team/library/nginx:1')?.credentialSecret?.name,
      'team',
    );
  });

  test('ties go to the first declared mirror', () => {
    assert.equal(
      mirrorForReference(mirrors.slice(1), 'harbor.example.com/team/x:1')?.credentialSecret?.name,
      'team',
    );
  });

  test('a sibling path falls back to the registry-level mirror', () => {
    assert.equal(mirrorForReference(mirrors, 'harbor.example.com/teams/x:1')?.credentialSecret?.name, 'root');
  });

  test('no mirror owns a reference of another registry', () => {
    assert.equal(mirrorForReference(mirrors, 'docker.io/library/nginx:1'), undefined);
  });
});
