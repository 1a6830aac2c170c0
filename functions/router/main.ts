// The router's wiring from configuration and environment: the real registry client, pull-secret
// credentials, and the settings of server.ts.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Config } from '../../shared/config/config.ts';
import { compileGlobalSkip } from '../../shared/filter/filter.ts';
import type { Logger } from '../../shared/log.ts';
import { RegistryClient } from '../../shared/registry/client.ts';
import type { Probe } from './availability.ts';
import { KeyringCache } from './keyring-cache.ts';
import { ageBuckets } from './metrics.ts';
import { type RunningRouter, startRouter } from './server.ts';

export interface RouterEnv {
  webhookPort: number;
  metricsPort: number;
  tlsCertFile: string;
  tlsKeyFile: string;
  decisionDeadlineMs: number;
  certReloadMs: number;
}

export function routerEnv(env: NodeJS.ProcessEnv): RouterEnv {
  const dir = env['WEBHOOK_CERT_DIR'] ?? '/tmp/k8s-webhook-server/serving-certs';
  return {
    webhookPort: Number(env['WEBHOOK_PORT'] ?? 9443),
    metricsPort: Number(env['PORT'] ?? 8080),
    tlsCertFile: env['TLS_CERT_FILE'] ?? `${dir}/tls.crt`,
    tlsKeyFile: env['TLS_KEY_FILE'] ?? `${dir}/tls.key`,
    // Below the webhook's timeoutSeconds (5 in manifests/): answer before the apiserver gives up.
    decisionDeadlineMs: Number(env['DECISION_DEADLINE_MS'] ?? 4000),
    // How often the serving certificate files are checked for a rotation.
    certReloadMs: Number(env['CERT_RELOAD_INTERVAL_MS'] ?? 30_000),
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
  const probe: Probe = async (image, credentials) => {
    const r = await client.probe(image, {
      method: 'HEAD',
      timeoutMs: check.timeout,
      resolveDigest: check.resolveDigest,
      credentials,
    });
    return { outcome: r.outcome, message: r.message };
  };
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
      ageBuckets: ageBuckets(config.metrics.imageLastMonitorAgeMinutes.legacy),
    },
    {
      kc,
      log,
      probe,
      credentialsFor: (secrets, image) => keyrings.credentialsFor(secrets, image),
    },
  );
}
