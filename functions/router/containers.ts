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
//   the user did not touch would restart a running container.
import type { V1Container, V1EphemeralContainer, V1Pod } from '@kubernetes/client-node';
import { ORIGINAL_IMAGES_ANNOTATION } from '#shared/crd/types.ts';

export type ContainerList = 'containers' | 'initContainers' | 'ephemeralContainers';

export interface SelectedContainer {
  list: ContainerList;
  index: number;
  name: string;
  /** The image string as written, e.g. `nginx:1.27`. */
  image: string;
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

const PREFIX: Record<ContainerList, string> = {
  containers: '',
  initContainers: 'init:',
  ephemeralContainers: 'ephemeral:',
};

export function parseOriginals(value: string | undefined): { map: Record<string, string>; error?: string } {
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
    return { map: {}, error: (err as Error).message };
  }
}

/** Compact JSON with sorted keys, as kuik writes it. */
export function serializeOriginals(map: Record<string, string>): string {
  return JSON.stringify(
    Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  );
}

function lists(pod: V1Pod): [ContainerList, (V1Container | V1EphemeralContainer)[]][] {
  return [
    ['containers', pod.spec?.containers ?? []],
    ['initContainers', pod.spec?.initContainers ?? []],
    ['ephemeralContainers', pod.spec?.ephemeralContainers ?? []],
  ];
}

export function selectContainers(
  pod: V1Pod,
  review: { operation: string; subResource?: string | undefined; oldObject?: V1Pod | undefined },
): Selection {
  const { map, error } = parseOriginals(pod.metadata?.annotations?.[ORIGINAL_IMAGES_ANNOTATION]);
  const originals = { ...map };
  const selected: SelectedContainer[] = [];
  const oldImages = new Map<string, string>();
  if (review.oldObject) {
    for (const [list, cs] of lists(review.oldObject))
      for (const c of cs) oldImages.set(PREFIX[list] + c.name, c.image ?? '');
  }
  const ephemeralOnly = review.subResource === 'ephemeralcontainers';
  for (const [list, cs] of lists(pod)) {
    if (ephemeralOnly !== (list === 'ephemeralContainers')) continue;
    cs.forEach((c, index) => {
      const key = PREFIX[list] + c.name;
      const image = c.image ?? '';
      if (image === '') return;
      let route: boolean;
      if (review.operation === 'CREATE') {
        // A reinvocation sees our own rewrite: whatever is already recorded was handled.
        route = !(key in originals);
      } else if (review.operation === 'UPDATE') {
        route = oldImages.get(key) !== image;
      } else {
        route = false;
      }
      if (!route) return;
      originals[key] = image;
      selected.push({ list, index, name: c.name, image, imagePullPolicy: c.imagePullPolicy, key });
    });
  }
  return { containers: selected, originals, ...(error === undefined ? {} : { annotationError: error }) };
}
