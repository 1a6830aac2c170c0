// Every image reference a Pod names, wherever it names one: containers, init containers, ephemeral
// containers and image volumes (`spec.volumes[].image.reference`, on by default since Kubernetes
// 1.35). The one place that walks a pod's images, so that the router, reconcile, the monitor, the
// copy's secret check and `kubectl kuik` agree on what a pod uses. Pure.
//
// Each reference has a key, the one the original-images annotation and the decisions annotations
// use: `NAME` for a container, `init:NAME`, `ephemeral:NAME`, and `volume:NAME` for an image volume
// (container and volume names are separate namespaces in a pod spec, the prefix keeps them apart).
//
// The annotation (`kuik.enix.io/original-images`, JSON `{key: image}`) is read and written here
// only: the router writes it, reconcile and the monitor read the images a pod uses through it.
import type { V1Pod } from '@kubernetes/client-node';
import { ORIGINAL_IMAGES_ANNOTATION } from '../crd/types.ts';
import { errorMessage } from '../errors.ts';
import { normalizeReference } from '../image/reference.ts';

export type ImageSlot = 'containers' | 'initContainers' | 'ephemeralContainers' | 'volumes';

export interface PodImageRef {
  slot: ImageSlot;
  /** Position in its list (spec.containers[index], spec.volumes[index]…). */
  index: number;
  /** The container's or the volume's name. */
  name: string;
  /** The reference as written; `''` when the spec leaves it empty. */
  image: string;
  /** `imagePullPolicy` of a container, `image.pullPolicy` of a volume (the same three values). */
  pullPolicy: string | undefined;
  /** Key in the original-images and decisions annotations. */
  key: string;
}

export const KEY_PREFIX: Record<ImageSlot, string> = {
  containers: '',
  initContainers: 'init:',
  ephemeralContainers: 'ephemeral:',
  volumes: 'volume:',
};

export interface PodImageOptions {
  /** Image volumes count (the `imageVolumes` configuration switch). Default true. */
  imageVolumes?: boolean;
  /** Ephemeral containers count. Default true. */
  ephemeral?: boolean;
}

/** Every image reference of `pod`, in spec order: containers, init, ephemeral, volumes. */
export function podImageRefs(pod: V1Pod, opts: PodImageOptions = {}): PodImageRef[] {
  const out: PodImageRef[] = [];
  const spec = pod.spec;
  if (!spec) return out;
  const lists = [
    ['containers', spec.containers ?? []],
    ['initContainers', spec.initContainers ?? []],
    ...(opts.ephemeral === false ? [] : [['ephemeralContainers', spec.ephemeralContainers ?? []] as const]),
  ] as const;
  for (const [slot, cs] of lists) {
    cs.forEach((c, index) => {
      out.push({
        slot,
        index,
        name: c.name,
        image: c.image ?? '',
        pullPolicy: c.imagePullPolicy,
        key: KEY_PREFIX[slot] + c.name,
      });
    });
  }
  if (opts.imageVolumes !== false) {
    (spec.volumes ?? []).forEach((vol, index) => {
      if (!vol.image) return;
      out.push({
        slot: 'volumes',
        index,
        name: vol.name,
        image: vol.image.reference ?? '',
        pullPolicy: vol.image.pullPolicy,
        key: KEY_PREFIX.volumes + vol.name,
      });
    });
  }
  return out;
}

/** Sets the reference at `at` (a slot and an index from podImageRefs) in place. */
export function setPodImage(pod: V1Pod, at: { slot: ImageSlot; index: number }, image: string): void {
  const spec = pod.spec;
  if (!spec) return;
  if (at.slot === 'volumes') {
    const source = spec.volumes?.[at.index]?.image;
    if (source) source.reference = image;
    return;
  }
  const container = spec[at.slot]?.[at.index];
  if (container) container.image = image;
}

/** How a message names the reference: `container web`, `image volume models`. */
export function describeSlot(slot: ImageSlot, name: string): string {
  return slot === 'volumes' ? `image volume ${name}` : `container ${name}`;
}

/** The slot an annotation key belongs to (`volume:models` → volumes). */
export function slotOfKey(key: string): ImageSlot {
  for (const slot of ['initContainers', 'ephemeralContainers', 'volumes'] as const)
    if (key.startsWith(KEY_PREFIX[slot])) return slot;
  return 'containers';
}

export interface Originals {
  /** Key → image as the user wrote it; non-string values are dropped. */
  map: Record<string, string>;
  /** The annotation could not be parsed (the map is then empty). */
  error?: string;
}

/** The original-images annotation's value; absent or empty is an empty map. */
export function parseOriginals(value: string | undefined): Originals {
  if (value === undefined || value === '') return { map: {} };
  try {
    const parsed: unknown = JSON.parse(value);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      return { map: {}, error: 'not a JSON object' };
    }
    const map: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') map[k] = v;
    return { map };
  } catch (err) {
    return { map: {}, error: errorMessage(err) };
  }
}

/** The pod's original-images annotation, parsed. */
export function podOriginals(pod: V1Pod): Originals {
  return parseOriginals(pod.metadata?.annotations?.[ORIGINAL_IMAGES_ANNOTATION]);
}

/** Compact JSON with sorted keys, as kuik writes it. */
export function serializeOriginals(map: Record<string, string>): string {
  return JSON.stringify(
    Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  );
}

/**
 * Normalized images the pod's containers and init containers run now, and the images its image
 * volumes mount (unless `imageVolumes` is false). Ephemeral containers are left out: they come and
 * go with a debugging session and do not make an image worth mirroring.
 */
export function currentImages(pod: V1Pod, opts: { imageVolumes?: boolean } = {}): string[] {
  const out = new Set<string>();
  for (const r of podImageRefs(pod, { ephemeral: false, imageVolumes: opts.imageVolumes !== false })) {
    const n = r.image ? normalizeReference(r.image) : undefined;
    if (n) out.add(n);
  }
  return [...out];
}

/**
 * The images the pod's spec named before the router rewrote them (original-images annotation),
 * normalized; a malformed annotation names none. With `imageVolumes: false`, the `volume:`
 * entries a router with the switch on recorded are left out.
 */
export function originalImages(pod: V1Pod, opts: { imageVolumes?: boolean } = {}): string[] {
  return Object.entries(podOriginals(pod).map).flatMap(([key, v]) => {
    if (opts.imageVolumes === false && slotOfKey(key) === 'volumes') return [];
    const n = normalizeReference(v);
    return n ? [n] : [];
  });
}
