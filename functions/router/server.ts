// The router process: watch caches of the routing CRs (and CISAs, for the state gauges), the
// admission endpoint over HTTPS for the apiserver, and health + metrics over plain HTTP for the
// kubelet and Prometheus. Always on (a scale-to-zero service cannot be a webhook target).
import { readFileSync } from 'node:fs';
import type { Server as HttpsServer } from 'node:https';
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import type { Hono } from 'hono';
import type {
  ClusterImageSetAvailability,
  ClusterImageSetMirror,
  ClusterReplicatedImageSet,
  ImageSetMirror,
  KuikKind,
  ReplicatedImageSet,
} from '../../shared/crd/types.ts';
import { API_VERSION } from '../../shared/crd/types.ts';
import type { PodLike } from '../../shared/filter/filter.ts';
import { createApp } from '../../shared/http/app.ts';
import { listen, type Serving } from '../../shared/http/serve.ts';
import type { ImageReference } from '../../shared/image/reference.ts';
import { collectionPath, Kube } from '../../shared/kube/client.ts';
import { kubeSecretCache } from '../../shared/kube/secret-cache.ts';
import { type KubeObject, WatchCache } from '../../shared/kube/watch-cache.ts';
import type { Logger } from '../../shared/log.ts';
import { createRegistry } from '../../shared/metrics.ts';
import { AvailabilityChecker, type Credential, type Probe } from './availability.ts';
import { watchTlsFiles } from './cert-reload.ts';
import type { RouterDeps } from './decide.ts';
import { RerouteEvents } from './events.ts';
import { handleReview } from './handle.ts';
import { createRouterMetrics } from './metrics.ts';
import { StaleMirrorClearer } from './stale-mirror.ts';

export interface RouterSettings {
  /** HTTPS port for admission reviews (kuik: 9443). */
  webhookPort: number;
  /** HTTP port for /healthz, /readyz and /metrics (kuik: 8080). */
  metricsPort: number;
  host?: string;
  tlsCertFile: string;
  tlsKeyFile: string;
  /** How often the certificate files are checked for a rotation (default 30 s). */
  certReloadMs?: number;
  /** Answer within this, whatever the probes do (below the webhook's timeoutSeconds). */
  decisionDeadlineMs: number;
  checkTtlMs: number;
  staleMirror: { maxConcurrent: number; timeoutMs: number };
  rewriteOnNeverImagePullPolicy: boolean;
  honorPrioritiesOnAlwaysImagePullPolicy: boolean;
  skip: (pod: PodLike) => boolean;
  relistMs?: number;
  /** Classic buckets of the last-monitor-age histogram (config metrics.imageLastMonitorAgeMinutes). */
  ageBuckets?: number[];
  /** How long a Secret read is reused (rotation shows within this). */
  secretTtlMs?: number;
}

export interface RouterIO {
  kc: KubeConfig;
  log: Logger;
  probe: Probe;
  credentialsFor: (secrets: readonly V1Secret[], image: ImageReference) => Credential[];
}

export interface RunningRouter {
  webhookPort: number;
  metricsPort: number;
  app: Hono;
  stop(): Promise<void>;
}

function cache<T extends KubeObject>(
  io: RouterIO,
  kind: KuikKind,
  relistMs: number | undefined,
  onChange?: () => void,
) {
  return new WatchCache<T>({
    kc: io.kc,
    apiVersion: API_VERSION,
    kind,
    path: collectionPath(kind),
    log: io.log,
    ...(relistMs === undefined ? {} : { relistMs }),
    ...(onChange ? { onChange } : {}),
  });
}

export async function startRouter(settings: RouterSettings, io: RouterIO): Promise<RunningRouter> {
  const { log } = io;
  const kube = new Kube(io.kc);
  const caches = {
    cism: cache<ClusterImageSetMirror>(io, 'ClusterImageSetMirror', settings.relistMs),
    ism: cache<ImageSetMirror>(io, 'ImageSetMirror', settings.relistMs),
    cris: cache<ClusterReplicatedImageSet>(io, 'ClusterReplicatedImageSet', settings.relistMs),
    ris: cache<ReplicatedImageSet>(io, 'ReplicatedImageSet', settings.relistMs),
    cisa: cache<ClusterImageSetAvailability>(io, 'ClusterImageSetAvailability', settings.relistMs),
  };
  const registry = createRegistry('router');
  const metrics = createRouterMetrics(
    registry,
    { cisas: () => caches.cisa.list(), mirrors: () => [...caches.cism.list(), ...caches.ism.list()] },
    Date.now,
    settings.ageBuckets ? { ageBuckets: settings.ageBuckets } : {},
  );

  const probe: Probe = async (image, creds) => {
    const r = await io.probe(image, creds);
    metrics.probes.inc({ registry: image.domain, result: r.outcome });
    return r;
  };
  const checker = new AvailabilityChecker({
    probe,
    ttlMs: settings.checkTtlMs,
    onLookup: (hit) => metrics.probeCache.inc({ result: hit ? 'hit' : 'miss' }),
  });
  const staleClearer = new StaleMirrorClearer({
    writer: kube,
    ...settings.staleMirror,
    onResult: (r) => {
      metrics.staleMirrors.inc({ result: r.result });
      log.info(
        {
          cr: `${r.cr.kind}/${r.cr.name}`,
          namespace: r.cr.namespace,
          image: r.image,
          result: r.result,
          error: r.error,
        },
        'stale mirror status',
      );
    },
  });
  const events = new RerouteEvents(kube, log);
  // Pull secrets are read on every admission: a short-lived cache keeps that off the API server
  // (kuik watched every Secret of the cluster instead; this holds only those in use).
  const secrets = kubeSecretCache(kube, settings.secretTtlMs ?? 10_000);

  const deps: RouterDeps = {
    config: {
      rewriteOnNeverImagePullPolicy: settings.rewriteOnNeverImagePullPolicy,
      honorPrioritiesOnAlwaysImagePullPolicy: settings.honorPrioritiesOnAlwaysImagePullPolicy,
      skip: settings.skip,
    },
    routingSet: (namespace) => ({
      cisms: caches.cism.list(),
      isms: caches.ism.list(namespace),
      crises: caches.cris.list(),
      riss: caches.ris.list(namespace),
    }),
    getSecret: (namespace, name) => secrets.get(namespace, name),
    credentialsFor: io.credentialsFor,
    checker,
    upsertSecret: (s) => kube.upsertSecret(s, false),
    // Only when the cached status says it was mirrored (§4.10 "target entries"): a NotFound on a
    // mirror nothing was copied to yet is the normal state, and must not cost an API call.
    staleMirror: (cr, image) => {
      const obj =
        cr.kind === 'ImageSetMirror'
          ? caches.ism.get(cr.namespace, cr.name)
          : caches.cism.get(undefined, cr.name);
      const stale = obj?.status?.matchingImages?.some((e) =>
        e.mirrors?.some((m) => m.image === image && m.mirroredAt !== undefined),
      );
      if (stale) void staleClearer.signal(cr, image);
    },
  };

  await Promise.all(Object.values(caches).map((c) => c.start()));
  const ready = () => Object.values(caches).every((c) => c.synced);

  const app = createApp({ registry, ready });
  const review = async (body: unknown) => {
    const t0 = performance.now();
    const h = await handleReview(body, deps, settings.decisionDeadlineMs);
    const seconds = (performance.now() - t0) / 1000;
    metrics.reviews.inc({ operation: h.request?.operation ?? 'unknown', outcome: h.outcome });
    metrics.duration.observe({ outcome: h.outcome }, seconds);
    const pod = h.request?.object as { metadata?: { name?: string; generateName?: string } } | undefined;
    const base = {
      uid: h.request?.uid,
      operation: h.request?.operation,
      namespace: h.request?.namespace,
      pod: pod?.metadata?.name ?? pod?.metadata?.generateName,
      dryRun: h.request?.dryRun ?? false,
      outcome: h.outcome,
      duration_ms: Math.round(seconds * 1000),
    };
    if (h.error) log.warn({ ...base, error: h.error }, 'admission review answered unchanged');
    for (const note of h.admission?.notes ?? []) log.info({ ...base, note }, 'routing note');
    for (const d of h.admission?.decisions ?? []) {
      metrics.decisions.inc({
        reason: d.reason,
        kind: d.by === 'original' ? 'Original' : d.by.split('/')[0]!,
      });
      log.info(
        {
          ...base,
          container: d.container,
          original: d.original,
          chosen: d.chosen,
          by: d.by,
          reason: d.reason,
          rejected: d.rejected,
        },
        'routing decision',
      );
    }
    const rerouted = (h.admission?.decisions ?? []).filter((d) => d.by !== 'original');
    if (rerouted.length > 0 && h.request && !h.request.dryRun && h.admission) {
      void events.emit(h.request.object as never, h.request.namespace ?? '', rerouted);
    }
    return h;
  };
  for (const path of ['/mutate', '/mutate--v1-pod']) {
    app.post(path, async (c) => {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        body = undefined;
      }
      const h = await review(body);
      return c.json(h.body as object, h.status as 200);
    });
  }

  const readTls = () => ({
    cert: readFileSync(settings.tlsCertFile),
    key: readFileSync(settings.tlsKeyFile),
  });
  const webhook: Serving = await listen(app, {
    port: settings.webhookPort,
    host: settings.host ?? '0.0.0.0',
    tls: readTls(),
  });
  const http: Serving = await listen(app, { port: settings.metricsPort, host: settings.host ?? '0.0.0.0' });
  // cert-manager rotates the serving certificate in place: reload it when the files change.
  const certWatch = watchTlsFiles(
    { certFile: settings.tlsCertFile, keyFile: settings.tlsKeyFile },
    (tls) => (webhook.server as HttpsServer).setSecureContext(tls),
    { intervalMs: settings.certReloadMs ?? 30_000, log },
  );
  log.info({ webhookPort: webhook.port, metricsPort: http.port }, 'router ready');

  return {
    webhookPort: webhook.port,
    metricsPort: http.port,
    app,
    stop: async () => {
      certWatch.stop();
      for (const c of Object.values(caches)) c.stop();
      await Promise.all([webhook.close(), http.close()]);
    },
  };
}
