// A real Prometheus (Debian's) inside the cluster's network namespace, configured as a plain
// Prometheus in a cluster usually is: Kubernetes service discovery of pods, keeping those whose
// `prometheus.io/*` annotations ask for it (the community chart's `kubernetes-pods` job; the
// router's pods carry them by default, docs/install.md "Scraping"). Nothing is pointed at kuik's
// pods by hand: what it scrapes is what the installed manifests describe.
import { type RunningPrometheus, startPrometheus } from '../harness/prometheus.ts';
import type { Cluster } from './start.ts';

const ann = (name: string) => `__meta_kubernetes_pod_annotation_prometheus_io_${name}`;

export async function startClusterPrometheus(c: Cluster, namespace: string): Promise<RunningPrometheus> {
  return await startPrometheus(
    [
      {
        job_name: 'kubernetes-pods',
        kubernetes_sd_configs: [
          { role: 'pod', kubeconfig_file: c.innerKubeconfig, namespaces: { names: [namespace] } },
        ],
        relabel_configs: [
          { source_labels: [ann('scrape')], action: 'keep', regex: 'true' },
          {
            source_labels: [ann('path')],
            action: 'replace',
            target_label: '__metrics_path__',
            regex: '(.+)',
          },
          {
            source_labels: ['__address__', ann('port')],
            action: 'replace',
            regex: '([^:]+)(?::\\d+)?;(\\d+)',
            replacement: '$1:$2',
            target_label: '__address__',
          },
          { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
        ],
      },
    ],
    '2s',
    {
      runDir: c.runDir,
      start: (name, cmd, args) => c.startInNs(name, cmd, args),
      reach: async (port) => `http://${await c.forward(`prometheus-${port}`, `127.0.0.1:${port}`)}`,
    },
  );
}
