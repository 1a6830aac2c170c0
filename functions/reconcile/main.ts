// The reconcile function's wiring: registry client for deletions, the copy sink, Kubernetes events,
// the resync's budget.
import { readFile } from 'node:fs/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import { sendCloudEvent } from '#shared/cloudevents.ts';
import type { Config } from '#shared/config/config.ts';
import { COPY_EVENT_SOURCE, COPY_EVENT_TYPE, copyEventId } from '#shared/copy-request.ts';
import { API_VERSION } from '#shared/crd/types.ts';
import type { SecretRef } from '#shared/credentials/mirror-credential.ts';
import { CredentialResolver, describeFailures } from '#shared/credentials/resolver.ts';
import { kubeSecretCache } from '#shared/credentials/secret-cache.ts';
import { compileGlobalSkip } from '#shared/filter/filter.ts';
import { bodyLimitOf } from '#shared/http/limits.ts';
import { serveScaledToZero } from '#shared/http/serve-function.ts';
import { Kube } from '#shared/kube/client.ts';
import type { Logger } from '#shared/log.ts';
import { createRegistry } from '#shared/metrics.ts';
import { RegistryClient } from '#shared/registry/client.ts';
import { deleteMirroredImage, ensureClaim } from './delete-image.ts';
import { createReconcileMetrics } from './metrics.ts';
import type { ReconcileDeps } from './mirror-set.ts';
import { createReconcileApp } from './server.ts';

/** Everything reconcile needs, from configuration: its events' reconciles and the resync's. */
export function reconcileDeps(
  config: Config,
  env: NodeJS.ProcessEnv,
  kc: KubeConfig,
  log: Logger,
  /** A registry client of the caller's (tests: one trusting a private CA). */
  client: RegistryClient = new RegistryClient(),
): ReconcileDeps {
  const skip = compileGlobalSkip(config.skipLabels, config.skipAnnotations);
  if (!skip.ok) throw new Error(skip.error.message);
  const sink = env['COPY_SINK'];
  // A projected ServiceAccount token for the copy's audience, when the copy checks its senders
  // (docs/security.md). Read on every send: the kubelet rotates it in place.
  const tokenFile = env['COPY_SINK_TOKEN_FILE'];
  const kube = new Kube(kc);
  // This cluster's name in registries shared with other clusters (§5.7): set it per cluster.
  const cluster = env['KUIK_CLUSTER_ID'] || 'default';
  // Mirror credentials, read for every mirror set of a resync: a few seconds' cache (a rotated
  // credential is picked up within that).
  const secrets = kubeSecretCache(kube, 5_000);
  const resolver = new CredentialResolver((namespace, name) => secrets.get(namespace, name));
  const credentialsOf = async (credential: SecretRef, image: string) => {
    const r = await resolver.resolve([credential], image);
    if (!r.ok) throw new Error(describeFailures(r.error, 'credential secret'));
    return r.value;
  };
  return {
    kube,
    log,
    skip: skip.value,
    imageVolumes: config.imageVolumes,
    platforms: config.mirroring.platforms.map((p) => ({
      architecture: p.architecture,
      ...(p.os ? { os: p.os } : {}),
      ...(p.variant ? { variant: p.variant } : {}),
    })),
    requestCopy: async (req) => {
      if (!sink) throw new Error('COPY_SINK is not set: nowhere to send copy requests');
      const token = tokenFile ? (await readFile(tokenFile, 'utf8')).trim() : undefined;
      await sendCloudEvent(
        sink,
        {
          id: copyEventId(req),
          type: COPY_EVENT_TYPE,
          source: COPY_EVENT_SOURCE,
          subject: req.destination,
          data: req,
        },
        undefined,
        token ? { authorization: `Bearer ${token}` } : {},
      );
    },
    // §5.5: without a configured credential kuik skips the deletion; we try anonymously, which a
    // registry that allows deletion without auth honours and any other refuses (then: an error).
    deleteImage: async (image, credential) =>
      await deleteMirroredImage(
        client,
        image,
        credential ? await credentialsOf(credential, image) : [],
        cluster,
      ),
    claim: async (image, credential) =>
      await ensureClaim(client, image, credential ? await credentialsOf(credential, image) : [], cluster),
    mirrorExists: async (image, credential) => {
      const credentials = credential ? await credentialsOf(credential, image) : [];
      const r = await client.probe(image, { credentials, timeoutMs: 10_000 });
      if (r.outcome === 'Available') return true;
      if (r.outcome === 'NotFound') return false;
      return undefined; // unreachable, auth, quota: say nothing rather than re-copy on a guess
    },
    warn: async (cr, reason, note) => {
      const err = await kube.recordEvent(
        {
          apiVersion: API_VERSION,
          kind: cr.kind,
          name: cr.metadata.name ?? '',
          namespace: cr.metadata.namespace,
          uid: cr.metadata.uid,
        },
        { type: 'Warning', reason, action: 'Reconcile', note, controller: 'kuik.enix.io/reconcile' },
      );
      if (err) log.warn({ err, reason }, 'could not record event');
    },
    now: Date.now,
  };
}

export async function start(config: Config, env: NodeJS.ProcessEnv, kc: KubeConfig, log: Logger) {
  const deps = reconcileDeps(config, env, kc, log);
  const registry = createRegistry('reconcile');
  const app = createReconcileApp(
    deps,
    registry,
    createReconcileMetrics(registry),
    bodyLimitOf(config, 'reconcile'),
    { budgetMs: config.monitoring.tickBudget, minIntervalMs: config.monitoring.minTickInterval },
  );
  return await serveScaledToZero({
    name: 'reconcile',
    ...{ app, env, kc, log, config, registry },
    port: Number(env['PORT'] ?? 8080),
    ready: { copySink: env['COPY_SINK'], resyncBudget_ms: config.monitoring.tickBudget },
  });
}
