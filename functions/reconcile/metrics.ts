// reconcile's metrics: per-event counters and histograms, and the full resync's. The families are
// declared in shared/metrics/families.ts, which the router reads to accept their pushes.
import type { Registry } from 'prom-client';
import { counter, RECONCILE_FAMILIES as F, histogram } from '#shared/metrics/families.ts';

export function createReconcileMetrics(registry: Registry) {
  return {
    events: counter(F.events, registry),
    reconciles: counter(F.reconciles, registry),
    copies: counter(F.copies, registry),
    duration: histogram(F.duration, registry),
    resyncs: counter(F.resyncs, registry),
    resyncDuration: histogram(F.resyncDuration, registry),
  };
}

export type ReconcileMetrics = ReturnType<typeof createReconcileMetrics>;
