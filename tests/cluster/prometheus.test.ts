// The part of Kubernetes discovery the real-cluster Prometheus is given by hand (Debian builds it
// without kubernetes_sd): which pods the prometheus.io annotations select, at which port and path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { annotatedTargets } from './prometheus.ts';

const pod = (
  name: string,
  annotations: Record<string, string> | undefined,
  podIP?: string,
  phase = 'Running',
) => ({
  metadata: { name, ...(annotations ? { annotations } : {}) },
  status: { phase, ...(podIP ? { podIP } : {}) },
});

test('only Running pods annotated prometheus.io/scrape "true" with a port and an IP are targets, at the annotated path', () => {
  const scrape = { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080' };
  assert.deepEqual(
    annotatedTargets({
      items: [
        pod('kuik-router-a', { ...scrape, 'prometheus.io/path': '/metrics' }, '10.0.0.5'),
        pod('kuik-router-b', scrape, '10.0.0.6'),
        pod('kuik-router-c', scrape, '10.0.0.7', 'Pending'),
        pod('kuik-router-d', scrape),
        pod('kuik-reconcile-x', undefined, '10.0.0.8'),
        pod('other', { 'prometheus.io/scrape': 'false', 'prometheus.io/port': '9090' }, '10.0.0.9'),
        pod('no-port', { 'prometheus.io/scrape': 'true' }, '10.0.0.10'),
      ],
    }),
    [
      { targets: ['10.0.0.5:8080'], labels: { pod: 'kuik-router-a', __metrics_path__: '/metrics' } },
      { targets: ['10.0.0.6:8080'], labels: { pod: 'kuik-router-b', __metrics_path__: '/metrics' } },
    ],
  );
});
