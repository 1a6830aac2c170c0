// The router's wiring from configuration and environment: the real registry client, pull-secret
// credentials, and the settings of server.ts.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Config } from '#shared/config/config.ts';
import { KeyringCache } from '#shared/credentials/keyring-cache.ts';
import { envNumber } from '#shared/env-number.ts';
import { compileGlobalSkip } from '#shared/filter/filter.ts';
import type { Logger } from '#shared/log.ts';
import { RegistryClient } from '#shared/registry/client.ts';
import { activeCheckProbe } from './availability.ts';
import { ageBuckets } from './metrics.ts';
import { type RunningRouter, startRouter } from './server.ts';

export interface RouterEnv {
  webhookPort: number;
  metricsPort: number;
  tlsCertFile: string;
  tlsKeyFile: string;
  /** WEBHOOK_CLIENT_CA_FILE: require a client certificate signed by this CA (docs/security.md). */
  clientCaFile?: string;
  /** KUIK_METRICS_AUTH=true: /metrics behind a TokenReview + SubjectAccessReview. */
  metricsAuth: boolean;
  decisionDeadlineMs: number;
  certReloadMs: number;
  /** KUIK_METRICS_AGE_MINUTES=true: also kuik's `…_last_monitor_age_minutes` (docs/metrics.md). */
  ageInMinutes: boolean;
  /**
   * KUIK_METRICS_PUSH_HOLD_MS (default 60000): how long a new pushed series is shown at 0 before
   * its count, so every Prometheus sees it start at 0 (at least their scrape interval).
   */
  pushHoldMs: number;
  /**
   * KUIK_METRICS_LAST_SCRAPE_WAIT_MS (default 30000, 0: do not wait): at SIGTERM, how long to wait
   * for one more scrape when pushed counts have not been scraped yet. Below the pod's
   * terminationGracePeriodSeconds (45 in manifests/), at least the scrape interval.
   */
  lastScrapeWaitMs: number;
}

function metricsAuthOn(env: NodeJS.ProcessEnv): boolean {
  const raw = (env['KUIK_METRICS_AUTH'] ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  throw new Error(`KUIK_METRICS_AUTH must be true or false, got ${JSON.stringify(raw)}`);
}

export function routerEnv(env: NodeJS.ProcessEnv): RouterEnv {
  const dir = env['WEBHOOK_CERT_DIR'] ?? '/tmp/k8s-webhook-server/serving-certs';
  return {
    webhookPort: Number(env['WEBHOOK_PORT'] ?? 9443),
    metricsPort: Number(env['PORT'] ?? 8080),
    tlsCertFile: env['TLS_CERT_FILE'] ?? `${dir}/tls.crt`,
    tlsKeyFile: env['TLS_KEY_FILE'] ?? `${dir}/tls.key`,
    metricsAuth: metricsAuthOn(env),
    ...(env['WEBHOOK_CLIENT_CA_FILE'] ? { clientCaFile: env['WEBHOOK_CLIENT_CA_FILE'] } : {}),
    // Below the webhook's timeoutSeconds (5 in manifests/): answer before the apiserver gives up.
    decisionDeadlineMs: Number(env['DECISION_DEADLINE_MS'] ?? 4000),
    // How often the serving certificate files are checked for a rotation.
    certReloadMs: Number(env['CERT_RELOAD_INTERVAL_MS'] ?? 30_000),
    ageInMinutes: (env['KUIK_METRICS_AGE_MINUTES'] ?? '').trim().toLowerCase() === 'true',
    pushHoldMs: envNumber(env, 'KUIK_METRICS_PUSH_HOLD_MS', 60_000, { min: 'zero' }),
    lastScrapeWaitMs: envNumber(env, 'KUIK_METRICS_LAST_SCRAPE_WAIT_MS', 30_000, { min: 'zero' }),
  };
}

export async function runRouter(
  config: Config,
  env: RouterEnv,
  kc: KubeConfig,
  log: Logger,
): Promise<RunningRouter> {
  const skip = compileGlobalSkip(config.skipLabels, config.skipAnnotations);
  if (!skip.ok) throw new Error(skip.error.message);
  const client = new RegistryClient();
  const keyrings = new KeyringCache();
  const check = config.routing.activeCheck;
  const probe = activeCheckProbe(client, check);
  return await startRouter(
    {
      ...env,
      checkTtlMs: check.cacheTTL,
      staleMirror: {
        maxConcurrent: check.staleMirrorCleanup.maxConcurrent,
        timeoutMs: check.staleMirrorCleanup.timeout,
      },
      rewriteOnNeverImagePullPolicy: config.routing.rewriteOnNeverImagePullPolicy,
      honorPrioritiesOnAlwaysImagePullPolicy: config.routing.honorPrioritiesOnAlwaysImagePullPolicy,
      skip: skip.value,
      imageVolumes: config.imageVolumes,
      ageBuckets: ageBuckets(config.metrics.imageLastMonitorAgeMinutes.legacy),
      server: config.server,
    },
    {
      kc,
      log,
      probe,
      credentialsFor: (secrets, image) => keyrings.credentialsFor(secrets, image),
    },
  );
}
