// A Kubernetes Event when a pod is routed away from the image its spec names, so `kubectl describe`
// shows it. At admission the pod has no UID yet (and, when made by a controller, no name: only a
// generateName), so the event is emitted after the admission: for a named pod once the pod exists
// (it then carries the UID `kubectl describe pod` matches on); for a generated name, on the pod's
// controller (its ReplicaSet, Job, …), which is where an operator looks next anyway.
import type { V1Pod } from '@kubernetes/client-node';
import { errorMessage } from '#shared/errors.ts';
import type { Kube } from '#shared/kube/client.ts';
import { EventAggregator } from '#shared/kube/event-aggregator.ts';
import { describeSlot } from '#shared/kube/pod-images.ts';
import type { Logger } from '#shared/log.ts';
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
    return `${describeSlot(d.slot, d.container)}: ${d.original} → ${d.chosen} (${d.reason} via ${d.by}${why})`;
  });
  const note = parts.join('. ');
  // events.k8s.io notes are limited to 1 KiB.
  return note.length > 1024 ? `${note.slice(0, 1023)}…` : note;
}

/** Named pods whose UID is still being looked up, at most (each holds a pod until then). */
const MAX_RESOLVING = 256;

export class RerouteEvents {
  readonly #kube: Kube;
  readonly #log: Logger;
  readonly #events: EventAggregator;
  #resolving = 0;
  #droppedHere = 0;

  /** Reroutes not recorded: too many named pods waiting for their UID, or too many events held. */
  get dropped(): number {
    return this.#droppedHere + this.#events.dropped;
  }

  constructor(kube: Kube, log: Logger, opts: { intervalMs?: number; maxKeys?: number } = {}) {
    this.#kube = kube;
    this.#log = log;
    // Repeats (every pod of one ReplicaSet rerouted alike) are counted here and written as one
    // series update per event every few seconds: never behind the admission, bounded in memory.
    this.#events = new EventAggregator({
      write: (regarding, facts, add, known) => kube.addToEventSeries(regarding, facts, add, known),
      ...opts,
      onError: (err, regarding, _facts, lost) =>
        this.#log.warn(
          { err: errorMessage(err), namespace: regarding.namespace, regarding: regarding.name, lost },
          'could not record reroute event',
        ),
    });
  }

  /** Fire and forget: never waits for the API server, never rejects. */
  emit(pod: V1Pod, namespace: string, decisions: readonly ContainerDecision[]): void {
    const facts = {
      type: 'Normal' as const,
      reason: 'ImageRerouted',
      action: 'Route',
      note: rerouteNote(decisions),
      controller: 'kuik.enix.io/router',
    };
    const owned = ownerTarget(pod, namespace);
    if (owned) {
      this.#events.record(owned, facts);
      return;
    }
    const name = pod.metadata?.name;
    if (!name) return;
    if (this.#resolving >= MAX_RESOLVING) {
      this.#droppedHere++;
      return;
    }
    this.#resolving++;
    void this.#podTarget(name, namespace)
      .catch(() => undefined)
      .then((target) => {
        if (target) this.#events.record(target, facts);
      })
      .finally(() => this.#resolving--);
  }

  /** Writes what is pending (tests, shutdown). */
  async flush(): Promise<void> {
    await this.#events.flush();
  }

  stop(): void {
    this.#events.stop();
  }

  async #podTarget(name: string, namespace: string): Promise<EventTarget | undefined> {
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
}

/** A pod without a name yet (generateName) is reported on its controller. */
function ownerTarget(pod: V1Pod, namespace: string): EventTarget | undefined {
  if (pod.metadata?.name) return undefined;
  const owner =
    pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  if (!owner) return undefined;
  return { kind: owner.kind, apiVersion: owner.apiVersion, namespace, name: owner.name, uid: owner.uid };
}
