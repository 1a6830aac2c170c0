import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import type { ImageSetMirror, ImageSetMirrorStatus } from '#shared/crd/types.ts';
import {
  applyMirrorChange,
  imageIdDigest,
  isTagReference,
  judgeDrift,
  mirrorsOf,
  runningDigests,
} from './drift.ts';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const IMAGE = 'docker.io/library/app:v1';
const MIRROR = 'mirror.example.com/m/library/app:v1';

function running(name: string, imageID: string, original?: string, image = 'app:v1'): V1Pod {
  return {
    metadata: {
      name,
      ...(original
        ? { annotations: { 'kuik.enix.io/original-images': JSON.stringify({ c: original }) } }
        : {}),
    },
    spec: { containers: [{ name: 'c', image }] },
    status: {
      containerStatuses: [
        { name: 'c', image, imageID, ready: true, restartCount: 0, state: { running: {} } },
      ],
    },
  } as V1Pod;
}

const set = (digest: string | undefined, extra: object = {}): ImageSetMirror => ({
  apiVersion: 'kuik.enix.io/v1alpha1',
  kind: 'ImageSetMirror',
  metadata: { name: 's', namespace: 'n' },
  spec: {},
  status: {
    matchingImages: [
      {
        image: IMAGE,
        mirrors: [
          {
            image: MIRROR,
            mirroredAt: '2026-01-01T00:00:00Z',
            ...(digest ? { sourceDigest: digest } : {}),
            ...extra,
          },
        ],
      },
    ],
  },
});

test('the digest of an imageID, whatever the runtime prefix; a bare config digest is none', () => {
  assert.equal(imageIdDigest(`docker-pullable://app@${D1}`), D1);
  assert.equal(imageIdDigest(`docker.io/library/app@${D1}`), D1);
  assert.equal(imageIdDigest(D1), undefined);
  assert.equal(imageIdDigest(undefined), undefined);
});

test('running digests count containers by their original image, routed ones included, waiting ones not', () => {
  const waiting = running('w', `app@${D2}`);
  waiting.status!.containerStatuses![0]!.state = { waiting: {} };
  const pods = [
    running('a', `app@${D1}`),
    running('b', `mirror.example.com/m/library/app@${D1}`, 'app:v1', MIRROR),
    running('c', `app@${D2}`),
    running('other', `x@${D2}`, undefined, 'other:v1'),
    waiting,
  ];
  assert.deepEqual(
    [...runningDigests(pods, IMAGE)],
    [
      [D1, 2],
      [D2, 1],
    ],
  );
});

test('a digest reference cannot drift', () => {
  assert.equal(isTagReference(IMAGE), true);
  assert.equal(isTagReference(`docker.io/library/app@${D1}`), false);
});

test('no drift when the tag, the mirror (as copied from) and the containers agree', () => {
  const v = judgeDrift({
    image: IMAGE,
    upstream: D1,
    running: new Map([[D1, 3]]),
    mirrors: mirrorsOf([set(D1, { digest: 'sha256:filtered' })], IMAGE),
    action: 'remirror',
    previous: undefined,
    now: 't0',
  });
  assert.deepEqual(v, { drift: undefined, isNew: false, changes: [] });
});

test('report: the drift is recorded, the mirror left alone; the same drift again is not new and keeps detectedAt', () => {
  const input = {
    image: IMAGE,
    upstream: D2,
    running: new Map([[D1, 1]]),
    mirrors: mirrorsOf([set(D1)], IMAGE),
    action: 'report' as const,
    previous: undefined,
    now: 't0',
  };
  const v = judgeDrift(input);
  assert.deepEqual(v.drift, {
    upstream: D2,
    mirrors: [{ image: MIRROR, digest: D1 }],
    running: [{ digest: D1, containers: 1 }],
    detectedAt: 't0',
    action: 'Reported',
  });
  assert.equal(v.isNew, true);
  assert.deepEqual(v.changes, []);
  const again = judgeDrift({ ...input, previous: v.drift, now: 't1' });
  assert.equal(again.isNew, false);
  assert.equal(again.drift?.detectedAt, 't0');
});

test('remirror copies again every mirror holding another digest than the tag', () => {
  const v = judgeDrift({
    image: IMAGE,
    upstream: D2,
    running: new Map([[D1, 1]]),
    mirrors: mirrorsOf([set(D1)], IMAGE),
    action: 'remirror',
    previous: undefined,
    now: 't0',
  });
  assert.equal(v.drift?.action, 'Remirrored');
  assert.deepEqual(
    v.changes.map((c) => [c.kind, c.mirror]),
    [['remirror', MIRROR]],
  );
  const status = structuredClone(set(D1).status) as ImageSetMirrorStatus;
  assert.equal(applyMirrorChange(status, IMAGE, v.changes[0]!), true);
  assert.equal(status.matchingImages?.[0]?.mirrors?.[0]?.mirroredAt, undefined);
});

test('pin: the mirror is pinned to the one running digest, copied when it holds another; impossible when containers disagree', () => {
  const pin = (mirrorDigest: string, run: [string, number][]) =>
    judgeDrift({
      image: IMAGE,
      upstream: D2,
      running: new Map(run),
      mirrors: mirrorsOf([set(mirrorDigest)], IMAGE),
      action: 'pin',
      previous: undefined,
      now: 't0',
    });
  const copyBack = pin(D2, [[D1, 2]]);
  assert.equal(copyBack.drift?.action, 'Pinned');
  assert.deepEqual(
    copyBack.changes.map((c) => c.kind === 'pin' && [c.digest, c.copy]),
    [[D1, true]],
  );
  const status = structuredClone(set(D2).status) as ImageSetMirrorStatus;
  assert.equal(applyMirrorChange(status, IMAGE, copyBack.changes[0]!), true);
  assert.equal(status.matchingImages?.[0]?.mirrors?.[0]?.pinnedDigest, D1);
  assert.equal(status.matchingImages?.[0]?.mirrors?.[0]?.mirroredAt, undefined);

  const keep = pin(D1, [[D1, 2]]);
  assert.deepEqual(
    keep.changes.map((c) => c.kind === 'pin' && [c.digest, c.copy]),
    [[D1, false]],
  );
  const kept = structuredClone(set(D1).status) as ImageSetMirrorStatus;
  applyMirrorChange(kept, IMAGE, keep.changes[0]!);
  assert.equal(kept.matchingImages?.[0]?.mirrors?.[0]?.mirroredAt, '2026-01-01T00:00:00Z');

  const split = pin(D1, [
    [D1, 1],
    [D2, 1],
  ]);
  assert.equal(split.drift?.action, 'PinImpossible');
  assert.deepEqual(split.changes, []);
});

test('a mirror copied before sourceDigest was recorded is left out: its own digest may be a filtered index', () => {
  const legacy = set(undefined, { digest: D2 });
  assert.deepEqual(
    mirrorsOf([legacy], IMAGE).map((m) => m.digest),
    [undefined],
  );
  const v = judgeDrift({
    image: IMAGE,
    upstream: D1,
    running: new Map([[D1, 1]]),
    mirrors: mirrorsOf([legacy], IMAGE),
    action: 'remirror',
    previous: undefined,
    now: 't0',
  });
  assert.equal(v.drift, undefined);
});
