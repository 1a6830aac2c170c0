// What reconcile and the monitor do once their app is built: serve it behind the sender and
// metrics checks, say so in one line, and push what they counted to the router until they stop.
// Both scale to zero, so their counts must leave before the pod does (docs/metrics.md).
import type { KubeConfig } from '@kubernetes/client-node';
import type { Hono } from 'hono';
import type { Registry } from 'prom-client';
import type { Config } from '#shared/config/config.ts';
import type { Logger } from '#shared/log.ts';
import { metricsPusherFromEnv } from '#shared/metrics-push.ts';
import { guarded } from './access.ts';
import { timeoutsOf } from './limits.ts';
import { listen } from './serve.ts';

export interface ServedFunction {
  port: number;
  stop(): Promise<void>;
}

export async function serveScaledToZero(opts: {
  name: 'reconcile' | 'monitor';
  app: Hono;
  env: NodeJS.ProcessEnv;
  kc: KubeConfig;
  log: Logger;
  config: Config;
  port: number;
  registry: Registry;
  /** More fields for the `NAME ready` line. */
  ready: Record<string, unknown>;
}): Promise<ServedFunction> {
  const served = guarded(opts.app, opts.env, opts.kc, opts.log);
  const srv = await listen(served.app, { port: opts.port, timeouts: timeoutsOf(opts.config) });
  opts.log.info(
    { port: srv.port, senderAuth: served.senderAuth, metricsAuth: served.metricsAuth, ...opts.ready },
    `${opts.name} ready`,
  );
  const pusher = metricsPusherFromEnv(opts.env, opts.registry, opts.name, opts.log);
  return {
    port: srv.port,
    stop: async () => {
      await srv.close();
      await pusher?.stop();
    },
  };
}
