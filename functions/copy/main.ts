// The copy function's wiring. Two ways to run, one code path (handleCopy):
//   - a Knative Service (or OpenFaaS function): HTTP, one CloudEvent per request;
//   - a Job created by a Knative JobSink: `K_EVENT_PATH` names the directory holding the event;
//     the process copies, writes status and exits with the Job's verdict (job.ts).
// SIGTERM (scale-down, pod eviction, Job deletion) lets every copy finish its current chunk and
// record its upload sessions in status, so the next run resumes instead of starting over.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Config } from '#shared/config/config.ts';
import { envNumber } from '#shared/env-number.ts';
import { guarded } from '#shared/http/access.ts';
import { bodyLimitOf, timeoutsOf } from '#shared/http/limits.ts';
import { listen } from '#shared/http/serve.ts';
import { Kube } from '#shared/kube/client.ts';
import type { Logger } from '#shared/log.ts';
import { COPY_PUSHED_GAUGES } from '#shared/metrics/families.ts';
import { createRegistry } from '#shared/metrics.ts';
import { metricsPusherFromEnv } from '#shared/metrics-push.ts';
import { RegistryTransport } from '#shared/registry/transport.ts';
import { COPY_TRANSPORT } from './engine/copy.ts';
import { type CopyDeps, type CopySettings, DEFAULT_SETTINGS } from './handle.ts';
import { runJob } from './job.ts';
import { createCopyMetrics } from './metrics.ts';
import { createCopyApp } from './server.ts';

const MiB = 1024 * 1024;

/**
 * KUIK_COPY_CHUNK_MIB, KUIK_COPY_RECORD_EVERY_MIB, KUIK_COPY_HOST_CONCURRENCY,
 * KUIK_COPY_PROGRESS_SECONDS; defaults otherwise.
 */
export function copySettings(env: NodeJS.ProcessEnv): CopySettings {
  const positive = (name: string, fallback: number, unit = 1) =>
    envNumber(env, name, fallback, { min: 'positive', unit });
  return {
    chunkBytes: positive('KUIK_COPY_CHUNK_MIB', DEFAULT_SETTINGS.chunkBytes, MiB),
    recordEveryBytes: positive('KUIK_COPY_RECORD_EVERY_MIB', DEFAULT_SETTINGS.recordEveryBytes, MiB),
    hostConcurrency: positive('KUIK_COPY_HOST_CONCURRENCY', DEFAULT_SETTINGS.hostConcurrency),
    progressEveryMs: positive('KUIK_COPY_PROGRESS_SECONDS', DEFAULT_SETTINGS.progressEveryMs, 1000),
  };
}

export async function start(config: Config, env: NodeJS.ProcessEnv, kc: KubeConfig, log: Logger) {
  let stopping = false;
  const transport = new RegistryTransport(COPY_TRANSPORT);
  const registry = createRegistry('copy');
  const metrics = createCopyMetrics(registry);
  // A Job exits and a Service scales to zero: what the copy counted goes to the router before
  // the process ends (docs/metrics.md). A Job serves no /metrics at all, so the progress of its
  // copy in flight goes there too, as gauges the router replaces on each push.
  const pusher = metricsPusherFromEnv(env, registry, 'copy', log, COPY_PUSHED_GAUGES);
  const deps: CopyDeps = {
    kube: new Kube(kc),
    transport,
    log,
    now: Date.now,
    settings: copySettings(env),
    shouldStop: () => stopping,
    metrics,
  };

  const eventDir = env['K_EVENT_PATH'];
  if (eventDir) {
    // Started in the background so that functions/main.ts installs its signal handlers first.
    const job = runJob(eventDir, deps).then(async (code) => {
      await transport.close().catch(() => {});
      await pusher?.stop();
      log.info({ exitCode: code }, 'copy job done');
      process.exit(code);
    });
    return {
      port: undefined,
      // Finish the current chunks, record the sessions; the job exits with its own code (never 0
      // for an interrupted copy, so the Job is retried).
      stop: async () => {
        stopping = true;
        await job;
      },
    };
  }

  const inflight = new Set<Promise<unknown>>();
  const app = createCopyApp(deps, registry, metrics, inflight, bodyLimitOf(config, 'copy'));
  const served = guarded(app, env, kc, log);
  const srv = await listen(served.app, { port: Number(env['PORT'] ?? 8080), timeouts: timeoutsOf(config) });
  log.info(
    {
      port: srv.port,
      settings: deps.settings,
      senderAuth: served.senderAuth,
      metricsAuth: served.metricsAuth,
    },
    'copy ready',
  );
  return {
    port: srv.port,
    stop: async () => {
      stopping = true;
      // Copies stop at their next chunk boundary and record their sessions; then close.
      await Promise.allSettled([...inflight]);
      await srv.close();
      await transport.close();
      await pusher?.stop();
    },
  };
}
