// A Kubernetes Event when a pod is routed away from the image its spec names, so `kubectl describe`
// shows it. At admission the pod has no UID yet (and, when made by a controller, no name: only a
// generateName), so the event is emitted after the admission: for a named pod once the pod exists
// (it then carries the UID `kubectl describe pod` matches on); for a generated name, on the pod's
// controller (its ReplicaSet, Job, …), which is where an operator looks next anyway.
import type { V1Pod } from '@kubernetes/client-node';
import type { Kube } from '../../shared/kube/client.ts';
import type { Logger } from '../../shared/log.ts';
import type { ContainerDecision } from './decide.ts';

export interface EventTarget {
  kind: string;
  apiVersion: string;
  namespace: string;
  name: string;
  uid?: string;
}

export function rerouteNote(decisions: readonly ContainerDecision[]): string {
  const parts = decisions.map((d) => {
    const why =
      d.rejected.length > 0 ? `; ${d.rejected.map((r) => `${r.image}: ${r.result}`).join(', ')}` : '';
    return `container ${d.container}: ${d.original} → ${d.chosen} (${d.reason} via ${d.by}${why})`;
  });
  const note = parts.join('. ');
  // events.k8s.io notes are limited to 1 KiB.
  return note.length > 1024 ? `${note.slice(0, 1023)}…` : note;
}

export class RerouteEvents {
  readonly #kube: Kube;
  readonly #log: Logger;

  constructor(kube: Kube, log: Logger) {
    this.#kube = kube;
    this.#log = log;
  }

  /** Fire and forget: resolves when the event is written (or given up on), never rejects. */
  async emit(pod: V1Pod, namespace: string, decisions: readonly ContainerDecision[]): Promise<void> {
    const target = await this.#target(pod, namespace).catch(() => undefined);
    if (!target) return;
    const err = await this.#kube.recordEvent(target, {
      type: 'Normal',
      reason: 'ImageRerouted',
      action: 'Route',
      note: rerouteNote(decisions),
      controller: 'kuik.enix.io/router',
    });
    if (err)
      this.#log.warn(
        { err: err.message, namespace, pod: pod.metadata?.name },
        'could not record reroute event',
      );
  }

  async #target(pod: V1Pod, namespace: string): Promise<EventTarget | undefined> {
    const name = pod.metadata?.name;
    if (name) {
      // The pod is stored only after the admission answer: wait for it (briefly) to learn its UID.
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 200 * (i + 1)));
        try {
          const stored = await this.#kube.core.readNamespacedPod({ namespace, name });
          return {
            kind: 'Pod',
            apiVersion: 'v1',
            namespace,
            name,
            ...(stored.metadata?.uid ? { uid: stored.metadata.uid } : {}),
          };
        } catch {
          // Not there yet, or never admitted by a later webhook.
        }
      }
      return undefined;
    }
    const owner =
      pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
    if (!owner) return undefined;
    return { kind: owner.kind, apiVersion: owner.apiVersion, namespace, name: owner.name, uid: owner.uid };
  }
}
