// The monitor function's wiring: the shared registry client for probes, Kubernetes events for
// invalid filters. functions/main.ts calls start() when KUIK_FUNCTION=monitor.
//
// Environment:
//   PORT                         HTTP port (default 8080): POST / ticks, /status/images, /metrics
//   POD_NAME                     this instance's name in tick ids and the ledger's lease (default: hostname)
//   KUIK_MONITOR_CISA_SELECTOR   label selector: the CISAs this monitor owns (default: all)
//   KUIK_CLUSTER_ID              this cluster's name in shared quota records (docs/shared-quota.md)
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Config } from '#shared/config/config.ts';
import { API_VERSION } from '#shared/crd/types.ts';
import { CredentialResolver } from '#shared/credentials/resolver.ts';
import { compileGlobalSkip } from '#shared/filter/filter.ts';
import { bodyLimitOf } from '#shared/http/limits.ts';
import { serveScaledToZero } from '#shared/http/serve-function.ts';
import { Kube } from '#shared/kube/client.ts';
import type { Logger } from '#shared/log.ts';
import { createRegistry } from '#shared/metrics.ts';
import { RegistryClient } from '#shared/registry/client.ts';
import { createMonitorMetrics } from './metrics.ts';
import { registryQuotaStore } from './quota-store.ts';
import { createMonitorApp } from './server.ts';
import type { MonitorDeps } from './tick.ts';

export interface MonitorSettings {
  port: number;
  instance: string;
  cisaSelector?: string;
  /** `KUIK_CLUSTER_ID`: names this cluster's shared quota records (docs/shared-quota.md). */
  cluster?: string;
}

export function monitorSettings(env: NodeJS.ProcessEnv): MonitorSettings {
  const selector = env['KUIK_MONITOR_CISA_SELECTOR'];
  return {
    port: Number(env['PORT'] ?? 8080),
    instance: env['POD_NAME'] || hostname(),
    cluster: env['KUIK_CLUSTER_ID'] || 'default',
    ...(selector ? { cisaSelector: selector } : {}),
  };
}

/** MonitorDeps from configuration. */
export function monitorDeps(
  config: Config,
  settings: MonitorSettings,
  kube: Kube,
  log: Logger,
  extra: { client?: RegistryClient } = {},
): MonitorDeps {
  const skip = compileGlobalSkip(config.skipLabels, config.skipAnnotations);
  if (!skip.ok) throw new Error(skip.error.message);
  const client = extra.client ?? new RegistryClient();
  return {
    kube,
    log,
    config,
    skip: skip.value,
    probe: (image, opts) => client.probe(image, opts),
    warn: async (cisa, reason, note, action = 'ReconcileSkipped') => {
      const err = await kube.recordEvent(
        { apiVersion: API_VERSION, kind: cisa.kind, name: cisa.metadata.name ?? '', uid: cisa.metadata.uid },
        { type: 'Warning', reason, action, note, controller: 'kuik.enix.io/monitor' },
      );
      if (err) log.warn({ err, reason }, 'could not record event');
    },
    ...(settings.cisaSelector ? { cisaSelector: settings.cisaSelector } : {}),
    ...quotaSharing(config, settings, kube, client),
    instance: settings.instance,
    now: Date.now,
  };
}

/** The shared quota store when `monitoring.sharedQuota.registry` is set. */
function quotaSharing(
  config: Config,
  settings: MonitorSettings,
  kube: Kube,
  client: RegistryClient,
): Pick<MonitorDeps, 'quota'> {
  const q = config.monitoring.sharedQuota;
  if (!q.registry) return {};
  const secret = q.credentialSecret;
  const store = registryQuotaStore({
    client,
    registry: q.registry,
    repository: q.repository,
    credential: async () => {
      if (!secret) return undefined;
      const where = `${secret.namespace}/${secret.name}`;
      // Read on every use (a rotated credential counts); a missing Secret in the API's words.
      const r = await new CredentialResolver((ns, name) => kube.getSecret(ns, name)).resolve(
        [secret],
        `${q.registry}/${q.repository}`,
      );
      if (!r.ok) throw new Error(`sharedQuota credential secret ${where}: ${r.error[0]?.message}`);
      return r.value[0];
    },
  });
  return { quota: { store, cluster: settings.cluster ?? 'default' } };
}

export async function start(config: Config, env: NodeJS.ProcessEnv, kc: KubeConfig, log: Logger) {
  const settings = monitorSettings(env);
  const registry = createRegistry('monitor');
  const deps = monitorDeps(config, settings, new Kube(kc), log);
  const app = createMonitorApp(
    deps,
    registry,
    createMonitorMetrics(registry),
    bodyLimitOf(config, 'monitor'),
  );
  return await serveScaledToZero({
    name: 'monitor',
    ...{ app, env, kc, log, config, registry },
    port: settings.port,
    ready: { instance: settings.instance, tickBudget_ms: config.monitoring.tickBudget },
  });
}
