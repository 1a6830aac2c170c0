// The router process: watch caches of the routing CRs (and CISAs, for the state gauges), the
// admission endpoint over HTTPS for the apiserver (only there: admission-app.ts), and health +
// metrics over plain HTTP for the kubelet and Prometheus. Always on (a scale-to-zero service
// cannot be a webhook target).
import type { Server as HttpsServer } from 'node:https';
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import type { Hono } from 'hono';
import type { Registry } from 'prom-client';
import { defaultConfig, type ServerConfig } from '#shared/config/config.ts';
import type {
  ClusterImageSetAvailability,
  ClusterImageSetMirror,
  ClusterReplicatedImageSet,
  ImageSetMirror,
  KuikKind,
  ReplicatedImageSet,
} from '#shared/crd/types.ts';
import { API_VERSION } from '#shared/crd/types.ts';
import { kubeSecretCache } from '#shared/credentials/secret-cache.ts';
import type { PodLike } from '#shared/filter/filter.ts';
import { createApp } from '#shared/http/app.ts';
import { apiserverReviews, ReaderAuth, requireReader } from '#shared/http/reader-auth.ts';
import { listen, type Serving } from '#shared/http/serve.ts';
import { secureContextOptions } from '#shared/http/tls-policy.ts';
import type { ImageReference } from '#shared/image/reference.ts';
import { apiStatus, collectionPath, coreCollectionPath, Kube } from '#shared/kube/client.ts';
import { type KubeObject, WatchCache } from '#shared/kube/watch-cache.ts';
import type { Logger } from '#shared/log.ts';
import { createRegistry } from '#shared/metrics.ts';
import { PUSH_PATH } from '#shared/metrics-push.ts';
import { clientAuth, createAdmissionApp, readWebhookTls } from './admission-app.ts';
import { AvailabilityChecker, type Credential, type Probe } from './availability.ts';
import { watchTlsFiles } from './cert-reload.ts';
import type { RouterDeps } from './decide.ts';
import { RerouteEvents } from './events.ts';
import { handleReview } from './handle.ts';
import { startIdleGc, v8FullGc } from './idle-gc.ts';
import { BoundedLabel, memoFor, operationLabel } from './labels.ts';
import { createRouterMetrics, type RouterMetrics } from './metrics.ts';
import { PushedMetrics, senderLabel, serveLastScrape } from './pushed-metrics.ts';
import { reviewLog } from './review-log.ts';
import { COPY_SELECTOR, SecretCopies, slimCopy } from './secret-copies.ts';
import { StaleMirrorClearer } from './stale-mirror.ts';

export interface RouterSettings {
  /** HTTPS port for admission reviews (kuik: 9443). */
  webhookPort: number;
  /** HTTP port for /healthz, /readyz and /metrics (kuik: 8080). */
  metricsPort: number;
  host?: string;
  tlsCertFile: string;
  tlsKeyFile: string;
  /** Mutual TLS on the webhook port: only clients with a certificate this CA signed (docs/security.md). */
  clientCaFile?: string | undefined;
  /** /metrics only for a bearer token allowed to `get` it (KUIK_METRICS_AUTH, docs/security.md). */
  metricsAuth?: boolean;
  /** How often the certificate files are checked for a rotation (default 30 s). */
  certReloadMs?: number;
  /** Answer within this, whatever the probes do (below the webhook's timeoutSeconds). */
  decisionDeadlineMs: number;
  checkTtlMs: number;
  staleMirror: { maxConcurrent: number; timeoutMs: number };
  rewriteOnNeverImagePullPolicy: boolean;
  honorPrioritiesOnAlwaysImagePullPolicy: boolean;
  skip: (pod: PodLike) => boolean;
  /** Route image volumes too (config `imageVolumes`; default true). */
  imageVolumes?: boolean;
  relistMs?: number;
  /** Classic buckets of the last-monitor-age histogram (config metrics.imageLastMonitorAgeMinutes). */
  ageBuckets?: number[];
  /** KUIK_METRICS_AGE_MINUTES: also serve kuik's minutes histogram. */
  ageInMinutes?: boolean;
  /** How long a new pushed series is shown at 0 (pushed-metrics.ts). */
  pushHoldMs?: number;
  /** At stop, how long to wait for a scrape of pushed counts not yet scraped (serveLastScrape). */
  lastScrapeWaitMs?: number;
  /** How long a Secret read is reused (rotation shows within this). */
  secretTtlMs?: number;
  /** Body limit, timeouts, TLS policy (config `server`); defaults when omitted. */
  server?: ServerConfig;
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
  /** The plain-HTTP app: health and metrics. */
  app: Hono;
  /** The TLS app: admission. */
  admission: Hono;
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

type Caches = ReturnType<typeof routerCaches>;

/** The watch caches the router decides from: the routing CRs, the CISAs, its own secret copies. */
function routerCaches(io: RouterIO, relistMs: number | undefined) {
  return {
    cism: cache<ClusterImageSetMirror>(io, 'ClusterImageSetMirror', relistMs),
    ism: cache<ImageSetMirror>(io, 'ImageSetMirror', relistMs),
    cris: cache<ClusterReplicatedImageSet>(io, 'ClusterReplicatedImageSet', relistMs),
    ris: cache<ReplicatedImageSet>(io, 'ReplicatedImageSet', relistMs),
    cisa: cache<ClusterImageSetAvailability>(io, 'ClusterImageSetAvailability', relistMs),
    // The pull-secret copies the router made (by label: no other Secret is listed), so an
    // admission whose copy is current writes nothing (secret-copies.ts).
    copies: new WatchCache<V1Secret>({
      kc: io.kc,
      apiVersion: 'v1',
      kind: 'Secret',
      path: coreCollectionPath('secrets'),
      log: io.log,
      labelSelector: COPY_SELECTOR,
      transform: slimCopy,
      ...(relistMs === undefined ? {} : { relistMs }),
    }),
  };
}

/** The router's metrics, its state gauges read from the caches. */
function routerMetrics(settings: RouterSettings, caches: Caches) {
  const registry = createRegistry('router');
  const metrics = createRouterMetrics(
    registry,
    { cisas: () => caches.cisa.list(), mirrors: () => [...caches.cism.list(), ...caches.ism.list()] },
    Date.now,
    {
      ...(settings.ageBuckets ? { ageBuckets: settings.ageBuckets } : {}),
      ageInMinutes: settings.ageInMinutes === true,
    },
  );
  return { registry, metrics };
}

/** What a decision reads and writes (decide.ts): caches, probes, Secrets, copies, stale mirrors. */
function decisionDeps(
  settings: RouterSettings,
  io: RouterIO,
  kube: Kube,
  caches: Caches,
  metrics: RouterMetrics,
): RouterDeps {
  const { log } = io;
  // Registries named by CRs keep their label; the hosts pods name share a bounded set (labels.ts).
  const knownRegistries = memoFor(10_000, () => {
    const s = new Set<string>();
    for (const cr of [...caches.cism.list(), ...caches.ism.list()])
      for (const m of cr.spec.mirrors ?? []) if (m.registry) s.add(m.registry.split('/')[0]!);
    for (const cr of [...caches.cris.list(), ...caches.ris.list()])
      for (const u of cr.spec.upstreams ?? []) s.add(u.registry.split('/')[0]!);
    return s;
  });
  const registryLabel = new BoundedLabel(32, knownRegistries);
  const probe: Probe = async (image, creds) => {
    const r = await io.probe(image, creds);
    metrics.probes.inc({ registry: registryLabel.of(image.domain), result: r.outcome });
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
  // Pull secrets are read on every admission: a short-lived cache keeps that off the API server
  // (kuik watched every Secret of the cluster instead; this holds only those in use).
  const secrets = kubeSecretCache(kube, settings.secretTtlMs ?? 10_000);
  const copies = new SecretCopies((ns, name) => caches.copies.get(ns, name), {
    create: (body) => kube.core.createNamespacedSecret({ namespace: body.metadata?.namespace ?? '', body }),
    replace: (body) =>
      kube.core.replaceNamespacedSecret({
        namespace: body.metadata?.namespace ?? '',
        name: body.metadata?.name ?? '',
        body,
      }),
    read: (namespace, name) =>
      kube.core.readNamespacedSecret({ namespace, name }).catch((err) => {
        if (apiStatus(err) === 404) return undefined;
        throw err;
      }),
  });

  return {
    config: {
      rewriteOnNeverImagePullPolicy: settings.rewriteOnNeverImagePullPolicy,
      honorPrioritiesOnAlwaysImagePullPolicy: settings.honorPrioritiesOnAlwaysImagePullPolicy,
      skip: settings.skip,
      imageVolumes: settings.imageVolumes !== false,
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
    upsertSecret: async (s) => void (await copies.ensure(s)),
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
}

/** The plain-HTTP app: health, metrics, and the counters the other functions push. */
function httpApp(
  settings: RouterSettings,
  registry: Registry,
  metrics: RouterMetrics,
  ready: () => boolean,
  log: Logger,
): { app: Hono; pushed: PushedMetrics } {
  const s = settings.server ?? defaultConfig().server;
  const limit = { bodyLimit: s.bodyLimit.router, bodyLimitKey: 'server.bodyLimit.router' };
  const app = createApp({ registry, ready, ...limit });
  // The scale-to-zero functions' counters, pushed here (docs/metrics.md).
  const pushed = new PushedMetrics(settings.pushHoldMs === undefined ? {} : { holdMs: settings.pushHoldMs });
  pushed.register(registry);
  app.post(PUSH_PATH, async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      metrics.pushes.inc({ sender: 'unknown', result: 'invalid' });
      return c.json({ error: 'invalid push: the body is not JSON' }, 400);
    }
    const r = pushed.apply(body);
    const sender = senderLabel(body);
    metrics.pushes.inc({ sender, result: r.ok ? 'accepted' : r.error.status === 429 ? 'limit' : 'invalid' });
    if (!r.ok) {
      log.warn({ sender, error: r.error.message }, 'refused metrics push');
      return c.json({ error: r.error.message }, r.error.status);
    }
    return c.body(null, 204);
  });
  return { app, pushed };
}

/** One admission review: decide, then count it, log it and record its event off the answer's path. */
function reviewHandler(
  deps: RouterDeps,
  deadlineMs: number,
  metrics: RouterMetrics,
  events: RerouteEvents,
  reviews: ReturnType<typeof reviewLog>,
  onAdmission: () => void,
) {
  return async (body: unknown) => {
    onAdmission();
    const t0 = performance.now();
    const h = await handleReview(body, deps, deadlineMs);
    const seconds = (performance.now() - t0) / 1000;
    const operation = operationLabel(h.request?.operation);
    metrics.reviews.inc({ operation, outcome: h.outcome });
    metrics.duration.observe({ outcome: h.outcome }, seconds);
    for (const d of h.admission?.decisions ?? []) {
      metrics.decisions.inc({
        reason: d.reason,
        kind: d.by === 'original' ? 'Original' : d.by.split('/')[0]!,
      });
    }
    reviews.review(h, seconds);
    const rerouted = (h.admission?.decisions ?? []).filter((d) => d.by !== 'original');
    if (rerouted.length > 0 && h.request && !h.request.dryRun && h.admission) {
      events.emit(h.request.object as never, h.request.namespace ?? '', rerouted);
    }
    return h;
  };
}

/** Both listeners: admission over HTTPS (its certificate reloaded on rotation), the rest over HTTP. */
async function serveBoth(settings: RouterSettings, io: RouterIO, admission: Hono, app: Hono) {
  const s = settings.server ?? defaultConfig().server;
  const timeouts = { headersTimeout: s.headersTimeout, requestTimeout: s.requestTimeout };
  const tlsPolicy = s.tls;
  const readTls = () => readWebhookTls(settings);
  const webhook: Serving = await listen(admission, {
    port: settings.webhookPort,
    host: settings.host ?? '0.0.0.0',
    tls: { ...readTls(), ...clientAuth(settings), policy: tlsPolicy },
    timeouts,
  });
  const metricsApp = settings.metricsAuth ? requireReader(app, new ReaderAuth(apiserverReviews(io.kc))) : app;
  const http: Serving = await listen(metricsApp, {
    port: settings.metricsPort,
    host: settings.host ?? '0.0.0.0',
    timeouts,
  });
  // cert-manager rotates the serving certificate in place: reload it when the files change. A new
  // context replaces the whole old one: the TLS policy and the client CA go with the new pair.
  const certWatch = watchTlsFiles(
    { certFile: settings.tlsCertFile, keyFile: settings.tlsKeyFile },
    (pair) =>
      (webhook.server as HttpsServer).setSecureContext(
        secureContextOptions(tlsPolicy, { ...readTls(), ...pair }),
      ),
    { intervalMs: settings.certReloadMs ?? 30_000, log: io.log },
  );
  return { webhook, http, certWatch };
}

export async function startRouter(settings: RouterSettings, io: RouterIO): Promise<RunningRouter> {
  const { log } = io;
  const kube = new Kube(io.kc);
  const caches = routerCaches(io, settings.relistMs);
  const { registry, metrics } = routerMetrics(settings, caches);
  const deps = decisionDeps(settings, io, kube, caches, metrics);
  const events = new RerouteEvents(kube, log);
  const reviews = reviewLog(log);

  await Promise.all(Object.values(caches).map((c) => c.start()));
  const ready = () => Object.values(caches).every((c) => c.synced);

  const { app, pushed } = httpApp(settings, registry, metrics, ready, log);
  // After a load, one full collection gives back what the heap grew to (idle-gc.ts).
  const idleGc = startIdleGc(v8FullGc(), (ms) => log.debug({ ms: Math.round(ms) }, 'idle: memory collected'));
  const review = reviewHandler(deps, settings.decisionDeadlineMs, metrics, events, reviews, idleGc.touch);
  const s = settings.server ?? defaultConfig().server;
  const admission = createAdmissionApp(review, {
    bodyLimit: s.bodyLimit.router,
    bodyLimitKey: 'server.bodyLimit.router',
  });
  const { webhook, http, certWatch } = await serveBoth(settings, io, admission, app);
  log.info({ webhookPort: webhook.port, metricsPort: http.port }, 'router ready');

  return {
    webhookPort: webhook.port,
    metricsPort: http.port,
    app,
    admission,
    stop: async () => {
      // First, while every part still serves a scrape: the pushed counts no scrape has shown yet.
      await serveLastScrape(pushed, settings.lastScrapeWaitMs ?? 0, log);
      certWatch.stop();
      idleGc.stop();
      for (const c of Object.values(caches)) c.stop();
      // What the aggregator still counts is written before the process goes, within a bound.
      await Promise.race([events.flush(), new Promise((r) => setTimeout(r, 2_000).unref())]);
      events.stop();
      reviews.stop();
      await Promise.all([webhook.close(), http.close()]);
    },
  };
}
