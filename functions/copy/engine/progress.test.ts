import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CopyProgress, percentOf } from './progress.ts';

test('percent rounds down: 100 only when every byte is there, 0 before the total is known', () => {
  assert.equal(percentOf(0, 0), 0);
  assert.equal(percentOf(1, 3), 33);
  assert.equal(percentOf(999, 1000), 99);
  assert.equal(percentOf(1000, 1000), 100);
  assert.equal(percentOf(2000, 1000), 100);
  assert.equal(percentOf(-5, 1000), 0);
});

test('a blob shared by two manifests counts once; done adds completed blobs and transfers in flight', () => {
  const p = new CopyProgress();
  p.expect([
    { digest: 'sha256:a', size: 100 },
    { digest: 'sha256:b', size: 300 },
  ]);
  p.expect([
    { digest: 'sha256:b', size: 300 },
    { digest: 'sha256:c', size: 600 },
  ]);
  assert.deepEqual(p.snapshot(), { bytesDone: 0, bytesTotal: 1000, percent: 0 });
  p.complete('sha256:a');
  let at = 150;
  p.live('sha256:b', () => at);
  assert.deepEqual(p.snapshot(), { bytesDone: 250, bytesTotal: 1000, percent: 25 });
  at = 999; // a reader never counts past its blob
  assert.equal(p.snapshot().bytesDone, 400);
  p.complete('sha256:b');
  p.complete('sha256:c');
  assert.deepEqual(p.snapshot(), { bytesDone: 1000, bytesTotal: 1000, percent: 100 });
});

test('blobs outside the image (signatures) change nothing', () => {
  const p = new CopyProgress();
  p.expect([{ digest: 'sha256:a', size: 10 }]);
  p.live('sha256:sig', () => 5);
  p.complete('sha256:sig');
  assert.deepEqual(p.snapshot(), { bytesDone: 0, bytesTotal: 10, percent: 0 });
});

test('a completed blob stays complete if a late transfer reports on it', () => {
  const p = new CopyProgress();
  p.expect([{ digest: 'sha256:a', size: 10 }]);
  p.complete('sha256:a');
  p.live('sha256:a', () => 0);
  assert.equal(p.snapshot().bytesDone, 10);
});
