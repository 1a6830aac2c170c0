// A real Prometheus (Debian's) inside the cluster's network namespace, scraping what the installed
// manifests ask to be scraped: the pods whose `prometheus.io/*` annotations say so (the community
// chart's `kubernetes-pods` job; the router's pods carry them by default, docs/install.md
// "Scraping"). Nothing is pointed at kuik's pods by hand.
//
// Debian builds its Prometheus without Kubernetes service discovery (`promtool check config`:
// "field kubernetes_sd_configs not found"), so this file does that discovery's part: every 2 s it
// lists the namespace's pods through the real apiserver and writes those the annotations select
// to a file Prometheus reads (`file_sd_configs`), with the annotations' port and path, as the
// `kubernetes-pods` job's relabelling would. Pods that come and go (the router's, replaced by a
// scenario) come and go as targets.
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type RunningPrometheus, startPrometheus } from '../harness/prometheus.ts';
import type { Cluster } from './start.ts';

interface PodList {
  items: {
    metadata: { name: string; annotations?: Record<string, string> };
    status: { phase?: string; podIP?: string };
  }[];
}

/** The file_sd targets the `prometheus.io/*` annotations select, one group per pod. */
export function annotatedTargets(pods: PodList): { targets: string[]; labels: Record<string, string> }[] {
  return pods.items.flatMap((p) => {
    const a = p.metadata.annotations ?? {};
    const port = a['prometheus.io/port'];
    if (a['prometheus.io/scrape'] !== 'true' || !port || !p.status.podIP || p.status.phase !== 'Running')
      return [];
    return [
      {
        targets: [`${p.status.podIP}:${port}`],
        labels: { pod: p.metadata.name, __metrics_path__: a['prometheus.io/path'] || '/metrics' },
      },
    ];
  });
}

export async function startClusterPrometheus(c: Cluster, namespace: string): Promise<RunningPrometheus> {
  const sd = join(c.runDir, 'prometheus-targets.json');
  const discover = async () => {
    const pods = JSON.parse(await c.k('-n', namespace, 'get', 'pods', '-o', 'json')) as PodList;
    await writeFile(`${sd}.tmp`, JSON.stringify(annotatedTargets(pods)));
    await rename(`${sd}.tmp`, sd);
  };
  await discover();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await new Promise((r) => setTimeout(r, 2000));
      // A failed listing (the apiserver busy) keeps the last targets; the next one replaces them.
      if (!stopped) await discover().catch(() => {});
    }
  })();
  const prom = await startPrometheus(
    [{ job_name: 'kubernetes-pods', file_sd_configs: [{ files: [sd], refresh_interval: '2s' }] }],
    '2s',
    {
      runDir: c.runDir,
      start: (name, cmd, args) => c.startInNs(name, cmd, args),
      reach: async (port) => `http://${await c.forward(`prometheus-${port}`, `127.0.0.1:${port}`)}`,
    },
  ).catch(async (err: unknown) => {
    stopped = true;
    await loop;
    throw err;
  });
  return {
    ...prom,
    stop: async () => {
      stopped = true;
      await loop;
      await prom.stop();
    },
  };
}
