// §10.7 scenarios 105–106 and the status mutation itself.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ImageSetMirrorStatus } from '#shared/crd/types.ts';
import { clearMirroredAt, StaleMirrorClearer, type StaleResult, type StatusWriter } from './stale-mirror.ts';

const cr = { kind: 'ClusterImageSetMirror' as const, name: 'g', uid: 'u1' };

test('clearMirroredAt removes mirroredAt from every entry of the image, and only there', () => {
  const status: ImageSetMirrorStatus = {
    matchingImages: [
      {
        image: 'docker.io/library/nginx:1',
        mirrors: [
          { image: 'h/m/library/nginx:1', mirroredAt: '2026-01-01T00:00:00Z' },
          { image: 'o/library/nginx:1', mirroredAt: '2026-01-01T00:00:00Z' },
        ],
      },
    ],
  };
  assert.equal(clearMirroredAt(status, 'h/m/library/nginx:1'), true);
  assert.equal(status.matchingImages![0]!.mirrors![0]!.mirroredAt, undefined);
  assert.equal(status.matchingImages![0]!.mirrors![1]!.mirroredAt, '2026-01-01T00:00:00Z');
  assert.equal(clearMirroredAt(status, 'h/m/library/nginx:1'), false);
});

const writer = (impl: StatusWriter['updateStatus']): StatusWriter => ({ updateStatus: impl });

test('106: a full semaphore drops the run; once free, a run starts and completes', async () => {
  let release!: () => void;
  const blocked = new Promise<void>((r) => (release = r));
  const results: StaleResult[] = [];
  const clearer = new StaleMirrorClearer({
    maxConcurrent: 1,
    timeoutMs: 5000,
    onResult: (r) => results.push(r),
    writer: writer(async (_ref, mutate) => {
      await blocked;
      const obj = {
        metadata: { uid: 'u1' },
        status: { matchingImages: [{ image: 'x', mirrors: [{ image: 'm', mirroredAt: 't' }] }] },
      };
      return mutate(obj as never) ? (obj as never) : undefined;
    }),
  });
  const first = clearer.signal(cr, 'm');
  assert.ok(first);
  assert.equal(clearer.signal(cr, 'm'), undefined);
  assert.equal(results.at(-1)?.result, 'dropped');
  release();
  await first;
  const again = clearer.signal(cr, 'm');
  assert.ok(again);
  await again;
  assert.deepEqual(
    results.map((r) => r.result),
    ['dropped', 'cleared', 'cleared'],
  );
});

test('105: a run that cannot finish gives up at its deadline instead of hanging', async () => {
  const results: StaleResult[] = [];
  const clearer = new StaleMirrorClearer({
    maxConcurrent: 2,
    timeoutMs: 30,
    onResult: (r) => results.push(r),
    writer: writer(() => new Promise(() => {})),
  });
  await clearer.signal(cr, 'm');
  assert.equal(results[0]?.result, 'error');
  assert.match(results[0]?.error ?? '', /timed out/);
  // The slot was released.
  assert.ok(clearer.signal(cr, 'm'));
});

test('a CR recreated under the same name (another uid) is left alone', async () => {
  const results: StaleResult[] = [];
  const clearer = new StaleMirrorClearer({
    maxConcurrent: 1,
    timeoutMs: 1000,
    onResult: (r) => results.push(r),
    writer: writer(async (_ref, mutate) => {
      const obj = {
        metadata: { uid: 'other' },
        status: { matchingImages: [{ image: 'x', mirrors: [{ image: 'm', mirroredAt: 't' }] }] },
      };
      return mutate(obj as never) ? (obj as never) : undefined;
    }),
  });
  await clearer.signal(cr, 'm');
  assert.equal(results[0]?.result, 'unchanged');
});
