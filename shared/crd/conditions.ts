// Status conditions (beyond kuik): one `Ready` condition per object, as the Kubernetes API
// conventions describe it, so that `kubectl wait --for=condition=Ready` and dashboards have one
// thing to look at. Pure: the writers (reconcile, copy, monitor) compute the next conditions inside
// their read-modify-write of status.
//
// Conventions kept: `lastTransitionTime` moves only when `status` flips (a new reason or message
// alone does not move it); `observedGeneration` is the `metadata.generation` the writer acted on,
// which `kubectl wait` compares with the object's own generation before trusting the condition.

import { rfc3339 } from '../time.ts';

export const READY = 'Ready';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  observedGeneration?: number;
  /** RFC 3339, second precision (metav1.Time). */
  lastTransitionTime: string;
  /** CamelCase, machine-readable. */
  reason: string;
  /** One sentence for a person. */
  message: string;
}

export type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

/** The API server caps condition messages at 32768 bytes; a status line has no use for that much. */
export const MESSAGE_MAX = 1024;

function clip(message: string): string {
  return message.length <= MESSAGE_MAX ? message : `${message.slice(0, MESSAGE_MAX - 1)}…`;
}

/**
 * `conditions` with `next` set: the others kept in their order, a new type appended. The
 * transition time is kept unless the status flips (or the condition is new).
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  next: ConditionInput,
  nowMs: number,
): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === next.type);
  const previous = i >= 0 ? list[i] : undefined;
  const merged: Condition = {
    type: next.type,
    status: next.status,
    ...(next.observedGeneration !== undefined ? { observedGeneration: next.observedGeneration } : {}),
    lastTransitionTime:
      previous && previous.status === next.status ? previous.lastTransitionTime : rfc3339(nowMs),
    reason: next.reason,
    message: clip(next.message),
  };
  if (i >= 0) list[i] = merged;
  else list.push(merged);
  return list;
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
