// What a copy writes into its mirror entry, as pure mutations of the CR read by the status writer
// (Kube.updateStatus: resourceVersion precondition, retried on conflict). Each returns false, and
// nothing is written, when the object is no longer the one the request was about: another uid
// (deleted and re-created under the same name), or the entry or mirror pruned since.
import type { CopyRequest } from '#shared/copy-request.ts';
import { withMirrorSetSummary } from '#shared/crd/summary.ts';
import type {
  ClusterImageSetMirror,
  ImageSetMirror,
  MirrorStatusEntry,
  UploadSession,
} from '#shared/crd/types.ts';
import { err, ok, type Result } from '#shared/result.ts';
import { rfc3339 } from '#shared/time.ts';
import type { ProgressSnapshot } from './engine/progress.ts';

export type MirrorSet = ImageSetMirror | ClusterImageSetMirror;

/** The mirror entry a request is about, or why there is none. */
export function findMirror(
  cr: MirrorSet,
  req: CopyRequest,
): Result<MirrorStatusEntry, 'uid' | 'entry' | 'mirror'> {
  if (cr.metadata.uid !== req.owner.uid) return err('uid');
  const entry = cr.status?.matchingImages?.find((e) => e.image === req.source);
  if (!entry) return err('entry');
  const mirror = entry.mirrors?.find((m) => m.image === req.destination);
  if (!mirror) return err('mirror');
  return ok(mirror);
}

export interface Success {
  digest: string;
  /** The source manifest copied (differs from `digest` when an index was filtered to platforms). */
  sourceDigest?: string;
  /** Absent when the copy failed but the destination already had the image (§5.4 step 8). */
  platforms?: { mirrored: string[]; missing: string[] };
  /** The copy was of a non-image artifact: it has no platforms, so none are recorded. */
  artifact?: boolean;
}

export function applySuccess(cr: MirrorSet, req: CopyRequest, s: Success, now: number): boolean {
  const found = findMirror(cr, req);
  if (!found.ok) return false;
  const m = found.value;
  m.mirroredAt = rfc3339(now);
  m.digest = s.digest;
  if (s.sourceDigest) m.sourceDigest = s.sourceDigest;
  else delete m.sourceDigest;
  if (s.platforms) m.platforms = { mirrored: s.platforms.mirrored, missing: s.platforms.missing };
  else if (s.artifact) delete m.platforms;
  delete m.lastError;
  delete m.uploads;
  delete m.progress;
  return true;
}

export function applyFailure(cr: MirrorSet, req: CopyRequest, error: string): boolean {
  const found = findMirror(cr, req);
  if (!found.ok) return false;
  // The upload sessions stay: the next attempt resumes them.
  if (found.value.lastError === error) return false;
  found.value.lastError = error;
  return true;
}

/** How far the copy is; kept after a failure (how far it got), cleared by a success. */
export function applyProgress(cr: MirrorSet, req: CopyRequest, p: ProgressSnapshot, now: number): boolean {
  const found = findMirror(cr, req);
  if (!found.ok) return false;
  found.value.progress = {
    bytesDone: p.bytesDone,
    bytesTotal: p.bytesTotal,
    percent: p.percent,
    updatedAt: rfc3339(now),
  };
  return true;
}

/**
 * The counts and the Ready condition, recomputed after a mirror entry changed (always true, to
 * chain after an apply). The copy does not read the spec: the observed generation stays
 * reconcile's, and a stored InvalidFilter verdict stays.
 */
export function refreshSummary(cr: MirrorSet, now: number): true {
  cr.status = withMirrorSetSummary(cr.status, { now, keepInvalidFilter: true });
  return true;
}

export function applyUploads(cr: MirrorSet, req: CopyRequest, sessions: readonly UploadSession[]): boolean {
  const found = findMirror(cr, req);
  if (!found.ok) return false;
  if (sessions.length === 0) {
    if (found.value.uploads === undefined) return false;
    delete found.value.uploads;
  } else {
    found.value.uploads = sessions
      .slice(0, 16)
      .map((s) => ({ digest: s.digest, location: s.location, offset: s.offset }));
  }
  return true;
}
