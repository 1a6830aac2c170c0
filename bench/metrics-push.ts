// The metrics push (shared/metrics-push.ts → the router's /metrics/push, docs/metrics.md) over
// loopback HTTP with the real code on both sides: how long one push takes for a reconcile-sized
// and a monitor-sized payload, and what the pushed series cost a scrape of the router's /metrics.
//   node bench/metrics-push.ts [--pushes 200] [--registries 50]

import { createApp } from '#shared/http/app.ts';
import { listen } from '#shared/http/serve.ts';
import { createLogger } from '#shared/log.ts';
import { createRegistry } from '#shared/metrics.ts';
import { MetricsPusher, PUSH_PATH } from '#shared/metrics-push.ts';
import { createMonitorMetrics } from '../functions/monitor/metrics.ts';
import { createReconcileMetrics } from '../functions/reconcile/metrics.ts';
import { PushedMetrics } from '../functions/router/pushed-metrics.ts';
import { benchArgs, percentile, table } from './lib.ts';

const args = benchArgs();
const pushes = Number(args.get('pushes') ?? 200);
const registries = Number(args.get('registries') ?? 50);

// The router side: its registry with the pushed families, the push route, /metrics.
const routerRegistry = createRegistry('router');
const pushed = new PushedMetrics({ holdMs: 0 });
pushed.register(routerRegistry);
const app = createApp({ registry: routerRegistry, bodyLimit: 4 * 1024 * 1024 });
app.post(PUSH_PATH, async (c) => {
  const r = pushed.apply(await c.req.json());
  return r.ok ? c.body(null, 204) : c.json({ error: r.error }, r.error.status);
});
const srv = await listen(app, { port: 0, host: '127.0.0.1' });
const url = `http://127.0.0.1:${srv.port}${PUSH_PATH}`;
const log = createLogger('bench', 'silent');

async function run(label: string, fn: string, work: () => void): Promise<(string | number)[]> {
  const registry = createRegistry(fn);
  const metrics = fn === 'monitor' ? createMonitorMetrics(registry) : undefined;
  // The monitor pushes its own families only (the resync is reconcile's).
  const reconcile = fn === 'reconcile' ? createReconcileMetrics(registry) : undefined;
  const pusher = new MetricsPusher({ registry, url, function: fn, log, intervalMs: 3_600_000 });
  const ms: number[] = [];
  let bytes = 0;
  for (let i = 0; i < pushes; i++) {
    if (metrics) {
      for (let r = 0; r < registries; r++) {
        const registry = `registry-${r}.example.com`;
        metrics.probes.inc({ registry, result: 'Available' });
        metrics.probeDuration.observe({ registry }, 0.05);
      }
      metrics.ticks.inc({ outcome: 'Complete' });
    }
    reconcile?.events.inc({ result: 'ok' });
    reconcile?.reconciles.inc({ kind: 'ImageSetMirror', outcome: 'ok' });
    reconcile?.duration.observe(0.02);
    work();
    const json = JSON.stringify(await registry.getMetricsAsJSON());
    bytes = json.length;
    const t0 = performance.now();
    if (!(await pusher.flush())) throw new Error('push failed');
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return [
    label,
    pushes,
    Math.round(bytes / 1024),
    percentile(ms, 50).toFixed(2),
    percentile(ms, 99).toFixed(2),
  ];
}

const rows = [
  await run('reconcile (3 families)', 'reconcile', () => {}),
  await run(`monitor (${registries} registries)`, 'monitor', () => {}),
];
console.log(table(['sender', 'pushes', 'registry JSON KiB', 'push p50 ms', 'push p99 ms'], rows));

// A scrape of the router with what was pushed (plus the Node.js process metrics).
const scrapes: number[] = [];
let size = 0;
for (let i = 0; i < 50; i++) {
  const t0 = performance.now();
  const text = await (await fetch(`http://127.0.0.1:${srv.port}/metrics`)).text();
  scrapes.push(performance.now() - t0);
  size = text.length;
}
scrapes.sort((a, b) => a - b);
const series = (await routerRegistry.metrics()).split('\n').filter((l) => l && !l.startsWith('#')).length;
console.log(
  table(
    ['router /metrics', 'series', 'KiB', 'scrape p50 ms', 'scrape p99 ms'],
    [
      [
        'after the pushes',
        series,
        Math.round(size / 1024),
        percentile(scrapes, 50).toFixed(2),
        percentile(scrapes, 99).toFixed(2),
      ],
    ],
  ),
);
console.log(`node bench/metrics-push.ts --pushes ${pushes} --registries ${registries}`);
await srv.close();
