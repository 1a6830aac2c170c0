// §6.7 /status/images: item shape, grouping, errors.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Hono } from 'hono';
import type { ClusterImageSetAvailability, MonitoredImage } from '#shared/crd/types.ts';
import { GROUP_BY_ERROR, mountStatusImages, statusImagesBody } from './status-images.ts';

const cisa = (name: string, images: MonitoredImage[]): ClusterImageSetAvailability => ({
  apiVersion: 'kuik.enix.io/v1alpha1',
  kind: 'ClusterImageSetAvailability',
  metadata: { name },
  spec: {},
  status: { imageCount: images.length, images },
});

const CISAS = [
  cisa('web', [
    {
      image: 'docker.io/library/nginx:1.27',
      status: 'Available',
      lastMonitor: '2026-11-25T10:00:00Z',
      original: true,
    },
    {
      image: 'quay.io/org/app:2',
      status: 'NotFound',
      lastError: 'image not found: quay.io/org/app:2',
      lastMonitor: '2026-11-25T11:00:00+01:00',
      unusedSince: '2026-11-24T00:00:00Z',
    },
    { image: 'Not A Reference', status: 'Scheduled' },
  ]),
  cisa('db', [{ image: 'docker.io/library/postgres:17', status: 'Scheduled' }]),
];

describe('/status/images body', () => {
  test('without groupBy: flat items in kuik order and shape; nulls always present; lastError omitted when empty', () => {
    const r = statusImagesBody(CISAS, undefined);
    assert.equal(r.status, 200);
    assert.equal(
      JSON.stringify(r.body),
      JSON.stringify({
        items: [
          {
            cisa: 'web',
            image: 'docker.io/library/nginx:1.27',
            registry: 'docker.io',
            status: 'Available',
            unusedSince: null,
            lastMonitor: '2026-11-25T10:00:00Z',
          },
          {
            cisa: 'web',
            image: 'quay.io/org/app:2',
            registry: 'quay.io',
            status: 'NotFound',
            unusedSince: '2026-11-24T00:00:00Z',
            lastError: 'image not found: quay.io/org/app:2',
            lastMonitor: '2026-11-25T10:00:00Z',
          },
          {
            cisa: 'db',
            image: 'docker.io/library/postgres:17',
            registry: 'docker.io',
            status: 'Scheduled',
            unusedSince: null,
            lastMonitor: null,
          },
        ],
        total: 3,
      }),
    );
  });

  test('groupBy=registry: groups keyed by registry, items without the registry field', () => {
    const r = statusImagesBody(CISAS, 'registry');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      groupBy: 'registry',
      groups: {
        'docker.io': [
          {
            cisa: 'web',
            image: 'docker.io/library/nginx:1.27',
            status: 'Available',
            unusedSince: null,
            lastMonitor: '2026-11-25T10:00:00Z',
          },
          {
            cisa: 'db',
            image: 'docker.io/library/postgres:17',
            status: 'Scheduled',
            unusedSince: null,
            lastMonitor: null,
          },
        ],
        'quay.io': [
          {
            cisa: 'web',
            image: 'quay.io/org/app:2',
            status: 'NotFound',
            unusedSince: '2026-11-24T00:00:00Z',
            lastError: 'image not found: quay.io/org/app:2',
            lastMonitor: '2026-11-25T10:00:00Z',
          },
        ],
      },
      total: 3,
    });
  });

  test('groupBy=cisa: groups keyed by CISA name', () => {
    const r = statusImagesBody(CISAS, 'cisa');
    assert.equal(r.status, 200);
    assert.ok('groups' in r.body);
    assert.deepEqual(Object.keys(r.body.groups), ['web', 'db']);
    assert.equal(r.body.groups['web']?.length, 2);
    assert.ok(!('cisa' in (r.body.groups['db']?.[0] ?? {})));
  });

  test('any other groupBy: 400 with kuik message', () => {
    assert.deepEqual(statusImagesBody(CISAS, 'namespace'), { status: 400, body: { error: GROUP_BY_ERROR } });
    assert.equal(GROUP_BY_ERROR, 'groupBy must be "cisa" or "registry"');
  });
});

describe('/status/images route', () => {
  test('JSON over HTTP; an empty groupBy counts as absent; a failed list is a 500 naming the kind', async () => {
    const app = new Hono();
    let fail = false;
    mountStatusImages(app, async () => {
      if (fail) throw new Error('connection refused');
      return CISAS;
    });
    const ok = await app.request('/status/images?groupBy=');
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(((await ok.json()) as { total: number }).total, 3);
    const bad = await app.request('/status/images?groupBy=x');
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), { error: 'groupBy must be "cisa" or "registry"' });
    fail = true;
    const err = await app.request('/status/images');
    assert.equal(err.status, 500);
    assert.deepEqual(await err.json(), {
      error: 'failed to list ClusterImageSetAvailability resources: connection refused',
    });
  });
});
