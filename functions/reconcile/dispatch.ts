// Which reconciles an ApiServerSource event calls for (§5.1). The event only says *what changed*;
// every reconcile reads the current state itself (level-triggered), so the payload is used only to
// find the objects concerned.
import type { V1Pod } from '@kubernetes/client-node';
import * as v from 'valibot';
import type { ClusterImageSetMirror, ImageSetMirror } from '#shared/crd/types.ts';
import { compileSelection, type PodLike } from '#shared/filter/filter.ts';
import type { KuikRef } from '#shared/kube/client.ts';
import { currentImages } from '#shared/kube/pod-images.ts';
import type { Result } from '#shared/result.ts';

export const APISERVER_EVENT_TYPES = [
  'dev.knative.apiserver.resource.add',
  'dev.knative.apiserver.resource.update',
  'dev.knative.apiserver.resource.delete',
] as const;

const ObjectData = v.looseObject({
  apiVersion: v.string(),
  kind: v.string(),
  metadata: v.looseObject({ name: v.pipe(v.string(), v.minLength(1)), namespace: v.optional(v.string()) }),
});

export interface Targets {
  /** ISMs/CISMs to reconcile. */
  mirrorSets: KuikRef[];
  /** CISMs/CRISs whose secret copies (finalizer) to reconcile. */
  secretOwners: KuikRef[];
  /** RISs/CRISs whose status (upstream count, Ready) to write. */
  replicated: KuikRef[];
  /** A pod event: the caller must map it to mirror sets (needs the CR lists). */
  pod?: V1Pod;
}

export type DispatchResult = Result<Targets>;

export function dispatch(type: string, data: unknown): DispatchResult {
  if (!(APISERVER_EVENT_TYPES as readonly string[]).includes(type)) {
    return {
      ok: false,
      error: `unexpected event type ${JSON.stringify(type)} (want ${APISERVER_EVENT_TYPES.join(', ')})`,
    };
  }
  const parsed = v.safeParse(ObjectData, data);
  if (!parsed.success)
    return { ok: false, error: `event data is not a Kubernetes object: ${v.summarize(parsed.issues)}` };
  const obj = parsed.output;
  const name = obj.metadata.name;
  const namespace = obj.metadata.namespace || undefined;
  const targets: Targets = { mirrorSets: [], secretOwners: [], replicated: [] };
  if (obj.apiVersion === 'v1' && obj.kind === 'Pod') {
    if (!namespace) return { ok: false, error: 'Pod without a namespace' };
    targets.pod = obj as unknown as V1Pod;
    return { ok: true, value: targets };
  }
  if (obj.apiVersion !== 'kuik.enix.io/v1alpha1')
    return { ok: false, error: `unexpected apiVersion ${obj.apiVersion}` };
  switch (obj.kind) {
    case 'ImageSetMirror':
      if (!namespace) return { ok: false, error: 'ImageSetMirror without a namespace' };
      targets.mirrorSets.push({ kind: 'ImageSetMirror', name, namespace });
      break;
    case 'ClusterImageSetMirror':
      targets.mirrorSets.push({ kind: 'ClusterImageSetMirror', name });
      targets.secretOwners.push({ kind: 'ClusterImageSetMirror', name });
      break;
    case 'ClusterReplicatedImageSet':
      targets.secretOwners.push({ kind: 'ClusterReplicatedImageSet', name });
      targets.replicated.push({ kind: 'ClusterReplicatedImageSet', name });
      break;
    case 'ReplicatedImageSet':
      if (!namespace) return { ok: false, error: 'ReplicatedImageSet without a namespace' };
      targets.replicated.push({ kind: 'ReplicatedImageSet', name, namespace });
      break;
    case 'ClusterImageSetAvailability':
      // No reconcile of ours: CISA is the monitor's.
      break;
    default:
      return { ok: false, error: `unexpected kind ${obj.kind}` };
  }
  return { ok: true, value: targets };
}

/**
 * §5.1 pod → CR mapping: the mirror sets whose pod matcher accepts the pod and whose image filter
 * selects at least one image it runs. Skipped pods and CRs whose filters do not compile map to
 * nothing (the CR's own reconcile reports its filter).
 */
export function mirrorSetsForPod(
  pod: V1Pod,
  cisms: readonly ClusterImageSetMirror[],
  isms: readonly ImageSetMirror[],
  skip: (p: PodLike) => boolean,
  opts: { imageVolumes?: boolean } = {},
): KuikRef[] {
  if (skip(pod)) return [];
  const images = currentImages(pod, opts);
  const out: KuikRef[] = [];
  for (const cr of [...cisms, ...isms]) {
    if (cr.kind === 'ImageSetMirror' && cr.metadata.namespace !== pod.metadata?.namespace) continue;
    const sel = compileSelection(cr);
    if (!sel.ok || !sel.value.podMatcher(pod) || !images.some(sel.value.imageFilter)) continue;
    out.push(
      cr.kind === 'ImageSetMirror'
        ? { kind: cr.kind, name: cr.metadata.name ?? '', namespace: cr.metadata.namespace ?? '' }
        : { kind: cr.kind, name: cr.metadata.name ?? '' },
    );
  }
  return out;
}
