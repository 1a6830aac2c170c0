import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClusterImageSetAvailability, ClusterImageSetMirror } from '#shared/crd/types.ts';
import { createRegistry } from '#shared/metrics.ts';
import { ageBuckets, createRouterMetrics, exponentialBuckets } from './metrics.ts';

/** The value of the sample of `name` whose labels include `labels`, in any order. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...m[2]!.matchAll(/([a-z_]+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

test("kuik's default buckets: 1, 1.94, 3.764, … 1464.937", () => {
  assert.deepEqual(
    exponentialBuckets(1, 1.94, 12),
    [1, 1.94, 3.764, 7.301, 14.165, 27.479, 53.31, 103.422, 200.638, 389.238, 755.122, 1464.937],
  );
});

test('state gauges are computed from CRD status at scrape time', async () => {
  const cisa: ClusterImageSetAvailability = {
    apiVersion: 'kuik.enix.io/v1alpha1',
    kind: 'ClusterImageSetAvailability',
    metadata: { name: 'all' },
    spec: {},
    status: {
      imageCount: 3,
      images: [
        {
          image: 'docker.io/library/nginx:1',
          status: 'Available',
          lastMonitor: '2026-01-01T00:00:00Z',
          original: true,
        },
        { image: 'docker.io/library/redis:7', status: 'Available', lastMonitor: '2026-01-01T00:10:00Z' },
        { image: 'quay.io/x/y:1', status: 'NotFound', unusedSince: '2026-01-01T00:00:00Z' },
      ],
    },
  };
  const cism: ClusterImageSetMirror = {
    apiVersion: 'kuik.enix.io/v1alpha1',
    kind: 'ClusterImageSetMirror',
    metadata: { name: 'g' },
    spec: {},
    status: {
      matchingImages: [
        {
          image: 'a',
          mirrors: [
            { image: 'm/a', mirroredAt: 't' },
            { image: 'n/a', lastError: 'x' },
          ],
        },
      ],
    },
  };
  const state = { cisas: [cisa], mirrors: [cism] };
  const registry = createRegistry('router');
  createRouterMetrics(registry, { cisas: () => state.cisas, mirrors: () => state.mirrors }, () =>
    Date.parse('2026-01-01T00:20:00Z'),
  );
  let text = await registry.metrics();
  const images = 'kube_image_keeper_monitoring_images';
  assert.equal(
    sample(text, images, {
      name: 'all',
      registry: 'docker.io',
      status: 'Available',
      used: 'true',
      original: 'true',
    }),
    1,
  );
  assert.equal(
    sample(text, images, {
      name: 'all',
      registry: 'docker.io',
      status: 'Available',
      used: 'true',
      original: 'false',
    }),
    1,
  );
  assert.equal(
    sample(text, images, {
      name: 'all',
      registry: 'quay.io',
      status: 'NotFound',
      used: 'false',
      original: 'false',
    }),
    1,
  );
  // Ages 20 and 10 minutes: both above the 7.301-minute bucket, both within 27.479 minutes.
  const age = 'kube_image_keeper_monitoring_image_last_monitor_age_seconds_bucket';
  assert.equal(sample(text, age, { le: '438.06', registry: 'docker.io' }), 0);
  assert.equal(sample(text, age, { le: '1648.74', registry: 'docker.io' }), 2);
  // kuik's minutes histogram only on request (promtool refuses its unit).
  assert.doesNotMatch(text, /_age_minutes/);
  const mirrors = 'kube_image_keeper_mirror_images';
  assert.equal(sample(text, mirrors, { kind: 'ClusterImageSetMirror', name: 'g', state: 'mirrored' }), 1);
  assert.equal(sample(text, mirrors, { kind: 'ClusterImageSetMirror', name: 'g', state: 'failed' }), 1);
  // Label sets with no images disappear at the next scrape.
  state.cisas = [];
  text = await registry.metrics();
  assert.doesNotMatch(text, /kube_image_keeper_monitoring_images\{/);
});

test('the age histogram honours metrics.imageLastMonitorAgeMinutes.legacy', () => {
  const base = {
    bucketType: '' as const,
    start: 1,
    factor: 1.94,
    count: 12,
    min: 1,
    max: 1440,
    custom: [1, 5, 10],
  };
  assert.deepEqual(ageBuckets(base), exponentialBuckets(1, 1.94, 12));
  assert.deepEqual(ageBuckets({ ...base, bucketType: 'custom' }), [1, 5, 10]);
  assert.deepEqual(ageBuckets({ ...base, bucketType: 'disabled' }), []);
  const range = ageBuckets({ ...base, bucketType: 'exponentialRange', min: 1, max: 1000, count: 4 });
  assert.deepEqual(range, [1, 10, 100, 1000]);
});

test('build info and is_leader are exported', async () => {
  const registry = createRegistry('router');
  createRouterMetrics(registry, { cisas: () => [], mirrors: () => [] }, Date.now, {
    build: { version: '1.2.3', revision: 'abc', built: 'now' },
  });
  const text = await registry.metrics();
  assert.equal(
    sample(text, 'kube_image_keeper_manager_build_info', {
      version: '1.2.3',
      revision: 'abc',
      nodeversion: process.version,
    }),
    1,
  );
  assert.equal(sample(text, 'kube_image_keeper_manager_is_leader', {}), 1);
});

test("kuik's minutes histogram is served on request, beside the seconds one, with kuik's buckets", async () => {
  const registry = createRegistry('router');
  const lastMonitor = new Date(Date.now() - 10 * 60_000).toISOString();
  const cisa = {
    apiVersion: 'kuik.enix.io/v1alpha1',
    kind: 'ClusterImageSetAvailability',
    metadata: { name: 'all' },
    spec: {},
    status: { images: [{ image: 'docker.io/library/nginx:1', status: 'Available', lastMonitor }] },
  } as unknown as ClusterImageSetAvailability;
  createRouterMetrics(registry, { cisas: () => [cisa], mirrors: () => [] }, Date.now, { ageInMinutes: true });
  const text = await registry.metrics();
  const labels = { name: 'all', registry: 'docker.io' };
  assert.equal(
    sample(text, 'kube_image_keeper_monitoring_image_last_monitor_age_minutes_bucket', {
      ...labels,
      le: '7.301',
    }),
    0,
  );
  assert.equal(
    sample(text, 'kube_image_keeper_monitoring_image_last_monitor_age_minutes_bucket', {
      ...labels,
      le: '14.165',
    }),
    1,
  );
  assert.equal(
    sample(text, 'kube_image_keeper_monitoring_image_last_monitor_age_seconds_bucket', {
      ...labels,
      le: '849.9',
    }),
    1,
  );
});
