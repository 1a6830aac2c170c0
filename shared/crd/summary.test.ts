import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setCondition } from './conditions.ts';
import {
  availabilityReady,
  mirrorSetCounts,
  mirrorSetReady,
  replicatedReady,
  withAvailabilitySummary,
  withMirrorSetSummary,
} from './summary.ts';
import type { MatchingImage } from './types.ts';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const T1 = T0 + 60_000;

describe('setCondition', () => {
  test('lastTransitionTime moves only when status flips, not on a new reason or message', () => {
    const first = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'A', message: 'a' }, T0);
    assert.equal(first[0]?.lastTransitionTime, '2026-12-01T10:00:00Z');
    const sameStatus = setCondition(first, { type: 'Ready', status: 'False', reason: 'B', message: 'b' }, T1);
    assert.equal(sameStatus[0]?.lastTransitionTime, '2026-12-01T10:00:00Z');
    assert.equal(sameStatus[0]?.reason, 'B');
    const flipped = setCondition(
      sameStatus,
      { type: 'Ready', status: 'True', reason: 'C', message: 'c', observedGeneration: 3 },
      T1,
    );
    assert.deepEqual(flipped, [
      {
        type: 'Ready',
        status: 'True',
        observedGeneration: 3,
        lastTransitionTime: '2026-12-01T10:01:00Z',
        reason: 'C',
        message: 'c',
      },
    ]);
  });

  test('other condition types are kept in place and a long message is cut', () => {
    const other = {
      type: 'Other',
      status: 'True' as const,
      lastTransitionTime: 'x',
      reason: 'R',
      message: 'm',
    };
    const out = setCondition(
      [other],
      { type: 'Ready', status: 'True', reason: 'R', message: 'm'.repeat(5000) },
      T0,
    );
    assert.equal(out[0], other);
    assert.equal(out[1]?.message.length, 1024);
  });
});

describe('mirror sets', () => {
  const images: MatchingImage[] = [
    {
      image: 'docker.io/library/a:1',
      mirrors: [
        { image: 'm1/a:1', mirroredAt: '2026-12-01T09:00:00Z' },
        { image: 'm2/a:1', lastError: 'boom' },
      ],
    },
    { image: 'docker.io/library/b:1', mirrors: [{ image: 'm1/b:1' }] },
    // Unused: its old error and missing copy are not the mirror set's problem any more.
    {
      image: 'docker.io/library/c:1',
      unusedSince: '2026-12-01T08:00:00Z',
      mirrors: [{ image: 'm1/c:1', lastError: 'old' }],
    },
  ];

  test('counts: mirrored everywhere, pending and failing only for images in use', () => {
    assert.deepEqual(mirrorSetCounts(images), {
      imageCount: 3,
      mirroredCount: 1,
      pendingCount: 1,
      failingCount: 1,
    });
  });

  test('Ready is False with MirrorFailed and names the failing mirror', () => {
    assert.deepEqual(mirrorSetReady(images), {
      type: 'Ready',
      status: 'False',
      reason: 'MirrorFailed',
      message: '1 of 3 mirrors failed: m2/a:1: boom',
    });
  });

  test('Ready is Unknown while copies are due, True once every mirror is in place', () => {
    const pending: MatchingImage[] = [
      { image: 'a', mirrors: [{ image: 'm/a' }, { image: 'n/a', mirroredAt: 'x' }] },
    ];
    assert.equal(mirrorSetReady(pending).status, 'Unknown');
    assert.equal(mirrorSetReady(pending).reason, 'Mirroring');
    const done: MatchingImage[] = [{ image: 'a', mirrors: [{ image: 'm/a', mirroredAt: 'x' }] }];
    assert.deepEqual(mirrorSetReady(done), {
      type: 'Ready',
      status: 'True',
      reason: 'Mirrored',
      message: '1 mirror of 1 image in use in place',
    });
    assert.equal(mirrorSetReady([]).reason, 'NothingToMirror');
    assert.equal(mirrorSetReady([], 'filter is invalid: x').reason, 'InvalidFilter');
  });

  test('the copy keeps the observed generation and a stored InvalidFilter verdict', () => {
    const byReconcile = withMirrorSetSummary(
      { matchingImages: [] },
      { now: T0, observedGeneration: 4, invalidFilter: 'filter is invalid: x' },
    );
    const byCopy = withMirrorSetSummary(byReconcile, { now: T1, keepInvalidFilter: true });
    assert.equal(byCopy.conditions?.[0]?.reason, 'InvalidFilter');
    assert.equal(byCopy.conditions?.[0]?.observedGeneration, 4);
    // Reconcile, with a fixed filter, says otherwise.
    const fixed = withMirrorSetSummary(byCopy, { now: T1, observedGeneration: 5 });
    assert.equal(fixed.conditions?.[0]?.status, 'True');
    assert.equal(fixed.conditions?.[0]?.lastTransitionTime, '2026-12-01T10:01:00Z');
  });
});

describe('ClusterImageSetAvailability', () => {
  test('False when an image in use is unavailable; unused ones do not count', () => {
    const r = availabilityReady([
      { image: 'a', status: 'Available' },
      { image: 'b', status: 'NotFound' },
      { image: 'c', status: 'Unreachable', unusedSince: 'x' },
    ]);
    assert.deepEqual(r, {
      type: 'Ready',
      status: 'False',
      reason: 'ImagesUnavailable',
      message: '1 of 2 images in use unavailable: b (NotFound)',
    });
    assert.equal(availabilityReady([{ image: 'a', status: 'Scheduled' }]).status, 'Unknown');
    assert.equal(availabilityReady([{ image: 'a', status: 'Available' }]).status, 'True');
  });

  test('counts every image: available, and checked but not available', () => {
    const s = withAvailabilitySummary(
      {
        images: [
          { image: 'a', status: 'Available' },
          { image: 'b', status: 'QuotaExceeded' },
          { image: 'c', status: 'Scheduled' },
          { image: 'd', status: 'InvalidAuth', unusedSince: 'x' },
        ],
      },
      { now: T0, observedGeneration: 2 },
    );
    assert.equal(s.availableCount, 1);
    assert.equal(s.unavailableCount, 2);
    assert.equal(s.conditions?.[0]?.observedGeneration, 2);
  });
});

describe('ReplicatedImageSet', () => {
  test('False with the reason the router skips it, True otherwise', () => {
    const ups = [
      { registry: 'quay.io', path: '/x', imageFilter: { include: ['.*'] } },
      { registry: 'ghcr.io', path: '' },
    ];
    assert.deepEqual(replicatedReady(ups, { upstreams: [] }), {
      type: 'Ready',
      status: 'True',
      reason: 'Valid',
      message: '2 upstreams, 1 with an imageFilter',
    });
    assert.equal(
      replicatedReady(ups, { podFilter: 'filter is invalid: x', upstreams: [] }).reason,
      'InvalidFilter',
    );
    assert.equal(replicatedReady(ups, { upstreams: ['bad'] }).reason, 'InvalidUpstreamFilter');
  });
});
