// §5.5: which unused mirror copies have outlived `spec.cleanup.retention`. Pure: it plans; the
// caller deletes from the registry and drops an entry's mirror only once its deletion succeeded.
//
// Fixed QUIRK (docs/quirks.md): kuik removed every unused entry with no mirrors at once, whatever
// the cleanup settings; here such an entry follows the same retention rule as the others.
import type { MatchingImage, MirrorStatusEntry } from '#shared/crd/types.ts';

export interface RetentionPlan {
  /** Status after dropping expired mirrors that were never copied, and entries left empty. */
  entries: MatchingImage[];
  /** Expired mirrors that were copied: delete them from the registry, then drop them. */
  deletions: { entry: string; mirror: MirrorStatusEntry }[];
  /** The smallest remaining retention, when some unused mirror has not expired yet. */
  requeueAfterMs?: number;
}

export function planRetention(
  entries: readonly MatchingImage[],
  cleanup: { enabled: boolean; retentionMs: number },
  now: number,
): RetentionPlan {
  const out: MatchingImage[] = [];
  const deletions: RetentionPlan['deletions'] = [];
  let requeueAfterMs: number | undefined;
  for (const entry of entries) {
    if (entry.unusedSince === undefined || !cleanup.enabled) {
      out.push(entry);
      continue;
    }
    const remaining = cleanup.retentionMs - (now - Date.parse(entry.unusedSince));
    if (remaining > 0) {
      requeueAfterMs = Math.min(requeueAfterMs ?? remaining, remaining);
      out.push(entry);
      continue;
    }
    // Expired: copied mirrors must be deleted first (they stay until that succeeds).
    const copied = (entry.mirrors ?? []).filter((m) => m.mirroredAt !== undefined);
    for (const mirror of copied) deletions.push({ entry: entry.image, mirror });
    if (copied.length > 0) out.push({ ...entry, mirrors: copied });
  }
  return { entries: out, deletions, ...(requeueAfterMs === undefined ? {} : { requeueAfterMs }) };
}

/** Removes a deleted mirror from its entry, and the entry when it has no mirror left. */
export function dropMirror(
  entries: readonly MatchingImage[],
  entry: string,
  mirror: string,
): MatchingImage[] {
  return entries.flatMap((e) => {
    if (e.image !== entry) return [e];
    const mirrors = (e.mirrors ?? []).filter((m) => m.image !== mirror);
    return mirrors.length > 0 ? [{ ...e, mirrors }] : [];
  });
}
