// §5.3: which images an ImageSetMirror/ClusterImageSetMirror tracks, and since when each is unused.
// Pure: the pods in scope, the previous status, the CR's image filter and mirrors in; the next
// `status.matchingImages` out (sorted by image, kuik left it in map order), plus the pod whose pull
// secrets serve as source credentials for each image's copy.
//
// Beyond kuik:
// - digest-pinned images are tracked like tags (the router routes them, so mirrors must hold them);
// - mirrors removed from spec.mirrors are pruned from status (kuik #572); the registry copy stays;
// - an entry in use only through the original-images annotation (its pod runs a mirror copy) also
//   gets mirrors added to the spec later, so a second mirror fills without a pod restart;
// - image volumes count like containers (docs/image-volumes.md), OCI artifacts included.
import type { V1Pod } from '@kubernetes/client-node';
import { INSTANT_EXPIRY, type MatchingImage, type Mirror } from '#shared/crd/types.ts';
import type { ImageMatcher } from '#shared/filter/filter.ts';
import { mirrorReference } from '#shared/image/mapping.ts';
import { normalizeReference, parseReference } from '#shared/image/reference.ts';
import { currentImages, originalImages } from '#shared/kube/pod-images.ts';
import { rfc3339 } from '#shared/time.ts';

export interface SyncInput {
  /** Pods accepted by the CR's pod matcher and not globally skipped. */
  pods: readonly V1Pod[];
  previous: readonly MatchingImage[];
  imageFilter: ImageMatcher;
  /** Mirror-loop protection (§2.6): true for an image that is itself in a mirror. */
  isMirrored: (image: string, podNamespace: string | undefined) => boolean;
  mirrors: readonly Mirror[];
  now: number;
  /** Image volumes count as in use (config `imageVolumes`; default true). */
  imageVolumes?: boolean;
}

export interface SyncResult {
  matchingImages: MatchingImage[];
  /** For each image in use by a running container: one pod that runs it (pull secrets for the copy). */
  sourcePods: Map<string, V1Pod>;
}

function expectedMirrors(image: string, mirrors: readonly Mirror[]): string[] {
  const parsed = parseReference(image);
  if (!parsed.ok) return [];
  return mirrors.map((m) => mirrorReference(parsed.value, m));
}

export function syncMatchingImages(input: SyncInput): SyncResult {
  const now = rfc3339(input.now);
  // Step A: images pods run now that the filter selects and that are not mirror copies.
  const sourcePods = new Map<string, V1Pod>();
  // Step C: in use = what pods run ∪ what their specs originally named.
  const inUse = new Set<string>();
  const which = { imageVolumes: input.imageVolumes !== false };
  for (const pod of input.pods) {
    for (const image of currentImages(pod, which)) {
      inUse.add(image);
      if (input.isMirrored(image, pod.metadata?.namespace)) continue;
      if (input.imageFilter(image)) sourcePods.set(image, pod);
    }
    for (const image of originalImages(pod, which)) inUse.add(image);
  }
  // Mirrors still in the spec (kuik kept removed ones forever, #572).
  const byImage = new Map<string, MatchingImage>();
  for (const prev of input.previous) {
    const image = normalizeReference(prev.image) ?? prev.image;
    const expected = expectedMirrors(image, input.mirrors);
    const entry: MatchingImage = { image };
    // Step D.
    if (!input.imageFilter(image)) entry.unusedSince = INSTANT_EXPIRY;
    else if (!inUse.has(image)) entry.unusedSince = prev.unusedSince ?? now;
    const kept = (prev.mirrors ?? []).filter((m) => expected.includes(m.image));
    const add =
      entry.unusedSince === undefined ? expected.filter((e) => !kept.some((m) => m.image === e)) : [];
    entry.mirrors = [...kept.map((m) => ({ ...m })), ...add.map((image) => ({ image }))];
    byImage.set(image, entry);
  }
  // Step E: new entries.
  for (const image of sourcePods.keys()) {
    if (byImage.has(image)) continue;
    byImage.set(image, { image, mirrors: expectedMirrors(image, input.mirrors).map((m) => ({ image: m })) });
  }
  const matchingImages = [...byImage.values()].sort((a, b) =>
    a.image < b.image ? -1 : a.image > b.image ? 1 : 0,
  );
  return { matchingImages, sourcePods };
}
