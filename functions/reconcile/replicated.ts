// Status of a ReplicatedImageSet or ClusterReplicatedImageSet (beyond kuik, whose status is empty):
// the upstream count and a Ready condition saying whether the router can use it. The router skips
// a resource whose pod filter does not compile, and an upstream whose imageFilter does not compile
// (§3.9); without this the only trace was a log line of the router's.
import { isDeepStrictEqual } from 'node:util';
import { withReplicatedSummary } from '#shared/crd/summary.ts';
import type { ClusterReplicatedImageSet, ReplicatedImageSet } from '#shared/crd/types.ts';
import { podMatcherFor, upstreamFiltersFor } from '#shared/filter/filter.ts';
import { apiStatus, type Kube, type KuikRef } from '#shared/kube/client.ts';

type Replicated = ReplicatedImageSet | ClusterReplicatedImageSet;

export type ReplicatedOutcome = 'gone' | 'written' | 'unchanged';

/** What the router would refuse in this resource: the pod filter, and each upstream's imageFilter. */
export function replicatedErrors(cr: Replicated): { podFilter?: string; upstreams: string[] } {
  const pod = podMatcherFor(cr);
  const upstreams = upstreamFiltersFor(cr.spec.upstreams).flatMap((u) =>
    u.result.ok ? [] : [u.result.error.message],
  );
  return { ...(pod.ok ? {} : { podFilter: `filter is invalid: ${pod.error.message}` }), upstreams };
}

export async function reconcileReplicated(
  ref: KuikRef,
  kube: Kube,
  now: () => number,
): Promise<ReplicatedOutcome> {
  try {
    const written = await kube.updateStatus<Replicated>(ref, (o) => {
      // A resource being deleted keeps its last word.
      if (o.metadata.deletionTimestamp) return false;
      const next = withReplicatedSummary(o.status, o.spec.upstreams ?? [], replicatedErrors(o), {
        now: now(),
        ...(o.metadata.generation !== undefined ? { observedGeneration: o.metadata.generation } : {}),
      });
      if (isDeepStrictEqual(next, o.status ?? {})) return false;
      o.status = next;
      return true;
    });
    return written ? 'written' : 'unchanged';
  } catch (err) {
    if (apiStatus(err) === 404) return 'gone';
    throw err;
  }
}
