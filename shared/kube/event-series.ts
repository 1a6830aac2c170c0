// Repeated events become one event with a growing series, as client-go's event recorder does:
// a warning that holds on every monitor tick (an invalid filter), or the same reroute note on
// every pod a ReplicaSet makes, would otherwise write a new Event each time and bury the rest of
// `kubectl describe`. Two events are "the same" when everything an operator reads in them is the
// same: the object, type, reason, action, note and reporting controller. Pure.
import type { EventsV1Event } from '@kubernetes/client-node';

export interface EventRegarding {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string | undefined;
  uid?: string | undefined;
}

export interface EventFacts {
  type: 'Normal' | 'Warning';
  reason: string;
  action: string;
  note: string;
  controller: string;
}

/** events.k8s.io notes are limited to 1 KiB. */
export function eventNote(note: string): string {
  return note.length > 1024 ? `${note.slice(0, 1023)}…` : note;
}

/** The key under which repeats of one event are counted. */
export function seriesKey(namespace: string, regarding: EventRegarding, e: EventFacts): string {
  return JSON.stringify([
    namespace,
    regarding.apiVersion,
    regarding.kind,
    regarding.name,
    regarding.uid ?? '',
    e.type,
    e.reason,
    e.action,
    eventNote(e.note),
    e.controller,
  ]);
}

/** True when `stored` is an earlier occurrence of the event `e` about `regarding`. */
export function sameEvent(stored: EventsV1Event, regarding: EventRegarding, e: EventFacts): boolean {
  const r = stored.regarding;
  return (
    r?.kind === regarding.kind &&
    r?.name === regarding.name &&
    (r?.apiVersion ?? '') === regarding.apiVersion &&
    (r?.uid ?? '') === (regarding.uid ?? '') &&
    stored.type === e.type &&
    stored.reason === e.reason &&
    stored.action === e.action &&
    stored.note === eventNote(e.note) &&
    stored.reportingController === e.controller
  );
}

/**
 * The merge patch that records one more occurrence of `stored` at `now`: a first repeat starts the
 * series at 2 (the original counts as one), later ones add one. Only `series` changes (events.k8s.io
 * keeps every other field immutable), under the read resourceVersion so concurrent writers cannot
 * lose a count.
 */
export function seriesPatch(
  stored: EventsV1Event,
  now: Date,
  /** Occurrences to add (more than one when repeats were counted in memory first). */
  add = 1,
): { metadata: { resourceVersion?: string }; series: { count: number; lastObservedTime: Date } } {
  return {
    metadata: stored.metadata?.resourceVersion ? { resourceVersion: stored.metadata.resourceVersion } : {},
    series: { count: (stored.series?.count ?? 1) + add, lastObservedTime: now },
  };
}

/** What a writer needs to remember of a stored event to add to its series without reading it. */
export interface StoredEventRef {
  name: string;
  resourceVersion: string;
  count: number;
}
