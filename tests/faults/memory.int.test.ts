// Fault suite, memory (issue 14 item 3): inputs an admission review controls must not grow the
// router without bound. Each attack runs against its own router process (node functions/main.ts,
// started by the harness) and checks the outcome (every pod admitted, the bound held) and that the
// process's resident memory, sampled from /proc during and after the attack, stays below the
// memory limit of manifests/router/deployment.yaml minus a fixed headroom. The volumes are a
// fraction of those in the issue: enough to break the bound on the code before the fix, seconds
// of work on two loaded cores.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { errorMessage } from '#shared/errors.ts';
import { imageSetMirror, namespace, uniq } from '../harness/fixtures.ts';
import { type RunningFunction, startFunction } from '../harness/functions.ts';
import {
  podReview,
  routerMemoryLimitMiB,
  rssMiB,
  sampleRss,
  scrape,
  series,
  webhookClient,
} from './attack.ts';

/** Below the limit by this much: the kernel kills at the limit, and a GC may be due. */
const HEADROOM_MIB = 64;
const routers: RunningFunction[] = [];
after(async () => {
  await Promise.all(routers.map((r) => r.stop()));
});

async function router(
  config = '{}\n',
  env: Record<string, string> = {},
): Promise<RunningFunction & { pid: number }> {
  const r = await startFunction('router', { config, env });
  routers.push(r);
  return Object.assign(r, { pid: r.proc.child.pid! });
}

function underLimit(what: string, rss: { peak: number; last: number }, before: number): void {
  const limit = routerMemoryLimitMiB();
  const line = `${what}: RSS ${before.toFixed(0)} → peak ${rss.peak.toFixed(0)}, after ${rss.last.toFixed(0)} MiB (limit ${limit} Mi)`;
  console.log(line);
  assert.ok(rss.peak < limit - HEADROOM_MIB, line);
}

test('operation label: 2,000 reviews with distinct operations make no new series', async () => {
  const r = await router();
  const client = webhookClient(r.webhookPort!);
  const ns = uniq('ops');
  const before = rssMiB(r.pid);
  const rss = sampleRss(r.pid);
  const bodies = Array.from({ length: 2000 }, (_, i) =>
    podReview(ns, ['registry.example/app:1'], { operation: `OP-${i}-${'x'.repeat(200)}` }),
  );
  const answers = await client.sendAll(bodies, 16);
  await client.close();
  const text = await scrape(r.port);
  underLimit('operation flood', rss.stop(), before);
  assert.ok(
    answers.every((a) => a.status === 200 && a.allowed),
    'every review is answered allowed',
  );
  const reviews = series(text, 'kube_image_keeper_router_reviews_total');
  const ops = new Set(reviews.map((l) => /operation="([^"]*)"/.exec(l)?.[1]));
  // Every unknown operation is `other`; CREATE and UPDATE exist from the start (at 0, so that
  // rate() sees the first review: docs/metrics.md), and nothing else appears.
  assert.deepEqual([...ops].sort(), ['CREATE', 'UPDATE', 'other'], reviews.slice(0, 5).join('\n'));
  assert.ok(
    reviews.filter((l) => l.includes('operation="other"')).some((l) => !/ 0$/.test(l)),
    'the flood is counted under other',
  );
  assert.ok(text.length < 64 * 1024, `/metrics is ${text.length} bytes`);
});

// The container's 512 Mi took 200 reviews of 2 MiB to exhaust (issue 14); a V8 heap capped at
// 64 MiB shows the same retention with 50 reviews of 1 MiB (before the fix: killed by V8 after ~24),
// a few seconds of work instead of minutes of JSON.
test('reference cache: 50 reviews with 1 MiB invalid images are admitted and not kept (heap capped at 64 MiB)', async () => {
  const r = await router('{}\n', { NODE_OPTIONS: '--max-old-space-size=64' });
  const client = webhookClient(r.webhookPort!, 4);
  const ns = uniq('bigimg');
  const before = rssMiB(r.pid);
  const rss = sampleRss(r.pid);
  const filler = 'A'.repeat(1024 * 1024);
  // Bodies built one at a time, as they are sent: the test process holds a few, not all.
  let sent = 0;
  let admitted = 0;
  let rewritten = 0;
  const worker = async () => {
    while (sent < 50) {
      const i = sent++;
      const a = await client.send(podReview(ns, [`registry.example/${i}/${filler}`]));
      if (a.status === 200 && a.allowed) admitted++;
      if (a.patch.some((p) => p.path.startsWith('/spec/containers'))) rewritten++;
    }
  };
  const failure = await Promise.all(Array.from({ length: 4 }, worker)).then(
    () => undefined,
    (err: unknown) => errorMessage(err),
  );
  await client.close();
  assert.equal(failure, undefined, 'a review failed: the router process died (V8 out of memory)');
  underLimit('1 MiB invalid images, heap 64 MiB', rss.stop(), before);
  assert.equal(admitted, 50);
  assert.equal(rewritten, 0, 'an invalid image is never rewritten');
  const res = await fetch(`http://127.0.0.1:${r.port}/healthz`);
  assert.equal(res.status, 200);
});

test('per-host state: 600 distinct registry hosts leave a bounded set of probe series', async () => {
  const ns = await namespace('hosts');
  // An ImageSetMirror of this namespace only, so the router probes each pod's original (another
  // file's routers, which see every CR, never get pods of this namespace).
  await imageSetMirror(ns, 'all', {
    imageFilter: { include: ['.*'] },
    mirrors: [{ registry: '127.0.0.1:1', path: 'mirror' }],
  });
  const r = await router('routing:\n  activeCheck:\n    timeout: 1s\n    cacheTTL: 0s\n');
  const client = webhookClient(r.webhookPort!);
  // The router sees the ISM once a review of the namespace is routed to its mirror.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const a = await client.send(podReview(ns, ['127.1.0.1:1/app:1']));
    const probes = series(await scrape(r.port), 'kube_image_keeper_router_probes_total');
    if (probes.some((l) => l.includes('registry="127.0.0.1:1"'))) break;
    assert.ok(Date.now() < deadline, `the router never probed the mirror: ${JSON.stringify(a)}`);
    await new Promise((res) => setTimeout(res, 200));
  }
  const before = rssMiB(r.pid);
  const rss = sampleRss(r.pid);
  // 60 pods × 10 containers, each on its own loopback address: connections are refused at once.
  const bodies = Array.from({ length: 60 }, (_, p) =>
    podReview(
      ns,
      Array.from({ length: 10 }, (_, c) => `127.1.${1 + p}.${1 + c}:1/app:1`),
    ),
  );
  const answers = await client.sendAll(bodies, 8);
  await client.close();
  const text = await scrape(r.port);
  underLimit('600 registry hosts', rss.stop(), before);
  assert.ok(answers.every((a) => a.status === 200 && a.allowed));
  const registries = new Set(
    series(text, 'kube_image_keeper_router_probes_total').map((l) => /registry="([^"]*)"/.exec(l)?.[1]),
  );
  console.log(`600 registry hosts: ${registries.size} registry label values`);
  assert.ok(registries.has('127.0.0.1:1'), 'the mirror named by the ISM keeps its label');
  assert.ok(registries.has('other'), 'hosts past the bound are labelled other');
  assert.ok(registries.size <= 32 + 2, `${registries.size} registry label values`);
});
