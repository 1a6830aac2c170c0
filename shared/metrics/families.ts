// The metric families of the functions that scale to zero (reconcile, monitor, copy), declared once
// as data. Each function registers its own from here, and the router accepts pushes of exactly
// these families and labels (functions/router/pushed-metrics.ts): the one definition both rooms
// need lives in neither.
import { Counter, Histogram, type Registry } from 'prom-client';

interface Family {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
}
export interface CounterFamily extends Family {
  readonly type: 'counter';
}
export interface HistogramFamily extends Family {
  readonly type: 'histogram';
  readonly buckets: readonly number[];
}
export interface GaugeFamily extends Family {
  readonly type: 'gauge';
}
export type FamilyDef = CounterFamily | HistogramFamily | GaugeFamily;

type Label<F extends Family> = F['labelNames'][number];

export function counter<const F extends CounterFamily>(f: F, registry: Registry): Counter<Label<F>> {
  return new Counter({ name: f.name, help: f.help, labelNames: f.labelNames, registers: [registry] });
}

export function histogram<const F extends HistogramFamily>(f: F, registry: Registry): Histogram<Label<F>> {
  return new Histogram({
    name: f.name,
    help: f.help,
    labelNames: f.labelNames,
    buckets: [...f.buckets],
    registers: [registry],
  });
}

export const RECONCILE_FAMILIES = {
  events: {
    type: 'counter',
    name: 'kube_image_keeper_reconcile_events_total',
    help: 'CloudEvents received by reconcile, by result (ok, invalid, retry).',
    labelNames: ['result'],
  },
  reconciles: {
    type: 'counter',
    name: 'kube_image_keeper_reconcile_total',
    help: 'Reconciles of mirror sets and secret owners, by kind and outcome.',
    labelNames: ['kind', 'outcome'],
  },
  copies: {
    type: 'counter',
    name: 'kube_image_keeper_copy_requests_total',
    help: 'Copy requests sent to the copy function.',
    labelNames: [],
  },
  duration: {
    type: 'histogram',
    name: 'kube_image_keeper_reconcile_duration_seconds',
    help: 'Time to handle one event, every reconcile it calls for included.',
    labelNames: [],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  },
  resyncs: {
    type: 'counter',
    name: 'kube_image_keeper_reconcile_resyncs_total',
    help: 'Full resyncs of every mirror set and secret owner, by result (ok; partial: the resync budget, monitoring.tickBudget, ran out first; failed; coalesced: a trigger answered without a resync, one was running or monitoring.minTickInterval had not passed).',
    labelNames: ['result'],
  },
  resyncDuration: {
    type: 'histogram',
    name: 'kube_image_keeper_reconcile_resync_duration_seconds',
    help: 'Wall time of one full resync.',
    labelNames: [],
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 45, 60, 120],
  },
} as const satisfies Record<string, FamilyDef>;

export const MONITOR_FAMILIES = {
  ticks: {
    type: 'counter',
    name: 'kube_image_keeper_monitor_ticks_total',
    help: 'Monitor ticks by outcome: Complete, BudgetExceeded (stopped by monitoring.tickBudget), LeaseHeld (another tick was probing), NothingDue, Failed, Coalesced (a request answered without a tick: one was running or monitoring.minTickInterval had not passed).',
    labelNames: ['outcome'],
  },
  tickDuration: {
    type: 'histogram',
    name: 'kube_image_keeper_monitor_tick_duration_seconds',
    help: 'Wall time of one tick.',
    labelNames: [],
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 45, 60, 120],
  },
  probes: {
    type: 'counter',
    name: 'kube_image_keeper_monitor_probes_total',
    help: 'Availability probes by registry and resulting CISA status (Available, NotFound, Unreachable, InvalidAuth, UnavailableSecret, QuotaExceeded).',
    labelNames: ['registry', 'result'],
  },
  probeDuration: {
    type: 'histogram',
    name: 'kube_image_keeper_monitor_probe_duration_seconds',
    help: 'Duration of one availability probe, by registry.',
    labelNames: ['registry'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  },
  statusWrites: {
    type: 'counter',
    name: 'kube_image_keeper_monitor_status_writes_total',
    help: 'CISA status writes at the end of a tick (one per CISA at most): written, unchanged, gone, failed.',
    labelNames: ['result'],
  },
  tagDrifts: {
    type: 'counter',
    name: 'kube_image_keeper_monitor_tag_drifts_total',
    help: 'Tag drifts found (a tag naming other bytes than its running containers or its mirror use; counted when first seen or when its digests change), by registry and what was done: Reported, Remirrored, Pinned, PinImpossible.',
    labelNames: ['registry', 'action'],
  },
} as const satisfies Record<string, FamilyDef>;

export const COPY_FAMILIES = {
  copies: {
    type: 'counter',
    name: 'kube_image_keeper_copies_total',
    help: 'Image copies by destination registry and result (mirrored, tolerated, already-mirrored, failed, interrupted, gone, stale).',
    labelNames: ['registry', 'result'],
  },
  events: {
    type: 'counter',
    name: 'kube_image_keeper_copy_events_total',
    help: 'Copy CloudEvents received, by result (ok, joined: answered by the same copy already running, invalid, retry).',
    labelNames: ['result'],
  },
  bytes: {
    type: 'counter',
    name: 'kube_image_keeper_copy_bytes_total',
    help: 'Blob bytes by kind: uploaded (sent to the mirror), read (from the source), resumed (not sent again thanks to a resumed upload).',
    labelNames: ['registry', 'kind'],
  },
  blobs: {
    type: 'counter',
    name: 'kube_image_keeper_copy_blobs_total',
    help: 'Blobs by outcome: uploaded, resumed, mounted (cross-repository), skipped (already there), foreign (not distributable).',
    labelNames: ['registry', 'outcome'],
  },
  duration: {
    type: 'histogram',
    name: 'kube_image_keeper_copy_duration_seconds',
    help: 'Time to handle one copy request, status writes included.',
    labelNames: ['result'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
  },
  // Copies in flight (image: the destination reference, bounded by the copies running at once).
  progressDone: {
    type: 'gauge',
    name: 'kube_image_keeper_copy_progress_done_bytes',
    help: 'Bytes of the image already at the mirror or sent to it, per copy in flight (image: destination reference).',
    labelNames: ['registry', 'image'],
  },
  progressSize: {
    type: 'gauge',
    name: 'kube_image_keeper_copy_progress_size_bytes',
    help: 'Bytes of every blob of the image being copied, per copy in flight; done / size is the fraction copied.',
    labelNames: ['registry', 'image'],
  },
} as const satisfies Record<string, FamilyDef>;

/** The gauges the copy pushes to the router with their current values (shared/metrics-push.ts). */
export const COPY_PUSHED_GAUGES = [COPY_FAMILIES.progressDone.name, COPY_FAMILIES.progressSize.name] as const;

/** What each function pushes to the router: every family above (a function's gauges included). */
export const PUSHED_FAMILIES: ReadonlyMap<'reconcile' | 'monitor' | 'copy', readonly FamilyDef[]> = new Map<
  'reconcile' | 'monitor' | 'copy',
  readonly FamilyDef[]
>([
  ['reconcile', Object.values(RECONCILE_FAMILIES)],
  ['monitor', Object.values(MONITOR_FAMILIES)],
  ['copy', Object.values(COPY_FAMILIES)],
]);
