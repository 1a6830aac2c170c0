// §6.2 discovery and bookkeeping of one ClusterImageSetAvailability: which images its pods use, which
// entries became unused, which expire, which are new. Pure: the kept pods, the stored entries and
// the compiled image filter in; the next `status.images` out, sorted by image (kuik's order was the
// order of a Go map).
//
// Decisions where kuik's code has a QUIRK (docs/monitoring.md, "Differences from kuik"):
// - `original` of a new entry is true when ANY kept pod names the image in its original-images
//   annotation (kuik took the flag of whichever pod it iterated last);
// - the §6.6 backfill (an entry with `original: false` becomes true once any pod, filters and skip
//   lists ignored, names it as an original) runs on every tick: a function has no "manager start",
//   and every cold start would otherwise be one;
// - digest-pinned images are monitored like tags (the router routes them, so their availability
//   matters); kuik skipped any reference with an `@`;
// - images that pods mount as image volumes are monitored too (docs/image-volumes.md);
// - `imageCount` is rewritten whenever it is wrong, not only when the list changed.
import type { V1Pod } from '@kubernetes/client-node';
import { INSTANT_EXPIRY, type MonitoredImage } from '#shared/crd/types.ts';
import type { ImageMatcher } from '#shared/filter/filter.ts';
import { normalizeReference } from '#shared/image/reference.ts';
import { currentImages, originalImages } from '#shared/kube/pod-images.ts';
import { rfc3339 } from '#shared/time.ts';

/** Image volumes count as images in use (config `imageVolumes`; default true). */
export interface ImageVolumesOption {
  imageVolumes?: boolean;
}

/**
 * Images the pods use, each with its `original` flag: true when some pod names it in its
 * original-images annotation (what the pod's spec asked for before the router rewrote it), false
 * when pods only run it (a rerouted image, an init container, a pod the router never saw).
 */
export function imagesInUse(pods: readonly V1Pod[], opts: ImageVolumesOption = {}): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const pod of pods) {
    for (const image of currentImages(pod, opts)) if (!out.has(image)) out.set(image, false);
    for (const image of originalImages(pod, opts)) out.set(image, true);
  }
  return out;
}

/** Every image some pod names as an original: the §6.6 backfill's input (no filter, no skip list). */
export function annotationOriginals(pods: readonly V1Pod[], opts: ImageVolumesOption = {}): Set<string> {
  return new Set(pods.flatMap((p) => originalImages(p, opts)));
}

export interface DiscoveryInput {
  /** `status.images` as stored. */
  images: readonly MonitoredImage[];
  /** Pods accepted by the CISA's pod matcher and not globally skipped. */
  pods: readonly V1Pod[];
  /** The CISA's image filter. */
  imageFilter: ImageMatcher;
  /** `spec.unusedImageExpiry` in ms; 0 keeps every entry forever (marker entries included). */
  expiryMs: number;
  /** Images named as originals by any pod in the cluster (see annotationOriginals). */
  originals: ReadonlySet<string>;
  now: number;
  /** Image volumes count (config `imageVolumes`; default true). */
  imageVolumes?: boolean;
}

export interface DiscoveryResult {
  images: MonitoredImage[];
  imageCount: number;
  added: number;
  removed: number;
}

const byImage = (a: { image: string }, b: { image: string }) =>
  a.image < b.image ? -1 : a.image > b.image ? 1 : 0;

/** Steps 5–9 of §6.2 (the caller has done 1–4: pods listed, matcher and filter compiled). */
export function discover(input: DiscoveryInput): DiscoveryResult {
  const now = rfc3339(input.now);
  // Step 5: images in use that the filter selects.
  const current = new Map<string, boolean>();
  for (const [image, original] of imagesInUse(input.pods, { imageVolumes: input.imageVolumes !== false })) {
    if (input.imageFilter(image)) current.set(image, original);
  }
  // Step 6: existing entries. A duplicate key (a hand-edited status) keeps its first entry.
  const seen = new Set<string>();
  const kept: MonitoredImage[] = [];
  let removed = 0;
  for (const prev of input.images) {
    const image = normalizeReference(prev.image) ?? prev.image;
    if (seen.has(image)) {
      removed++;
      continue;
    }
    seen.add(image);
    const entry: MonitoredImage = { ...prev, image };
    if (!input.imageFilter(image)) entry.unusedSince = INSTANT_EXPIRY;
    else if (current.has(image)) delete entry.unusedSince;
    else if (entry.status === 'Scheduled') entry.unusedSince = INSTANT_EXPIRY;
    else entry.unusedSince ??= now;
    // §6.6 backfill.
    if (entry.original !== true && input.originals.has(image)) entry.original = true;
    // Step 7: expiry (the marker is year 1, so it always qualifies).
    if (input.expiryMs > 0 && entry.unusedSince !== undefined) {
      const since = Date.parse(entry.unusedSince);
      if (!Number.isNaN(since) && input.now - since >= input.expiryMs) {
        removed++;
        continue;
      }
    }
    kept.push(entry);
  }
  // Step 8: new entries.
  let added = 0;
  for (const [image, original] of current) {
    if (seen.has(image)) continue;
    kept.push({ image, status: 'Scheduled', original });
    added++;
  }
  kept.sort(byImage);
  return { images: kept, imageCount: kept.length, added, removed };
}
