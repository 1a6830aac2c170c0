import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  API_VERSION,
  type ClusterFilter,
  type ClusterImageSetAvailability,
  type ClusterImageSetAvailabilitySpec,
  type ClusterImageSetMirror,
  type ClusterImageSetMirrorSpec,
  type ClusterReplicatedImageSet,
  type ClusterReplicatedImageSetSpec,
  type Filter,
  type ImageSetMirror,
  type ImageSetMirrorSpec,
  type ReplicatedImageSet,
  type ReplicatedImageSetSpec,
} from '../crd/types.ts';
import {
  compileFilter,
  compileGlobalSkip,
  compileIncludeExclude,
  compileLegacyImageFilter,
  compileSelection,
  compileUpstreamFilter,
  type FilterError,
  type FilterResult,
  imageFilterFor,
  invalidFilterNote,
  isFilterEmpty,
  type PodLike,
  podMatcherFor,
  projectClusterFilter,
} from './filter.ts';

// --- fixtures ---

function pod(
  namespace: string,
  labels?: Record<string, string>,
  annotations?: Record<string, string>,
): PodLike {
  return { metadata: { namespace, labels, annotations } };
}

function value<T>(r: FilterResult<T>): T {
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  return r.value;
}

function failure<T>(r: FilterResult<T>): FilterError {
  assert.ok(!r.ok, 'expected a compile error');
  return r.error;
}

const meta = { name: 't', namespace: 'ns' };
const ism = (spec: ImageSetMirrorSpec): ImageSetMirror => ({
  apiVersion: API_VERSION,
  kind: 'ImageSetMirror',
  metadata: meta,
  spec,
});
const cism = (spec: ClusterImageSetMirrorSpec): ClusterImageSetMirror => ({
  apiVersion: API_VERSION,
  kind: 'ClusterImageSetMirror',
  metadata: { name: 't' },
  spec,
});
const ris = (spec: ReplicatedImageSetSpec): ReplicatedImageSet => ({
  apiVersion: API_VERSION,
  kind: 'ReplicatedImageSet',
  metadata: meta,
  spec,
});
const cris = (spec: ClusterReplicatedImageSetSpec): ClusterReplicatedImageSet => ({
  apiVersion: API_VERSION,
  kind: 'ClusterReplicatedImageSet',
  metadata: { name: 't' },
  spec,
});
const cisa = (spec: ClusterImageSetAvailabilitySpec): ClusterImageSetAvailability => ({
  apiVersion: API_VERSION,
  kind: 'ClusterImageSetAvailability',
  metadata: { name: 't' },
  spec,
});

/** kuik's IncludeExcludeFilter on a single string. */
function regexFilter(include: string[], exclude: string[] = []): (s: string) => boolean {
  return value(compileIncludeExclude(include, exclude));
}

/** kuik's CompilePodFilter: label and annotation include/exclude, on a namespaced Filter. */
function podFilter(f: {
  includeLabels?: string[];
  excludeLabels?: string[];
  includeAnnotations?: string[];
  excludeAnnotations?: string[];
}): FilterResult<(p: PodLike) => boolean> {
  const filter: Filter = {
    include: [
      ...(f.includeLabels ?? []).map((label) => ({ label })),
      ...(f.includeAnnotations ?? []).map((annotation) => ({ annotation })),
    ],
    exclude: [
      ...(f.excludeLabels ?? []).map((label) => ({ label })),
      ...(f.excludeAnnotations ?? []).map((annotation) => ({ annotation })),
    ],
  };
  const r = compileFilter(filter, { cluster: false });
  return r.ok ? { ok: true, value: r.value.podMatcher } : r;
}

const nsFilterMatcher = (f: ClusterFilter) => value(compileFilter(f, { cluster: true })).podMatcher;

// --- §10.1 filter primitives ---

describe('§10.1 regex primitives', () => {
  test('#1 include a|ab matches ab', () => assert.equal(regexFilter(['a|ab'])('ab'), true));
  test('#2 include a|ab matches a', () => assert.equal(regexFilter(['a|ab'])('a'), true));
  test('#3 include a|ab does not match abc (anchored)', () =>
    assert.equal(regexFilter(['a|ab'])('abc'), false));
  test('#4 include docker\\.io/library/.* matches docker.io/library/nginx:latest', () =>
    assert.equal(regexFilter(['docker\\.io/library/.*'])('docker.io/library/nginx:latest'), true));
  test('#5 the same include does not match ghcr.io/library/nginx:latest', () =>
    assert.equal(regexFilter(['docker\\.io/library/.*'])('ghcr.io/library/nginx:latest'), false));
  test('#6 include nginx does not match nginx-extra', () =>
    assert.equal(regexFilter(['nginx'])('nginx-extra'), false));
  test('#7 include nginx does not match my-nginx', () =>
    assert.equal(regexFilter(['nginx'])('my-nginx'), false));
  test('#8 include nginx matches nginx', () => assert.equal(regexFilter(['nginx'])('nginx'), true));
  test('#9 include .* exclude nginx: nginx is excluded (exclude wins)', () =>
    assert.equal(regexFilter(['.*'], ['nginx'])('nginx'), false));
  test('#10 include .* exclude nginx: redis matches', () =>
    assert.equal(regexFilter(['.*'], ['nginx'])('redis'), true));
  test('#11 include ^nginx$ matches nginx (user anchors tolerated)', () =>
    assert.equal(regexFilter(['^nginx$'])('nginx'), true));
  test('an empty include list lets nothing through', () => assert.equal(regexFilter([], [])('nginx'), false));
});

describe('§10.1 pod primitives', () => {
  const match = (f: Parameters<typeof podFilter>[0], p: PodLike) => value(podFilter(f))(p);

  test('#12 no selectors at all: any pod matches', () =>
    assert.equal(match({}, pod('x', { app: 'foo' })), true));
  test('#13 include label app=foo: pod app=foo matches', () =>
    assert.equal(match({ includeLabels: ['app=foo'] }, pod('x', { app: 'foo' })), true));
  test('#14 include label app=foo: pod app=bar does not match', () =>
    assert.equal(match({ includeLabels: ['app=foo'] }, pod('x', { app: 'bar' })), false));
  test('#15 exclude label cnpg.io/podRole=instance: a pod with that label is dropped', () =>
    assert.equal(
      match({ excludeLabels: ['cnpg.io/podRole=instance'] }, pod('x', { 'cnpg.io/podRole': 'instance' })),
      false,
    ));
  test('#16 exclude label cnpg.io/podRole=instance: a pod with podRole=primary matches', () =>
    assert.equal(
      match({ excludeLabels: ['cnpg.io/podRole=instance'] }, pod('x', { 'cnpg.io/podRole': 'primary' })),
      true,
    ));
  test('#17 include and exclude both app=foo: pod app=foo does not match (exclude wins)', () =>
    assert.equal(
      match({ includeLabels: ['app=foo'], excludeLabels: ['app=foo'] }, pod('x', { app: 'foo' })),
      false,
    ));
  test('#18 include annotation my.company.com/custom (presence): a pod with any value matches', () =>
    assert.equal(
      match(
        { includeAnnotations: ['my.company.com/custom'] },
        pod('x', {}, { 'my.company.com/custom': 'any thing!' }),
      ),
      true,
    ));
  test('#19 include annotation my.company.com/custom: a pod without it does not match', () =>
    assert.equal(
      match({ includeAnnotations: ['my.company.com/custom'] }, pod('x', {}, { other: 'value' })),
      false,
    ));
  test('#20 include label !cnpg.io/podRole: a pod with the key does not match', () =>
    assert.equal(
      match({ includeLabels: ['!cnpg.io/podRole'] }, pod('x', { 'cnpg.io/podRole': 'instance' })),
      false,
    ));
  test('#21 include label !cnpg.io/podRole: a pod without the key matches', () =>
    assert.equal(match({ includeLabels: ['!cnpg.io/podRole'] }, pod('x', { app: 'foo' })), true));
  test('#22 include tier in (frontend,backend): tier=backend matches', () =>
    assert.equal(
      match({ includeLabels: ['tier in (frontend,backend)'] }, pod('x', { tier: 'backend' })),
      true,
    ));
  test('#23 include tier in (frontend,backend): tier=db does not match', () =>
    assert.equal(match({ includeLabels: ['tier in (frontend,backend)'] }, pod('x', { tier: 'db' })), false));
  test('#24 includes app=foo and app=bar are ORed: pod app=bar matches', () =>
    assert.equal(match({ includeLabels: ['app=foo', 'app=bar'] }, pod('x', { app: 'bar' })), true));
  test('#25 excludes app=foo and app=bar: pod app=bar is dropped', () =>
    assert.equal(match({ excludeLabels: ['app=foo', 'app=bar'] }, pod('x', { app: 'bar' })), false));
  test('#26 label app=foo and annotation trace=on are independent: app=foo with trace=off does not match', () =>
    assert.equal(
      match(
        { includeLabels: ['app=foo'], includeAnnotations: ['trace=on'] },
        pod('x', { app: 'foo' }, { trace: 'off' }),
      ),
      false,
    ));
  test('#27 same filter: app=foo with trace=on matches', () =>
    assert.equal(
      match(
        { includeLabels: ['app=foo'], includeAnnotations: ['trace=on'] },
        pod('x', { app: 'foo' }, { trace: 'on' }),
      ),
      true,
    ));
  test('#28 selector === is a compile error', () => {
    const e = failure(podFilter({ includeLabels: ['==='] }));
    assert.equal(e.code, 'invalid-selector');
    assert.equal(e.part, 'pod');
  });
  test('#29 selector BAD KEY=value is a compile error', () => {
    const e = failure(podFilter({ includeLabels: ['BAD KEY=value'] }));
    assert.equal(e.code, 'invalid-selector');
    assert.equal(e.value, 'BAD KEY=value');
  });
});

// --- §10.2 unified filter and accessor precedence ---

describe('§10.2 unified filter', () => {
  test('#30 an empty Filter or ClusterFilter is empty; one include, one exclude or one namespace item is not', () => {
    assert.equal(isFilterEmpty({}), true);
    assert.equal(isFilterEmpty(undefined), true);
    assert.equal(isFilterEmpty({ include: [], exclude: [] }), true);
    assert.equal(isFilterEmpty({ include: [{ image: 'nginx' }] }), false);
    assert.equal(isFilterEmpty({ exclude: [{ image: 'nginx' }] }), false);
    assert.equal(isFilterEmpty({ include: [{ namespace: 'ns' }] }), false);
  });

  test('#31 a filter with only a label item: the image filter matches every image', () => {
    const f = value(compileFilter({ include: [{ label: 'app=foo' }] }, { cluster: false }));
    assert.equal(f.imageFilter('docker.io/library/nginx:latest'), true);
  });

  test('#32 image include docker.io/library/nginx.*: nginx:latest matches, redis:latest does not', () => {
    const f = value(compileFilter({ include: [{ image: 'docker.io/library/nginx.*' }] }, { cluster: false }));
    assert.equal(f.imageFilter('docker.io/library/nginx:latest'), true);
    assert.equal(f.imageFilter('docker.io/library/redis:latest'), false);
  });

  test('#33 two image includes are ORed: redis:latest matches', () => {
    const f = value(
      compileFilter(
        { include: [{ image: 'docker.io/library/nginx.*' }, { image: 'docker.io/library/redis.*' }] },
        { cluster: false },
      ),
    );
    assert.equal(f.imageFilter('docker.io/library/redis:latest'), true);
  });

  test('#34 include docker.io/library/.* exclude docker.io/library/redis.*: redis:latest does not match', () => {
    const f = value(
      compileFilter(
        { include: [{ image: 'docker.io/library/.*' }], exclude: [{ image: 'docker.io/library/redis.*' }] },
        { cluster: false },
      ),
    );
    assert.equal(f.imageFilter('docker.io/library/redis:latest'), false);
    assert.equal(f.imageFilter('docker.io/library/nginx:latest'), true);
  });

  test('#35 a pod matcher with only an image item matches every pod', () => {
    const f = value(compileFilter({ include: [{ image: 'nginx' }] }, { cluster: false }));
    assert.equal(f.podMatcher(pod('any')), true);
  });

  test('#36 label include app=foo: pod app=foo matches, app=bar does not', () => {
    const f = value(compileFilter({ include: [{ label: 'app=foo' }] }, { cluster: false }));
    assert.equal(f.podMatcher(pod('any', { app: 'foo' })), true);
    assert.equal(f.podMatcher(pod('any', { app: 'bar' })), false);
  });

  test('#37 label app=foo plus annotation monitoring=enabled: both → match, label only → no match', () => {
    const f = value(
      compileFilter(
        { include: [{ label: 'app=foo' }, { annotation: 'monitoring=enabled' }] },
        { cluster: false },
      ),
    );
    assert.equal(f.podMatcher(pod('any', { app: 'foo' }, { monitoring: 'enabled' })), true);
    assert.equal(f.podMatcher(pod('any', { app: 'foo' })), false);
  });

  test('#38 exclude label app=foo: pod app=foo is rejected', () => {
    const f = value(compileFilter({ exclude: [{ label: 'app=foo' }] }, { cluster: false }));
    assert.equal(f.podMatcher(pod('any', { app: 'foo' })), false);
    assert.equal(f.podMatcher(pod('any', { app: 'bar' })), true);
  });

  test('#39 ClusterFilter with only a label item: a pod in any namespace with the label matches', () => {
    assert.equal(nsFilterMatcher({ include: [{ label: 'app=foo' }] })(pod('whatever', { app: 'foo' })), true);
  });

  test('#40 namespace include allowed: pod in allowed matches, pod in denied does not', () => {
    const m = nsFilterMatcher({ include: [{ namespace: 'allowed' }] });
    assert.equal(m(pod('allowed')), true);
    assert.equal(m(pod('denied')), false);
  });

  test('#41 namespace allowed plus label app=foo: label in allowed matches, same label in denied does not', () => {
    const m = nsFilterMatcher({ include: [{ namespace: 'allowed' }, { label: 'app=foo' }] });
    assert.equal(m(pod('allowed', { app: 'foo' })), true);
    assert.equal(m(pod('denied', { app: 'foo' })), false);
  });

  test('#42 namespace exclude denied: pod in denied is rejected', () => {
    const m = nsFilterMatcher({ exclude: [{ namespace: 'denied' }] });
    assert.equal(m(pod('denied')), false);
    assert.equal(m(pod('other')), true);
  });

  test('#43 projecting a ClusterFilter drops namespace items; a namespace-only exclude becomes an empty item', () => {
    const cf: ClusterFilter = {
      include: [{ image: 'nginx', namespace: 'allowed' }, { label: 'app=foo' }],
      exclude: [{ namespace: 'denied' }],
    };
    const f = projectClusterFilter(cf);
    assert.deepEqual(f.include, [{ image: 'nginx' }, { label: 'app=foo' }]);
    assert.deepEqual(f.exclude, [{}]);
    assert.equal(isFilterEmpty(f), false);
    const projected = value(compileFilter(f, { cluster: false }));
    assert.equal(projected.podMatcher(pod('denied', { app: 'foo' })), true);
    // The unprojected cluster filter would have rejected that pod.
    assert.equal(nsFilterMatcher(cf)(pod('denied', { app: 'foo' })), false);
  });

  test('#44 the ClusterFilter image dimension works the same way: nginx matches, redis does not', () => {
    const f = value(
      compileFilter(
        { include: [{ image: 'docker.io/library/nginx.*', namespace: 'allowed' }] },
        { cluster: true },
      ),
    );
    assert.equal(f.imageFilter('docker.io/library/nginx:latest'), true);
    assert.equal(f.imageFilter('docker.io/library/redis:latest'), false);
  });
});

describe('§10.2 accessor precedence per kind', () => {
  test('#45 ISM with filter and legacy imageFilter: filter wins (nginx matches, legacy-only not); legacy alone: the reverse', () => {
    const both = value(
      imageFilterFor(
        ism({ imageFilter: { include: ['legacy-only'] }, filter: { include: [{ image: 'nginx' }] } }),
      ),
    );
    assert.equal(both('nginx'), true);
    assert.equal(both('legacy-only'), false);
    const legacy = value(imageFilterFor(ism({ imageFilter: { include: ['legacy-only'] } })));
    assert.equal(legacy('legacy-only'), true);
    assert.equal(legacy('nginx'), false);
  });

  test('#46 ISM without filter: every pod matches; ISM with label filter app=foo: only such pods', () => {
    assert.equal(value(podMatcherFor(ism({})))(pod('any')), true);
    const m = value(podMatcherFor(ism({ filter: { include: [{ label: 'app=foo' }] } })));
    assert.equal(m(pod('any', { app: 'foo' })), true);
    assert.equal(m(pod('any', { app: 'bar' })), false);
  });

  test('#47 CISM without filter: pods in every namespace match; with namespace include allowed: only that namespace', () => {
    assert.equal(value(podMatcherFor(cism({})))(pod('whatever')), true);
    const m = value(podMatcherFor(cism({ filter: { include: [{ namespace: 'allowed' }] } })));
    assert.equal(m(pod('allowed')), true);
    assert.equal(m(pod('denied')), false);
  });

  test('#48 CISA with legacy imageFilter plus filter (namespace allowed, image nginx): pod matcher by namespace, legacy ignored', () => {
    const obj = cisa({
      imageFilter: { include: ['legacy-only'] },
      filter: { include: [{ namespace: 'allowed' }, { image: 'nginx' }] },
    });
    const m = value(podMatcherFor(obj));
    assert.equal(m(pod('allowed')), true);
    assert.equal(m(pod('denied')), false);
    const images = value(imageFilterFor(obj));
    assert.equal(images('nginx'), true);
    assert.equal(images('legacy-only'), false);
  });

  test('#49 CRIS namespace filter allowed accepts allowed and rejects denied; RIS label app=foo accepts app=foo, rejects app=bar', () => {
    const c = value(podMatcherFor(cris({ filter: { include: [{ namespace: 'allowed' }] } })));
    assert.equal(c(pod('allowed')), true);
    assert.equal(c(pod('denied')), false);
    const r = value(podMatcherFor(ris({ filter: { include: [{ label: 'app=foo' }] } })));
    assert.equal(r(pod('any', { app: 'foo' })), true);
    assert.equal(r(pod('any', { app: 'bar' })), false);
  });

  test('#50 the namespaced ISM ignores namespaces; a CISM with label app=foo and namespace allowed-ns requires both', () => {
    const i = value(podMatcherFor(ism({ filter: { include: [{ label: 'app=foo' }] } })));
    assert.equal(i(pod('any-ns', { app: 'foo' })), true);
    assert.equal(i(pod('other-ns', { app: 'foo' })), true);
    assert.equal(i(pod('any-ns', { app: 'bar' })), false);
    const c = value(
      podMatcherFor(cism({ filter: { include: [{ label: 'app=foo' }, { namespace: 'allowed-ns' }] } })),
    );
    assert.equal(c(pod('allowed-ns', { app: 'foo' })), true);
    assert.equal(c(pod('denied-ns', { app: 'foo' })), false);
    assert.equal(c(pod('allowed-ns', { app: 'bar' })), false);
  });
});

// --- beyond the upstream test list ---

describe('§3.2 legacy ImageFilterDefinition', () => {
  test('both lists empty match nothing: the CR is inert', () => {
    assert.equal(value(compileLegacyImageFilter({}))('docker.io/library/nginx:1'), false);
    assert.equal(value(compileLegacyImageFilter(undefined))('docker.io/library/nginx:1'), false);
    assert.equal(value(imageFilterFor(ism({})))('docker.io/library/nginx:1'), false);
  });

  test('only excludes: everything else is included', () => {
    const f = value(compileLegacyImageFilter({ exclude: ['docker\\.io/library/redis:.*'] }));
    assert.equal(f('docker.io/library/nginx:1'), true);
    assert.equal(f('docker.io/library/redis:7'), false);
  });

  test('an invalid legacy pattern names its field', () => {
    const e = failure(imageFilterFor(ism({ imageFilter: { include: ['ok', '(broken'] } })));
    assert.equal(e.code, 'invalid-regex');
    assert.equal(e.part, 'image');
    assert.equal(e.field, 'spec.imageFilter.include[1]');
    assert.match(e.message, /^spec\.imageFilter\.include\[1\]: error parsing regexp: missing closing \)/);
  });
});

describe('unified filter details', () => {
  test('only image excludes apply to every image except those', () => {
    const f = value(compileFilter({ exclude: [{ image: '.*redis.*' }] }, { cluster: false }));
    assert.equal(f.imageFilter('docker.io/library/nginx:1'), true);
    assert.equal(f.imageFilter('docker.io/library/redis:7'), false);
  });

  test('an item with an empty value still makes the filter non-empty but selects nothing', () => {
    const obj = ism({ imageFilter: { include: ['legacy-only'] }, filter: { include: [{ image: '' }] } });
    const images = value(imageFilterFor(obj));
    // Filter mode is on (legacy ignored) and the image dimension is empty (everything).
    assert.equal(images('anything'), true);
    assert.equal(images('legacy-only'), true);
  });

  test('a namespaced kind ignores namespace items that slipped in', () => {
    const obj = ism({ filter: { include: [{ namespace: 'allowed' } as never] } });
    assert.equal(value(podMatcherFor(obj))(pod('denied')), true);
  });

  test('a pod without metadata is an empty pod', () => {
    const m = value(podMatcherFor(cism({ filter: { include: [{ label: '!app' }, { namespace: '' }] } })));
    assert.equal(m({}), true);
  });

  test('a namespace regex is a full match', () => {
    const m = nsFilterMatcher({ include: [{ namespace: 'team-.*' }] });
    assert.equal(m(pod('team-a')), true);
    assert.equal(m(pod('my-team-a')), false);
  });

  test('selectors on annotations test presence of free-form values', () => {
    const m = value(podMatcherFor(ism({ filter: { exclude: [{ annotation: 'example.com/notes' }] } })));
    assert.equal(m(pod('x', {}, { 'example.com/notes': 'free text, with spaces' })), false);
    assert.equal(m(pod('x', {}, {})), true);
  });
});

describe('compile errors (§3.9)', () => {
  test('an invalid label selector breaks the pod matcher and names the item', () => {
    const e = failure(podMatcherFor(ism({ filter: { include: [{ image: 'nginx' }, { label: '===' }] } })));
    assert.equal(e.part, 'pod');
    assert.equal(e.field, 'spec.filter.include[1].label');
    assert.match(invalidFilterNote(e), /^filter is invalid: spec\.filter\.include\[1\]\.label: /);
  });

  test('an invalid image regex breaks only the image filter', () => {
    const obj = cisa({ filter: { include: [{ namespace: 'allowed' }, { image: '(nginx' }] } });
    assert.ok(podMatcherFor(obj).ok);
    const e = failure(imageFilterFor(obj));
    assert.equal(e.part, 'image');
    assert.equal(e.field, 'spec.filter.include[1].image');
  });

  test('an invalid namespace regex breaks the pod matcher', () => {
    const e = failure(podMatcherFor(cism({ filter: { exclude: [{ namespace: '[' }] } })));
    assert.equal(e.code, 'invalid-regex');
    assert.equal(e.part, 'pod');
    assert.equal(e.field, 'spec.filter.exclude[0].namespace');
  });

  test('compileSelection reports the pod error first, as kuik compiles pods first', () => {
    const e = failure(
      compileSelection(ism({ filter: { include: [{ image: '(' }, { annotation: 'a b' }] } })),
    );
    assert.equal(e.part, 'pod');
  });

  test('compileSelection returns both predicates', () => {
    const s = value(
      compileSelection(ism({ filter: { include: [{ image: 'docker\\.io/.*' }, { label: 'app' }] } })),
    );
    assert.equal(s.podMatcher(pod('x', { app: '' })), true);
    assert.equal(s.imageFilter('docker.io/library/nginx'), true);
    assert.equal(s.imageFilter('quay.io/x/y'), false);
  });
});

describe('§3.5 ReplicatedImageSet', () => {
  const upstreams = [
    { registry: 'docker.io', path: '', imageFilter: { include: ['/library/.*'] } },
    { registry: 'mirror.example.com', path: '' },
    { registry: 'quay.io', path: '', imageFilter: { include: ['('] } },
  ];

  test('image items in spec.filter are ignored; upstream filters decide', () => {
    const obj = ris({ upstreams, filter: { include: [{ image: 'nothing-matches-this' }] } });
    const images = value(imageFilterFor(obj));
    assert.equal(images('docker.io/library/nginx:1'), true);
    assert.equal(images('docker.io/bitnami/redis:7'), false);
    assert.equal(value(podMatcherFor(obj))(pod('x')), true);
  });

  test('an invalid image item in a RIS filter does not break the CR', () => {
    const obj = ris({ upstreams, filter: { include: [{ image: '(' }, { label: 'app=foo' }] } });
    const s = value(compileSelection(obj));
    assert.equal(s.podMatcher(pod('x', { app: 'foo' })), true);
  });

  test('an upstream whose filter does not compile is skipped, not fatal', () => {
    const images = value(imageFilterFor(cris({ upstreams })));
    assert.equal(images('quay.io/anything/at:all'), false);
    assert.equal(images('docker.io/library/nginx:1'), true);
  });

  test('the per-upstream filter needs the registry boundary (QUIRK fixed)', () => {
    const f = value(compileUpstreamFilter({ registry: 'docker.io', imageFilter: { include: ['.*'] } }));
    assert.equal(f('docker.io/library/nginx'), true);
    assert.equal(f('docker.io2/library/nginx'), false);
  });

  test('an upstream without imageFilter never matches', () => {
    const f = value(compileUpstreamFilter({ registry: 'docker.io' }));
    assert.equal(f('docker.io/library/nginx'), false);
  });
});

describe('§3.7 global skip', () => {
  test('no selectors skip nothing', () => {
    assert.equal(value(compileGlobalSkip())(pod('x', { a: 'b' })), false);
  });

  test('v1 opt-out parity: kube-image-keeper.enix.io/image-caching-policy=ignore skips the pod', () => {
    const skip = value(compileGlobalSkip(['kube-image-keeper.enix.io/image-caching-policy=ignore']));
    assert.equal(skip(pod('x', { 'kube-image-keeper.enix.io/image-caching-policy': 'ignore' })), true);
    assert.equal(skip(pod('x', { 'kube-image-keeper.enix.io/image-caching-policy': 'cache' })), false);
    assert.equal(skip(pod('x')), false);
  });

  test('any label selector OR any annotation selector skips', () => {
    const skip = value(compileGlobalSkip(['a=1', 'b=2'], ['example.com/skip']));
    assert.equal(skip(pod('x', { b: '2' })), true);
    assert.equal(skip(pod('x', {}, { 'example.com/skip': 'yes please' })), true);
    assert.equal(skip(pod('x', { a: '2' }, { other: '' })), false);
  });

  test('label selectors read labels only, annotation selectors annotations only', () => {
    const skip = value(compileGlobalSkip(['team=x'], []));
    assert.equal(skip(pod('x', {}, { team: 'x' })), false);
  });

  test('an invalid selector is an error naming the config key', () => {
    const e = failure(compileGlobalSkip(['ok'], ['BAD KEY=value']));
    assert.equal(e.field, 'skipAnnotations[0]');
    assert.match(e.message, /^skipAnnotations\[0\]: unable to parse requirement/);
  });
});
