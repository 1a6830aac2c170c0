// The monitor function's HTTP shell: a tick per POST, from Knative's PingSource or OpenFaaS's
// cron-connector (shared/tick/request.ts); `/status/images` (§6.7); health and `/metrics` from
// createApp.
//
// Answers (knative notes §5.4): 200 with the tick's summary once its status writes are done; 400
// for anything that is not a tick (no retry); 503 when the API server could not be read (mtping
// retries a few times; the next tick repairs the rest). A tick arriving while this instance is
// still running one, or within `monitoring.minTickInterval` of the last one's start, is answered
// at once with outcome `Coalesced` (shared/tick/gate.ts): the endpoint takes unauthenticated POSTs, and
// twenty of them must cost one tick. The ledger's lease makes ticks of different instances take
// turns.
import type { Hono } from 'hono';
import type { Registry } from 'prom-client';
import { errorMessage } from '#shared/errors.ts';
import { createApp } from '#shared/http/app.ts';
import { type BodyLimit, bodyLimitOf } from '#shared/http/limits.ts';
import { untrusted } from '#shared/log.ts';
import { TickGate } from '#shared/tick/gate.ts';
import { parseTick } from '#shared/tick/request.ts';
import type { MonitorMetrics } from './metrics.ts';
import { mountStatusImages } from './status-images.ts';
import { listCisas, type MonitorDeps, runTick, type TickSummary } from './tick.ts';

export function createMonitorApp(
  deps: MonitorDeps,
  registry: Registry,
  metrics: MonitorMetrics,
  limits: BodyLimit = bodyLimitOf(deps.config, 'monitor'),
): Hono {
  const app = createApp({ registry, ...limits });
  const gate = new TickGate(deps.config.monitoring.minTickInterval, deps.now);
  const iso = (ms: number) => new Date(ms).toISOString();
  app.post('/', async (c) => {
    const tick = parseTick(c.req.header(), await c.req.text());
    if (!tick.ok) {
      deps.log.warn({ error: untrusted(tick.error) }, 'refused request');
      return c.json({ error: tick.error }, 400);
    }
    const admission = gate.admit();
    if (!admission.run) {
      metrics.ticks.inc({ outcome: 'Coalesced' });
      const when =
        admission.reason === 'Running'
          ? { runningSince: iso(admission.runningSince) }
          : { lastTickAt: iso(admission.lastTickAt), nextTickAfter: iso(admission.nextTickAfter) };
      return c.json(
        { outcome: 'Coalesced', reason: admission.reason, ...when, event: tick.value.id ?? null },
        200,
      );
    }
    let ok = false;
    try {
      const summary: TickSummary = await runTick(deps, metrics);
      ok = true;
      return c.json(summary, 200);
    } catch (err) {
      metrics.ticks.inc({ outcome: 'Failed' });
      const message = errorMessage(err);
      deps.log.warn(
        { via: tick.value.via, event: untrusted(tick.value.id), err: message },
        'tick failed, asking for a retry',
      );
      return c.json({ error: message }, 503);
    } finally {
      gate.done(ok);
    }
  });
  mountStatusImages(app, () => listCisas(deps.kube, deps.cisaSelector));
  return app;
}
