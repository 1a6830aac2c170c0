import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EventsV1Event } from '@kubernetes/client-node';
import { type EventFacts, eventNote, sameEvent, seriesKey, seriesPatch } from './event-series.ts';

const cr = {
  apiVersion: 'kuik.enix.io/v1alpha1',
  kind: 'ImageSetMirror',
  name: 'a',
  namespace: 'ns',
  uid: 'u1',
};
const warn: EventFacts = {
  type: 'Warning',
  reason: 'InvalidFilter',
  action: 'Reconcile',
  note: 'filter is invalid: spec.filter.include[0].label: bad',
  controller: 'kuik.enix.io/reconcile',
};

function stored(over: Partial<EventsV1Event> = {}): EventsV1Event {
  return {
    metadata: { name: 'a.1', namespace: 'ns' },
    eventTime: new Date(0),
    regarding: { ...cr },
    type: warn.type,
    reason: warn.reason,
    action: warn.action,
    note: warn.note,
    reportingController: warn.controller,
    reportingInstance: 'pod-1',
    ...over,
  };
}

test('an event stored with the same object and facts is the same event', () => {
  assert.equal(sameEvent(stored(), cr, warn), true);
});

test('another object incarnation, note, reason, type or controller is another event', () => {
  assert.equal(sameEvent(stored({ regarding: { ...cr, uid: 'u2' } }), cr, warn), false);
  assert.equal(sameEvent(stored({ note: 'other' }), cr, warn), false);
  assert.equal(sameEvent(stored({ reason: 'Mirrored' }), cr, warn), false);
  assert.equal(sameEvent(stored({ type: 'Normal' }), cr, warn), false);
  assert.equal(sameEvent(stored({ reportingController: 'x' }), cr, warn), false);
  assert.equal(sameEvent(stored({ regarding: { ...cr, kind: 'ClusterImageSetMirror' } }), cr, warn), false);
});

test('a long note matches its stored (truncated) form, and keys alike', () => {
  const long = { ...warn, note: 'x'.repeat(2000) };
  assert.equal(eventNote(long.note).length, 1024);
  assert.equal(sameEvent(stored({ note: eventNote(long.note) }), cr, long), true);
  assert.equal(seriesKey('ns', cr, long), seriesKey('ns', cr, { ...long, note: `${long.note}y` }));
  assert.notEqual(seriesKey('ns', cr, warn), seriesKey('ns', { ...cr, uid: 'u2' }, warn));
});

test('the first repeat starts the series at 2, later ones add one, under the read resourceVersion', () => {
  const t1 = new Date(1000);
  assert.deepEqual(seriesPatch(stored({ metadata: { name: 'a.1', resourceVersion: '7' } }), t1), {
    metadata: { resourceVersion: '7' },
    series: { count: 2, lastObservedTime: t1 },
  });
  const t2 = new Date(2000);
  assert.deepEqual(seriesPatch(stored({ series: { count: 2, lastObservedTime: t1 } }), t2), {
    metadata: {},
    series: { count: 3, lastObservedTime: t2 },
  });
});
