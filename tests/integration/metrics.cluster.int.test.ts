// Metrics end to end (issue 13), with a real Prometheus (Debian's) scraping what the chart's
// ServiceMonitor, PodMonitor and pod annotations describe, translated to the local processes:
// two router replicas; reconcile and the monitor as processes that stop (scale to zero) with
// their push interval longer than the test, so only the push at stop can deliver; a copy Job
// that exits. Then: the counts in Prometheus equal the work done, every dashboard panel returns
// what it claims with two replicas, and `promtool check metrics` passes on every endpoint.
// Cluster-wide (`.cluster.int.test.ts`): the monitor's tick lists and writes every CISA it owns.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { sendCloudEvent } from '#shared/cloudevents.ts';
import { copyJobEvent, mirrorSetToCopy } from '../harness/copy-event.ts';
import { harness, type RegistryInfo } from '../harness/env.ts';
import {
  apply,
  eventually,
  installCrds,
  kubectl,
  namespace,
  patchStatus,
  pod,
  registrySecret,
  samples,
  seed,
  uniq,
} from '../harness/fixtures.ts';
import { type RunningFunction, startCopyJob, startFunction } from '../harness/functions.ts';
import { run, stopProc } from '../harness/proc.ts';
import { type RunningPrometheus, type ScrapeConfig, startPrometheus } from '../harness/prometheus.ts';
import { manifestTools } from '../harness/tools.ts';
import { registerRouterWebhook } from '../harness/webhook.ts';

const execFileP = promisify(execFile);
type Obj = {
  kind: string;
  apiVersion: string;
  metadata: { name: string; namespace?: string };
  // biome-ignore lint/suspicious/noExplicitAny: rendered manifests are free-form YAML.
  spec?: any;
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  [k: string]: any;
};

const RELEASE_NS = 'kuik-system';
const LONG = '3600000';
const cleanups: (() => Promise<unknown>)[] = [];
let rendered: Obj[];
let routers: RunningFunction[];
let prom: RunningPrometheus;
let tls: RegistryInfo;
let ns: string;
/** The work done, as counted by the test itself. */
const work = { reconcileEvents: 0, ticks: 0, copyJobs: 0, pods: 0 };
/** When the copy Job ended, and when all the work was done (epoch ms). */
const at = { copyDone: 0, workDone: 0 };
/** How long the routers show a new pushed series at 0 (three jobs scrape every second). */
const HOLD_MS = 5_000;
/** reconcile's and the monitor's own /metrics just before they stopped. */
const lastSeen: Record<string, string> = {};

async function helmTemplate(...args: string[]): Promise<Obj[]> {
  const out = await run(manifestTools().helm, [
    'template',
    'kuik',
    join(harness().repoRoot, 'manifests/helm/kuik-functions'),
    '--namespace',
    RELEASE_NS,
    ...args,
  ]);
  return parseAllDocuments(out)
    .map((d) => d.toJSON() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

const find = (kind: string, name: string) =>
  rendered.find((o) => o.kind === kind && o.metadata.name === name)!;

/**
 * The scrape jobs a Prometheus would run from the chart: the ServiceMonitor (through the Service's
 * port to the container port), the PodMonitor (a container port by name) and the pod annotations,
 * each resolved to a container port of the router Deployment, which here is each replica's PORT.
 */
function scrapeConfigs(): ScrapeConfig[] {
  const deployment = find('Deployment', 'kuik-router');
  const container = deployment.spec.template.spec.containers[0];
  const portByName = new Map<string, number>(
    container.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]),
  );
  const local = (containerPort: number) => {
    // Every router process listens for HTTP on its own port: the container's metrics port.
    assert.equal(containerPort, 8080, 'the monitors scrape the port the router serves /metrics on');
    return routers.map((r, i) => ({ targets: [`127.0.0.1:${r.port}`], labels: { pod: `kuik-router-${i}` } }));
  };
  const sm = find('ServiceMonitor', 'kuik-router');
  const svc = find('Service', 'kuik-router');
  assert.deepEqual(sm.spec.selector.matchLabels, deployment.spec.selector.matchLabels);
  const smEndpoint = sm.spec.endpoints[0];
  const svcPort = svc.spec.ports.find((p: { name: string }) => p.name === smEndpoint.port);
  const pm = find('PodMonitor', 'kuik-router');
  const pmEndpoint = pm.spec.podMetricsEndpoints[0];
  const annotations = deployment.spec.template.metadata.annotations;
  assert.equal(annotations['prometheus.io/scrape'], 'true');
  return [
    {
      job_name: 'serviceMonitor/kuik-router',
      metrics_path: smEndpoint.path,
      static_configs: local(portByName.get(svcPort.targetPort)!),
    },
    {
      job_name: 'podMonitor/kuik-router',
      metrics_path: pmEndpoint.path,
      static_configs: local(portByName.get(pmEndpoint.port)!),
    },
    {
      job_name: 'kubernetes-pods',
      metrics_path: annotations['prometheus.io/path'],
      static_configs: local(Number(annotations['prometheus.io/port'])),
    },
  ];
}

/** One of the three jobs: each scrapes the same routers, so queries pick one. */
const JOB = 'job="serviceMonitor/kuik-router"';

async function value(expr: string): Promise<number> {
  const r = await prom.query(expr);
  assert.equal(r.length, 1, `${expr}: ${JSON.stringify(r)}`);
  return r[0]!.value;
}

/** Waits until Prometheus has a sample of `expr` equal to `want` (scrapes every second). */
async function promReaches(expr: string, want: number): Promise<void> {
  let last: unknown;
  await eventually(
    `${expr} = ${want} in Prometheus (last: ${JSON.stringify(last)})`,
    async () => {
      const r = await prom.query(expr);
      last = r;
      return r.length === 1 && r[0]!.value === want ? true : undefined;
    },
    90_000,
    500,
  );
}

before(async () => {
  tls = harness().registries.tls;
  await installCrds(manifestTools().prometheusOperatorCrdDir, 'kuik-metrics-test', [
    'crd/servicemonitors.monitoring.coreos.com',
    'crd/podmonitors.monitoring.coreos.com',
  ]);
  rendered = await helmTemplate('--set', 'serviceMonitor.enabled=true,podMonitor.enabled=true');

  const routerEnv = { env: { KUIK_METRICS_PUSH_HOLD_MS: String(HOLD_MS) } };
  routers = [await startFunction('router', routerEnv), await startFunction('router', routerEnv)];
  for (const r of routers) cleanups.push(r.stop);
  prom = await startPrometheus(scrapeConfigs());
  cleanups.push(prom.stop);
  const push = (r: RunningFunction) => `http://127.0.0.1:${r.port}/metrics/push`;

  ns = await namespace('metrics');
  const label = uniq('metrics');
  await kubectl(['label', 'namespace', ns, `kuik-metrics-test=${label}`]);
  cleanups.push(
    await registerRouterWebhook({
      name: uniq('kuik-metrics'),
      url: `https://127.0.0.1:${routers[0]!.webhookPort}/mutate`,
      namespaceLabel: { key: 'kuik-metrics-test', value: label },
    }),
  );

  // A mirror set whose one image the copy Job mirrors (as the copy-function tests set it up).
  const token = harness().registries.token;
  await registrySecret(ns, 'pull', tls);
  await registrySecret(ns, 'push', token);
  const src = await seed(tls, uniq('metrics/app'), 'v1', { archs: ['amd64'] });
  const {
    name: ism,
    destination,
    req,
  } = await mirrorSetToCopy({
    namespace: ns,
    source: src.ref,
    registry: token.host,
    path: 'mirror',
    filter: { include: [{ image: '.*/metrics/app-.*' }] },
  });
  work.pods++;
  const cr = JSON.parse(await kubectl(['get', 'ism', ism, '-n', ns, '-o', 'json'])) as Obj;

  // The copy Job: pushes to replica 1, once, as it exits.
  const job = await startCopyJob(copyJobEvent(req), {
    KUIK_METRICS_PUSH_URL: push(routers[1]!),
    KUIK_METRICS_PUSH_INTERVAL_MS: LONG,
  });
  assert.equal(await job.exited, 0, await readFile(job.logFile, 'utf8'));
  at.copyDone = Date.now();
  work.copyJobs++;

  // reconcile, pushing to replica 0: three events, then it scales to zero.
  const reconcile = await startFunction('reconcile', {
    env: {
      COPY_SINK: 'http://127.0.0.1:9/',
      KUIK_METRICS_PUSH_URL: push(routers[0]!),
      KUIK_METRICS_PUSH_INTERVAL_MS: LONG,
    },
  });
  cleanups.push(reconcile.stop);
  for (let i = 0; i < 3; i++) {
    await sendCloudEvent(`http://127.0.0.1:${reconcile.port}/`, {
      id: uniq('ev'),
      type: 'dev.knative.apiserver.resource.update',
      source: '/metrics-test',
      data: cr,
    });
    work.reconcileEvents++;
  }
  lastSeen['reconcile'] = await (await fetch(`http://127.0.0.1:${reconcile.port}/metrics`)).text();
  await reconcile.stop();

  // The monitor, pushing to replica 1: a CISA over the test's namespace, two ticks, then stop.
  const cisa = uniq('cisa');
  await apply({
    apiVersion: 'kuik.enix.io/v1alpha1',
    kind: 'ClusterImageSetAvailability',
    metadata: { name: cisa },
    spec: { filter: { include: [{ namespace: ns }] } },
  });
  cleanups.push(() => kubectl(['delete', 'cisa', cisa, '--wait=false']));
  const monitor = await startFunction('monitor', {
    env: {
      KUIK_METRICS_PUSH_URL: push(routers[1]!),
      KUIK_METRICS_PUSH_INTERVAL_MS: LONG,
    },
  });
  cleanups.push(monitor.stop);
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`http://127.0.0.1:${monitor.port}/`, {
      method: 'POST',
      headers: { 'x-connector': 'cron-connector' },
    });
    assert.equal(res.status, 200, await res.text());
    work.ticks++;
  }
  lastSeen['monitor'] = await (await fetch(`http://127.0.0.1:${monitor.port}/metrics`)).text();
  await monitor.stop();

  // A pod rerouted by replica 0: its registry is down, and the mirror set's status says the
  // image is mirrored where the copy Job put it.
  const gone = `127.0.0.1:1/${src.ref.slice(tls.host.length + 1)}`;
  await patchStatus(
    'ism',
    ism,
    {
      status: {
        matchingImages: [
          { image: src.ref, mirrors: [{ image: destination }] },
          {
            image: gone,
            mirrors: [{ image: src.ref, mirroredAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }],
          },
        ],
      },
    },
    ns,
  );
  await eventually('a pod rerouted', async () => {
    const name = await pod(ns, [gone], ['pull']);
    work.pods++;
    const image = (
      await kubectl(['get', 'pod', name, '-n', ns, '-o', 'jsonpath={.spec.containers[0].image}'])
    ).trim();
    return image === destination ? true : undefined;
  });
  at.workDone = Date.now();
});

after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe('the chart installs the scraping', () => {
  test("the ServiceMonitor and PodMonitor pass a server-side dry run against the Prometheus Operator's CRDs", async () => {
    await kubectl(['create', 'namespace', RELEASE_NS]).catch(() => '');
    const monitors = rendered.filter((o) => o.apiVersion === 'monitoring.coreos.com/v1');
    assert.deepEqual(monitors.map((o) => o.kind).sort(), ['PodMonitor', 'ServiceMonitor']);
    const dry = (objs: Obj[]) =>
      kubectl(
        ['apply', '--server-side', '--dry-run=server', '--field-manager=kuik-metrics-test', '-f', '-'],
        objs.map((o) => JSON.stringify(o)).join('\n'),
      );
    const out = await dry(monitors);
    assert.equal(out.trim().split('\n').length, 2, out);
    // Not vacuous: a misspelt endpoint field is refused by the CRD's schema.
    const bad = structuredClone(monitors.find((o) => o.kind === 'ServiceMonitor')!);
    bad.spec.endpoints[0].intervall = '30s';
    await assert.rejects(dry([bad]), /intervall: field not declared in schema/);
    // With metrics authentication: Prometheus' token (ServiceMonitor), a Secret's (PodMonitor).
    const authed = await helmTemplate(
      '--set',
      'serviceMonitor.enabled=true,podMonitor.enabled=true,security.metricsAuth.enabled=true',
      '--set',
      'podMonitor.bearerTokenSecret.name=prom-token,metrics.ageInMinutes=true,metrics.push.enabled=false',
    );
    const authedMonitors = authed.filter((o) => o.apiVersion === 'monitoring.coreos.com/v1');
    assert.equal((await dry(authedMonitors)).trim().split('\n').length, 2);
    const podMonitor = authedMonitors.find((o) => o.kind === 'PodMonitor')!;
    assert.deepEqual(podMonitor.spec.podMetricsEndpoints[0].authorization.credentials, {
      name: 'prom-token',
      key: 'token',
    });
    const routerEnv = authed.find((o) => o.kind === 'Deployment')!.spec.template.spec.containers[0].env;
    assert.ok(routerEnv.some((e: { name: string }) => e.name === 'KUIK_METRICS_AGE_MINUTES'));
    const reconcileEnv = authed.find((o) => o.kind === 'Service' && o.metadata.name === 'kuik-reconcile')!
      .spec.template.spec.containers[0].env;
    assert.ok(!reconcileEnv.some((e: { name: string }) => e.name === 'KUIK_METRICS_PUSH_URL'));
    await assert.rejects(
      helmTemplate('--set', 'podMonitor.enabled=true,security.metricsAuth.enabled=true'),
      /podMonitor.bearerTokenSecret.name/,
    );
    // Off by default, and the functions push to the router's Service.
    const defaults = await helmTemplate();
    assert.equal(defaults.filter((o) => o.apiVersion === 'monitoring.coreos.com/v1').length, 0);
    for (const fn of ['kuik-reconcile', 'kuik-monitor']) {
      const env = defaults.find((o) => o.kind === 'Service' && o.metadata.name === fn)!.spec.template.spec
        .containers[0].env;
      assert.deepEqual(
        env.find((e: { name: string }) => e.name === 'KUIK_METRICS_PUSH_URL'),
        {
          name: 'KUIK_METRICS_PUSH_URL',
          value: `http://kuik-router.${RELEASE_NS}.svc.cluster.local:8080/metrics/push`,
        },
        fn,
      );
    }
  });

  test('Prometheus scrapes both router replicas through every job the chart describes', async () => {
    const t = await eventually('all targets up', async () => {
      const t = await prom.targets();
      return t.length === 6 && t.every((x) => x.health === 'up') ? t : undefined;
    });
    // For docs/performance.md: what one scrape of a router costs, as Prometheus measured it.
    const ms = t.map((x) => x.lastScrapeDuration * 1000).sort((a, b) => a - b);
    console.log(`router scrape durations (ms, 6 targets): ${ms.map((x) => x.toFixed(1)).join(' ')}`);
  });
});

describe('nothing is lost to scale-to-zero or to the end of a Job', () => {
  test('the counts in Prometheus equal the work done, each counted once across the two replicas', async () => {
    // reconcile's own count before it stopped is the work the test sent.
    const own = samples(lastSeen['reconcile']!, 'kube_image_keeper_reconcile_events_total');
    assert.equal(
      own.reduce((n, s) => n + s.value, 0),
      work.reconcileEvents,
    );
    await promReaches(
      `sum(kube_image_keeper_reconcile_events_total{${JOB},function="reconcile"})`,
      work.reconcileEvents,
    );
    await promReaches(`sum(kube_image_keeper_monitor_ticks_total{${JOB}})`, work.ticks);
    await promReaches(`sum(kube_image_keeper_copies_total{${JOB},result="mirrored"})`, work.copyJobs);
    await promReaches(`sum(kube_image_keeper_copy_duration_seconds_count{${JOB}})`, work.copyJobs);
    // They went to different replicas: the sum is not a double count.
    const byPod = await prom.query(
      `sum by (pod) (kube_image_keeper_reconcile_events_total{${JOB},function="reconcile"})`,
    );
    assert.deepEqual(
      byPod.map((s) => [s.metric['pod'], s.value]),
      [['kuik-router-0', work.reconcileEvents]],
    );
    // The monitor's own counts, pushed at its stop.
    const own2 = samples(lastSeen['monitor']!, 'kube_image_keeper_monitor_probes_total');
    await promReaches(
      `sum(kube_image_keeper_monitor_probes_total{${JOB}})`,
      own2.reduce((n, s) => n + s.value, 0),
    );
  });

  test('rate() sees the first and only copy of a Job (a new series is shown at 0 first)', async () => {
    const t = at.copyDone + HOLD_MS + 15_000;
    await eventually(
      'Prometheus past the copy',
      async () => (Date.now() > t + 2_000 ? true : undefined),
      60_000,
    );
    const r = await prom.query(`sum(increase(kube_image_keeper_copies_total{${JOB}}[1m]))`, t);
    // increase() extrapolates to the window's edges: about 1, never 0.
    assert.ok(r.length === 1 && r[0]!.value >= 0.9, JSON.stringify(r));
  });

  test('a router replica stopped while it holds pushed counts waits for one more scrape: Prometheus has them', async () => {
    // A replica of its own, with an hour's hold: without the last scrape its count would stay at
    // 0 in Prometheus for good. Stopped as Kubernetes stops a pod (SIGTERM), with all the time
    // it asks for: it goes as soon as that scrape has come.
    const r = await startFunction('router', {
      env: { KUIK_METRICS_PUSH_HOLD_MS: '3600000', KUIK_METRICS_LAST_SCRAPE_WAIT_MS: '3600000' },
    });
    cleanups.push(r.stop);
    const own = await startPrometheus([
      { job_name: 'stopping-router', static_configs: [{ targets: [`127.0.0.1:${r.port}`] }] },
    ]);
    cleanups.push(own.stop);
    const series = 'kube_image_keeper_copies_total{function="copy",result="mirrored"}';
    const res = await fetch(`http://127.0.0.1:${r.port}/metrics/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        function: 'copy',
        families: [
          {
            name: 'kube_image_keeper_copies_total',
            type: 'counter',
            samples: [
              {
                name: 'kube_image_keeper_copies_total',
                labels: { registry: 'last-scrape.example', result: 'mirrored' },
                value: 1,
              },
            ],
          },
        ],
      }),
    });
    assert.equal(res.status, 204, await res.text());
    await eventually('Prometheus has the held series at 0', async () => {
      const v = await own.query(series);
      return v.length === 1 && v[0]!.value === 0 ? true : undefined;
    });
    await stopProc(r.proc, 3_600_000);
    // The last scrape's answer was sent before the process went; Prometheus stores it as it reads it.
    await eventually('Prometheus has the count the last scrape showed', async () => {
      const v = await own.query(`max_over_time(${series}[1h])`);
      return v.length === 1 && v[0]!.value === 1 ? true : undefined;
    });
    const log = await readFile(r.proc.logFile, 'utf8');
    assert.match(log, /stopping: the last scrape has the counts pushed here/);
  });
});

/** One replica's own sum of a cluster-state gauge, by `by` (what the panel must show, once). */
async function oneReplica(
  name: string,
  by: string,
  filter: (l: Record<string, string>) => boolean = () => true,
) {
  const text = await (await fetch(`http://127.0.0.1:${routers[0]!.port}/metrics`)).text();
  const out = new Map<string, number>();
  for (const s of samples(text, name).filter((x) => filter(x.labels))) {
    const k = by ? (s.labels[by] ?? '') : '';
    out.set(k, (out.get(k) ?? 0) + s.value);
  }
  return out;
}

describe('the Grafana dashboard, against Prometheus holding the stack’s data', () => {
  const dash = JSON.parse(readFileSync(join(harness().repoRoot, 'docs/grafana-dashboard.json'), 'utf8')) as {
    panels: { title: string; targets: { expr: string; legendFormat?: string }[] }[];
  };
  const panel = (title: string) => dash.panels.find((p) => p.title === title)!.targets[0]!.expr;
  // Every query scoped to one job (three jobs scrape the same replicas in this test).
  const scoped = (expr: string) =>
    expr.replace(/(kube_image_keeper_[a-z_]+)(\{)?/g, (_m, n, b) => `${n}{${JOB}${b ? ',' : '}'}`);

  test('the cluster-state panels count each mirror entry and image once with two replicas', async () => {
    const states = await oneReplica('kube_image_keeper_mirror_images', 'state');
    assert.ok((states.get('mirrored') ?? 0) >= 1, 'the copy Job mirrored an image');
    for (const [title, by, name, filter] of [
      ['Mirror entries by state', 'state', 'kube_image_keeper_mirror_images', () => true],
      [
        'Monitored images by status',
        'status',
        'kube_image_keeper_monitoring_images',
        (l: Record<string, string>) => l['used'] === 'true',
      ],
    ] as const) {
      const want = await oneReplica(name, by, filter);
      assert.ok(want.size > 0, title);
      await eventually(`${title} = one replica's`, async () => {
        const got = new Map(
          (await prom.query(scoped(panel(title)))).map((s) => [s.metric[by] ?? '', s.value]),
        );
        return JSON.stringify([...got].sort()) === JSON.stringify([...want].sort()) ? true : undefined;
      });
    }
    const failing = (await oneReplica('kube_image_keeper_mirror_images', 'state')).get('failed') ?? 0;
    const r = await prom.query(scoped(panel('Mirrors failing')));
    assert.equal(r[0]?.value ?? 0, failing);
    const unavailable = await oneReplica(
      'kube_image_keeper_monitoring_images',
      '',
      (l) => l['used'] === 'true' && l['status'] !== 'Available' && l['status'] !== 'Scheduled',
    );
    const u = await prom.query(scoped(panel('Images unavailable')));
    assert.equal(u[0]?.value ?? 0, unavailable.get('') ?? 0);
    // The same query without de-duplication counts twice: the replicas really both serve it.
    const naive = await value(`sum(kube_image_keeper_mirror_images{${JOB}})`);
    assert.equal(naive, 2 * [...states.values()].reduce((a, b) => a + b, 0));
  });

  test('"Copy throughput" is bytes uploaded only', async () => {
    const expr = panel('Copy throughput');
    assert.match(expr, /kind="uploaded"/);
    // The panel as it read shortly after the copy.
    const t = at.copyDone + HOLD_MS + 15_000;
    const got = (await prom.query(scoped(expr), t))[0]?.value ?? 0;
    assert.ok(got > 0, 'the copy uploaded bytes');
    const all = (await prom.query(`sum(rate(kube_image_keeper_copy_bytes_total{${JOB}}[5m]))`, t))[0]!.value;
    // read ≈ uploaded for a fresh copy: every kind together is about twice the panel.
    assert.ok(got < all * 0.75, `${got} is not uploaded alone (all kinds: ${all})`);
  });

  test('every panel query returns series with the labels its legend names', async () => {
    // The stack's work is in the past: each panel as it read after the copy, after the work, now.
    const times = [at.copyDone + HOLD_MS + 15_000, at.workDone + 5_000, Date.now()];
    // Nothing failed and every image is available here: those two are checked equal to 0 above.
    const zero = ['Images unavailable', 'Mirrors failing'];
    for (const p of dash.panels.filter((x) => !zero.includes(x.title))) {
      for (const t of p.targets) {
        const r = await eventually(`${p.title}: ${t.expr}`, async () => {
          for (const time of times) {
            const x = await prom.query(scoped(t.expr), Math.min(time, Date.now()));
            // The one rerouted pod shows (its series started at 0, so increase() sees it).
            const claim = p.title !== 'Pods rerouted (1h)' || (x[0]?.value ?? 0) >= 0.9;
            if (x.length > 0 && x.every((s) => Number.isFinite(s.value)) && claim) return x;
          }
          return undefined;
        });
        for (const [, label] of (t.legendFormat ?? '').matchAll(/\{\{(\w+)\}\}/g))
          for (const s of r)
            assert.ok(
              s.metric[label!] !== undefined,
              `${p.title}: ${label} missing in ${JSON.stringify(s.metric)}`,
            );
      }
    }
  });
});

describe('promtool check metrics', () => {
  test('passes on every endpoint: both routers, reconcile, the monitor, the copy', async () => {
    const texts = [
      ...(await Promise.all(
        routers.map(async (r) => await (await fetch(`http://127.0.0.1:${r.port}/metrics`)).text()),
      )),
      lastSeen['reconcile']!,
      lastSeen['monitor']!,
    ];
    const copy = await startFunction('copy');
    try {
      texts.push(await (await fetch(`http://127.0.0.1:${copy.port}/metrics`)).text());
    } finally {
      await copy.stop();
    }
    for (const text of texts) {
      const p = execFileP('promtool', ['check', 'metrics']);
      p.child.stdin?.end(text);
      await p; // rejects with promtool's complaints
    }
  });
});
