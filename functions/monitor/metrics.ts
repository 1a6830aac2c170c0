// The monitor's own metrics: per-invocation counters and histograms only. The monitor scales to
// zero, so the cluster-state gauges kuik exported from CISA status
// (`kube_image_keeper_monitoring_images`, `…_image_last_monitor_age_minutes`) are served by the
// always-on router from its watch cache (functions/router/metrics.ts), not here.
import { Counter, Histogram, type Registry } from 'prom-client';

export function createMonitorMetrics(registry: Registry) {
  return {
    ticks: new Counter({
      name: 'kube_image_keeper_monitor_ticks_total',
      help: 'Monitor ticks by outcome: Complete, BudgetExceeded (stopped by monitoring.tickBudget), LeaseHeld (another tick was probing), NothingDue, Failed, Coalesced (a request answered without a tick: one was running or monitoring.minTickInterval had not passed).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    tickDuration: new Histogram({
      name: 'kube_image_keeper_monitor_tick_duration_seconds',
      help: 'Wall time of one tick, resync included.',
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 45, 60, 120],
      registers: [registry],
    }),
    probes: new Counter({
      name: 'kube_image_keeper_monitor_probes_total',
      help: 'Availability probes by registry and resulting CISA status (Available, NotFound, Unreachable, InvalidAuth, UnavailableSecret, QuotaExceeded).',
      labelNames: ['registry', 'result'],
      registers: [registry],
    }),
    probeDuration: new Histogram({
      name: 'kube_image_keeper_monitor_probe_duration_seconds',
      help: 'Duration of one availability probe, by registry.',
      labelNames: ['registry'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    statusWrites: new Counter({
      name: 'kube_image_keeper_monitor_status_writes_total',
      help: 'CISA status writes at the end of a tick (one per CISA at most): written, unchanged, gone, failed.',
      labelNames: ['result'],
      registers: [registry],
    }),
    tagDrifts: new Counter({
      name: 'kube_image_keeper_monitor_tag_drifts_total',
      help: 'Tag drifts found (a tag naming other bytes than its running containers or its mirror use; counted when first seen or when its digests change), by registry and what was done: Reported, Remirrored, Pinned, PinImpossible.',
      labelNames: ['registry', 'action'],
      registers: [registry],
    }),
    resyncs: new Counter({
      name: 'kube_image_keeper_monitor_resyncs_total',
      help: 'Full resyncs of every mirror set and secret owner run by ticks, by result (ok, partial: the tick budget ran out first, failed).',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
}

export type MonitorMetrics = ReturnType<typeof createMonitorMetrics>;
