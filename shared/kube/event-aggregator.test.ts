import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventAggregator, type SeriesWriter } from './event-aggregator.ts';
import type { EventFacts, StoredEventRef } from './event-series.ts';

const rs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'shop-1', namespace: 'ns', uid: 'u' };
const facts: EventFacts = {
  type: 'Normal',
  reason: 'ImageRerouted',
  action: 'Route',
  note: 'container api: a → b',
  controller: 'kuik.enix.io/router',
};

/** A writer that records its calls and answers when `release` is called (or at once). */
function writer(hold = false) {
  const calls: { name: string; add: number; known: StoredEventRef | undefined }[] = [];
  const waiting: (() => void)[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let total = 0;
  const write: SeriesWriter = async (regarding, _f, add, known) => {
    calls.push({ name: regarding.name, add, known });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    if (hold) await new Promise<void>((r) => waiting.push(r));
    inFlight--;
    total += add;
    return { name: `${regarding.name}.1`, resourceVersion: String(calls.length), count: total };
  };
  return {
    write,
    calls,
    release: () => {
      for (const w of waiting.splice(0)) w();
    },
    get maxInFlight() {
      return maxInFlight;
    },
  };
}

test('1,000 repeats of one event cost two writes: the first at once, the rest as one series update', async () => {
  const w = writer(true);
  const agg = new EventAggregator({ write: w.write, intervalMs: 60_000 });
  for (let i = 0; i < 1000; i++) agg.record(rs, facts);
  assert.equal(w.calls.length, 1);
  assert.equal(w.calls[0]?.add, 1);
  w.release();
  const flushed = agg.flush();
  await new Promise((r) => setImmediate(r));
  w.release();
  await flushed;
  assert.deepEqual(
    w.calls.map((c) => c.add),
    [1, 999],
  );
  // The second write adds to the event the first one stored, without looking it up.
  assert.deepEqual(w.calls[1]?.known, { name: 'shop-1.1', resourceVersion: '1', count: 1 });
});

test('the interval holds repeats back: nothing is written before it, everything after', async () => {
  const w = writer();
  const agg = new EventAggregator({ write: w.write, intervalMs: 100 });
  agg.record(rs, facts);
  await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 5; i++) agg.record(rs, facts);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(w.calls.length, 1);
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(
    w.calls.map((c) => c.add),
    [1, 5],
  );
  agg.stop();
});

test('writes in flight are bounded whatever the number of keys', async () => {
  const w = writer(true);
  const agg = new EventAggregator({ write: w.write, maxInFlight: 2 });
  for (let i = 0; i < 10; i++) agg.record({ ...rs, name: `rs-${i}` }, facts);
  assert.equal(w.calls.length, 2);
  const done = agg.flush();
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setImmediate(r));
    w.release();
  }
  await done;
  assert.equal(w.calls.length, 10);
  assert.equal(w.maxInFlight, 2);
});

test('keys are bounded: idle keys are forgotten, and when every key is busy a new one is dropped', async () => {
  const w = writer(true);
  const agg = new EventAggregator({ write: w.write, maxKeys: 3, maxInFlight: 10 });
  for (let i = 0; i < 3; i++) agg.record({ ...rs, name: `rs-${i}` }, facts);
  agg.record({ ...rs, name: 'rs-3' }, facts);
  assert.equal(agg.dropped, 1);
  assert.equal(agg.keys, 3);
  w.release();
  await agg.flush();
  agg.record({ ...rs, name: 'rs-4' }, facts);
  assert.equal(agg.dropped, 1);
  assert.equal(agg.keys, 3);
  w.release();
  await agg.flush();
  assert.deepEqual(
    w.calls.map((c) => c.name),
    ['rs-0', 'rs-1', 'rs-2', 'rs-4'],
  );
});

test('a failed write reports the occurrences it lost, and the next one looks the event up again', async () => {
  const lost: number[] = [];
  let fail = true;
  const calls: (StoredEventRef | undefined)[] = [];
  const agg = new EventAggregator({
    write: async (_r, _f, add, known) => {
      calls.push(known);
      if (fail) throw new Error('apiserver down');
      return { name: 'e', resourceVersion: '1', count: add };
    },
    onError: (_e, _r, _f, n) => void lost.push(n),
  });
  agg.record(rs, facts);
  await agg.flush();
  fail = false;
  agg.record(rs, facts);
  agg.record(rs, facts);
  await agg.flush();
  agg.record(rs, facts);
  await agg.flush();
  assert.deepEqual(lost, [1]);
  assert.deepEqual(calls, [undefined, undefined, { name: 'e', resourceVersion: '1', count: 2 }]);
});
