import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BoundedLabel, memoFor, operationLabel } from './labels.ts';

test('operation label: the four admission operations keep their name, anything else is other', () => {
  for (const op of ['CREATE', 'UPDATE', 'DELETE', 'CONNECT']) assert.equal(operationLabel(op), op);
  assert.equal(operationLabel(undefined), 'unknown');
  const values = new Set(Array.from({ length: 1000 }, (_, i) => operationLabel(`OP-${i}`)));
  assert.deepEqual([...values], ['other']);
  assert.equal(operationLabel('create'), 'other');
});

test('bounded label: known values always keep their name, at most max others do', () => {
  const label = new BoundedLabel(3, () => new Set(['mirror.example']));
  const seen = new Set<string>();
  for (let i = 0; i < 100; i++) seen.add(label.of(`host-${i}.example`));
  assert.deepEqual([...seen].sort(), ['host-0.example', 'host-1.example', 'host-2.example', 'other']);
  assert.equal(label.of('mirror.example'), 'mirror.example');
  assert.equal(label.of('host-1.example'), 'host-1.example');
});

test('memoFor recomputes only after its period', () => {
  let t = 0;
  let calls = 0;
  const f = memoFor(
    10,
    () => ++calls,
    () => t,
  );
  assert.equal(f(), 1);
  t = 9;
  assert.equal(f(), 1);
  t = 10;
  assert.equal(f(), 2);
});
