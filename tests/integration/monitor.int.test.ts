// monitor end to end: Knative's own mtping reads PingSources from the real kube-apiserver and sends
// ticks to the monitor (in this process, on a real socket); probes go to the harness's real
// registries (TLS + htpasswd, TLS + bearer token), to registries this file starts and stops, and to
// the fault proxy where a real registry cannot misbehave on demand (429, rate-limit headers, stalls).
//
// Isolation: each test labels its CISAs with a value of its own and its monitor only sees those
// (cisaSelector), each scopes its CISAs to its own namespace, so tests and other files' objects
// never meet.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { sendCloudEvent } from '#shared/cloudevents.ts';
import { resolveConfig } from '#shared/config/config.ts';
import type { ClusterImageSetAvailability, MonitoredImage } from '#shared/crd/types.ts';
import { listen, type Serving } from '#shared/http/serve.ts';
import { Kube } from '#shared/kube/client.ts';
import { createLogger } from '#shared/log.ts';
import { createRegistry } from '#shared/metrics.ts';
import { RegistryClient } from '#shared/registry/client.ts';
import { monitorDeps } from '../../functions/monitor/main.ts';
import { createMonitorMetrics } from '../../functions/monitor/metrics.ts';
import { overBudget } from '../../functions/monitor/pacing.ts';
import { createMonitorApp } from '../../functions/monitor/server.ts';
import type { MonitorDeps, TickSummary } from '../../functions/monitor/tick.ts';
import { createRouterMetrics } from '../../functions/router/metrics.ts';
import { harness, kubeConfig, type RegistryInfo } from '../harness/env.ts';
import type { FaultProxy } from '../harness/fault-proxy.ts';
import {
  apply,
  kubectl,
  namespace,
  patchStatus,
  pod,
  proxyInFrontOf,
  registrySecret,
  samples,
  seed,
  startOwnRegistry,
  uniq,
} from '../harness/fixtures.ts';
import { type Adapter, readyPingSourceStatus, startPingAdapter } from '../harness/knative.ts';
import type { RunningRegistry } from '../harness/registry.ts';

const kube = new Kube(kubeConfig());
const log = createLogger('monitor-test', process.env['LOG_LEVEL'] ?? 'silent');
const LABEL = 'kuik-test/monitor';
let ca: string;
let mtping: Adapter;
const cleanups: (() => Promise<unknown>)[] = [];

before(async () => {
  ca = await readFile(harness().pki.caCert, 'utf8');
  mtping = await startPingAdapter();
});
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  await mtping?.stop();
});

async function eventually<T>(what: string, f: () => Promise<T | undefined>, ms = 45_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end)
      throw new Error(`timed out: ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// ---- fixtures ------------------------------------------------------------------------------------

interface Monitor {
  url: string;
  deps: MonitorDeps;
  starts: { registry: string; at: number }[];
  metricsText(): Promise<string>;
  tick(): Promise<TickSummary>;
  stop(): Promise<void>;
}

/**
 * A monitor in this process, on a real socket, owning the CISAs labelled `selector`. With
 * `ping`, a PingSource in `ns` sends it a tick every 2 s through mtping.
 */
async function startMonitor(opts: {
  selector: string;
  monitoring?: Record<string, unknown>;
  instance?: string;
  ping?: { ns: string };
}): Promise<Monitor> {
  // A budget the work of these tests fits in however slow the machine (a tick ends when its work
  // is done, not at the budget); the tests about running out of budget set their own. Tests tick
  // back to back: no minimum interval unless one asks for it.
  const r = resolveConfig({ monitoring: { tickBudget: '30s', minTickInterval: '0s', ...opts.monitoring } });
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  const client = new RegistryClient({
    defaultHost: { ca },
    retry: { attempts: 2, backoffMs: [50], jitter: 0 },
  });
  const deps = monitorDeps(
    r.value.config,
    { port: 0, instance: opts.instance ?? uniq('monitor'), cisaSelector: `${LABEL}=${opts.selector}` },
    kube,
    log,
    { client },
  );
  const starts: Monitor['starts'] = [];
  deps.onProbeStart = (registry, at) => void starts.push({ registry, at });
  const registry = createRegistry('monitor');
  const app = createMonitorApp(deps, registry, createMonitorMetrics(registry));
  const server: Serving = await listen(app, { port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${server.port}/`;
  let pingName: string | undefined;
  if (opts.ping) {
    pingName = uniq('tick');
    await apply({
      apiVersion: 'sources.knative.dev/v1',
      kind: 'PingSource',
      metadata: { name: pingName, namespace: opts.ping.ns },
      // Six fields: seconds. Empty data, as the manifests' PingSource sends.
      spec: { schedule: '*/2 * * * * *', sink: { uri: url } },
    });
    await patchStatus('pingsource', pingName, readyPingSourceStatus(url), opts.ping.ns);
  }
  const stop = async () => {
    if (pingName && opts.ping)
      await kubectl(['delete', 'pingsource', pingName, '-n', opts.ping.ns, '--wait=false']);
    await server.close();
    await client.close();
  };
  cleanups.push(stop);
  return {
    url,
    deps,
    starts,
    metricsText: async () => await (await fetch(`${url}metrics`)).text(),
    tick: async () => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'x-connector': 'cron-connector' },
        body: '',
      });
      assert.equal(res.status, 200);
      return (await res.json()) as TickSummary;
    },
    stop,
  };
}

async function createCisa(
  selector: string,
  spec: Record<string, unknown>,
  name = uniq('cisa'),
): Promise<string> {
  await apply({
    apiVersion: 'kuik.enix.io/v1alpha1',
    kind: 'ClusterImageSetAvailability',
    metadata: { name, labels: { [LABEL]: selector } },
    spec,
  });
  cleanups.push(() => kubectl(['delete', 'cisa', name, '--wait=false']));
  return name;
}

const getCisa = (name: string) =>
  kube.getKuik<ClusterImageSetAvailability>({ kind: 'ClusterImageSetAvailability', name });

function entry(cisa: ClusterImageSetAvailability, image: string): MonitoredImage | undefined {
  return cisa.status?.images?.find((i) => i.image === image);
}

/** Waits until `image` in CISA `name` satisfies `pred`, and returns it. */
async function waitEntry(name: string, image: string, pred: (e: MonitoredImage) => boolean, ms?: number) {
  return await eventually(
    `${name}: ${image}`,
    async () => {
      const e = entry(await getCisa(name), image);
      return e && pred(e) ? e : undefined;
    },
    ms,
  );
}

/** A scoped CISA monitoring everything its namespace's pods use. */
const inNamespace = (ns: string) => ({ filter: { include: [{ namespace: ns }] } });

function fast(hosts: string[], extra: Record<string, unknown> = {}) {
  return {
    registries: {
      items: Object.fromEntries(
        // The timeout is only there so that no probe outlives the tick: a loaded machine can take
        // seconds for a TLS handshake with a local registry.
        hosts.map((h) => [h, { interval: '1s', maxPerInterval: 100, timeout: '20s', ...extra }]),
      ),
    },
  };
}

async function faultProxy(reg: RegistryInfo): Promise<FaultProxy> {
  const p = await proxyInFrontOf(reg);
  cleanups.push(() => p.close());
  return p;
}

// ---- tests ---------------------------------------------------------------------------------------

describe('ticks delivered by mtping', () => {
  test('registries up: Available, a missing tag NotFound, bearer-token auth via a pull secret; gauges and counters match status', async () => {
    const { tls, token } = harness().registries;
    const ns = await namespace('mon-up');
    const sel = uniq('up');
    const repo = uniq('mon/app');
    const a = await seed(tls, repo, 'v1');
    const b = await seed(token, repo, 'v1');
    await registrySecret(ns, 'tls-pull', tls);
    await registrySecret(ns, 'token-pull', token);
    const missingRef = `${tls.host}/${repo}:missing`;
    await pod(ns, [a.ref, missingRef], ['tls-pull']);
    // The router rewrote this one: the annotation names what the spec asked for.
    await pod(ns, [b.ref], ['token-pull'], { 'kuik.enix.io/original-images': JSON.stringify({ c0: b.ref }) });
    const name = await createCisa(sel, inNamespace(ns));
    const m = await startMonitor({ selector: sel, monitoring: fast([tls.host, token.host]), ping: { ns } });

    const available = await waitEntry(name, a.ref, (e) => e.status !== 'Scheduled');
    assert.equal(available.status, 'Available', available.lastError);
    assert.equal(available.lastError, undefined);
    assert.match(available.lastMonitor ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(available.original, false);
    const missing = await waitEntry(name, missingRef, (e) => e.status !== 'Scheduled');
    assert.equal(missing.status, 'NotFound');
    assert.match(missing.lastError ?? '', /^image not found: /);
    const viaToken = await waitEntry(name, b.ref, (e) => e.status !== 'Scheduled');
    assert.equal(viaToken.status, 'Available', viaToken.lastError);
    assert.equal(viaToken.original, true);

    const cisa = await eventually('ledger recorded', async () => {
      const c = await getCisa(name);
      return c.status?.monitoring?.lastTick ? c : undefined;
    });
    assert.equal(cisa.status?.imageCount, 3);
    assert.deepEqual(
      cisa.status?.monitoring?.registries?.map((r) => r.registry).sort(),
      [tls.host, token.host].sort(),
    );

    // /status/images serves the same entries.
    const body = (await (await fetch(`${m.url}status/images?groupBy=registry`)).json()) as {
      groups: Record<string, { image: string; status: string }[]>;
      total: number;
    };
    assert.ok(body.total >= 3);
    assert.ok(body.groups[tls.host]?.some((i) => i.image === a.ref && i.status === 'Available'));

    // The router's state gauges, computed from this status (functions/router/metrics.ts).
    const routerRegistry = createRegistry('router');
    const snapshot = await getCisa(name);
    createRouterMetrics(routerRegistry, { cisas: () => [snapshot], mirrors: () => [] });
    const text = await routerRegistry.metrics();
    const expected = new Map<string, number>();
    for (const img of snapshot.status?.images ?? []) {
      const key = JSON.stringify([
        name,
        img.image.split('/')[0],
        img.status,
        String(img.unusedSince === undefined),
        String(img.original === true),
      ]);
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    const gauges = new Map(
      samples(text, 'kube_image_keeper_monitoring_images').map((s) => [
        JSON.stringify([
          s.labels['name'],
          s.labels['registry'],
          s.labels['status'],
          s.labels['used'],
          s.labels['original'],
        ]),
        s.value,
      ]),
    );
    assert.deepEqual(gauges, expected);
    const ages = samples(text, 'kube_image_keeper_monitoring_image_last_monitor_age_seconds_count');
    for (const host of [tls.host, token.host]) {
      const n = (snapshot.status?.images ?? []).filter(
        (i) => i.lastMonitor && i.image.startsWith(`${host}/`),
      ).length;
      assert.equal(ages.find((s) => s.labels['registry'] === host && s.labels['name'] === name)?.value, n);
    }

    // The monitor's own counters, by registry and the resulting status.
    const own = await m.metricsText();
    const probes = samples(own, 'kube_image_keeper_monitor_probes_total');
    assert.ok(
      (probes.find((s) => s.labels['registry'] === tls.host && s.labels['result'] === 'Available')?.value ??
        0) >= 1,
    );
    assert.ok(
      (probes.find((s) => s.labels['registry'] === tls.host && s.labels['result'] === 'NotFound')?.value ??
        0) >= 1,
    );
    assert.ok(
      (probes.find((s) => s.labels['registry'] === token.host && s.labels['result'] === 'Available')?.value ??
        0) >= 1,
    );
    assert.ok(
      samples(own, 'kube_image_keeper_monitor_ticks_total').some((s) => s.labels['outcome'] === 'Complete'),
    );
    assert.ok(
      samples(own, 'kube_image_keeper_monitor_status_writes_total').some(
        (s) => s.labels['result'] === 'written',
      ),
    );
    await m.stop();
  });

  test('a registry stopped is Unreachable, and Available again once it is back', async () => {
    const reg: RunningRegistry = await startOwnRegistry('mon-stop', {
      registryBin: '/usr/bin/docker-registry',
    });
    cleanups.push(() => reg.stop());
    const ns = await namespace('mon-stop');
    const sel = uniq('stop');
    const seeded = await seed(reg.info, uniq('mon/app'), 'v1');
    await registrySecret(ns, 'pull', reg.info);
    await pod(ns, [seeded.ref], ['pull']);
    const name = await createCisa(sel, inNamespace(ns));
    await startMonitor({ selector: sel, monitoring: fast([reg.info.host]), ping: { ns } });

    await waitEntry(name, seeded.ref, (e) => e.status === 'Available');
    await reg.stop();
    const down = await waitEntry(name, seeded.ref, (e) => e.status === 'Unreachable');
    assert.match(down.lastError ?? '', /^registry unreachable: /);
    await reg.restart();
    const up = await waitEntry(name, seeded.ref, (e) => e.status === 'Available');
    assert.equal(up.lastError, undefined);
  });

  test('refused credentials are InvalidAuth; a missing pull secret is UnavailableSecret (§10.11 I); the fallback secret is used', async () => {
    const { tls, token } = harness().registries;
    const ns = await namespace('mon-auth');
    const sel = uniq('auth');
    const repo = uniq('mon/auth');
    const wrong = await seed(tls, repo, 'wrong');
    const nosecret = await seed(tls, repo, 'nosecret');
    const anon = await seed(tls, repo, 'anon');
    const fb = await seed(token, repo, 'fb');
    await registrySecret(ns, 'bad', { ...tls, password: 'not-the-password' });
    await registrySecret(ns, 'fallback', token);
    await pod(ns, [wrong.ref], ['bad']);
    await pod(ns, [nosecret.ref], ['missing']);
    await pod(ns, [anon.ref, fb.ref]);
    const name = await createCisa(sel, inNamespace(ns));
    const monitoring = fast([tls.host]);
    (monitoring.registries.items as Record<string, unknown>)[token.host] = {
      interval: '1s',
      maxPerInterval: 100,
      timeout: '20s',
      fallbackCredentialSecret: { namespace: ns, name: 'fallback' },
    };
    await startMonitor({ selector: sel, monitoring, ping: { ns } });

    const refused = await waitEntry(name, wrong.ref, (e) => e.status !== 'Scheduled');
    assert.equal(refused.status, 'InvalidAuth');
    assert.match(refused.lastError ?? '', /^authentication failed: /);
    const unavailable = await waitEntry(name, nosecret.ref, (e) => e.status !== 'Scheduled');
    assert.equal(unavailable.status, 'UnavailableSecret');
    assert.equal(
      unavailable.lastError,
      `unavailable secret: pull secret ${ns}/missing: secrets "missing" not found`,
    );
    const anonymous = await waitEntry(name, anon.ref, (e) => e.status !== 'Scheduled');
    assert.equal(anonymous.status, 'InvalidAuth');
    const fallback = await waitEntry(name, fb.ref, (e) => e.status !== 'Scheduled');
    assert.equal(fallback.status, 'Available', fallback.lastError);
  });

  test('§10.11 J, scaled down: two images of one registry at interval 3s / max 1 are probed at least 3 s apart', async () => {
    const { tls } = harness().registries;
    const ns = await namespace('mon-j');
    const sel = uniq('j');
    const repo = uniq('mon/j');
    await pod(ns, [`${tls.host}/${repo}:one`, `${tls.host}/${repo}:two`]);
    const name = await createCisa(sel, inNamespace(ns));
    const m = await startMonitor({
      selector: sel,
      monitoring: {
        registries: { items: { [tls.host]: { interval: '3s', maxPerInterval: 1, timeout: '2s' } } },
      },
      ping: { ns },
    });
    await eventually('both probed', async () => {
      const c = await getCisa(name);
      return (c.status?.images ?? []).length === 2 && c.status?.images?.every((i) => i.lastMonitor)
        ? c
        : undefined;
    });
    const times = m.starts.filter((s) => s.registry === tls.host).map((s) => s.at);
    assert.ok(times.length >= 2);
    for (let i = 1; i < times.length; i++) {
      assert.ok((times[i] as number) - (times[i - 1] as number) >= 3000, `starts ${times.join(', ')}`);
    }
  });
});

describe('ticks posted directly (cron-connector form), to count them', () => {
  test('429 and RateLimit-Remaining: 0 on a 200 are QuotaExceeded, a 429 is not retried; counters equal the probes', async () => {
    const { tls } = harness().registries;
    const proxy = await faultProxy(tls);
    const ns = await namespace('mon-quota');
    const sel = uniq('quota');
    const repo = uniq('mon/quota');
    await seed(tls, repo, 'a');
    await seed(tls, repo, 'b');
    await registrySecret(ns, 'pull', { ...tls, host: proxy.host });
    const refA = `${proxy.host}/${repo}:a`;
    const refB = `${proxy.host}/${repo}:b`;
    await pod(ns, [refA, refB], ['pull']);
    const dockerHub = { 'ratelimit-limit': '100;w=21600', 'docker-ratelimit-source': '203.0.113.7' };
    proxy.fault({
      path: /\/manifests\/a$/,
      action: { respond: { status: 429, headers: { ...dockerHub, 'ratelimit-remaining': '0;w=21600' } } },
    });
    proxy.fault({
      path: /\/manifests\/b$/,
      action: { addHeaders: { ...dockerHub, 'ratelimit-remaining': '0;w=21600' } },
    });
    const name = await createCisa(sel, inNamespace(ns));
    // Two probes of a local proxy: the default 30 s budget holds them however loaded the machine
    // is (the 1.5 s these tests used did not, and the tick said BudgetExceeded).
    const m = await startMonitor({ selector: sel, monitoring: fast([proxy.host]) });

    const summary = await m.tick();
    assert.equal(summary.outcome, 'Complete');
    assert.equal(summary.probed, 2);
    const c = await getCisa(name);
    for (const ref of [refA, refB]) {
      const e = entry(c, ref);
      assert.equal(e?.status, 'QuotaExceeded', e?.lastError);
      assert.match(e?.lastError ?? '', /^rate limit exceeded: /);
    }
    assert.equal(proxy.count({ path: /\/manifests\/a$/ }), 1, 'a 429 is never retried');
    const probes = samples(await m.metricsText(), 'kube_image_keeper_monitor_probes_total');
    assert.deepEqual(
      probes.map((s) => [s.labels['registry'], s.labels['result'], s.value]),
      [[proxy.host, 'QuotaExceeded', 2]],
    );
    assert.equal(m.starts.length, 2);
  });

  test('a tick that runs out of budget records how far it got, and the next one resumes there', async () => {
    const { tls } = harness().registries;
    const proxy = await faultProxy(tls);
    const ns = await namespace('mon-budget');
    const sel = uniq('budget');
    const repo = uniq('mon/budget');
    await registrySecret(ns, 'pull', { ...tls, host: proxy.host });
    const refs = ['t1', 't2', 't3', 't4', 't5'].map((t) => `${proxy.host}/${repo}:${t}`);
    await pod(ns, refs, ['pull']);
    // The first image in probe order (never checked, then by name) never gets an answer: with one
    // probe at a time and no probe timeout, the first tick runs out of budget whatever the
    // machine's speed. The budget is ample for t1 to start (its probe window is 14 s), and that
    // first tick lasts all of it.
    const stall = proxy.fault({ path: /\/manifests\/t1$/, action: { stall: true } });
    const name = await createCisa(sel, inNamespace(ns));
    const m = await startMonitor({
      selector: sel,
      monitoring: { ...fast([proxy.host], { timeout: '0s' }), probeConcurrency: 1, tickBudget: '20s' },
    });

    const first = await m.tick();
    assert.equal(first.outcome, 'BudgetExceeded');
    assert.equal(first.probed, 1);
    assert.equal(first.aborted, 1);
    assert.equal(first.pending, 4);
    let c = await getCisa(name);
    assert.equal(entry(c, refs[0]!)?.status, 'Unreachable');
    assert.match(entry(c, refs[0]!)?.lastError ?? '', /time budget ran out \(monitoring\.tickBudget/);
    for (const ref of refs.slice(1)) assert.equal(entry(c, ref)?.status, 'Scheduled');
    assert.deepEqual(
      { ...c.status?.monitoring?.lastTick, startedAt: '', finishedAt: '' },
      { startedAt: '', finishedAt: '', outcome: 'BudgetExceeded', probed: 1, pending: 4 },
    );
    assert.equal(c.status?.monitoring?.lease, undefined, 'the lease is released');

    // t1 answers again. The next ticks resume at t2 (never checked comes first); on a slow machine
    // one tick may not reach them all, so tick until they are all answered (a few at most).
    stall();
    for (let i = 0; i < 5; i++) {
      await m.tick();
      c = await getCisa(name);
      if (refs.slice(1).every((ref) => entry(c, ref)?.status !== 'Scheduled')) break;
    }
    for (const ref of refs.slice(1)) assert.equal(entry(c, ref)?.status, 'NotFound', ref);
    // Probe order across both ticks: t1, then where the first tick stopped.
    assert.deepEqual(
      proxy.requests
        .filter((r) => /\/manifests\//.test(r.path))
        .map((r) => r.path.split('/').pop())
        .slice(0, 5),
      ['t1', 't2', 't3', 't4', 't5'],
    );
  });

  test('two instances ticking at the same time never start two probes of a registry closer than its spacing', async () => {
    const { tls } = harness().registries;
    const ns = await namespace('mon-pace');
    const sel = uniq('pace');
    const repo = uniq('mon/pace');
    await pod(
      ns,
      Array.from({ length: 12 }, (_, i) => `${tls.host}/${repo}:t${i}`),
    );
    const name = await createCisa(sel, inNamespace(ns));
    // 5 per second: 200 ms apart; a 30 s tick has a 21 s probe window, room for all twelve.
    // How many probes a round gets depends on the machine's speed, so rounds go on (at least
    // four, both instances ticking at once) until six have started; the spacing between any two
    // starts is what is asserted, on the times the ticks themselves started them at.
    const monitoring = {
      registries: { items: { [tls.host]: { interval: '1s', maxPerInterval: 5, timeout: '2s' } } },
    };
    const a = await startMonitor({ selector: sel, monitoring, instance: 'instance-a' });
    const b = await startMonitor({ selector: sel, monitoring, instance: 'instance-b' });
    const outcomes: string[] = [];
    for (let round = 0; round < 4 || (a.starts.length + b.starts.length < 6 && round < 20); round++) {
      const [x, y] = await Promise.all([a.tick(), b.tick()]);
      outcomes.push(x.outcome, y.outcome);
    }
    const starts = [...a.starts, ...b.starts];
    assert.ok(starts.length >= 6, `${starts.length} probes (${outcomes.join(', ')})`);
    assert.equal(
      overBudget(starts, () => 200),
      0,
      `outcomes ${outcomes.join(', ')}`,
    );
    const c = await getCisa(name);
    assert.equal(c.status?.monitoring?.lease, undefined);
    const ledger = c.status?.monitoring?.registries?.[0];
    assert.equal(ledger?.registry, tls.host);
    // The ledger gave back what the last tick did not use: the next start is one spacing after
    // the last one made, never earlier.
    const last = Math.max(...starts.map((x) => x.at));
    assert.ok(
      Date.parse(ledger?.nextProbeAt ?? '') >= Math.floor(last + 200),
      `nextProbeAt ${ledger?.nextProbeAt}, last start ${new Date(last).toISOString()}`,
    );
  });
});

describe('§10.9 availability scenarios on the real API server', () => {
  test('128: a CISA with an empty spec reconciles without error, twice', async () => {
    const sel = uniq('empty');
    const name = await createCisa(sel, {});
    const m = await startMonitor({ selector: sel });
    for (let i = 0; i < 2; i++) {
      const s = await m.tick();
      assert.deepEqual(s.errors, []);
      assert.deepEqual(s.invalid, []);
    }
    const c = await getCisa(name);
    assert.deepEqual(c.status?.images, []);
    assert.equal(c.status?.imageCount, 0);
  });

  test('129: with unusedImageExpiry 1h, the image unused for 2 h goes, the one unused since now stays', async () => {
    const { tls } = harness().registries;
    const ns = await namespace('mon-129');
    const sel = uniq('expiry');
    const name = await createCisa(sel, {
      unusedImageExpiry: '1h',
      filter: { include: [{ image: '.*' }, { namespace: ns }] },
    });
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const nginx = `${tls.host}/library/nginx:1.26`;
    const redis = `${tls.host}/library/redis:7`;
    await patchStatus('cisa', name, {
      status: {
        images: [
          {
            image: nginx,
            status: 'Available',
            unusedSince: iso(now - 2 * 3_600_000),
            lastMonitor: iso(now),
          },
          { image: redis, status: 'Available', unusedSince: iso(now), lastMonitor: iso(now) },
        ],
      },
    });
    const m = await startMonitor({ selector: sel });
    await m.tick();
    const c = await getCisa(name);
    assert.deepEqual(
      c.status?.images?.map((i) => i.image),
      [redis],
    );
  });

  test('130 / 131: a pod only outside the namespace scope leaves the image unused; one inside clears it', async () => {
    const { tls } = harness().registries;
    const inScope = await namespace('cisa-ns-in-scope');
    const outOfScope = await namespace('cisa-ns-out-of-scope');
    const sel = uniq('scope');
    const image = `${tls.host}/library/nginx:latest`;
    const name = await createCisa(sel, {
      filter: {
        include: [{ image: `${tls.host.replace(/[.:]/g, '\\$&')}/library/nginx:.*` }, { namespace: inScope }],
      },
    });
    await patchStatus('cisa', name, {
      status: { images: [{ image, status: 'Available', lastMonitor: new Date().toISOString() }] },
    });
    await pod(outOfScope, [image]);
    const m = await startMonitor({ selector: sel });
    await m.tick();
    let c = await getCisa(name);
    assert.equal(c.status?.images?.length, 1);
    assert.ok(entry(c, image)?.unusedSince, '130: unusedSince set');
    await pod(inScope, [image]);
    await m.tick();
    c = await getCisa(name);
    assert.equal(entry(c, image)?.unusedSince, undefined, '131: unusedSince cleared');
  });

  test('137 / 138: an invalid filter emits InvalidFilter and its images are never probed', async () => {
    const sel = uniq('invalid');
    const name = await createCisa(sel, { filter: { include: [{ label: '===' }] } });
    const stored = 'invalid-filter-registry.example.com/foo:latest';
    await patchStatus('cisa', name, { status: { images: [{ image: stored, status: 'Scheduled' }] } });
    const m = await startMonitor({ selector: sel });
    const s = await m.tick();
    assert.deepEqual(s.invalid, [name]);
    assert.deepEqual(m.starts, []);
    const c = await getCisa(name);
    assert.deepEqual(c.status?.images, [{ image: stored, status: 'Scheduled' }]);
    const events = JSON.parse(
      await kubectl(['get', 'events.events.k8s.io', '-n', 'default', '-o', 'json']),
    ) as {
      items: {
        reason?: string;
        note?: string;
        action?: string;
        type?: string;
        regarding?: { name?: string; kind?: string };
      }[];
    };
    const ev = events.items.find((e) => e.regarding?.name === name && e.reason === 'InvalidFilter');
    assert.ok(ev, 'an InvalidFilter event');
    assert.equal(ev.type, 'Warning');
    assert.equal(ev.action, 'ReconcileSkipped');
    assert.equal(ev.regarding?.kind, 'ClusterImageSetAvailability');
    assert.match(ev.note ?? '', /^filter is invalid: spec\.filter\.include\[0\]\.label: /);
  });
});

describe('the HTTP boundary', () => {
  test('cron-connector POSTs tick, a PingSource CloudEvent ticks, anything else is a 400', async () => {
    const m = await startMonitor({ selector: uniq('http') });
    assert.equal((await m.tick()).cisas, 0);
    await sendCloudEvent(m.url, {
      id: 'ping-1',
      type: 'dev.knative.sources.ping',
      source: '/test',
      data: {},
    });
    const notTick = await fetch(m.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(notTick.status, 400);
    await assert.rejects(
      sendCloudEvent(m.url, { id: 'x', type: 'dev.knative.apiserver.resource.add', source: '/t', data: {} }),
      /answered 400/,
    );
  });
});
