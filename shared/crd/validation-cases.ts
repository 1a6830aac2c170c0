// Admission cases shared by the unit test (valibot, schemas.test.ts) and the integration test (a
// real kube-apiserver with crds/*.yaml, tests/integration/crds.int.test.ts). Both must reject each
// invalid case with a message containing `<path>: ` and `message`, and accept each valid case; the
// two therefore agree on every rule. Every CEL message of every CRD must appear here for that kind
// (schemas.test.ts checks it), so a rule added to a CRD without a case fails the unit test.
import { BOUND_MESSAGES, MESSAGES } from './schemas.ts';
import type { KuikKind } from './types.ts';

export interface AdmissionCase {
  /** States the behaviour, used as the test name. */
  title: string;
  kind: KuikKind;
  spec: Record<string, unknown>;
}

export interface InvalidCase extends AdmissionCase {
  /** Field path the error is attached to, in the API server's notation. */
  path: string;
  message: string;
  /** kuik: kuik v2 enforces it too (docs/behaviour.md §1, §10.3); beyond: a validation hole we closed. */
  origin: 'kuik' | 'beyond';
}

const CLUSTER_FILTER_KINDS = [
  'ClusterImageSetMirror',
  'ClusterReplicatedImageSet',
  'ClusterImageSetAvailability',
] as const;
const NAMESPACED_FILTER_KINDS = ['ImageSetMirror', 'ReplicatedImageSet'] as const;
const IMAGE_FILTER_KINDS = [
  'ImageSetMirror',
  'ClusterImageSetMirror',
  'ClusterImageSetAvailability',
] as const;
const MIRROR_KINDS = ['ImageSetMirror', 'ClusterImageSetMirror'] as const;
const REPLICATED_KINDS = ['ReplicatedImageSet', 'ClusterReplicatedImageSet'] as const;

const upstream = (extra: Record<string, unknown> = {}) => ({ registry: 'quay.io', path: '/x', ...extra });

/** A spec whose only interesting content is `filter`, valid for the kind otherwise. */
const withFilter = (kind: KuikKind, filter: unknown): Record<string, unknown> =>
  kind === 'ReplicatedImageSet' || kind === 'ClusterReplicatedImageSet'
    ? { upstreams: [upstream()], filter }
    : { filter };

const seventeen = <T>(make: (i: number) => T): T[] => Array.from({ length: 17 }, (_, i) => make(i));

export const INVALID_CASES: InvalidCase[] = [
  // ---- docs/behaviour.md §10.3, the cases kuik's own envtest suite checks ----
  {
    title: 'rejects an ImageSetMirror that sets both imageFilter.include and filter.include',
    kind: 'ImageSetMirror',
    spec: { imageFilter: { include: ['nginx'] }, filter: { include: [{ image: 'nginx' }] } },
    path: 'spec',
    message: MESSAGES.filterMutex,
    origin: 'kuik',
  },
  {
    title: 'rejects a ReplicatedImageSet whose filter.include has an image item',
    kind: 'ReplicatedImageSet',
    spec: withFilter('ReplicatedImageSet', { include: [{ image: 'nginx' }] }),
    path: 'spec',
    message: MESSAGES.risImageItems,
    origin: 'kuik',
  },
  {
    title: 'rejects a ClusterReplicatedImageSet whose filter.exclude has an image item',
    kind: 'ClusterReplicatedImageSet',
    spec: withFilter('ClusterReplicatedImageSet', { exclude: [{ image: 'nginx' }] }),
    path: 'spec',
    message: MESSAGES.crisImageItems,
    origin: 'kuik',
  },
  // ---- the other kuik rules, on every kind that carries them ----
  ...IMAGE_FILTER_KINDS.filter((k) => k !== 'ImageSetMirror').map(
    (kind): InvalidCase => ({
      title: `rejects a ${kind} that sets both imageFilter.exclude and filter.exclude`,
      kind,
      spec: { imageFilter: { exclude: ['nginx'] }, filter: { exclude: [{ image: 'nginx' }] } },
      path: 'spec',
      message: MESSAGES.filterMutex,
      origin: 'kuik',
    }),
  ),
  ...NAMESPACED_FILTER_KINDS.map(
    (kind): InvalidCase => ({
      title: `rejects a ${kind} filter item that sets two keys`,
      kind,
      spec: withFilter(kind, { include: [{ label: 'app=foo', annotation: 'trace' }] }),
      path: 'spec.filter.include',
      message: MESSAGES.filterExactlyOne,
      origin: 'kuik',
    }),
  ),
  ...CLUSTER_FILTER_KINDS.map(
    (kind): InvalidCase => ({
      title: `rejects a ${kind} filter item that sets no key`,
      kind,
      spec: withFilter(kind, { exclude: [{}] }),
      path: 'spec.filter.exclude',
      message: MESSAGES.clusterFilterExactlyOne,
      origin: 'kuik',
    }),
  ),
  ...IMAGE_FILTER_KINDS.map(
    (kind): InvalidCase => ({
      title: `rejects a ${kind} imageFilter.include pattern that does not compile`,
      kind,
      spec: { imageFilter: { include: ['docker.io/(nginx'] } },
      path: 'spec.imageFilter.include',
      message: MESSAGES.includeRegex,
      origin: 'kuik',
    }),
  ),
  ...IMAGE_FILTER_KINDS.map(
    (kind): InvalidCase => ({
      title: `rejects a ${kind} imageFilter.exclude pattern that does not compile`,
      kind,
      spec: { imageFilter: { exclude: ['[a-'] } },
      path: 'spec.imageFilter.exclude',
      message: MESSAGES.excludeRegex,
      origin: 'kuik',
    }),
  ),
  ...REPLICATED_KINDS.flatMap((kind): InvalidCase[] => [
    {
      title: `rejects a ${kind} upstream imageFilter.include pattern that does not compile`,
      kind,
      spec: { upstreams: [upstream({ imageFilter: { include: ['/x:(.+'] } })] },
      path: 'spec.upstreams[0].imageFilter.include',
      message: MESSAGES.includeRegex,
      origin: 'kuik',
    },
    {
      title: `rejects a ${kind} upstream imageFilter.exclude pattern that does not compile`,
      kind,
      spec: { upstreams: [upstream({ imageFilter: { exclude: ['x**'] } })] },
      path: 'spec.upstreams[0].imageFilter.exclude',
      message: MESSAGES.excludeRegex,
      origin: 'kuik',
    },
    {
      title: `rejects a ${kind} upstream without path`,
      kind,
      spec: { upstreams: [{ registry: 'quay.io' }] },
      path: 'spec.upstreams[0].path',
      message: 'Required value',
      origin: 'kuik',
    },
    {
      title: `rejects a ${kind} with 33 upstreams`,
      kind,
      spec: { upstreams: Array.from({ length: 33 }, (_, i) => upstream({ registry: `r${i}.example.com` })) },
      path: 'spec.upstreams',
      message: BOUND_MESSAGES.maxItems(32),
      origin: 'kuik',
    },
  ]),
  {
    title: 'rejects a filter with 17 include items',
    kind: 'ClusterImageSetMirror',
    spec: { filter: { include: seventeen((i) => ({ label: `app=a${i}` })) } },
    path: 'spec.filter.include',
    message: BOUND_MESSAGES.maxItems(16),
    origin: 'kuik',
  },
  {
    title: 'rejects an imageFilter with 17 exclude patterns',
    kind: 'ClusterImageSetAvailability',
    spec: { imageFilter: { exclude: seventeen((i) => `a${i}`) } },
    path: 'spec.imageFilter.exclude',
    message: BOUND_MESSAGES.maxItems(16),
    origin: 'kuik',
  },
  {
    title: 'rejects a filter image item longer than 128 characters',
    kind: 'ImageSetMirror',
    spec: { filter: { include: [{ image: 'a'.repeat(129) }] } },
    path: 'spec.filter.include[0].image',
    message: BOUND_MESSAGES.maxLength(128),
    origin: 'kuik',
  },
  {
    title: 'rejects a filter label item longer than 512 characters',
    kind: 'ReplicatedImageSet',
    spec: withFilter('ReplicatedImageSet', { include: [{ label: `app=${'a'.repeat(509)}` }] }),
    path: 'spec.filter.include[0].label',
    message: BOUND_MESSAGES.maxLength(512),
    origin: 'kuik',
  },
  // ---- validation holes closed beyond kuik (docs/crds.md) ----
  ...[...NAMESPACED_FILTER_KINDS, ...CLUSTER_FILTER_KINDS]
    .filter((kind) => kind !== 'ReplicatedImageSet' && kind !== 'ClusterReplicatedImageSet')
    .map(
      (kind): InvalidCase => ({
        title: `rejects a ${kind} filter image item that does not compile`,
        kind,
        spec: { filter: { include: [{ label: 'app=foo' }, { image: 'docker\\.io/(nginx' }] } },
        path: 'spec.filter.include',
        message: MESSAGES.filterImageRegex,
        origin: 'beyond',
      }),
    ),
  // On RIS/CRIS an image item is rejected by kuik's rule anyway; the regex rule still applies first
  // at the list level, so both messages are returned.
  ...REPLICATED_KINDS.map(
    (kind): InvalidCase => ({
      title: `rejects a ${kind} filter exclude image item that does not compile`,
      kind,
      spec: withFilter(kind, { exclude: [{ image: '(' }] }),
      path: 'spec.filter.exclude',
      message: MESSAGES.filterImageRegex,
      origin: 'beyond',
    }),
  ),
  ...CLUSTER_FILTER_KINDS.map(
    (kind): InvalidCase => ({
      title: `rejects a ${kind} filter namespace item that does not compile`,
      kind,
      spec: withFilter(kind, { exclude: [{ namespace: 'kube-(system' }] }),
      path: 'spec.filter.exclude',
      message: MESSAGES.filterNamespaceRegex,
      origin: 'beyond',
    }),
  ),
  ...MIRROR_KINDS.flatMap((kind): InvalidCase[] => [
    {
      title: `rejects a ${kind} retention in days, which Go durations do not have`,
      kind,
      spec: { cleanup: { enabled: true, retention: '30d' } },
      path: 'spec.cleanup.retention',
      message: MESSAGES.retention,
      origin: 'beyond',
    },
    {
      title: `rejects a ${kind} negative retention`,
      kind,
      spec: { cleanup: { enabled: true, retention: '-1h' } },
      path: 'spec.cleanup.retention',
      message: MESSAGES.retention,
      origin: 'beyond',
    },
    {
      title: `rejects a ${kind} mirror with a negative priority`,
      kind,
      spec: { mirrors: [{ registry: 'harbor.example.com', priority: -1 }] },
      path: 'spec.mirrors[0].priority',
      message: BOUND_MESSAGES.minimum(0),
      origin: 'beyond',
    },
  ]),
  ...REPLICATED_KINDS.map(
    (kind): InvalidCase => ({
      title: `rejects a ${kind} upstream with a negative priority`,
      kind,
      spec: { upstreams: [upstream({ priority: -2 })] },
      path: 'spec.upstreams[0].priority',
      message: BOUND_MESSAGES.minimum(0),
      origin: 'beyond',
    }),
  ),
  {
    title: 'rejects an unusedImageExpiry that is not a Go duration',
    kind: 'ClusterImageSetAvailability',
    spec: { unusedImageExpiry: 'forever' },
    path: 'spec.unusedImageExpiry',
    message: MESSAGES.unusedImageExpiry,
    origin: 'beyond',
  },
  {
    title: 'rejects an unusedImageExpiry beyond Go int64 nanoseconds',
    kind: 'ClusterImageSetAvailability',
    spec: { unusedImageExpiry: '9999999h' },
    path: 'spec.unusedImageExpiry',
    message: MESSAGES.unusedImageExpiry,
    origin: 'beyond',
  },
  {
    title: 'rejects a ClusterImageSetMirror credentialSecret without namespace',
    kind: 'ClusterImageSetMirror',
    spec: { mirrors: [{ registry: 'harbor.example.com', credentialSecret: { name: 'push' } }] },
    path: 'spec.mirrors[0].credentialSecret',
    message: MESSAGES.secretNamespace,
    origin: 'beyond',
  },
  {
    title: 'rejects a ClusterImageSetMirror pullSecret with an empty namespace',
    kind: 'ClusterImageSetMirror',
    spec: { mirrors: [{ registry: 'harbor.example.com', pullSecret: { name: 'pull', namespace: '' } }] },
    path: 'spec.mirrors[0].pullSecret',
    message: MESSAGES.secretNamespace,
    origin: 'beyond',
  },
  {
    title: 'rejects a ClusterReplicatedImageSet upstream credentialSecret without namespace',
    kind: 'ClusterReplicatedImageSet',
    spec: { upstreams: [upstream({ credentialSecret: { name: 'pull' } })] },
    path: 'spec.upstreams[0].credentialSecret',
    message: MESSAGES.secretNamespace,
    origin: 'beyond',
  },
];

/** Edge cases both sides must accept (on top of crds/samples). */
export const VALID_CASES: AdmissionCase[] = [
  {
    title: 'accepts a ReplicatedImageSet whose filter.include has a label item (docs/behaviour.md §10.3)',
    kind: 'ReplicatedImageSet',
    spec: withFilter('ReplicatedImageSet', { include: [{ label: 'app=foo' }] }),
  },
  ...['0', '0s', '+0', '90m', '1h30m', '500ms', '1.5h', '.5h', '10us', '10µs', '2562047h'].map(
    (retention): AdmissionCase => ({
      title: `accepts the Go duration ${JSON.stringify(retention)} as a retention`,
      kind: 'ImageSetMirror',
      spec: { cleanup: { enabled: true, retention } },
    }),
  ),
  {
    title: 'accepts RE2 syntax Go supports: flags, classes, named groups',
    kind: 'ClusterImageSetAvailability',
    spec: {
      filter: { include: [{ image: '(?i)docker\\.io/library/\\w+:(?P<tag>\\d+)' }, { namespace: '' }] },
    },
  },
  {
    title: 'accepts a namespaced credentialSecret without namespace (the resource namespace is used)',
    kind: 'ImageSetMirror',
    spec: {
      mirrors: [
        { registry: 'harbor.example.com', credentialSecret: { name: 'push' }, pullSecret: { name: 'pull' } },
      ],
    },
  },
  {
    title: 'accepts a cluster credentialSecret with neither name nor namespace',
    kind: 'ClusterImageSetMirror',
    spec: { mirrors: [{ registry: 'harbor.example.com', credentialSecret: {} }] },
  },
  {
    title: 'accepts any retention in the deprecated per-mirror cleanup, which nothing reads (as kuik)',
    kind: 'ClusterImageSetMirror',
    spec: { mirrors: [{ registry: 'harbor.example.com', cleanup: { enabled: true, retention: '30d' } }] },
  },
  {
    title: 'accepts a negative CR-level priority (alternatives before the original)',
    kind: 'ClusterReplicatedImageSet',
    spec: { priority: -5, upstreams: [upstream({ priority: 0 })] },
  },
  {
    title: 'accepts an empty imageFilter next to a filter (kuik only forbids both having items)',
    kind: 'ClusterImageSetMirror',
    spec: { imageFilter: {}, filter: { include: [{ image: '.*' }] } },
  },
];
