// Tick coalescing: one tick whatever the number of requests, within a run and within the interval.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TickGate } from './gate.ts';

test('a request while a tick runs is coalesced, naming when that tick started', () => {
  let now = 1_000;
  const gate = new TickGate(20_000, () => now);
  assert.deepEqual(gate.admit(), { run: true, startedAt: 1_000 });
  now = 1_500;
  assert.deepEqual(gate.admit(), { run: false, reason: 'Running', runningSince: 1_000 });
});

test('after a successful tick, requests within the interval are coalesced; the next one after it runs', () => {
  let now = 0;
  const gate = new TickGate(20_000, () => now);
  assert.equal(gate.admit().run, true);
  now = 3_000;
  gate.done(true);
  for (const t of [3_001, 10_000, 19_999]) {
    now = t;
    assert.deepEqual(gate.admit(), { run: false, reason: 'TooSoon', lastTickAt: 0, nextTickAfter: 20_000 });
  }
  now = 20_000;
  assert.deepEqual(gate.admit(), { run: true, startedAt: 20_000 });
});

test("a failed tick does not start the interval: the sender's retry runs", () => {
  let now = 0;
  const gate = new TickGate(20_000, () => now);
  assert.equal(gate.admit().run, true);
  gate.done(false);
  now = 100;
  assert.equal(gate.admit().run, true);
});

test('interval 0: only a running tick coalesces', () => {
  const now = 5;
  const gate = new TickGate(0, () => now);
  assert.equal(gate.admit().run, true);
  assert.equal(gate.admit().run, false);
  gate.done(true);
  assert.equal(gate.admit().run, true);
});
