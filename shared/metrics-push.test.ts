import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Histogram } from 'prom-client';
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
