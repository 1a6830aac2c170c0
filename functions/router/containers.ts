// §4.3 steps 3–5: which containers of a Pod this admission should route, and the
// `kuik.enix.io/original-images` annotation that remembers what the user wrote.
//
// Beyond kuik v2:
// - init containers are recorded too (`init:<name>`), so a reinvocation does not route them again
//   and the reconcilers see their originals (kuik's QUIRK, docs/quirks.md);
// - ephemeral containers added through `pods/ephemeralcontainers` are routed (`ephemeral:<name>`);
//   the API server keeps only spec.ephemeralContainers from that subresource, so their originals
//   are not persisted in the annotation and no pull secret can be added;
// - on Pod UPDATE, only containers whose image the update changes are routed: rewriting an image
//   the user did not touch would restart a running container;
// - image volumes (`spec.volumes[].image.reference`) are routed like containers at CREATE, keyed
//   `volume:<name>`, unless the `imageVolumes` switch is off (docs/image-volumes.md).
import type { V1Pod } from '@kubernetes/client-node';
import { type ImageSlot, podImageRefs, podOriginals } from '#shared/kube/pod-images.ts';

export type ContainerList = ImageSlot;

export interface SelectedContainer {
  /** Where the reference is: a container list, or `volumes` for an image volume. */
  list: ContainerList;
  index: number;
  /** The container's or the image volume's name. */
  name: string;
  /** The image string as written, e.g. `nginx:1.27`. */
  image: string;
  /** `imagePullPolicy`, or an image volume's `pullPolicy` (same values, same defaults). */
  imagePullPolicy: string | undefined;
  /** Key in the original-images annotation. */
  key: string;
}

export interface Selection {
  containers: SelectedContainer[];
  /** The annotation map after this admission (sorted keys when serialized). */
  originals: Record<string, string>;
  /** The existing annotation could not be parsed (kept as far as it parsed; logged by the caller). */
  annotationError?: string;
}

export function selectContainers(
  pod: V1Pod,
  review: { operation: string; subResource?: string | undefined; oldObject?: V1Pod | undefined },
  opts: { imageVolumes?: boolean } = {},
): Selection {
  const { map, error } = podOriginals(pod);
  const originals = { ...map };
  const selected: SelectedContainer[] = [];
  const which = { imageVolumes: opts.imageVolumes !== false };
  const oldImages = new Map<string, string>();
  if (review.oldObject) {
    for (const r of podImageRefs(review.oldObject, which)) oldImages.set(r.key, r.image);
  }
  const ephemeralOnly = review.subResource === 'ephemeralcontainers';
  for (const r of podImageRefs(pod, which)) {
    if (ephemeralOnly !== (r.slot === 'ephemeralContainers')) continue;
    if (r.image === '') continue;
    let route: boolean;
    if (review.operation === 'CREATE') {
      // A reinvocation sees our own rewrite: whatever is already recorded was handled.
      route = !(r.key in originals);
    } else if (review.operation === 'UPDATE') {
      // Image volumes are immutable after creation, so an update never routes one.
      route = oldImages.get(r.key) !== r.image;
    } else {
      route = false;
    }
    if (!route) continue;
    originals[r.key] = r.image;
    selected.push({
      list: r.slot,
      index: r.index,
      name: r.name,
      image: r.image,
      imagePullPolicy: r.pullPolicy,
      key: r.key,
    });
  }
  return { containers: selected, originals, ...(error === undefined ? {} : { annotationError: error }) };
}
