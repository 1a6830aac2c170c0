import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { createRegistry } from '#shared/metrics.ts';
import { PushedMetrics } from './pushed-metrics.ts';

const copies = (value: number, result = 'mirrored') => ({
  function: 'copy',
  families: [
    {
      name: 'kube_image_keeper_copies_total',
      type: 'counter',
      samples: [{ name: 'kube_image_keeper_copies_total', labels: { registry: 'r.example', result }, value }],
    },
  ],
});

const line = (text: string, prefix: string) => text.split('\n').find((l) => l.startsWith(prefix));

test('pushed increases add up; a new series is shown at 0 for the hold time, so rate() sees its first increase', async () => {
  const registry = new Registry();
  let t = 0;
  const pushed = new PushedMetrics({ holdMs: 30_000, now: () => t });
  pushed.register(registry);
  assert.deepEqual(pushed.apply(copies(1)), { ok: true, samples: 1 });
  assert.deepEqual(pushed.apply(copies(2)), { ok: true, samples: 1 });
  const series = 'kube_image_keeper_copies_total{registry="r.example",result="mirrored",function="copy"}';
  // Every scrape within the hold (two Prometheus servers, say) sees 0.
  assert.equal(line(await registry.metrics(), series), `${series} 0`);
  t = 29_999;
  assert.equal(line(await registry.metrics(), series), `${series} 0`);
  t = 30_000;
  assert.equal(line(await registry.metrics(), series), `${series} 3`);
  pushed.apply(copies(4));
  assert.equal(line(await registry.metrics(), series), `${series} 7`);
});

test('a push naming a metric, type or label its function does not define is refused whole', () => {
  const pushed = new PushedMetrics();
  const bad = [
    { ...copies(1), function: 'router' },
    {
      function: 'copy',
      families: [{ name: 'kube_image_keeper_router_reviews_total', type: 'counter', samples: [] }],
    },
    { function: 'copy', families: [{ ...copies(1).families[0]!, type: 'histogram' }] },
    {
      function: 'copy',
      families: [
        copies(1).families[0]!,
        {
          ...copies(1).families[0]!,
          samples: [{ name: 'kube_image_keeper_copies_total', labels: { image: 'x' }, value: 1 }],
        },
      ],
    },
    copies(-1),
    'not an object',
  ];
  for (const b of bad) {
    const r = pushed.apply(b);
    assert.equal(r.ok, false, JSON.stringify(b));
  }
  const r = pushed.apply(bad[3]);
  assert.deepEqual(r, {
    ok: false,
    status: 400,
    error: 'invalid push: kube_image_keeper_copies_total has no label image',
  });
});

test('the pushed series are bounded: past the limit a push is refused with 429', () => {
  const pushed = new PushedMetrics({ maxSeries: 2 });
  assert.equal(pushed.apply(copies(1, 'a')).ok, true);
  assert.equal(pushed.apply(copies(1, 'b')).ok, true);
  assert.deepEqual(pushed.apply(copies(1, 'c')), {
    ok: false,
    status: 429,
    error: 'pushed series limit reached (2)',
  });
  // An existing series still counts.
  assert.equal(pushed.apply(copies(1, 'a')).ok, true);
});

test('the router registry with pushed histograms passes promtool check metrics', async () => {
  const registry = createRegistry('router');
  const pushed = new PushedMetrics();
  pushed.register(registry);
  const bucket = (le: string, value: number) => ({
    name: 'kube_image_keeper_copy_duration_seconds_bucket',
    labels: { result: 'mirrored', le },
    value,
  });
  pushed.apply({
    function: 'copy',
    families: [
      {
        name: 'kube_image_keeper_copy_duration_seconds',
        type: 'histogram',
        samples: [
          bucket('+Inf', 1),
          bucket('0.05', 0),
          bucket('10', 1),
          { name: 'kube_image_keeper_copy_duration_seconds_count', labels: { result: 'mirrored' }, value: 1 },
          { name: 'kube_image_keeper_copy_duration_seconds_sum', labels: { result: 'mirrored' }, value: 2.5 },
        ],
      },
    ],
  });
  const text = await registry.metrics();
  // Buckets in le order, then sum and count.
  const lines = text.split('\n').filter((l) => l.startsWith('kube_image_keeper_copy_duration_seconds'));
  assert.deepEqual(
    lines.map((l) => l.replace(/\{.*le="([^"]+)".*\}/, ' $1').replace(/\{.*\}/, '')),
    [
      'kube_image_keeper_copy_duration_seconds_bucket 0.05 0',
      'kube_image_keeper_copy_duration_seconds_bucket 10 0',
      'kube_image_keeper_copy_duration_seconds_bucket +Inf 0',
      'kube_image_keeper_copy_duration_seconds_sum 0',
      'kube_image_keeper_copy_duration_seconds_count 0',
    ],
  );
  execFileSync('promtool', ['check', 'metrics'], { input: await registry.metrics() });
});
