import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IdleGcPolicy, startIdleGc, v8FullGc } from './idle-gc.ts';

const o = { idleMs: 5_000, minIntervalMs: 60_000 };

test('collects once after start-up, then not again while nothing is admitted', () => {
  const p = new IdleGcPolicy(o);
  assert.equal(p.due(0), true);
  for (let t = 1_000; t < 600_000; t += 1_000) assert.equal(p.due(t), false, `at ${t} ms`);
});

test('collects once a load has stopped for idleMs, never during it', () => {
  const p = new IdleGcPolicy(o);
  assert.equal(p.due(0), true); // start-up
  // A load from 100 s to 200 s: one admission every 100 ms, the timer every second.
  let collections: number[] = [];
  for (let t = 100_000; t <= 260_000; t += 100) {
    if (t < 200_000) p.touch();
    if (t % 1_000 === 0 && p.due(t)) collections.push(t);
  }
  // The last admission was seen at the 200 s tick; 5 s later the collection runs, once.
  assert.deepEqual(collections, [205_000]);
  collections = [];
  for (let t = 261_000; t < 400_000; t += 1_000) if (p.due(t)) collections.push(t);
  assert.deepEqual(collections, []);
});

test('a router admitting a pod every few seconds collects at most once per minIntervalMs', () => {
  const p = new IdleGcPolicy(o);
  p.due(0);
  let collections = 0;
  // An admission every 7 s (longer than idleMs) for 10 minutes.
  for (let t = 1_000; t <= 600_000; t += 1_000) {
    if (t % 7_000 === 0) p.touch();
    if (p.due(t)) collections++;
  }
  assert.ok(collections >= 9 && collections <= 10, `${collections} collections in 10 minutes`);
});

test('an admission only counts itself: the decision is made on the timer', () => {
  const p = new IdleGcPolicy({ idleMs: 0, minIntervalMs: 0 });
  p.due(0);
  p.touch();
  p.touch();
  // The first tick after admissions notes them; the next one with none collects.
  assert.equal(p.due(1), false);
  assert.equal(p.due(2), true);
  assert.equal(p.due(3), false);
});

test('v8FullGc collects garbage (an object only a WeakRef points to is gone)', async () => {
  const gc = v8FullGc();
  let ref: WeakRef<object> | undefined;
  (() => {
    ref = new WeakRef({ big: new Array(1000).fill(0) });
  })();
  // WeakRef targets live until the end of the current job.
  await new Promise((r) => setImmediate(r));
  gc();
  assert.equal(ref!.deref(), undefined);
});

test('startIdleGc runs the collection from its timer and reports its duration', async () => {
  let collected = 0;
  const durations: number[] = [];
  const g = startIdleGc(
    () => collected++,
    (ms) => durations.push(ms),
    { idleMs: 20, minIntervalMs: 0 },
  );
  try {
    const deadline = Date.now() + 30_000;
    while (collected === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(collected, 1, 'the start-up collection');
    g.touch();
    while (collected === 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(collected, 2, 'the collection after an admission');
    assert.equal(durations.length, 2);
  } finally {
    g.stop();
  }
});
