import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Gauge, Histogram } from 'prom-client';
import { createLogger } from './log.ts';
import { createRegistry } from './metrics.ts';
import { increases, MetricsPusher, type PushPayload, snapshotOf } from './metrics-push.ts';

function setup() {
  const registry = createRegistry('copy');
  const c = new Counter({
    name: 'kube_image_keeper_copies_total',
    help: 'h',
    labelNames: ['result'],
    registers: [registry],
  });
  const h = new Histogram({
    name: 'kube_image_keeper_copy_duration_seconds',
    help: 'h',
    buckets: [1],
    registers: [registry],
  });
  return { registry, c, h };
}

test('increases carry what grew since the acknowledged snapshot, never the process metrics or the function label', async () => {
  const { registry, c, h } = setup();
  c.inc({ result: 'mirrored' }, 2);
  const first = snapshotOf(await registry.getMetricsAsJSON());
  c.inc({ result: 'mirrored' });
  c.inc({ result: 'failed' });
  h.observe(0.5);
  const d = increases(first, snapshotOf(await registry.getMetricsAsJSON()));
  assert.deepEqual(
    d.map((f) => [f.name, f.samples.map((s) => [s.name, s.labels, s.value])]),
    [
      [
        'kube_image_keeper_copies_total',
        [
          ['kube_image_keeper_copies_total', { result: 'mirrored' }, 1],
          ['kube_image_keeper_copies_total', { result: 'failed' }, 1],
        ],
      ],
      [
        'kube_image_keeper_copy_duration_seconds',
        [
          ['kube_image_keeper_copy_duration_seconds_bucket', { le: '1' }, 1],
          ['kube_image_keeper_copy_duration_seconds_bucket', { le: '+Inf' }, 1],
          ['kube_image_keeper_copy_duration_seconds_sum', {}, 0.5],
          ['kube_image_keeper_copy_duration_seconds_count', {}, 1],
        ],
      ],
    ],
  );
});

test('a failed push keeps its increases for the next one; stop() retries until the router answers', async () => {
  const { registry, c } = setup();
  const received: PushPayload[] = [];
  let up = false;
  const fakeFetch = (async (_url: string, init: RequestInit) => {
    if (!up) throw new Error('connect ECONNREFUSED');
    received.push(JSON.parse(String(init.body)) as PushPayload);
    return new Response(null, { status: 204 });
  }) as typeof fetch;
  const pusher = new MetricsPusher({
    registry,
    url: 'http://router/metrics/push',
    function: 'copy',
    log: createLogger('test', 'silent'),
    intervalMs: 60_000,
    fetch: fakeFetch,
  });
  c.inc({ result: 'mirrored' });
  assert.equal(await pusher.flush(), false);
  c.inc({ result: 'mirrored' });
  setTimeout(() => {
    up = true;
  }, 300);
  assert.equal(await pusher.stop(5_000), true);
  assert.equal(received.length, 1);
  assert.equal(received[0]!.function, 'copy');
  assert.equal(received[0]!.families[0]!.samples[0]!.value, 2);
  // Nothing new: nothing sent.
  assert.equal(await pusher.flush(), true);
  assert.equal(received.length, 1);
});

test('named gauges are pushed with their current values while they have series, once more empty, from one sender', async () => {
  const { registry, c } = setup();
  let inFlight: Record<string, number> = {};
  new Gauge({
    name: 'kube_image_keeper_copy_progress_done_bytes',
    help: 'h',
    labelNames: ['image'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [image, v] of Object.entries(inFlight)) this.set({ image }, v);
    },
  });
  // A gauge not named is not pushed (the router would refuse the whole push).
  new Gauge({ name: 'kube_image_keeper_other', help: 'h', registers: [registry] }).set(3);
  const received: PushPayload[] = [];
  const pusher = new MetricsPusher({
    registry,
    url: 'http://router/metrics/push',
    function: 'copy',
    log: createLogger('test', 'silent'),
    intervalMs: 2_000,
    gauges: ['kube_image_keeper_copy_progress_done_bytes'],
    fetch: (async (_url: string, init: RequestInit) => {
      received.push(JSON.parse(String(init.body)) as PushPayload);
      return new Response(null, { status: 204 });
    }) as typeof fetch,
  });
  const gauge = (p: PushPayload) =>
    p.families
      .filter((f) => f.type === 'gauge')
      .map((f) => [f.name, f.samples.map((s) => [s.labels['image'], s.value])]);
  // No copy yet, no counter: nothing to say.
  assert.equal(await pusher.flush(), true);
  assert.equal(received.length, 0);
  inFlight = { 'm/a:1': 10 };
  await pusher.flush();
  // Unchanged values are sent again: each push refreshes the router's expiry.
  await pusher.flush();
  inFlight = { 'm/a:1': 20 };
  c.inc({ result: 'mirrored' });
  await pusher.flush();
  inFlight = {};
  await pusher.stop();
  // Nothing in flight and already said so: nothing more.
  await pusher.flush();
  assert.deepEqual(received.map(gauge), [
    [['kube_image_keeper_copy_progress_done_bytes', [['m/a:1', 10]]]],
    [['kube_image_keeper_copy_progress_done_bytes', [['m/a:1', 10]]]],
    [['kube_image_keeper_copy_progress_done_bytes', [['m/a:1', 20]]]],
    [['kube_image_keeper_copy_progress_done_bytes', []]],
  ]);
  assert.equal(received[2]!.families[0]!.name, 'kube_image_keeper_copies_total');
  assert.equal(new Set(received.map((p) => p.sender)).size, 1);
  assert.match(received[0]!.sender ?? '', /^[a-zA-Z0-9_-]{1,64}$/);
  assert.ok(received.every((p) => p.gaugeTtlMs === 6_000));
});
