// A real Prometheus (Debian's `prometheus`, scripts/setup.sh) for the metrics tests: started on
// loopback with the scrape configuration a test writes, ready when /-/ready answers, killed at
// teardown like every other part (its PID is in the run's pids file). The real-cluster tests start
// it inside the cluster's network namespace instead (a `PrometheusPlace`), where pods are reachable
// (tests/cluster/prometheus.ts).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { harness } from './env.ts';
import { uniq } from './fixtures.ts';
import { freePort, type Proc, startProc, stopProc, waitFor } from './proc.ts';

export interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  scrape_interval?: string;
  honor_labels?: boolean;
  static_configs?: { targets: string[]; labels?: Record<string, string> }[];
  file_sd_configs?: { files: string[]; refresh_interval?: string }[];
}

/** Where Prometheus runs, when not on this machine's loopback beside the harness. */
export interface PrometheusPlace {
  runDir: string;
  start(name: string, cmd: string, args: string[]): Proc;
  /** The URL at which this process reaches the place's 127.0.0.1:`port`. */
  reach(port: number): Promise<string>;
}

export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

export interface RunningPrometheus {
  proc: Proc;
  url: string;
  /**
   * An instant query, now or at `time` (epoch ms); the vector's samples (a scalar comes back as
   * one sample with no labels).
   */
  query(expr: string, time?: number): Promise<PromSample[]>;
  /** The scrape targets and their health, as /api/v1/targets reports them. */
  targets(): Promise<
    { scrapePool: string; health: string; lastScrapeDuration: number; labels: Record<string, string> }[]
  >;
  stop(): Promise<void>;
}

export async function startPrometheus(
  scrapeConfigs: ScrapeConfig[],
  scrapeInterval = '1s',
  place: PrometheusPlace = {
    runDir: harness().runDir,
    start: (name, cmd, args) => startProc(harness().runDir, name, cmd, args),
    reach: async (port) => `http://127.0.0.1:${port}`,
  },
): Promise<RunningPrometheus> {
  const dir = join(place.runDir, uniq('prometheus'));
  await mkdir(join(dir, 'data'), { recursive: true });
  const config = join(dir, 'prometheus.yml');
  await writeFile(
    config,
    stringify({
      global: {
        scrape_interval: scrapeInterval,
        scrape_timeout: scrapeInterval,
        evaluation_interval: scrapeInterval,
      },
      scrape_configs: scrapeConfigs,
    }),
  );
  const port = await freePort();
  const proc = place.start(uniq('prometheus'), 'prometheus', [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ]);
  const url = await place.reach(port);
  await waitFor('prometheus /-/ready', async () => (await fetch(`${url}/-/ready`)).ok, {
    proc,
    timeoutMs: 60_000,
  });
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error ?? res.status}`);
    return body.data;
  };
  return {
    proc,
    url,
    query: async (expr) => {
      const data = await api<{ resultType: string; result: unknown }>(
        `/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      if (data.resultType === 'scalar')
        return [{ metric: {}, value: Number((data.result as [number, string])[1]) }];
      return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({
        metric: r.metric,
        value: Number(r.value[1]),
      }));
    },
    targets: async () =>
      (
        await api<{
          activeTargets: {
            scrapePool: string;
            health: string;
            lastScrapeDuration: number;
            labels: Record<string, string>;
          }[];
        }>('/api/v1/targets')
      ).activeTargets,
    stop: () => stopProc(proc),
  };
}
