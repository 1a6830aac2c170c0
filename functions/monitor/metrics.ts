// The monitor's own metrics: per-invocation counters and histograms only. The monitor scales to
// zero, so the cluster-state gauges kuik exported from CISA status
// (`kube_image_keeper_monitoring_images`, `…_image_last_monitor_age_minutes`) are served by the
// always-on router from its watch cache (functions/router/metrics.ts), not here. The families are
// declared in shared/metrics/families.ts, which the router reads to accept their pushes.
import type { Registry } from 'prom-client';
import { counter, MONITOR_FAMILIES as F, histogram } from '#shared/metrics/families.ts';

export function createMonitorMetrics(registry: Registry) {
  return {
    ticks: counter(F.ticks, registry),
    tickDuration: histogram(F.tickDuration, registry),
    probes: counter(F.probes, registry),
    probeDuration: histogram(F.probeDuration, registry),
    statusWrites: counter(F.statusWrites, registry),
    tagDrifts: counter(F.tagDrifts, registry),
  };
}

export type MonitorMetrics = ReturnType<typeof createMonitorMetrics>;
