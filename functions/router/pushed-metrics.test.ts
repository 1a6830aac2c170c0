import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { createLogger } from '#shared/log.ts';
import { createRegistry } from '#shared/metrics.ts';
import { PushedMetrics, serveLastScrape } from './pushed-metrics.ts';

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
  assert.deepEqual(pushed.apply(copies(1)), { ok: true, value: 1 });
  assert.deepEqual(pushed.apply(copies(2)), { ok: true, value: 1 });
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
    error: { status: 400, message: 'invalid push: kube_image_keeper_copies_total has no label image' },
  });
});

test('the pushed series are bounded: past the limit a push is refused with 429', () => {
  const pushed = new PushedMetrics({ maxSeries: 2 });
  assert.equal(pushed.apply(copies(1, 'a')).ok, true);
  assert.equal(pushed.apply(copies(1, 'b')).ok, true);
  assert.deepEqual(pushed.apply(copies(1, 'c')), {
    ok: false,
    error: { status: 429, message: 'pushed series limit reached (2)' },
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

const DONE = 'kube_image_keeper_copy_progress_done_bytes';
const progress = (sender: string | undefined, images: Record<string, number>, gaugeTtlMs?: number) => ({
  function: 'copy',
  ...(sender === undefined ? {} : { sender }),
  ...(gaugeTtlMs === undefined ? {} : { gaugeTtlMs }),
  families: [
    {
      name: DONE,
      type: 'gauge',
      samples: Object.entries(images).map(([image, value]) => ({
        name: DONE,
        labels: { registry: 'r.example', image },
        value,
      })),
    },
  ],
});
const gaugeLines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith(`${DONE}{`))
    .map((l) => l.replace(/\{registry="r.example",image="([^"]+)",function="copy"\}/, ' $1'));

test("pushed progress gauges are set, not added: each push replaces its sender's series, an empty push removes them", async () => {
  const registry = new Registry();
  const pushed = new PushedMetrics({ holdMs: 60_000, now: () => 0 });
  pushed.register(registry);
  assert.deepEqual(pushed.apply(progress('job-a', { 'm/a:1': 5, 'm/b:1': 7 })), { ok: true, value: 2 });
  // Shown at once (no hold: a gauge is read as it is, not through rate()).
  assert.deepEqual(gaugeLines(await registry.metrics()), [`${DONE} m/a:1 5`, `${DONE} m/b:1 7`]);
  pushed.apply(progress('job-b', { 'm/c:1': 1 }));
  // job-a's copy of m/b ended: gone; m/a moved on (replaced, not 5 + 9).
  pushed.apply(progress('job-a', { 'm/a:1': 9 }));
  assert.deepEqual(gaugeLines(await registry.metrics()), [`${DONE} m/a:1 9`, `${DONE} m/c:1 1`]);
  // The push at stop: nothing in flight, so nothing of job-a's left; job-b's stays.
  pushed.apply(progress('job-a', {}));
  assert.deepEqual(gaugeLines(await registry.metrics()), [`${DONE} m/c:1 1`]);
  execFileSync('promtool', ['check', 'metrics'], { input: await registry.metrics() });
});

test('pushed gauges not refreshed within their TTL (capped) are dropped; two senders of one series show the latest', async () => {
  const registry = new Registry();
  let t = 0;
  const pushed = new PushedMetrics({ now: () => t });
  pushed.register(registry);
  pushed.apply(progress('job-a', { 'm/a:1': 5 }, 3_000));
  pushed.apply(progress('job-x', { 'm/x:1': 1 }, 24 * 3_600_000));
  t = 1_000;
  pushed.apply(progress('job-b', { 'm/a:1': 2 }, 3_000));
  // One series per label set, the latest pushed value.
  assert.deepEqual(gaugeLines(await registry.metrics()), [`${DONE} m/a:1 2`, `${DONE} m/x:1 1`]);
  t = 2_999;
  assert.deepEqual(gaugeLines(await registry.metrics()), [`${DONE} m/a:1 2`, `${DONE} m/x:1 1`]);
  t = 3_000; // job-a's expired; job-b's value stays
  assert.deepEqual(gaugeLines(await registry.metrics()), [`${DONE} m/a:1 2`, `${DONE} m/x:1 1`]);
  t = 4_000; // job-b's expired too (its last push would have gone to another replica)
  assert.deepEqual(gaugeLines(await registry.metrics()), [`${DONE} m/x:1 1`]);
  t = 15 * 60_000; // a sender asking for a day gets 15 minutes
  assert.deepEqual(gaugeLines(await registry.metrics()), []);
});

test('pushed gauges: only the copy progress gauges with their labels, from a named sender, within the series bound', () => {
  const pushed = new PushedMetrics({ maxSeries: 2 });
  const bad = [
    progress(undefined, { 'm/a:1': 1 }),
    { ...progress('job-a', { 'm/a:1': 1 }), function: 'reconcile' },
    { ...progress('job-a', {}), families: [{ ...progress('job-a', {}).families[0]!, type: 'counter' }] },
    {
      ...progress('job-a', {}),
      families: [{ name: 'kube_image_keeper_copy_jobs', type: 'gauge', samples: [] }],
    },
    {
      ...progress('job-a', {}),
      families: [
        {
          name: DONE,
          type: 'gauge',
          samples: [{ name: DONE, labels: { registry: 'r', image: 'i', pod: 'p' }, value: 1 }],
        },
      ],
    },
    progress('job-a', { 'm/a:1': -1 }),
    progress('not a valid id!', { 'm/a:1': 1 }),
  ];
  for (const b of bad) assert.equal(pushed.apply(b).ok, false, JSON.stringify(b));
  assert.match(
    String((pushed.apply(bad[4]) as { error: { message: string } }).error.message),
    /has no label pod/,
  );
  assert.equal(pushed.apply(progress('job-a', { 'm/a:1': 1, 'm/b:1': 1 })).ok, true);
  assert.equal(pushed.apply(progress('job-b', { 'm/c:1': 1 })).ok, false);
  // Replacing its own series is not growth.
  assert.equal(pushed.apply(progress('job-a', { 'm/c:1': 1, 'm/d:1': 1 })).ok, true);
  assert.equal(pushed.apply(progress('job-a', {})).ok, true);
  assert.equal(pushed.apply(progress('job-b', { 'm/c:1': 1 })).ok, true);
});

/** A logger whose lines the test reads back. */
function lines() {
  const out: { msg: string; level: string }[] = [];
  const sink = { write: (l: string) => void out.push(JSON.parse(l) as { msg: string; level: string }) };
  return { log: createLogger('router', 'info', sink), out };
}

test('a stopping replica shows its held counts and waits for one more scrape, then goes', async () => {
  const registry = new Registry();
  const pushed = new PushedMetrics({ holdMs: 3_600_000 });
  pushed.register(registry);
  await registry.metrics(); // someone scrapes this replica
  pushed.apply(copies(2));
  const series = 'kube_image_keeper_copies_total{registry="r.example",result="mirrored",function="copy"}';
  assert.equal(line(await registry.metrics(), series), `${series} 0`, 'held: shown at 0');
  const { log, out } = lines();
  const stopping = serveLastScrape(pushed, 3_600_000, log);
  let done = false;
  void stopping.then(() => {
    done = true;
  });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(done, false, 'it waits for a scrape');
  // The last scrape shows the count the hour-long hold would have kept at 0.
  assert.equal(line(await registry.metrics(), series), `${series} 2`);
  await stopping;
  assert.deepEqual(
    out.map((l) => l.msg),
    [
      'stopping: waiting for one more scrape of the counts pushed here',
      'stopping: the last scrape has the counts pushed here',
    ],
  );
});

test('a stopping replica does not wait when every count was scraped, when nobody scrapes it, or with a wait of 0', async () => {
  const scraped = new PushedMetrics({ holdMs: 0 });
  const registry = new Registry();
  scraped.register(registry);
  scraped.apply(copies(1));
  await registry.metrics(); // released at once (no hold) and shown
  assert.equal(scraped.releaseForLastScrape(), false, 'nothing new since the last scrape');
  scraped.apply(copies(1));
  assert.equal(scraped.releaseForLastScrape(), true, 'an increase since the last scrape');

  const never = new PushedMetrics({ holdMs: 60_000 });
  never.apply(copies(1));
  assert.equal(never.releaseForLastScrape(), false, 'never scraped: nobody will scrape it now');

  const { log, out } = lines();
  await serveLastScrape(scraped, 0, log);
  await serveLastScrape(never, 3_600_000, log);
  assert.deepEqual(out, [], 'neither waits nor logs');
});

test('a stopping replica that no scrape reaches goes after its wait, and says what is missing', async () => {
  const registry = new Registry();
  const pushed = new PushedMetrics({ holdMs: 60_000 });
  pushed.register(registry);
  await registry.metrics();
  pushed.apply(copies(1));
  const { log, out } = lines();
  await serveLastScrape(pushed, 50, log);
  assert.deepEqual(
    out.map((l) => [l.level, l.msg]),
    [
      ['info', 'stopping: waiting for one more scrape of the counts pushed here'],
      ['warn', 'stopping: no scrape came; what was pushed here since the last scrape is not in Prometheus'],
    ],
  );
});
