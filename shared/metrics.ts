// A Prometheus registry per process. Metric names follow kuik's (`kube_image_keeper_…`) so kuik's
// dashboards keep working; labels stay low-cardinality (never an image tag on a counter).
import { collectDefaultMetrics, Registry } from 'prom-client';

export const METRIC_PREFIX = 'kube_image_keeper_';

/**
 * prom-client's default metrics include three gauges named `…_total` (the number of active
 * handles, requests and resources), which `promtool check metrics` refuses: `_total` is for
 * counters. Each is the sum of its per-type gauge (`kube_image_keeper_nodejs_active_handles{type}`
 * and so on), so they are dropped rather than renamed: `sum(kube_image_keeper_nodejs_active_handles)`
 * is the same number (docs/metrics.md).
 */
export const DROPPED_DEFAULT_METRICS = [
  `${METRIC_PREFIX}nodejs_active_handles_total`,
  `${METRIC_PREFIX}nodejs_active_requests_total`,
  `${METRIC_PREFIX}nodejs_active_resources_total`,
] as const;

/** True for prom-client's per-process metrics (process_*, nodejs_*): they describe one process. */
export function isProcessMetric(name: string): boolean {
  return name.startsWith(`${METRIC_PREFIX}process_`) || name.startsWith(`${METRIC_PREFIX}nodejs_`);
}

export function createRegistry(functionName: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ function: functionName });
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  for (const name of DROPPED_DEFAULT_METRICS) registry.removeSingleMetric(name);
  return registry;
}
