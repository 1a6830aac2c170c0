// The resync's own trigger: a PingSource CloudEvent or an OpenFaaS cron-connector POST to
// reconcile runs reconcileAll within the budget, one at a time (the safety net the monitor's tick
// used to run; the same budget and the same coalescing).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CloudEvent, HTTP } from 'cloudevents';
import { createLogger } from '#shared/log.ts';
import { createRegistry } from '#shared/metrics.ts';
import { budgetPlan } from '#shared/tick/budget.ts';
import { createReconcileMetrics } from './metrics.ts';
import type { ReconcileDeps } from './mirror-set.ts';
import type { ResyncReport } from './resync.ts';
import { createReconcileApp, type ResyncOptions, type Summary } from './server.ts';

const deps = { log: createLogger('t', 'silent'), now: Date.now } as unknown as ReconcileDeps;
const summary = (notReached: number): Summary => ({
  mirrorSets: [],
  secretOwners: [],
  replicated: [],
  failed: [],
  notReached,
});

function app(budgetMs: number, minIntervalMs: number, run: (o: ResyncOptions) => Promise<Summary>) {
  const registry = createRegistry('reconcile');
  const a = createReconcileApp(deps, registry, createReconcileMetrics(registry), undefined, {
    budgetMs,
    minIntervalMs,
    run,
  });
  return { app: a, registry };
}

async function ping(a: ReturnType<typeof app>['app'], id = 'ping-1') {
  const m = HTTP.binary(
    new CloudEvent({
      id,
      type: 'dev.knative.sources.ping',
      source: '/apis/v1/namespaces/kuik-system/pingsources/kuik-reconcile-resync',
    }),
  );
  const r = await a.request('/', {
    method: 'POST',
    headers: m.headers as Record<string, string>,
    body: (m.body as string | undefined) ?? '',
  });
  return { status: r.status, body: (await r.json()) as ResyncReport };
}

const cron = async (a: ReturnType<typeof app>['app']) => {
  const r = await a.request('/', {
    method: 'POST',
    headers: { 'x-connector': 'cron-connector', 'x-topic': 'cron-function' },
  });
  return { status: r.status, body: (await r.json()) as ResyncReport };
};

const resyncs = async (registry: ReturnType<typeof createRegistry>) =>
  [
    ...(await registry.metrics()).matchAll(
      /^kube_image_keeper_reconcile_resyncs_total\{result="(\w+)".*\} (\d+)$/gm,
    ),
  ]
    .map((x) => `${x[1]} ${x[2]}`)
    .sort();

test('a PingSource event runs the resync with the tick budget as its deadline; one that could not reach every CR says partial', async () => {
  const stops: number[] = [];
  let notReached = 2;
  const { app: a, registry } = app(1500, 0, async ({ stopAt }) => {
    if (stopAt !== undefined) stops.push(stopAt);
    return summary(notReached);
  });
  const partial = await ping(a);
  assert.equal(partial.status, 200);
  assert.ok(partial.body.resync === 'partial', JSON.stringify(partial.body));
  assert.equal(partial.body.notReached, 2);
  assert.equal(stops.length, 1);
  // No CR may start after the budget's abort point, before its hard deadline: measured from the
  // resync's own start, not from when this test sent it.
  const plan = budgetPlan(Date.parse(partial.body.startedAt), 1500);
  assert.equal(stops[0], plan.abortAt);
  assert.ok(plan.abortAt < plan.hard);
  notReached = 0;
  assert.equal((await ping(a, 'ping-2')).body.resync, 'ok');
  assert.deepEqual(await resyncs(registry), ['ok 1', 'partial 1']);
});

test('twenty cron-connector POSTs in a row cost one resync: the others are answered coalesced', async () => {
  let runs = 0;
  const { app: a, registry } = app(30_000, 20_000, async () => {
    runs++;
    return summary(0);
  });
  const answers = [];
  for (let i = 0; i < 20; i++) answers.push(await cron(a));
  assert.equal(runs, 1);
  assert.equal(answers[0]?.body.resync, 'ok');
  assert.ok(
    answers
      .slice(1)
      .every((x) => x.status === 200 && x.body.resync === 'coalesced' && x.body.reason === 'TooSoon'),
    JSON.stringify(answers.slice(1, 3)),
  );
  assert.deepEqual(await resyncs(registry), ['coalesced 19', 'ok 1']);
});

test('a resync whose lists fail answers 503 (the sender retries) and does not hold the next one back', async () => {
  let fail = true;
  const { app: a, registry } = app(30_000, 20_000, async () => {
    if (fail) throw new Error('etcd timed out');
    return summary(0);
  });
  const failed = await ping(a);
  assert.equal(failed.status, 503);
  assert.ok(failed.body.resync === 'failed' && /etcd timed out/.test(failed.body.error));
  fail = false;
  assert.equal((await ping(a, 'ping-2')).body.resync, 'ok');
  assert.deepEqual(await resyncs(registry), ['failed 1', 'ok 1']);
});
