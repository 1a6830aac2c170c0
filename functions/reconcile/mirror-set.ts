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
import { compileSelection, invalidFilterNote, type PodLike } from '#shared/filter/filter.ts';
import { collectMirrorPrefixes, isMirroredImage } from '#shared/image/mapping.ts';
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

async function listPods(kube: Kube, namespace: string | undefined): Promise<V1Pod[]> {
  const list = namespace
    ? await kube.core.listNamespacedPod({ namespace })
    : await kube.core.listPodForAllNamespaces();
  return list.items;
}

export async function reconcileMirrorSet(
  ref: KuikRef,
  deps: ReconcileDeps,
  opts: {
    verifyMirrors?: boolean;
    /** The resync's shared view of pods and mirror sets; without it, this reconcile lists its own. */
    snapshot?: ClusterSnapshot;
  } = {},
): Promise<ReconcileResult> {
  const { kube, log } = deps;
  const result: ReconcileResult = { ref, outcome: 'reconciled', copiesRequested: 0, deleted: 0, errors: [] };
  let cr: MirrorSet;
  try {
    cr = await kube.getKuik<MirrorSet>(ref);
  } catch (err) {
    if (apiStatus(err) === 404) return { ...result, outcome: 'gone' };
    throw err;
  }
  const uid = cr.metadata.uid ?? '';
  const namespace = cr.kind === 'ImageSetMirror' ? cr.metadata.namespace : undefined;

  // 2. Deletion first: it must work even when the filter no longer compiles (§3.9).
  if (cr.metadata.deletionTimestamp) {
    if (!(cr.metadata.finalizers ?? []).includes(MIRROR_FINALIZER)) return { ...result, outcome: 'deleted' };
    // Image volumes always count here, whatever `imageVolumes` says: never delete what a pod mounts.
    const running = new Set((await listPods(kube, namespace)).flatMap((p) => currentImages(p)));
    for (const entry of cr.status?.matchingImages ?? []) {
      for (const m of entry.mirrors ?? []) {
        if (!m.mirroredAt) continue;
        if (running.has(m.image)) {
          // Never delete what a pod runs right now (it may still be restarted from the mirror).
          log.info(
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
    await kube.updateObject<MirrorSet>(ref, (o) => {
      if (o.metadata.uid !== uid) return false;
      const before = o.metadata.finalizers ?? [];
      o.metadata.finalizers = before.filter((f) => f !== MIRROR_FINALIZER);
      return o.metadata.finalizers.length !== before.length;
    });
    return { ...result, outcome: 'deleted' };
  }

  // 3–5. Pods in scope.
  const selection = compileSelection(cr);
  if (!selection.ok) {
    const note = invalidFilterNote(selection.error);
    await deps.warn(cr, 'InvalidFilter', note);
    // Ready=False with the reason, so `kubectl get` and `kubectl wait` say it too.
    await kube.updateStatus<MirrorSet>(
      ref,
      (o) =>
        o.metadata.uid === uid &&
        writeSummary(
          o,
          withMirrorSetSummary(o.status, { ...summaryOpts(o, deps.now()), invalidFilter: note }),
        ),
      cr,
    );
    return { ...result, outcome: 'invalid-filter' };
  }
  const { podMatcher, imageFilter } = selection.value;
  const view = opts.snapshot ? await opts.snapshot.view(namespace) : await listClusterView(kube, namespace);
  const pods = view.pods.filter((p) => !deps.skip(p) && podMatcher(p));

  // 6. Finalizer.
  let current = cr;
  if (!(cr.metadata.finalizers ?? []).includes(MIRROR_FINALIZER)) {
    const written = await kube.updateObject<MirrorSet>(ref, (o) => {
      if (o.metadata.uid !== uid || (o.metadata.finalizers ?? []).includes(MIRROR_FINALIZER)) return false;
      o.metadata.finalizers = [...(o.metadata.finalizers ?? []), MIRROR_FINALIZER];
      return true;
    });
    if (written) current = written;
  }

  // 7. Mirror-loop protection needs every mirror set that could have produced a pod's image.
  const prefixes = collectMirrorPrefixes(view.cisms, view.isms, { forCluster: namespace === undefined });

  // 8. Status sync, computed inside the write so it always starts from the stored status.
  let sourcePods = new Map<string, V1Pod>();
  const now = deps.now();
  let read: MirrorSet | undefined;
  let synced = await kube.updateStatus<MirrorSet>(
    ref,
    (o) => {
      read = o;
      if (o.metadata.uid !== uid) return false;
      const next = syncMatchingImages({
        pods,
        previous: o.status?.matchingImages ?? [],
        imageFilter,
        isMirrored: (image, podNs) => isMirroredImage(image, podNs, prefixes),
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
  synced ??= read ?? (await kube.getKuik<MirrorSet>(ref));

  // 9. Retention.
  const cleanup = synced.spec.cleanup;
  const retention = parseGoDuration(cleanup?.retention ?? '0s');
  const retentionCfg = { enabled: cleanup?.enabled === true, retentionMs: retention.ok ? retention.ms : 0 };
  const plan = planRetention(synced.status?.matchingImages ?? [], retentionCfg, now);
  if (plan.requeueAfterMs !== undefined) result.nextRetentionMs = plan.requeueAfterMs;
  const running = new Set(pods.flatMap((p) => currentImages(p)));
  const deletedMirrors: { entry: string; mirror: string }[] = [];
  for (const d of plan.deletions) {
    if (running.has(d.mirror.image)) continue;
    try {
      await deps.deleteImage(d.mirror.image, credentialFor(synced, d.mirror.image));
      deletedMirrors.push({ entry: d.entry, mirror: d.mirror.image });
      result.deleted++;
    } catch (err) {
      result.errors.push(`delete ${d.mirror.image}: ${errorMessage(err)}`);
    }
  }
  if (
    plan.deletions.length > 0 ||
    plan.entries.length !== (synced.status?.matchingImages ?? []).length ||
    deletedMirrors.length > 0
  ) {
    const after = await kube.updateStatus<MirrorSet>(ref, (o) => {
      if (o.metadata.uid !== uid) return false;
      let entries = planRetention(
        o.status?.matchingImages ?? [],
        { enabled: cleanup?.enabled === true, retentionMs: retention.ok ? retention.ms : 0 },
        now,
      ).entries;
      for (const d of deletedMirrors) entries = dropMirror(entries, d.entry, d.mirror);
      return writeSummary(
        o,
        withMirrorSetSummary({ ...o.status, matchingImages: entries }, summaryOpts(o, now)),
      );
    });
    if (after) synced = after;
  }

  // 10a. The registry is the truth (kuik #541): on a resync, mirrors marked as copied are checked,
  // and one that vanished (deleted by hand, by another cluster's retention, by registry GC) loses
  // its mirroredAt and is copied again below.
  if (opts.verifyMirrors && deps.mirrorExists) {
    const vanished: string[] = [];
    for (const entry of synced.status?.matchingImages ?? []) {
      if (entry.unusedSince !== undefined) continue;
      for (const m of entry.mirrors ?? []) {
        if (!m.mirroredAt) continue;
        const credential = credentialFor(synced, m.image);
        const exists = await deps.mirrorExists(m.image, credential).catch(() => undefined);
        if (exists === false) vanished.push(m.image);
        // In use here: say so in the shared registry, so no other cluster deletes it (§5.7).
        if (exists === true && deps.claim) {
          await deps
            .claim(m.image, credential)
            .catch((err: Error) =>
              log.warn({ image: m.image, err: err.message }, 'could not claim a mirrored image'),
            );
        }
      }
    }
    if (vanished.length > 0) {
      log.info(
        { cr: `${synced.kind}/${synced.metadata.name}`, images: vanished },
        'mirrored images vanished from their registry: copying again',
      );
      const after = await kube.updateStatus<MirrorSet>(ref, (o) => {
        if (o.metadata.uid !== uid) return false;
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
        writeSummary(o, withMirrorSetSummary(o.status, summaryOpts(o, now)));
        return true;
      });
      if (after) synced = after;
      result.remirrored = vanished.length;
    }
  }

  // 10. One copy request per in-use entry mirror not yet mirrored, or mirrored for other
  // `mirroring.platforms` than the configured ones (the copy then re-mirrors for the new set).
  // Sent COPY_REQUEST_CONCURRENCY at a time: a copy sink that answers only when the copy is done
  // (the copy Service itself) would otherwise hold this event for the sum of all copies, past the
  // sink's own timeout, instead of about the longest one.
  const requests: CopyRequest[] = [];
  for (const entry of synced.status?.matchingImages ?? []) {
    if (entry.unusedSince !== undefined) continue;
    const pod = sourcePods.get(entry.image);
    for (const m of entry.mirrors ?? []) {
      if (m.mirroredAt && !platformsChanged(m.platforms, deps.platforms)) continue;
      const destinationSecret = credentialFor(synced, m.image);
      const names = (pod?.spec?.imagePullSecrets ?? []).flatMap((s) => (s.name ? [s.name] : []));
      const req: CopyRequest = {
        owner: {
          kind: synced.kind,
          name: synced.metadata.name ?? '',
          uid,
          ...(namespace ? { namespace } : {}),
        },
        source: entry.image,
        destination: m.image,
        ...(pod && names.length > 0
          ? { sourcePullSecrets: { namespace: pod.metadata?.namespace ?? '', names } }
          : {}),
        ...(destinationSecret ? { destinationSecret } : {}),
        platforms: deps.platforms,
        ...(m.pinnedDigest ? { pinnedDigest: m.pinnedDigest } : {}),
      };
      requests.push(req);
    }
  }
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
  return result;
}
