// §4.5's worked examples A–G and the ordering scenarios of §10.7 (82–104).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type {
  ClusterImageSetMirror,
  ClusterReplicatedImageSet,
  ImageSetMirror,
  Mirror,
  ReplicatedImageSet,
  ReplicatedUpstream,
} from '#shared/crd/types.ts';
import { parseReference } from '#shared/image/reference.ts';
import { type BuildOptions, buildAlternatives, describeSource, type RoutingSet } from './alternatives.ts';

const API = 'kuik.enix.io/v1alpha1' as const;
let uid = 0;
const meta = (name: string, namespace?: string) => ({
  name,
  uid: `uid-${++uid}`,
  ...(namespace ? { namespace } : {}),
});

function cism(name: string, priority: number, include: string[], mirrors: Mirror[]): ClusterImageSetMirror {
  return {
    apiVersion: API,
    kind: 'ClusterImageSetMirror',
    metadata: meta(name),
    spec: { priority, filter: { include: include.map((image) => ({ image })) }, mirrors },
  };
}
function ism(name: string, priority: number, include: string[], mirrors: Mirror[]): ImageSetMirror {
  return {
    apiVersion: API,
    kind: 'ImageSetMirror',
    metadata: meta(name, 'app'),
    spec: { priority, filter: { include: include.map((image) => ({ image })) }, mirrors },
  };
}
function cris(name: string, priority: number, upstreams: ReplicatedUpstream[]): ClusterReplicatedImageSet {
  return {
    apiVersion: API,
    kind: 'ClusterReplicatedImageSet',
    metadata: meta(name),
    spec: { priority, upstreams },
  };
}
function ris(
  name: string,
  priority: number,
  upstreams: ReplicatedUpstream[],
  extra: Partial<ReplicatedImageSet['spec']> = {},
): ReplicatedImageSet {
  return {
    apiVersion: API,
    kind: 'ReplicatedImageSet',
    metadata: meta(name, 'app'),
    spec: { priority, upstreams, ...extra },
  };
}
const up = (
  registry: string,
  path: string,
  include: string[],
  extra: Partial<ReplicatedUpstream> = {},
): ReplicatedUpstream => ({
  registry,
  path,
  imageFilter: { include },
  ...extra,
});
const set = (s: Partial<RoutingSet>): RoutingSet => ({ cisms: [], isms: [], crises: [], riss: [], ...s });
const opts: BuildOptions = { imagePullPolicy: 'IfNotPresent', honorPrioritiesOnAlwaysImagePullPolicy: false };

function images(image: string, s: Partial<RoutingSet>, o: Partial<BuildOptions> = {}): string[] {
  const r = parseReference(image);
  assert.ok(r.ok);
  return buildAlternatives(r.value, set(s), { ...opts, ...o }).alternatives.map((a) => a.image);
}

const harbor = (path: string, extra: Partial<Mirror> = {}): Mirror => ({
  registry: 'harbor.example.com',
  path,
  ...extra,
});

test('Example A: CISM priority 0 → original first, then the mirror', () => {
  assert.deepEqual(images('nginx:1.29', { cisms: [cism('g', 0, ['.*'], [harbor('/mirror')])] }), [
    'docker.io/library/nginx:1.29',
    'harbor.example.com/mirror/library/nginx:1.29',
  ]);
});

test('Example B: CISM priority -1 → the mirror before the original', () => {
  assert.deepEqual(images('nginx:1.29', { cisms: [cism('g', -1, ['.*'], [harbor('/mirror')])] }), [
    'harbor.example.com/mirror/library/nginx:1.29',
    'docker.io/library/nginx:1.29',
  ]);
});

test('Example C / 97–99: policy Always keeps the original first unless priorities are honoured', () => {
  const s = { cisms: [cism('g', -1, ['.*'], [harbor('/mirror')])] };
  assert.deepEqual(images('nginx:1.29', s, { imagePullPolicy: 'Always' }), [
    'docker.io/library/nginx:1.29',
    'harbor.example.com/mirror/library/nginx:1.29',
  ]);
  assert.deepEqual(
    images('nginx:1.29', s, { imagePullPolicy: 'Always', honorPrioritiesOnAlwaysImagePullPolicy: true }),
    ['harbor.example.com/mirror/library/nginx:1.29', 'docker.io/library/nginx:1.29'],
  );
  const s0 = { cisms: [cism('g', 0, ['.*'], [harbor('/mirror')])] };
  assert.deepEqual(
    images('nginx:1.29', s0, { imagePullPolicy: 'Always', honorPrioritiesOnAlwaysImagePullPolicy: true }),
    ['docker.io/library/nginx:1.29', 'harbor.example.com/mirror/library/nginx:1.29'],
  );
});

test('104: policy IfNotPresent with CISM priority -1 → mirror first, with or without honorPriorities', () => {
  const s = { cisms: [cism('g', -1, ['.*'], [harbor('/mirror')])] };
  for (const honor of [false, true]) {
    assert.deepEqual(
      images('nginx:1.29', s, { honorPrioritiesOnAlwaysImagePullPolicy: honor })[0],
      'harbor.example.com/mirror/library/nginx:1.29',
    );
  }
});

test('Example D / 90: CRIS upstream priorities order the alternatives; the original copy is deduplicated', () => {
  const c = cris('n', 0, [
    up('docker.io', '', ['/nginxinc/.+'], { priority: 30 }),
    up('quay.io', '', ['/nginxinc/.+'], { priority: 10 }),
    up('public.ecr.aws', '', ['/nginxinc/.+'], { priority: 20 }),
  ]);
  assert.deepEqual(images('docker.io/nginxinc/nginx-unprivileged:1.29', { crises: [c] }), [
    'docker.io/nginxinc/nginx-unprivileged:1.29',
    'quay.io/nginxinc/nginx-unprivileged:1.29',
    'public.ecr.aws/nginxinc/nginx-unprivileged:1.29',
  ]);
});

test('Example E / 89: ISM priority -10 with mirror priorities 1 and 5, then the CISM, then the original', () => {
  const c = cism('global', -1, ['.*'], [harbor('/global-mirror')]);
  const i = ism(
    'app',
    -10,
    ['docker-registry\\.example\\.com/my-app/.+'],
    [
      { registry: 'fast-registry.internal', path: '/my-app-cache', priority: 1 },
      { registry: 'harbor.example.com', path: '/my-app-mirror', priority: 5 },
    ],
  );
  assert.deepEqual(images('docker-registry.example.com/my-app/api:v2', { cisms: [c], isms: [i] }), [
    'fast-registry.internal/my-app-cache/my-app/api:v2',
    'harbor.example.com/my-app-mirror/my-app/api:v2',
    'harbor.example.com/global-mirror/my-app/api:v2',
    'docker-registry.example.com/my-app/api:v2',
  ]);
});

test('Example F: CRIS thanos plus a CISM mirrors both the original and the upstream alternative', () => {
  const c = cris('thanos', 0, [
    up('docker.io', '/thanosio/thanos', ['/thanosio/thanos:.+']),
    up('quay.io', '/thanos/thanos/', ['/thanos/thanos:.+']),
  ]);
  const m = cism('g', 0, ['.*'], [harbor('/mirror')]);
  assert.deepEqual(images('thanosio/thanos:v0.35.0', { crises: [c], cisms: [m] }), [
    'docker.io/thanosio/thanos:v0.35.0',
    'harbor.example.com/mirror/thanosio/thanos:v0.35.0',
    'harbor.example.com/mirror/thanos/thanos:v0.35.0',
    'quay.io/thanos/thanos:v0.35.0',
  ]);
});

test('Example G / 100–103: discardAlternative removes the original only when its upstream matches', () => {
  const g = ris('g', 0, [
    up('docker.io', '', ['.*'], { discardAlternative: true }),
    up('mirror.example.com', '', ['.*']),
  ]);
  assert.deepEqual(images('docker.io/library/nginx:1.29', { riss: [g] }), [
    'mirror.example.com/library/nginx:1.29',
  ]);
  assert.deepEqual(images('mirror.example.com/library/nginx:1.29', { riss: [g] }), [
    'mirror.example.com/library/nginx:1.29',
  ]);
  const g2 = ris('g2', 0, [
    up('mirror1.example.com', '', ['.*'], { discardAlternative: true }),
    up('mirror2.example.com', '', ['.*']),
    up('docker.io', '', ['.*']),
  ]);
  assert.deepEqual(images('docker.io/library/nginx:1.29', { riss: [g2] }), [
    'docker.io/library/nginx:1.29',
    'mirror2.example.com/library/nginx:1.29',
  ]);
  const only = ris('only', 0, [up('docker.io', '', ['.*'], { discardAlternative: true })]);
  assert.deepEqual(images('docker.io/library/nginx:1.29', { riss: [only] }), []);
});

test('82: all priorities 0 → CISM, ISM, CRIS, RIS after the original', () => {
  const s = {
    riss: [ris('r', 0, [up('docker.io', '', ['.*']), up('ris.example.com', '', ['.*'])])],
    cisms: [cism('c', 0, ['docker\\.io/.*'], [{ registry: 'cism.example.com', path: '' }])],
    crises: [cris('cr', 0, [up('docker.io', '', ['.*']), up('cris.example.com', '', ['.*'])])],
    isms: [ism('i', 0, ['docker\\.io/.*'], [{ registry: 'ism.example.com', path: '' }])],
  };
  assert.deepEqual(images('nginx:1', s), [
    'docker.io/library/nginx:1',
    'cism.example.com/library/nginx:1',
    'ism.example.com/library/nginx:1',
    'cris.example.com/library/nginx:1',
    'ris.example.com/library/nginx:1',
  ]);
});

test('83 / 88: declaration order breaks ties between mirrors of one CR', () => {
  const c = cism(
    'c',
    -1,
    ['.*'],
    [
      { registry: 'a.example.com', path: '' },
      { registry: 'b.example.com', path: '' },
      { registry: 'c.example.com', path: '' },
    ],
  );
  assert.deepEqual(images('nginx:1', { cisms: [c] }).slice(0, 3), [
    'a.example.com/library/nginx:1',
    'b.example.com/library/nginx:1',
    'c.example.com/library/nginx:1',
  ]);
});

test('84: CR priorities sort ascending, negatives first', () => {
  const mk = (p: number) =>
    cism(`p${p}`, p, ['.*'], [{ registry: `p${p < 0 ? `m${-p}` : p}.example.com`, path: '' }]);
  assert.deepEqual(images('nginx:1', { cisms: [mk(0), mk(5), mk(-10), mk(-1)] }), [
    'pm10.example.com/library/nginx:1',
    'pm1.example.com/library/nginx:1',
    'docker.io/library/nginx:1',
    'p0.example.com/library/nginx:1',
    'p5.example.com/library/nginx:1',
  ]);
});

test('85: equal CR priority → the CISM before the ISM', () => {
  const s = {
    isms: [ism('i', -1, ['.*'], [{ registry: 'ism.example.com', path: '' }])],
    cisms: [cism('c', -1, ['.*'], [{ registry: 'cism.example.com', path: '' }])],
  };
  assert.deepEqual(images('nginx:1', s).slice(0, 2), [
    'cism.example.com/library/nginx:1',
    'ism.example.com/library/nginx:1',
  ]);
});

test('86 / 87: intra priorities ascending, 0 first', () => {
  const m = (r: string, priority: number) => ({ registry: `${r}.example.com`, path: '', priority });
  assert.deepEqual(
    images('nginx:1', { cisms: [cism('c', -1, ['.*'], [m('p30', 30), m('p10', 10), m('p20', 20)])] }).slice(
      0,
      3,
    ),
    ['p10.example.com/library/nginx:1', 'p20.example.com/library/nginx:1', 'p30.example.com/library/nginx:1'],
  );
  assert.deepEqual(
    images('nginx:1', { cisms: [cism('c', -1, ['.*'], [m('p5', 5), m('p1', 1), m('p0', 0)])] }).slice(0, 3),
    ['p0.example.com/library/nginx:1', 'p1.example.com/library/nginx:1', 'p5.example.com/library/nginx:1'],
  );
});

test('89: ISM (-10, intra 5), ISM (-10, intra 1), CISM (-1) → intra 1, intra 5, CISM', () => {
  const s = {
    isms: [
      ism('a', -10, ['.*'], [{ registry: 'i5.example.com', path: '', priority: 5 }]),
      ism('b', -10, ['.*'], [{ registry: 'i1.example.com', path: '', priority: 1 }]),
    ],
    cisms: [cism('c', -1, ['.*'], [{ registry: 'c.example.com', path: '' }])],
  };
  assert.deepEqual(images('nginx:1', s).slice(0, 3), [
    'i1.example.com/library/nginx:1',
    'i5.example.com/library/nginx:1',
    'c.example.com/library/nginx:1',
  ]);
});

test('91 / 92: an ISM image filter selects which images get its mirror', () => {
  const i = ism('i', 0, ['docker\\.io/library/nginx.*'], [harbor('/mirror')]);
  assert.deepEqual(images('docker.io/library/nginx:1.29', { isms: [i] }), [
    'docker.io/library/nginx:1.29',
    'harbor.example.com/mirror/library/nginx:1.29',
  ]);
  assert.deepEqual(images('docker.io/library/redis:7', { isms: [i] }), ['docker.io/library/redis:7']);
});

test('93: a RIS ignores top-level image filter items', () => {
  const r = ris('r', 0, [up('docker.io', '', ['.*']), up('mirror.example.com', '', ['.*'])], {
    filter: { include: [{ image: 'docker\\.io/library/nginx.*' }] },
  });
  const list = images('docker.io/library/redis:7', { riss: [r] });
  assert.ok(list.includes('docker.io/library/redis:7'));
  assert.ok(list.includes('mirror.example.com/library/redis:7'));
});

test('94–96: invalid filters skip only what they break', () => {
  assert.deepEqual(
    images('docker.io/library/nginx:1.29', { riss: [ris('r', 0, [up('docker.io', '', ['['])])] }),
    ['docker.io/library/nginx:1.29'],
  );
  const r = ris('r', 0, [
    up('broken.example.com', '', ['[']),
    up('docker.io', '', ['.*']),
    up('mirror.example.com', '', ['.*']),
  ]);
  const list = images('docker.io/library/nginx:1.29', { riss: [r] });
  assert.ok(list.includes('docker.io/library/nginx:1.29'));
  assert.ok(list.includes('mirror.example.com/library/nginx:1.29'));
  assert.ok(!list.some((i) => i.includes('broken.example.com')));
  const bad: ImageSetMirror = {
    apiVersion: API,
    kind: 'ImageSetMirror',
    metadata: meta('bad', 'app'),
    spec: { imageFilter: { include: ['['] }, mirrors: [harbor('/mirror')] },
  };
  assert.deepEqual(images('docker.io/library/nginx:1.29', { isms: [bad] }), ['docker.io/library/nginx:1.29']);
});

test('fixed quirk: a later CISM does not propose a mirror of an earlier CISM mirror', () => {
  const a = cism('a', 0, ['.*'], [{ registry: 'reg1.example.com', path: 'm1' }]);
  const b = cism('b', 0, ['.*'], [{ registry: 'reg2.example.com', path: 'm2' }]);
  const list = images('nginx:1', { cisms: [a, b] });
  assert.deepEqual(list, [
    'docker.io/library/nginx:1',
    'reg1.example.com/m1/library/nginx:1',
    'reg2.example.com/m2/library/nginx:1',
  ]);
});

test('equal keys from two CRs tie by CR name, whatever order the cache returned them in', () => {
  const a = cism('aaa', 0, ['.*'], [{ registry: 'a.example.com', path: '' }]);
  const z = cism('zzz', 0, ['.*'], [{ registry: 'z.example.com', path: '' }]);
  assert.deepEqual(images('nginx:1', { cisms: [z, a] }), images('nginx:1', { cisms: [a, z] }));
  assert.equal(images('nginx:1', { cisms: [z, a] })[1], 'a.example.com/library/nginx:1');
});

test('digest-pinned images get digest-pinned alternatives', () => {
  const d = `sha256:${'a'.repeat(64)}`;
  assert.deepEqual(images(`nginx@${d}`, { cisms: [cism('g', 0, ['.*'], [harbor('/mirror')])] }), [
    `docker.io/library/nginx@${d}`,
    `harbor.example.com/mirror/library/nginx@${d}`,
  ]);
});

test('alternatives carry their source and resolved credential namespace', () => {
  const i = ism(
    'i',
    -1,
    ['.*'],
    [
      harbor('/m', {
        credentialSecret: { name: 'push', namespace: 'elsewhere' },
        pullSecret: { name: 'pull' },
      }),
    ],
  );
  const c = cism(
    'c',
    -2,
    ['.*'],
    [{ registry: 'c.example.com', path: '', credentialSecret: { name: 'cred', namespace: 'kuik-system' } }],
  );
  const r = parseReference('nginx:1');
  assert.ok(r.ok);
  const [first, second] = buildAlternatives(r.value, set({ isms: [i], cisms: [c] }), opts).alternatives;
  assert.equal(describeSource(first!.source), 'ClusterImageSetMirror/c');
  assert.deepEqual(first!.source.type === 'mirror' && first!.source.credentialSecret, {
    name: 'cred',
    namespace: 'kuik-system',
  });
  // An ISM's secrets always live in the ISM's own namespace, whatever the spec says.
  assert.deepEqual(second!.source.type === 'mirror' && second!.source.credentialSecret, {
    name: 'push',
    namespace: 'app',
  });
  assert.deepEqual(second!.source.type === 'mirror' && second!.source.pullSecret, {
    name: 'pull',
    namespace: 'app',
  });
});

test('a mirror registry that yields an unparsable reference is skipped with a note, not fatal', () => {
  const c = cism('c', 0, ['.*'], [{ registry: 'https://harbor.example.com', path: '' }, harbor('/ok')]);
  const r = parseReference('nginx:1');
  assert.ok(r.ok);
  const res = buildAlternatives(r.value, set({ cisms: [c] }), opts);
  assert.ok(res.alternatives.some((a) => a.image === 'harbor.example.com/ok/library/nginx:1'));
  assert.ok(res.notes.some((n) => n.includes('skipped alternative')));
});
