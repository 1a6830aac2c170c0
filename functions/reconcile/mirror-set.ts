// §5.2: reconcile one ImageSetMirror or ClusterImageSetMirror. Level-triggered: whatever event
// arrived, the CR is read fresh, its pods listed, and status computed from what is there now, so
// duplicated, reordered or lost events all converge (the monitor's tick repairs lost ones). Copies
// are requested, not done: each missing mirror becomes one CopyRequest with a deterministic id.
import { isDeepStrictEqual } from 'node:util';
import type { V1Pod } from '@kubernetes/client-node';
import type { CopyRequest } from '#shared/copy-request.ts';
import { withMirrorSetSummary } from '#shared/crd/summary.ts';
import {
  type ClusterImageSetMirror,
  type ImageSetMirror,
  type ImageSetMirrorStatus,
  MIRROR_FINALIZER,
} from '#shared/crd/types.ts';
import { credentialFor } from '#shared/credentials/mirror-credential.ts';
import { parseGoDuration } from '#shared/duration.ts';
import { errorMessage } from '#shared/errors.ts';
import {
  type CompiledFilter,
  compileSelection,
  invalidFilterNote,
  type PodLike,
} from '#shared/filter/filter.ts';
import { collectMirrorPrefixes, isMirroredImage, type MirrorPrefixes } from '#shared/image/mapping.ts';
import { platformsChanged } from '#shared/image/platform.ts';
import { apiStatus, type Kube, type KuikRef } from '#shared/kube/client.ts';
import { currentImages } from '#shared/kube/pod-images.ts';
import type { Logger } from '#shared/log.ts';
import { eachUntil } from './each-until.ts';
import { dropMirror, planRetention } from './retention.ts';
import { type ClusterSnapshot, listClusterView } from './snapshot.ts';
import { syncMatchingImages } from './status.ts';

export type MirrorSet = ImageSetMirror | ClusterImageSetMirror;

/** Copy requests of one reconcile in flight at once (§5.2 step 10). */
export const COPY_REQUEST_CONCURRENCY = 4;

export type { CopyRequest };

export interface ReconcileDeps {
  kube: Kube;
  log: Logger;
  skip: (pod: PodLike) => boolean;
  /** Image volumes count as images in use (config `imageVolumes`; default true). */
  imageVolumes?: boolean;
  platforms: CopyRequest['platforms'];
  /** Sends a copy request (to the copy function). */
  requestCopy(req: CopyRequest): Promise<void>;
  /**
   * Deletes a mirrored image from its registry: 'absent' when already gone, 'kept-shared' when
   * another tag still names the same manifest. Throws on failure.
   */
  deleteImage(
    image: string,
    credential: { namespace: string; name: string } | undefined,
  ): Promise<'deleted' | 'absent' | 'kept-shared'>;
  /** Whether a mirrored image is still in its registry (undefined: could not tell). Resync only. */
  mirrorExists?(
    image: string,
    credential: { namespace: string; name: string } | undefined,
  ): Promise<boolean | undefined>;
  /** Records this cluster's claim on a mirrored image it has in use (§5.7). Resync only. */
  claim?(image: string, credential: { namespace: string; name: string } | undefined): Promise<void>;
  /** A Warning event on the CR (InvalidFilter, failed deletions). */
  warn(obj: MirrorSet, reason: string, note: string): Promise<void>;
  now(): number;
}

export interface ReconcileResult {
  ref: KuikRef;
  outcome: 'gone' | 'deleted' | 'invalid-filter' | 'reconciled';
  copiesRequested: number;
  deleted: number;
  errors: string[];
  /** Mirrors found missing from their registry and queued for copy again (resync only). */
  remirrored?: number;
  /** When a retention deadline comes up (the next resync acts on it; nothing sleeps). */
  nextRetentionMs?: number;
}

/** Reconcile reads the spec: the Ready condition it writes observed this generation. */
function summaryOpts(o: MirrorSet, now: number) {
  return {
    now,
    ...(o.metadata.generation !== undefined ? { observedGeneration: o.metadata.generation } : {}),
  };
}

/**
 * Puts `next` into `o` and says whether that changes anything. Compared as values, not as JSON
 * text: the API server returns keys in its own order, and a needless write wakes every watcher.
 */
function writeSummary(o: MirrorSet, next: ImageSetMirrorStatus): boolean {
  if (isDeepStrictEqual(next, o.status ?? {})) return false;
  o.status = next;
  return true;
}

/**
 * Reads the CR fresh and walks §5.2's steps in order. Each step is one function below; the ones
 * that write do so conditionally on the uid read here, so a CR deleted and recreated under the
 * same name mid-reconcile is never written with the old one's status.
 */
export async function reconcileMirrorSet(
  ref: KuikRef,
  deps: ReconcileDeps,
  opts: {
    verifyMirrors?: boolean;
    /** The resync's shared view of pods and mirror sets; without it, this reconcile lists its own. */
    snapshot?: ClusterSnapshot;
  } = {},
): Promise<ReconcileResult> {
  const r = await readMirrorSet(ref, deps);
  if (!r) return { ...emptyResult(ref), outcome: 'gone' };
  if (r.cr.metadata.deletionTimestamp) return await cleanUpDeleted(r);
  const selection = await compileFilterOrReport(r);
  if (!selection) return { ...r.result, outcome: 'invalid-filter' };
  const scope = await podsInScope(r, selection, opts.snapshot);
  const current = await ensureFinalizer(r);
  let synced = await syncStatus(r, scope, current);
  synced = await applyRetention(r, scope, synced);
  if (opts.verifyMirrors) synced = await remirrorVanished(r, synced);
  await requestCopies(r, synced);
  return r.result;
}

/** What every step of one reconcile shares: the CR as first read, and the result it fills in. */
interface Run {
  ref: KuikRef;
  deps: ReconcileDeps;
  cr: MirrorSet;
  /** Every write is conditional on it: a CR recreated under the same name is another CR. */
  uid: string;
  /** The ImageSetMirror's namespace; undefined for a ClusterImageSetMirror (every namespace). */
  namespace: string | undefined;
  result: ReconcileResult;
}

/** Steps 3–5's result: the pods the filter selects, and what tells a mirror copy from a source. */
interface Scope {
  pods: V1Pod[];
  imageFilter: CompiledFilter['imageFilter'];
  prefixes: MirrorPrefixes;
}

/**
 * Step 8's result, carried through the later steps: the CR as last written, the pod each source
 * image was seen in (its pull secrets go with the copy request), and the one clock reading the
 * status sync and retention share.
 */
interface Synced {
  cr: MirrorSet;
  sourcePods: Map<string, V1Pod>;
  now: number;
}

const emptyResult = (ref: KuikRef): ReconcileResult => ({
  ref,
  outcome: 'reconciled',
  copiesRequested: 0,
  deleted: 0,
  errors: [],
});

/** 1. The CR as stored now, whatever the event said; undefined when it is gone. */
async function readMirrorSet(ref: KuikRef, deps: ReconcileDeps): Promise<Run | undefined> {
  let cr: MirrorSet;
  try {
    cr = await deps.kube.getKuik<MirrorSet>(ref);
  } catch (err) {
    if (apiStatus(err) === 404) return undefined;
    throw err;
  }
  return {
    ref,
    deps,
    cr,
    uid: cr.metadata.uid ?? '',
    namespace: cr.kind === 'ImageSetMirror' ? cr.metadata.namespace : undefined,
    result: emptyResult(ref),
  };
}

/**
 * 2. Deletion first: it must work even when the filter no longer compiles (§3.9). Every mirrored
 * image no pod runs is deleted; the finalizer goes only when all deletions succeeded, so a failed
 * one is retried by the next reconcile instead of leaking the image.
 */
async function cleanUpDeleted(r: Run): Promise<ReconcileResult> {
  const { cr, deps, result } = r;
  if (!(cr.metadata.finalizers ?? []).includes(MIRROR_FINALIZER)) return { ...result, outcome: 'deleted' };
  // Image volumes always count here, whatever `imageVolumes` says: never delete what a pod mounts.
  const running = new Set((await listPods(deps.kube, r.namespace)).flatMap((p) => currentImages(p)));
  for (const entry of cr.status?.matchingImages ?? []) {
    for (const m of entry.mirrors ?? []) {
      if (!m.mirroredAt) continue;
      if (running.has(m.image)) {
        // Never delete what a pod runs right now (it may still be restarted from the mirror).
        deps.log.info(
          { cr: `${cr.kind}/${cr.metadata.name}`, image: m.image },
          'kept mirrored image: a pod still runs it',
        );
        continue;
      }
      try {
        await deps.deleteImage(m.image, credentialFor(cr, m.image));
        result.deleted++;
      } catch (err) {
        result.errors.push(`delete ${m.image}: ${errorMessage(err)}`);
      }
    }
  }
  if (result.errors.length > 0) {
    await deps.warn(cr, 'CleanupFailed', result.errors.join('; ').slice(0, 1000));
    return { ...result, outcome: 'deleted' };
  }
  await deps.kube.updateObject<MirrorSet>(r.ref, (o) => {
    if (o.metadata.uid !== r.uid) return false;
    const before = o.metadata.finalizers ?? [];
    o.metadata.finalizers = before.filter((f) => f !== MIRROR_FINALIZER);
    return o.metadata.finalizers.length !== before.length;
  });
  return { ...result, outcome: 'deleted' };
}

async function listPods(kube: Kube, namespace: string | undefined): Promise<V1Pod[]> {
  const list = namespace
    ? await kube.core.listNamespacedPod({ namespace })
    : await kube.core.listPodForAllNamespaces();
  return list.items;
}

/**
 * 4. The filter, compiled before any pod is listed; an invalid one is reported (Warning event,
 * Ready=False) and the reconcile stops there: no finalizer added, no status but the Ready
 * condition (§10.8 #111).
 */
async function compileFilterOrReport(r: Run): Promise<CompiledFilter | undefined> {
  const { deps } = r;
  const selection = compileSelection(r.cr);
  if (selection.ok) return selection.value;
  const note = invalidFilterNote(selection.error);
  await deps.warn(r.cr, 'InvalidFilter', note);
  // Ready=False with the reason, so `kubectl get` and `kubectl wait` say it too.
  await deps.kube.updateStatus<MirrorSet>(
    r.ref,
    (o) =>
      o.metadata.uid === r.uid &&
      writeSummary(o, withMirrorSetSummary(o.status, { ...summaryOpts(o, deps.now()), invalidFilter: note })),
    r.cr,
  );
  return undefined;
}

/**
 * 3, 5, 7. Pods in scope (from the resync's shared snapshot when there is one), and every mirror
 * set's prefixes: mirror-loop protection needs every mirror set that could have produced a pod's
 * image.
 */
async function podsInScope(
  r: Run,
  selection: CompiledFilter,
  snapshot: ClusterSnapshot | undefined,
): Promise<Scope> {
  const { deps, namespace } = r;
  const view = snapshot ? await snapshot.view(namespace) : await listClusterView(deps.kube, namespace);
  return {
    pods: view.pods.filter((p) => !deps.skip(p) && selection.podMatcher(p)),
    imageFilter: selection.imageFilter,
    prefixes: collectMirrorPrefixes(view.cisms, view.isms, { forCluster: namespace === undefined }),
  };
}

/** 6. The finalizer, before anything is mirrored. Returns the CR as the write returned it. */
async function ensureFinalizer(r: Run): Promise<MirrorSet> {
  if ((r.cr.metadata.finalizers ?? []).includes(MIRROR_FINALIZER)) return r.cr;
  const written = await r.deps.kube.updateObject<MirrorSet>(r.ref, (o) => {
    if (o.metadata.uid !== r.uid || (o.metadata.finalizers ?? []).includes(MIRROR_FINALIZER)) return false;
    o.metadata.finalizers = [...(o.metadata.finalizers ?? []), MIRROR_FINALIZER];
    return true;
  });
  return written ?? r.cr;
}

/** 8. Status sync, computed inside the write so it always starts from the stored status. */
async function syncStatus(r: Run, scope: Scope, current: MirrorSet): Promise<Synced> {
  const { deps } = r;
  let sourcePods = new Map<string, V1Pod>();
  const now = deps.now();
  let read: MirrorSet | undefined;
  const synced = await deps.kube.updateStatus<MirrorSet>(
    r.ref,
    (o) => {
      read = o;
      if (o.metadata.uid !== r.uid) return false;
      const next = syncMatchingImages({
        pods: scope.pods,
        previous: o.status?.matchingImages ?? [],
        imageFilter: scope.imageFilter,
        isMirrored: (image, podNs) => isMirroredImage(image, podNs, scope.prefixes),
        mirrors: o.spec.mirrors ?? [],
        now,
        imageVolumes: deps.imageVolumes !== false,
      });
      sourcePods = next.sourcePods;
      return writeSummary(
        o,
        withMirrorSetSummary({ ...o.status, matchingImages: next.matchingImages }, summaryOpts(o, now)),
      );
    },
    // As read at the start of this reconcile (or as the finalizer write returned it); if another
    // writer changed it since, the write is refused (409) and retried from a fresh read.
    current,
  );
  // Nothing to write: what the write would have started from is the current object (a GET fewer
  // per mirror set of a resync).
  return { cr: synced ?? read ?? (await deps.kube.getKuik<MirrorSet>(r.ref)), sourcePods, now };
}

/**
 * 9. Retention: mirrors unused past `spec.cleanup.retention` are deleted (never one a pod in scope
 * runs), and their entries dropped from status. The deadline of the next one is reported; the
 * next resync acts on it, nothing sleeps.
 */
async function applyRetention(r: Run, scope: Scope, s: Synced): Promise<Synced> {
  const { deps, result } = r;
  const cleanup = s.cr.spec.cleanup;
  const retention = parseGoDuration(cleanup?.retention ?? '0s');
  const retentionCfg = {
    enabled: cleanup?.enabled === true,
    retentionMs: retention.ok ? retention.value.ms : 0,
  };
  const plan = planRetention(s.cr.status?.matchingImages ?? [], retentionCfg, s.now);
  if (plan.requeueAfterMs !== undefined) result.nextRetentionMs = plan.requeueAfterMs;
  const running = new Set(scope.pods.flatMap((p) => currentImages(p)));
  const deletedMirrors: { entry: string; mirror: string }[] = [];
  for (const d of plan.deletions) {
    if (running.has(d.mirror.image)) continue;
    try {
      await deps.deleteImage(d.mirror.image, credentialFor(s.cr, d.mirror.image));
      deletedMirrors.push({ entry: d.entry, mirror: d.mirror.image });
      result.deleted++;
    } catch (err) {
      result.errors.push(`delete ${d.mirror.image}: ${errorMessage(err)}`);
    }
  }
  if (
    plan.deletions.length === 0 &&
    plan.entries.length === (s.cr.status?.matchingImages ?? []).length &&
    deletedMirrors.length === 0
  )
    return s;
  const after = await deps.kube.updateStatus<MirrorSet>(r.ref, (o) => {
    if (o.metadata.uid !== r.uid) return false;
    // Planned again from the stored status: another writer may have changed it since.
    let entries = planRetention(o.status?.matchingImages ?? [], retentionCfg, s.now).entries;
    for (const d of deletedMirrors) entries = dropMirror(entries, d.entry, d.mirror);
    return writeSummary(
      o,
      withMirrorSetSummary({ ...o.status, matchingImages: entries }, summaryOpts(o, s.now)),
    );
  });
  return after ? { ...s, cr: after } : s;
}

/**
 * 10a. The registry is the truth (kuik #541): on a resync, mirrors marked as copied are checked,
 * and one that vanished (deleted by hand, by another cluster's retention, by registry GC) loses
 * its mirroredAt and is copied again by step 10.
 */
async function remirrorVanished(r: Run, s: Synced): Promise<Synced> {
  const { deps, result } = r;
  if (!deps.mirrorExists) return s;
  const vanished: string[] = [];
  for (const entry of s.cr.status?.matchingImages ?? []) {
    if (entry.unusedSince !== undefined) continue;
    for (const m of entry.mirrors ?? []) {
      if (!m.mirroredAt) continue;
      const credential = credentialFor(s.cr, m.image);
      const exists = await deps.mirrorExists(m.image, credential).catch(() => undefined);
      if (exists === false) vanished.push(m.image);
      // In use here: say so in the shared registry, so no other cluster deletes it (§5.7).
      if (exists === true && deps.claim) {
        await deps
          .claim(m.image, credential)
          .catch((err: unknown) =>
            deps.log.warn({ image: m.image, err: errorMessage(err) }, 'could not claim a mirrored image'),
          );
      }
    }
  }
  if (vanished.length === 0) return s;
  deps.log.info(
    { cr: `${s.cr.kind}/${s.cr.metadata.name}`, images: vanished },
    'mirrored images vanished from their registry: copying again',
  );
  const after = await deps.kube.updateStatus<MirrorSet>(r.ref, (o) => {
    if (o.metadata.uid !== r.uid) return false;
    let changed = false;
    for (const e of o.status?.matchingImages ?? []) {
      for (const m of e.mirrors ?? []) {
        if (m.mirroredAt && vanished.includes(m.image)) {
          delete m.mirroredAt;
          changed = true;
        }
      }
    }
    if (!changed) return false;
    writeSummary(o, withMirrorSetSummary(o.status, summaryOpts(o, s.now)));
    return true;
  });
  result.remirrored = vanished.length;
  return after ? { ...s, cr: after } : s;
}

/**
 * 10. The copy requests, sent COPY_REQUEST_CONCURRENCY at a time: a copy sink that answers only
 * when the copy is done (the copy Service itself) would otherwise hold this event for the sum of
 * all copies, past the sink's own timeout, instead of about the longest one.
 */
async function requestCopies(r: Run, s: Synced): Promise<void> {
  const { deps, result } = r;
  const requests = copyRequests(s.cr, s.sourcePods, {
    uid: r.uid,
    namespace: r.namespace,
    platforms: deps.platforms,
  });
  const failed: (string | undefined)[] = [];
  const numbered = requests.map((req, i) => ({ req, i }));
  await eachUntil(numbered, { concurrency: COPY_REQUEST_CONCURRENCY, now: deps.now }, async ({ req, i }) => {
    try {
      await deps.requestCopy(req);
      result.copiesRequested++;
    } catch (err) {
      failed[i] = `copy request ${req.destination}: ${errorMessage(err)}`;
    }
  });
  // In request order, whatever order they failed in.
  for (const f of failed) if (f !== undefined) result.errors.push(f);
}

/**
 * One copy request per in-use entry mirror not yet mirrored, or mirrored for other
 * `mirroring.platforms` than the configured ones (the copy then re-mirrors for the new set).
 * The source's pull secrets are those of a pod seen running it. Pure.
 */
function copyRequests(
  cr: MirrorSet,
  sourcePods: ReadonlyMap<string, V1Pod>,
  o: { uid: string; namespace: string | undefined; platforms: CopyRequest['platforms'] },
): CopyRequest[] {
  const requests: CopyRequest[] = [];
  for (const entry of cr.status?.matchingImages ?? []) {
    if (entry.unusedSince !== undefined) continue;
    const pod = sourcePods.get(entry.image);
    for (const m of entry.mirrors ?? []) {
      if (m.mirroredAt && !platformsChanged(m.platforms, o.platforms)) continue;
      const destinationSecret = credentialFor(cr, m.image);
      const names = (pod?.spec?.imagePullSecrets ?? []).flatMap((s) => (s.name ? [s.name] : []));
      requests.push({
        owner: {
          kind: cr.kind,
          name: cr.metadata.name ?? '',
          uid: o.uid,
          ...(o.namespace ? { namespace: o.namespace } : {}),
        },
        source: entry.image,
        destination: m.image,
        ...(pod && names.length > 0
          ? { sourcePullSecrets: { namespace: pod.metadata?.namespace ?? '', names } }
          : {}),
        ...(destinationSecret ? { destinationSecret } : {}),
        platforms: o.platforms,
        ...(m.pinnedDigest ? { pinnedDigest: m.pinnedDigest } : {}),
      });
    }
  }
  return requests;
}
