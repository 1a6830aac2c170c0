// §6.2 bookkeeping, one test per rule, and the §10.9 scenarios that are about discovery (129–136).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import type { ClusterImageSetAvailability, MonitoredImage } from '#shared/crd/types.ts';
import { compileSelection } from '#shared/filter/filter.ts';
import { rfc3339 } from '#shared/time.ts';
import { annotationOriginals, discover, imagesInUse } from './discovery.ts';

const NOW = Date.parse('2026-11-25T10:00:00.400Z');
const HOUR = 3_600_000;
const MARKER = '0001-01-01T01:00:00Z';

function pod(
  images: string[],
  opts: {
    ns?: string;
    originals?: Record<string, string>;
    init?: string[];
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  } = {},
): V1Pod {
  return {
    metadata: {
      name: 'p',
      namespace: opts.ns ?? 'default',
      labels: opts.labels ?? {},
      annotations: {
        ...opts.annotations,
        ...(opts.originals ? { 'kuik.enix.io/original-images': JSON.stringify(opts.originals) } : {}),
      },
    },
    spec: {
      containers: images.map((image, i) => ({ name: `c${i}`, image })),
      ...(opts.init ? { initContainers: opts.init.map((image, i) => ({ name: `i${i}`, image })) } : {}),
    },
  };
}

function cisa(spec: ClusterImageSetAvailability['spec']): ClusterImageSetAvailability {
  return {
    apiVersion: 'kuik.enix.io/v1alpha1',
    kind: 'ClusterImageSetAvailability',
    metadata: { name: 'a' },
    spec,
  };
}

/** Runs discovery the way the tick does: the CISA's pod matcher, then its image filter. */
function run(
  spec: ClusterImageSetAvailability['spec'],
  pods: V1Pod[],
  images: MonitoredImage[],
  expiryMs = 0,
  allPods: V1Pod[] = pods,
) {
  const sel = compileSelection(cisa(spec));
  assert.ok(sel.ok, 'filter compiles');
  return discover({
    images,
    pods: pods.filter(sel.value.podMatcher),
    imageFilter: sel.value.imageFilter,
    expiryMs,
    originals: annotationOriginals(allPods),
    now: NOW,
  });
}

const ALL = { imageFilter: { include: ['.*'] } };

describe('step 5: images in use', () => {
  test('containers and init containers are current images with original false', () => {
    const r = run(ALL, [pod(['nginx:1.27'], { init: ['busybox'] })], []);
    assert.deepEqual(r.images, [
      { image: 'docker.io/library/busybox', status: 'Scheduled', original: false },
      { image: 'docker.io/library/nginx:1.27', status: 'Scheduled', original: false },
    ]);
  });

  test('an annotation original is in use with original true, beside the rerouted image', () => {
    const p = pod(['mirror.local/library/nginx:1.27'], { originals: { c0: 'nginx:1.27' } });
    const r = run(ALL, [p], []);
    assert.deepEqual(r.images, [
      { image: 'docker.io/library/nginx:1.27', status: 'Scheduled', original: true },
      { image: 'mirror.local/library/nginx:1.27', status: 'Scheduled', original: false },
    ]);
  });

  test('original overrides false for the same pod (a container not rerouted runs its original)', () => {
    const p = pod(['nginx:1.27'], { originals: { c0: 'nginx:1.27' } });
    assert.deepEqual(imagesInUse([p]).get('docker.io/library/nginx:1.27'), true);
  });

  test('across pods, original is true when any pod names the image as original (kuik: last pod wins)', () => {
    const rerouted = pod(['nginx:1.27'], { originals: { c0: 'nginx:1.27' } });
    const plain = pod(['nginx:1.27']);
    for (const pods of [
      [rerouted, plain],
      [plain, rerouted],
    ]) {
      assert.equal(run(ALL, pods, []).images[0]?.original, true);
    }
  });

  test('only images the filter selects are added', () => {
    const r = run(
      { imageFilter: { include: ['docker\\.io/library/redis:.*'] } },
      [pod(['nginx', 'redis:7'])],
      [],
    );
    assert.deepEqual(
      r.images.map((i) => i.image),
      ['docker.io/library/redis:7'],
    );
  });

  test('a digest-pinned image is monitored (beyond kuik, which skipped any reference with @)', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const r = run(ALL, [pod([`nginx@${digest}`])], []);
    assert.deepEqual(
      r.images.map((i) => i.image),
      [`docker.io/library/nginx@${digest}`],
    );
  });

  test('an empty filter (no imageFilter, no filter) matches no image', () => {
    const r = run({}, [pod(['nginx'])], []);
    assert.deepEqual(r.images, []);
  });
});

describe('step 6: existing entries', () => {
  const available = (image: string, extra: Partial<MonitoredImage> = {}): MonitoredImage => ({
    image,
    status: 'Available',
    lastMonitor: '2026-11-25T09:00:00Z',
    ...extra,
  });

  test('an entry no longer matching the filter gets the marker', () => {
    const r = run(
      { imageFilter: { include: ['.*redis.*'] } },
      [pod(['nginx'])],
      [available('docker.io/library/nginx')],
    );
    assert.equal(r.images[0]?.unusedSince, MARKER);
  });

  test('an entry in use has unusedSince cleared', () => {
    const r = run(
      ALL,
      [pod(['nginx'])],
      [available('docker.io/library/nginx', { unusedSince: '2026-11-24T00:00:00Z' })],
    );
    assert.equal(r.images[0]?.unusedSince, undefined);
    assert.ok(!('unusedSince' in (r.images[0] ?? {})));
  });

  test('an entry in use only through an annotation original stays in use', () => {
    const p = pod(['mirror.local/library/nginx:1'], { originals: { c0: 'nginx:1' } });
    const r = run(
      ALL,
      [p],
      [available('docker.io/library/nginx:1', { unusedSince: '2026-11-24T00:00:00Z' })],
    );
    assert.equal(r.images.find((i) => i.image === 'docker.io/library/nginx:1')?.unusedSince, undefined);
  });

  test('a never-checked (Scheduled) entry no longer in use gets the marker', () => {
    const r = run(ALL, [], [{ image: 'docker.io/library/nginx', status: 'Scheduled' }]);
    assert.equal(r.images[0]?.unusedSince, MARKER);
  });

  test('a checked entry no longer in use gets unusedSince = now, and keeps an earlier one', () => {
    const r = run(
      ALL,
      [],
      [
        available('docker.io/library/a'),
        available('docker.io/library/b', { unusedSince: '2026-11-25T08:00:00Z' }),
      ],
    );
    assert.equal(r.images[0]?.unusedSince, rfc3339(NOW));
    assert.equal(r.images[1]?.unusedSince, '2026-11-25T08:00:00Z');
  });

  test('status, lastMonitor, lastError and original are kept', () => {
    const e = available('docker.io/library/nginx', {
      status: 'NotFound',
      lastError: 'image not found: x',
      original: true,
    });
    const r = run(ALL, [pod(['nginx'])], [e]);
    assert.deepEqual(r.images, [e]);
  });
});

describe('step 7: expiry', () => {
  test('with an expiry, entries unused for at least that long are removed, markers at once', () => {
    const r = run(
      ALL,
      [],
      [
        { image: 'docker.io/library/old', status: 'Available', unusedSince: rfc3339(NOW - HOUR) },
        { image: 'docker.io/library/young', status: 'Available', unusedSince: rfc3339(NOW - HOUR + 2000) },
        { image: 'docker.io/library/scheduled', status: 'Scheduled' },
      ],
      HOUR,
    );
    assert.deepEqual(
      r.images.map((i) => i.image),
      ['docker.io/library/young'],
    );
    assert.equal(r.removed, 2);
  });

  test('without an expiry nothing is ever removed, not even marker entries', () => {
    const r = run(
      { imageFilter: { include: ['.*redis.*'] } },
      [],
      [
        { image: 'docker.io/library/nginx', status: 'Available', unusedSince: '2020-01-01T00:00:00Z' },
        { image: 'docker.io/library/redis', status: 'Scheduled' },
      ],
      0,
    );
    assert.deepEqual(
      r.images.map((i) => [i.image, i.unusedSince]),
      [
        ['docker.io/library/nginx', MARKER],
        ['docker.io/library/redis', MARKER],
      ],
    );
    assert.equal(r.removed, 0);
  });
});

describe('steps 8–9: discovery and count', () => {
  test('new images are appended as Scheduled, existing ones are not duplicated, imageCount follows', () => {
    const r = run(
      ALL,
      [pod(['nginx', 'redis'])],
      [{ image: 'docker.io/library/nginx', status: 'Available' }],
    );
    assert.deepEqual(r.images, [
      { image: 'docker.io/library/nginx', status: 'Available' },
      { image: 'docker.io/library/redis', status: 'Scheduled', original: false },
    ]);
    assert.equal(r.imageCount, 2);
    assert.equal(r.added, 1);
  });

  test('stored entries are normalised and a duplicate key keeps its first entry', () => {
    const r = run(
      ALL,
      [pod(['nginx'])],
      [
        { image: 'nginx', status: 'Available' },
        { image: 'docker.io/library/nginx', status: 'NotFound' },
      ],
    );
    assert.deepEqual(r.images, [{ image: 'docker.io/library/nginx', status: 'Available' }]);
  });

  test('the same inputs give the same output (idempotent)', () => {
    const pods = [pod(['nginx', 'redis'], { originals: { c0: 'nginx' } })];
    const first = run(ALL, pods, []);
    const second = run(ALL, pods, first.images);
    assert.deepEqual(second.images, first.images);
    assert.equal(second.added + second.removed, 0);
  });
});

describe('§6.6 backfill of original, on every tick', () => {
  test('an entry with original false becomes true when any pod names it, filters ignored', () => {
    const outOfScope = pod(['mirror.local/library/nginx:1'], { ns: 'other', originals: { c0: 'nginx:1' } });
    const r = run(
      { filter: { include: [{ namespace: 'mine' }] } },
      [],
      [{ image: 'docker.io/library/nginx:1', status: 'Available', original: false }],
      0,
      [outOfScope],
    );
    assert.equal(r.images[0]?.original, true);
  });

  test('original true is never turned back to false', () => {
    const r = run(
      ALL,
      [pod(['nginx'])],
      [{ image: 'docker.io/library/nginx', status: 'Available', original: true }],
    );
    assert.equal(r.images[0]?.original, true);
  });
});

describe('§10.9 availability scenarios (discovery part)', () => {
  const nginx = (extra: Partial<MonitoredImage> = {}): MonitoredImage => ({
    image: 'docker.io/library/nginx:latest',
    status: 'Available',
    lastMonitor: rfc3339(NOW),
    ...extra,
  });
  const scoped = (more: object = {}) => ({
    filter: {
      include: [{ image: 'docker\\.io/library/nginx:.*' }, { namespace: 'cisa-ns-in-scope' }],
      ...more,
    },
  });

  test('129: expiry 1h removes the image unused for 2h, keeps the one unused since now', () => {
    const r = run(
      ALL,
      [],
      [
        { image: 'docker.io/library/nginx:1.26', status: 'Available', unusedSince: rfc3339(NOW - 2 * HOUR) },
        { image: 'docker.io/library/redis:7', status: 'Available', unusedSince: rfc3339(NOW) },
      ],
      HOUR,
    );
    assert.deepEqual(
      r.images.map((i) => i.image),
      ['docker.io/library/redis:7'],
    );
  });

  test('130: a pod only in the out-of-scope namespace leaves unusedSince set', () => {
    const r = run(scoped(), [pod(['nginx:latest'], { ns: 'cisa-ns-out-of-scope' })], [nginx()]);
    assert.equal(r.images.length, 1);
    assert.equal(r.images[0]?.unusedSince, rfc3339(NOW));
  });

  test('131: pods in both namespaces leave unusedSince unset', () => {
    const pods = [
      pod(['nginx:latest'], { ns: 'cisa-ns-out-of-scope' }),
      pod(['nginx:latest'], { ns: 'cisa-ns-in-scope' }),
    ];
    assert.equal(run(scoped(), pods, [nginx()]).images[0]?.unusedSince, undefined);
  });

  test('132: a namespace exclude of the only namespace using it sets unusedSince', () => {
    const spec = {
      filter: {
        include: [{ image: 'docker\\.io/library/nginx:.*' }],
        exclude: [{ namespace: 'cisa-ns-out-of-scope' }],
      },
    };
    const r = run(spec, [pod(['nginx:latest'], { ns: 'cisa-ns-out-of-scope' })], [nginx()]);
    assert.equal(r.images[0]?.unusedSince, rfc3339(NOW));
  });

  const image = { image: 'docker\\.io/library/nginx:.*' };
  test('133: exclude label cnpg.io/podRole=instance on the only pod sets unusedSince', () => {
    const spec = { filter: { include: [image], exclude: [{ label: 'cnpg.io/podRole=instance' }] } };
    const p = pod(['nginx:latest'], { labels: { 'cnpg.io/podRole': 'instance' } });
    assert.equal(run(spec, [p], [nginx()]).images[0]?.unusedSince, rfc3339(NOW));
  });

  test('134: the same exclude with a pod app=foo leaves unusedSince unset', () => {
    const spec = { filter: { include: [image], exclude: [{ label: 'cnpg.io/podRole=instance' }] } };
    const p = pod(['nginx:latest'], { labels: { app: 'foo' } });
    assert.equal(run(spec, [p], [nginx()]).images[0]?.unusedSince, undefined);
  });

  test('135: include label app=monitor-me with a pod app=skip-me sets unusedSince', () => {
    const spec = { filter: { include: [image, { label: 'app=monitor-me' }] } };
    const p = pod(['nginx:latest'], { labels: { app: 'skip-me' } });
    assert.equal(run(spec, [p], [nginx()]).images[0]?.unusedSince, rfc3339(NOW));
  });

  test('136: include annotation presence with a pod lacking it sets unusedSince', () => {
    const spec = { filter: { include: [image, { annotation: 'my.company.com/custom-annotation' }] } };
    assert.equal(run(spec, [pod(['nginx:latest'])], [nginx()]).images[0]?.unusedSince, rfc3339(NOW));
    const has = pod(['nginx:latest'], { annotations: { 'my.company.com/custom-annotation': 'x' } });
    assert.equal(run(spec, [has], [nginx()]).images[0]?.unusedSince, undefined);
  });
});

describe('image volumes', () => {
  const mounting: V1Pod = {
    metadata: {
      name: 'p',
      namespace: 'default',
      annotations: { 'kuik.enix.io/original-images': '{"c0":"nginx:1.27","volume:models":"quay.io/m:v2"}' },
    },
    spec: {
      containers: [{ name: 'c0', image: 'nginx:1.27' }],
      volumes: [{ name: 'models', image: { reference: 'mirror.example/quay.io/m:v2' } }],
    },
  };

  test('an image volume’s image is monitored, its recorded original as an original', () => {
    const r = run(ALL, [mounting], []);
    assert.deepEqual(
      r.images.map((i) => [i.image, i.original]),
      [
        ['docker.io/library/nginx:1.27', true],
        ['mirror.example/quay.io/m:v2', false],
        ['quay.io/m:v2', true],
      ],
    );
  });

  test('imageVolumes off: neither the volume’s image nor its original is monitored', () => {
    assert.deepEqual(
      [...imagesInUse([mounting], { imageVolumes: false }).keys()],
      ['docker.io/library/nginx:1.27'],
    );
    assert.deepEqual(
      [...annotationOriginals([mounting], { imageVolumes: false })],
      ['docker.io/library/nginx:1.27'],
    );
  });
});
