// What the resync reads once for every mirror set instead of once per mirror set: the pods of the
// cluster and the mirror sets (for mirror-loop protection). Reconciling each of N mirror sets
// alone lists pods (every pod of the cluster, for a ClusterImageSetMirror) and every
// ClusterImageSetMirror N times over; on a cluster with 10,000 pods and a thousand mirror sets
// that is the resync's whole cost, on the API server too (kuik v2 read them from informer caches).
//
// A snapshot older than `maxAgeMs` is listed again before it is used, so a long resync never
// decides on a view of the cluster more than that old. Deletions (a CR going away deletes images
// no pod uses any more) never use it: they list afresh.
import type { V1Pod } from '@kubernetes/client-node';
import type { ClusterImageSetMirror, ImageSetMirror } from '#shared/crd/types.ts';
import { type Kube, listKuik } from '#shared/kube/client.ts';

export interface ClusterView {
  pods: V1Pod[];
  cisms: ClusterImageSetMirror[];
  isms: ImageSetMirror[];
}

export interface ClusterSnapshot {
  /** The pods of `namespace` (all of them for undefined), the CISMs, the ISMs of `namespace`. */
  view(namespace: string | undefined): Promise<ClusterView>;
}

/** The ClusterImageSetMirrors, and the ImageSetMirrors of `namespace` (all of them for undefined). */
export async function listMirrorSets(
  kube: Kube,
  namespace: string | undefined,
): Promise<Pick<ClusterView, 'cisms' | 'isms'>> {
  const [cisms, isms] = await Promise.all([
    listKuik<ClusterImageSetMirror>(kube, 'ClusterImageSetMirror'),
    listKuik<ImageSetMirror>(kube, 'ImageSetMirror', { namespace }),
  ]);
  return { cisms, isms };
}

/** Every pod (of `namespace`, or all) and the mirror sets that may have produced their images. */
export async function listClusterView(kube: Kube, namespace: string | undefined): Promise<ClusterView> {
  const [pods, sets] = await Promise.all([
    namespace ? kube.core.listNamespacedPod({ namespace }) : kube.core.listPodForAllNamespaces(),
    listMirrorSets(kube, namespace),
  ]);
  return { pods: pods.items, ...sets };
}

/** The part of a whole-cluster view a mirror set of `namespace` (undefined: cluster-wide) sees. */
export function viewOf(all: ClusterView, namespace: string | undefined): ClusterView {
  if (namespace === undefined) return all;
  return {
    pods: all.pods.filter((p) => p.metadata?.namespace === namespace),
    cisms: all.cisms,
    isms: all.isms.filter((i) => i.metadata.namespace === namespace),
  };
}

/**
 * One whole-cluster list shared by every mirror set of a resync, listed again once `maxAgeMs` old;
 * `initial`: a view the caller has just listed.
 */
export function clusterSnapshot(
  kube: Kube,
  now: () => number,
  maxAgeMs = 10_000,
  initial?: ClusterView,
): ClusterSnapshot {
  let current: { at: number; all: Promise<ClusterView> } | undefined = initial
    ? { at: now(), all: Promise.resolve(initial) }
    : undefined;
  return {
    async view(namespace) {
      if (!current || now() - current.at > maxAgeMs) {
        const all = listClusterView(kube, undefined);
        current = { at: now(), all };
        // A failed list is not kept: the next mirror set lists again.
        all.catch(() => {
          if (current?.all === all) current = undefined;
        });
      }
      return viewOf(await current.all, namespace);
    },
  };
}
