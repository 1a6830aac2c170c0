// A Prometheus registry per process. Metric names follow kuik's (`kube_image_keeper_…`) so kuik's
// dashboards keep working; labels stay low-cardinality (never an image tag on a counter).
import { collectDefaultMetrics, Registry } from 'prom-client';

export function createRegistry(functionName: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ function: functionName });
  collectDefaultMetrics({ register: registry, prefix: 'kube_image_keeper_' });
  return registry;
}
