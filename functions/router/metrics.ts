// The router's metrics: its own (reviews, latency, probes, probe cache, decisions) and the
// cluster-state gauges computed at scrape time from the CRD status in its watch caches. The router
// is the always-on function; monitor and reconcile scale to zero and cannot be scraped for state.
// kuik's metric names and labels are kept (§7) so existing dashboards keep working.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Config } from '#shared/config/config.ts';
import type {
  ClusterImageSetAvailability,
  ClusterImageSetMirror,
  ImageSetMirror,
} from '#shared/crd/types.ts';
import { parseReference } from '#shared/image/reference.ts';
import type { ReviewOutcome } from './handle.ts';

/** Every ReviewOutcome, for series that start at 0. */
export const REVIEW_OUTCOMES = [
  'rerouted',
  'unchanged',
  'skipped',
  'ignored',
  'invalid',
  'error',
  'timeout',
] as const satisfies readonly ReviewOutcome[];

export interface StateSource {
  cisas(): readonly ClusterImageSetAvailability[];
  mirrors(): readonly (ImageSetMirror | ClusterImageSetMirror)[];
}

/** kuik's default classic buckets: exponential, start 1, factor 1.94, 12 buckets (§7). */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => Number((start * factor ** i).toFixed(3)));
}

/** `metrics.imageLastMonitorAgeMinutes.legacy` as the config resolves it. */
export type LegacyBuckets = Config['metrics']['imageLastMonitorAgeMinutes']['legacy'];

/**
 * The classic buckets of the last-monitor-age histogram from `metrics.imageLastMonitorAgeMinutes
 * .legacy` (§8.2). kuik also emits a native histogram; prom-client has none, so only these exist
 * (`disabled` leaves just `+Inf`, `_sum` and `_count`).
 */
export function ageBuckets(l: LegacyBuckets): number[] {
  switch (l.bucketType) {
    case 'disabled':
      return [];
    case 'custom':
      return [...l.custom];
    case 'exponentialRange': {
      // Prometheus' ExponentialBucketsRange: `count` buckets from min to max.
      const factor = (l.max / l.min) ** (1 / (l.count - 1));
      return exponentialBuckets(l.min, factor, l.count);
    }
    default:
      return exponentialBuckets(l.start, l.factor, l.count);
  }
}

function registryOf(image: string): string {
  const r = parseReference(image);
  return r.ok ? r.value.domain : 'invalid';
}

export function createRouterMetrics(
  registry: Registry,
  state: StateSource,
  now: () => number = Date.now,
  opts: {
    ageBuckets?: number[];
    /** Also serve kuik's `…_last_monitor_age_minutes` (promtool refuses its unit). */
    ageInMinutes?: boolean;
    build?: { version: string; revision: string; built: string };
  } = {},
) {
  const reviews = new Counter({
    name: 'kube_image_keeper_router_reviews_total',
    help: 'Admission reviews handled, by operation (CREATE, UPDATE, DELETE, CONNECT, other; unknown without a request) and outcome (rerouted, unchanged, skipped, ignored, invalid, error, timeout).',
    labelNames: ['operation', 'outcome'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'kube_image_keeper_router_review_duration_seconds',
    help: 'Time to answer an admission review.',
    labelNames: ['outcome'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const decisions = new Counter({
    name: 'kube_image_keeper_router_decisions_total',
    help: 'Per-container (and per image volume) routing decisions, by reason and the kind of CR that supplied the image.',
    labelNames: ['reason', 'kind'],
    registers: [registry],
  });
  const probes = new Counter({
    name: 'kube_image_keeper_router_probes_total',
    help: 'Registry availability probes sent by the router, by registry and result. Registries named by CRs keep their name; of the hosts only pods name, the first 32 do and the rest are `other`.',
    labelNames: ['registry', 'result'],
    registers: [registry],
  });
  const probeCache = new Counter({
    name: 'kube_image_keeper_router_probe_cache_total',
    help: 'Availability checks answered from the TTL cache (hit) or by a probe (miss).',
    labelNames: ['result'],
    registers: [registry],
  });
  const staleMirrors = new Counter({
    name: 'kube_image_keeper_router_stale_mirror_signals_total',
    help: 'Mirror statuses cleared after the mirror answered NotFound, by result.',
    labelNames: ['result'],
    registers: [registry],
  });

  const build = opts.build ?? {
    version: process.env['KUIK_VERSION'] ?? 'dev',
    revision: process.env['KUIK_REVISION'] ?? '',
    built: process.env['KUIK_BUILT'] ?? '',
  };
  new Gauge({
    name: 'kube_image_keeper_manager_build_info',
    help: 'Constant 1, labelled with the build (kuik: goversion/goos/goarch; here the Node.js runtime).',
    labelNames: ['version', 'revision', 'built', 'nodeversion', 'os', 'arch'],
    registers: [registry],
    collect() {
      this.set({ ...build, nodeversion: process.version, os: process.platform, arch: process.arch }, 1);
    },
  });
  new Gauge({
    name: 'kube_image_keeper_manager_is_leader',
    help: 'Always 1: every router replica serves admissions and state gauges (no leader election; sum with max() across replicas).',
    registers: [registry],
    collect() {
      this.set(1);
    },
  });
  new Gauge({
    name: 'kube_image_keeper_manager_up',
    help: 'Always 1 while the router runs.',
    registers: [registry],
    collect() {
      this.set(1);
    },
  });
  new Gauge({
    name: 'kube_image_keeper_monitoring_images',
    help: 'Images in ClusterImageSetAvailability status, by CISA, registry, status, used and original.',
    labelNames: ['name', 'registry', 'status', 'used', 'original'],
    registers: [registry],
    collect() {
      this.reset();
      for (const cisa of state.cisas()) {
        for (const img of cisa.status?.images ?? []) {
          this.inc({
            name: cisa.metadata.name ?? '',
            registry: registryOf(img.image),
            status: img.status,
            used: String(img.unusedSince === undefined),
            original: String(img.original === true),
          });
        }
      }
    },
  });
  // kuik's histogram is in minutes; `promtool check metrics` refuses a unit other than seconds.
  // The seconds one is always served (same buckets, × 60); kuik's name only on request
  // (KUIK_METRICS_AGE_MINUTES=true, chart metrics.ageInMinutes), for kuik v2 dashboards.
  const minuteBuckets = opts.ageBuckets ?? exponentialBuckets(1, 1.94, 12);
  for (const [unit, perMs] of [
    ['seconds', 1_000],
    ...(opts.ageInMinutes ? [['minutes', 60_000] as const] : []),
  ] as const) {
    new Histogram({
      name: `kube_image_keeper_monitoring_image_last_monitor_age_${unit}`,
      help: `Age in ${unit} of the last check of each monitored image (rebuilt at each scrape).`,
      labelNames: ['name', 'registry'],
      buckets: minuteBuckets.map((b) => (unit === 'seconds' ? Number((b * 60).toFixed(3)) : b)),
      registers: [registry],
      collect() {
        this.reset();
        const t = now();
        for (const cisa of state.cisas()) {
          for (const img of cisa.status?.images ?? []) {
            if (!img.lastMonitor) continue;
            const age = (t - Date.parse(img.lastMonitor)) / perMs;
            this.observe(
              { name: cisa.metadata.name ?? '', registry: registryOf(img.image) },
              Math.max(0, age),
            );
          }
        }
      },
    });
  }
  new Gauge({
    name: 'kube_image_keeper_mirror_images',
    help: 'Mirror entries in ImageSetMirror/ClusterImageSetMirror status, by CR and state (mirrored, pending, failed).',
    labelNames: ['kind', 'namespace', 'name', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const cr of state.mirrors()) {
        for (const entry of cr.status?.matchingImages ?? []) {
          for (const m of entry.mirrors ?? []) {
            const s = m.mirroredAt ? 'mirrored' : m.lastError ? 'failed' : 'pending';
            this.inc({
              kind: cr.kind,
              namespace: cr.metadata.namespace ?? '',
              name: cr.metadata.name ?? '',
              state: s,
            });
          }
        }
      }
    },
  });

  // Prometheus' rate() counts from a series' first sample: a series born at 1 hides that first
  // review (the first reroute after a start is often the one that matters). The webhook's two
  // operations and every outcome start at 0 instead.
  for (const outcome of REVIEW_OUTCOMES) {
    for (const operation of ['CREATE', 'UPDATE']) reviews.inc({ operation, outcome }, 0);
    duration.zero({ outcome });
  }
  for (const result of ['hit', 'miss']) probeCache.inc({ result }, 0);

  const pushes = new Counter({
    name: 'kube_image_keeper_router_metric_pushes_total',
    help: 'Metric pushes received from reconcile, the monitor and the copy (the sender), by result: accepted, invalid (refused, nothing counted), limit (the pushed series limit was reached).',
    labelNames: ['sender', 'result'],
    registers: [registry],
  });

  return { reviews, duration, decisions, probes, probeCache, staleMirrors, pushes };
}

export type RouterMetrics = ReturnType<typeof createRouterMetrics>;
