import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeProgress, ProgressThrottle } from './progress-report.ts';

const snap = (bytesDone: number, bytesTotal = 1000) => ({
  bytesDone,
  bytesTotal,
  percent: Math.floor((bytesDone * 100) / bytesTotal),
});

test('at most one report per period, the first one period after the start', () => {
  const t = new ProgressThrottle(10_000, 0);
  assert.equal(t.due(5_000, snap(100)), false); // a copy shorter than a period reports nothing
  assert.equal(t.due(10_000, snap(200)), true);
  assert.equal(t.due(15_000, snap(300)), false);
  assert.equal(t.due(19_999, snap(400)), false);
  assert.equal(t.due(20_000, snap(500)), true);
});

test('no report when no byte moved since the last one (a stalled copy is not rewritten)', () => {
  const t = new ProgressThrottle(1_000, 0);
  assert.equal(t.due(1_000, snap(100)), true);
  assert.equal(t.due(2_000, snap(100)), false);
  assert.equal(t.due(3_000, snap(100)), false);
  assert.equal(t.due(3_500, snap(101)), true);
});

test('nothing is reported before the total is known', () => {
  const t = new ProgressThrottle(1_000, 0);
  assert.equal(t.due(5_000, { bytesDone: 0, bytesTotal: 0, percent: 0 }), false);
});

test('the log message says done of total and the percentage', () => {
  assert.equal(
    describeProgress({ bytesDone: 13_107_200, bytesTotal: 52_428_800, percent: 25 }),
    '12.5 MiB of 50.0 MiB (25%)',
  );
});
