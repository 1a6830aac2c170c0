// docs/behaviour.md §10.4: kuik's scenarios (55–62).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorMessage } from '#shared/errors.ts';
import { firstSuccessInOrder } from './first-in-order.ts';

const ok =
  (v: string, ms = 0) =>
  () =>
    new Promise<string>((r) => setTimeout(r, ms, v));
const fail =
  (e: string, ms = 0) =>
  () =>
    new Promise<string>((_, j) => setTimeout(j, ms, new Error(e)));
const msgs = (r: { errors: { error: unknown }[] }) => r.errors.map((e) => errorMessage(e.error));

test('55: every task succeeds → the first result', async () => {
  const r = await firstSuccessInOrder([ok('a'), ok('b'), ok('c')]);
  assert.deepEqual(r.winner, { index: 0, value: 'a' });
  assert.deepEqual(r.errors, []);
});
test('56: first fails, second succeeds → second, errors [first]', async () => {
  const r = await firstSuccessInOrder([fail('F1'), ok('b')]);
  assert.equal(r.winner?.value, 'b');
  assert.deepEqual(msgs(r), ['F1']);
});
test('57: the success finishing before the failing first still wins second place only after it', async () => {
  const r = await firstSuccessInOrder([fail('F1', 30), ok('b', 1)]);
  assert.equal(r.winner?.value, 'b');
  assert.deepEqual(msgs(r), ['F1']);
});
test('58: two slow failures then a fast success → success, errors [F1, F2]', async () => {
  const r = await firstSuccessInOrder([fail('F1', 20), fail('F2', 30), ok('c', 1)]);
  assert.equal(r.winner?.value, 'c');
  assert.deepEqual(msgs(r), ['F1', 'F2']);
});
test('59: a slow success first beats a fast success second (order wins over speed)', async () => {
  const r = await firstSuccessInOrder([ok('slow', 30), ok('fast', 1)]);
  assert.deepEqual(r.winner, { index: 0, value: 'slow' });
});
test('60: all fail → no result, all errors in order', async () => {
  const r = await firstSuccessInOrder([fail('F1', 10), fail('F2'), fail('F3', 5)]);
  assert.equal(r.winner, undefined);
  assert.deepEqual(msgs(r), ['F1', 'F2', 'F3']);
});
test('61: F1, F2, success, F3 → success, errors [F1, F2] only', async () => {
  const r = await firstSuccessInOrder([fail('F1'), fail('F2'), ok('c'), fail('F3')]);
  assert.equal(r.winner?.value, 'c');
  assert.deepEqual(msgs(r), ['F1', 'F2']);
});
test('62: empty input → no result', async () => {
  const r = await firstSuccessInOrder([]);
  assert.equal(r.winner, undefined);
  assert.deepEqual(r.errors, []);
});
test('a task that throws synchronously counts as a failure, not a crash', async () => {
  const r = await firstSuccessInOrder([
    () => {
      throw new Error('sync');
    },
    ok('b'),
  ]);
  assert.equal(r.winner?.value, 'b');
  assert.deepEqual(msgs(r), ['sync']);
});
