// The reconcile function: ApiServerSource CloudEvents in (kuik CRs and Pods), CRD status out, copy
// requests to the copy function; and the full resync, when a scheduled trigger (a PingSource
// CloudEvent, an OpenFaaS cron-connector POST) arrives (resync.ts). A scale-to-zero Knative
// Service: nothing here outlives a request.
//
// Answers (knative notes §5.4): 2xx once every reconcile the event calls for has written its
// status; 400 for a malformed event (no retry); 503 when the API server or a sink failed, so the
// source retries; whatever still slips through, the next resync repairs.
import type { Hono } from 'hono';
import type { Registry } from 'prom-client';
import { parseCloudEvent } from '#shared/cloudevents.ts';
import { defaultConfig } from '#shared/config/config.ts';
import { errorMessage } from '#shared/errors.ts';
import { createApp } from '#shared/http/app.ts';
import { type BodyLimit, bodyLimitOf } from '#shared/http/limits.ts';
import { type KuikRef, listKuik } from '#shared/kube/client.ts';
import { untrusted } from '#shared/log.ts';
import { isCronConnector, PING_EVENT_TYPE } from '#shared/tick/request.ts';
import { dispatch, mirrorSetsForPod } from './dispatch.ts';
import { eachUntil, rotate } from './each-until.ts';
import type { ReconcileMetrics } from './metrics.ts';
import { type ReconcileDeps, type ReconcileResult, reconcileMirrorSet } from './mirror-set.ts';
import { reconcileReplicated } from './replicated.ts';
import { createResync, type ResyncSettings } from './resync.ts';
import { reconcileSecretOwner } from './secret-owner.ts';
import { type ClusterSnapshot, clusterSnapshot, listClusterView, listMirrorSets } from './snapshot.ts';

export interface Summary {
  mirrorSets: ReconcileResult[];
  secretOwners: { ref: KuikRef; outcome: string; deleted: number }[];
  replicated: { ref: KuikRef; outcome: string }[];
  /** Reconciles that threw (the others still ran). */
  failed: { ref: KuikRef; error: string }[];
  /** CRs the resync did not reach before its deadline (the next one starts elsewhere). */
  notReached: number;
}

export interface RunOptions {
  verifyMirrors?: boolean;
  /** One list of pods and mirror sets shared by every mirror set reconciled (the resync). */
  snapshot?: ClusterSnapshot;
  /** CRs reconciled at once. */
  concurrency?: number;
  /** No CR starts after this time (epoch ms). */
  stopAt?: number | undefined;
}

async function run(
  targets: { mirrorSets: KuikRef[]; secretOwners: KuikRef[]; replicated: KuikRef[] },
  deps: ReconcileDeps,
  m?: ReconcileMetrics,
  opts: RunOptions = {},
): Promise<Summary> {
  const summary: Summary = { mirrorSets: [], secretOwners: [], replicated: [], failed: [], notReached: 0 };
  const each = async (refs: KuikRef[], fn: (ref: KuikRef) => Promise<void>) => {
    const r = await eachUntil(
      refs,
      { concurrency: opts.concurrency ?? 1, stopAt: opts.stopAt, now: deps.now },
      fn,
    );
    summary.notReached += r.notReached;
  };
  const name = (ref: KuikRef) => `${ref.kind}/${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
  // One CR failing (API error, a registry timing out) must not stop the others: the resync is the
  // net for every CR at once.
  const guarded = async (ref: KuikRef, kind: string, f: () => Promise<void>) => {
    try {
      await f();
    } catch (err) {
      m?.reconciles.inc({ kind, outcome: 'failed' });
      summary.failed.push({ ref, error: errorMessage(err) });
      deps.log.warn({ cr: name(ref), err: errorMessage(err) }, 'reconcile failed');
    }
  };
  await each(targets.secretOwners, (ref) =>
    guarded(ref, `secret-owner/${ref.kind}`, async () => {
      const r = await reconcileSecretOwner(ref, deps.kube);
      m?.reconciles.inc({ kind: `secret-owner/${ref.kind}`, outcome: r.outcome });
      summary.secretOwners.push({ ref, ...r });
    }),
  );
  await each(targets.replicated, (ref) =>
    guarded(ref, ref.kind, async () => {
      const outcome = await reconcileReplicated(ref, deps.kube, deps.now);
      m?.reconciles.inc({ kind: ref.kind, outcome });
      summary.replicated.push({ ref, outcome });
    }),
  );
  await each(targets.mirrorSets, (ref) =>
    guarded(ref, ref.kind, async () => {
      const r = await reconcileMirrorSet(ref, deps, {
        verifyMirrors: opts.verifyMirrors ?? false,
        ...(opts.snapshot ? { snapshot: opts.snapshot } : {}),
      });
      m?.reconciles.inc({ kind: ref.kind, outcome: r.errors.length > 0 ? 'error' : r.outcome });
      m?.copies.inc(r.copiesRequested);
      summary.mirrorSets.push(r);
      deps.log.info(
        {
          cr: name(ref),
          outcome: r.outcome,
          copies: r.copiesRequested,
          deleted: r.deleted,
          errors: r.errors,
        },
        'reconciled',
      );
    }),
  );
  return summary;
}

/** How a resync runs (resync.ts). */
export interface ResyncOptions {
  /** No CR starts after this time (epoch ms): the resync's budget. */
  stopAt?: number;
  /** CRs reconciled at once (default 4: each is a few API calls and registry HEADs). */
  concurrency?: number;
  /** Where in each list to start (default: random), so a cut-short resync is not always cut at the same CRs. */
  offset?: number;
}

/**
 * Every mirror set and secret owner, reconciled once: the resync (the lost-event net).
 * It also checks that mirrored images are still in their registries (re-copying those that are not).
 */
export async function reconcileAll(
  deps: ReconcileDeps,
  m?: ReconcileMetrics,
  opts: ResyncOptions = {},
): Promise<Summary> {
  // One list of pods and mirror sets: the refs to reconcile, and the view every reconcile shares.
  const [view, cris, ris] = await Promise.all([
    listClusterView(deps.kube, undefined),
    listKuik<{ metadata: { name?: string } }>(deps.kube, 'ClusterReplicatedImageSet'),
    listKuik<{ metadata: { name?: string; namespace?: string } }>(deps.kube, 'ReplicatedImageSet'),
  ]);
  const cisms = view.cisms.map(
    (c): KuikRef => ({ kind: 'ClusterImageSetMirror', name: c.metadata.name ?? '' }),
  );
  const isms = view.isms.map(
    (i): KuikRef => ({
      kind: 'ImageSetMirror',
      name: i.metadata.name ?? '',
      namespace: i.metadata.namespace ?? '',
    }),
  );
  const crisRefs = cris.map(
    (c): KuikRef => ({ kind: 'ClusterReplicatedImageSet', name: c.metadata.name ?? '' }),
  );
  const risRefs = ris.map(
    (r): KuikRef => ({
      kind: 'ReplicatedImageSet',
      name: r.metadata.name ?? '',
      namespace: r.metadata.namespace ?? '',
    }),
  );
  const offset = opts.offset ?? Math.floor(Math.random() * 2 ** 31);
  return await run(
    {
      mirrorSets: rotate([...cisms, ...isms], offset),
      secretOwners: rotate([...cisms, ...crisRefs], offset),
      replicated: rotate([...crisRefs, ...risRefs], offset),
    },
    deps,
    m,
    {
      verifyMirrors: true,
      concurrency: opts.concurrency ?? 4,
      stopAt: opts.stopAt,
      snapshot: clusterSnapshot(deps.kube, deps.now, 10_000, view),
    },
  );
}

const DEFAULTS = defaultConfig();

export function createReconcileApp(
  deps: ReconcileDeps,
  registry: Registry,
  m: ReconcileMetrics,
  limits: BodyLimit = bodyLimitOf(DEFAULTS, 'reconcile'),
  resyncSettings: ResyncSettings & { run?: (opts: ResyncOptions) => Promise<Summary> } = {
    budgetMs: DEFAULTS.monitoring.tickBudget,
    minIntervalMs: DEFAULTS.monitoring.minTickInterval,
  },
): Hono {
  const app = createApp({ registry, ...limits });
  const resync = createResync(
    deps,
    m,
    resyncSettings,
    resyncSettings.run ?? ((opts) => reconcileAll(deps, m, opts)),
  );
  app.post('/', async (c) => {
    const t0 = performance.now();
    const headers = c.req.header();
    if (isCronConnector(headers)) {
      const r = await resync({ via: 'cron-connector' });
      return c.json(r.body, r.status);
    }
    const parsed = parseCloudEvent(headers, await c.req.text());
    if (!parsed.ok) {
      m.events.inc({ result: 'invalid' });
      deps.log.warn({ error: untrusted(parsed.error) }, 'refused event');
      return c.json({ error: parsed.error }, 400);
    }
    const ev = parsed.value;
    if (ev.type === PING_EVENT_TYPE) {
      const r = await resync({ via: 'pingsource', id: ev.id });
      return c.json(r.body, r.status);
    }
    deps.log.debug(
      { id: untrusted(ev.id), type: untrusted(ev.type), subject: untrusted(ev.subject) },
      'event',
    );
    const d = dispatch(ev.type, ev.data);
    if (!d.ok) {
      m.events.inc({ result: 'invalid' });
      deps.log.warn(
        {
          id: untrusted(ev.id),
          type: untrusted(ev.type),
          subject: untrusted(ev.subject),
          error: untrusted(d.error),
        },
        'refused event',
      );
      return c.json({ error: d.error }, 400);
    }
    try {
      const targets = {
        mirrorSets: [...d.value.mirrorSets],
        secretOwners: [...d.value.secretOwners],
        replicated: [...d.value.replicated],
      };
      if (d.value.pod) {
        const ns = d.value.pod.metadata?.namespace;
        const { cisms, isms } = await listMirrorSets(deps.kube, ns);
        targets.mirrorSets.push(
          ...mirrorSetsForPod(d.value.pod, cisms, isms, deps.skip, {
            imageVolumes: deps.imageVolumes !== false,
          }),
        );
      }
      const summary = await run(targets, deps, m);
      if (summary.failed.length > 0) {
        // The source retries on 503 (knative notes §5.4); the others were reconciled anyway.
        m.events.inc({ result: 'retry' });
        return c.json(summary, 503);
      }
      m.events.inc({ result: 'ok' });
      m.duration.observe((performance.now() - t0) / 1000);
      return c.json(summary, 200);
    } catch (err) {
      m.events.inc({ result: 'retry' });
      deps.log.warn(
        {
          id: untrusted(ev.id),
          type: untrusted(ev.type),
          subject: untrusted(ev.subject),
          err: untrusted(errorMessage(err)),
        },
        'event failed, asking for a retry',
      );
      return c.json({ error: errorMessage(err) }, 503);
    }
  });
  return app;
}
