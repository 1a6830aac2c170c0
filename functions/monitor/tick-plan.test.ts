// The per-CISA parts of a tick: invalid filters (§10.9 137/138), the ledger CISA, and the status
// written at the end of the tick (discovery + results + ledger, recomputed from what is stored).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { withAvailabilitySummary } from '#shared/crd/summary.ts';
import type { ClusterImageSetAvailability, MonitoredImage } from '#shared/crd/types.ts';
import { collectCandidates } from './pacing.ts';
import { applyResults, compileCisa, finalStatus, ledgerHolder, type ProbeRecord } from './tick-plan.ts';

const NOW = Date.parse('2026-11-25T10:00:00Z');

const cisa = (
  name: string,
  spec: ClusterImageSetAvailability['spec'],
  images: MonitoredImage[] = [],
  created = '2026-11-01T00:00:00Z',
): ClusterImageSetAvailability => ({
  apiVersion: 'kuik.enix.io/v1alpha1',
  kind: 'ClusterImageSetAvailability',
  metadata: { name, uid: `uid-${name}`, creationTimestamp: created },
  spec,
  status: { imageCount: images.length, images },
});

const pod = (image: string, labels: Record<string, string> = {}): V1Pod => ({
  metadata: { namespace: 'default', name: 'p', labels },
  spec: { containers: [{ name: 'c', image }] },
});

describe('invalid filters', () => {
  test('137: a label include "===" is an error on the pod part; nothing changes', () => {
    const stored = [{ image: 'docker.io/library/nginx', status: 'Available' as const }];
    const c = compileCisa(
      cisa('bad', { filter: { include: [{ label: '===' }] } }, stored),
      [pod('redis')],
      () => false,
      new Set(),
      NOW,
    );
    assert.equal(c.filterError?.part, 'pod');
    assert.match(c.filterError?.message ?? '', /^spec\.filter\.include\[0\]\.label: /);
    assert.deepEqual(c.images, stored);
  });

  test('138: a CISA with an invalid filter contributes no monitoring candidates', () => {
    const bad = compileCisa(
      cisa('bad', { filter: { include: [{ image: '(' }] } }, [
        { image: 'invalid-filter-registry.example.com/foo:latest', status: 'Available' },
      ]),
      [],
      () => false,
      new Set(),
      NOW,
    );
    const good = compileCisa(
      cisa('good', { imageFilter: { include: ['.*'] } }),
      [pod('quay.io/a/b:1')],
      () => false,
      new Set(),
      NOW,
    );
    const candidates = collectCandidates([bad, good].filter((c) => !c.filterError));
    assert.deepEqual([...candidates.keys()], ['quay.io']);
  });

  test('globally skipped pods are not in scope', () => {
    const c = compileCisa(
      cisa('a', { imageFilter: { include: ['.*'] } }),
      [pod('redis', { skip: 'yes' }), pod('nginx')],
      (p) => p.metadata?.labels?.['skip'] === 'yes',
      new Set(),
      NOW,
    );
    assert.deepEqual(
      c.images.map((i) => i.image),
      ['docker.io/library/nginx'],
    );
  });
});

describe('the ledger CISA', () => {
  test('is the oldest, then the first by name; a newer CISA never takes it', () => {
    const a = cisa('b-old', {}, [], '2026-01-01T00:00:00Z');
    const b = cisa('a-new', {}, [], '2026-06-01T00:00:00Z');
    const c = cisa('a-old', {}, [], '2026-01-01T00:00:00Z');
    assert.equal(ledgerHolder([a, b, c])?.metadata.name, 'a-old');
    assert.equal(ledgerHolder([b])?.metadata.name, 'a-new');
    assert.equal(ledgerHolder([]), undefined);
  });
});

describe('the status written at the end of a tick', () => {
  const result = (status: ProbeRecord['status'], lastError?: string): ProbeRecord => ({
    status,
    lastError,
    at: NOW + 1500,
  });

  test('results set status, lastMonitor (seconds) and lastError; success clears lastError', () => {
    const out = applyResults(
      [
        { image: 'a', status: 'NotFound', lastError: 'image not found: a' },
        { image: 'b', status: 'Scheduled' },
        { image: 'c', status: 'Available' },
      ],
      new Map([
        ['a', result('Available')],
        ['b', result('Unreachable', 'registry unreachable: b')],
      ]),
    );
    assert.deepEqual(out, [
      { image: 'a', status: 'Available', lastMonitor: '2026-11-25T10:00:01Z' },
      {
        image: 'b',
        status: 'Unreachable',
        lastMonitor: '2026-11-25T10:00:01Z',
        lastError: 'registry unreachable: b',
      },
      { image: 'c', status: 'Available' },
    ]);
  });

  test('a newer result already stored is kept', () => {
    const newer = { image: 'a', status: 'NotFound' as const, lastMonitor: '2026-11-25T10:05:00Z' };
    assert.deepEqual(applyResults([newer], new Map([['a', result('Available')]])), [newer]);
  });

  test('discovery is recomputed on the stored status: an entry added meanwhile is kept, a result lands', () => {
    const spec = { imageFilter: { include: ['.*'] } };
    const compiled = compileCisa(cisa('a', spec), [pod('nginx')], () => false, new Set(), NOW);
    const stored = cisa('a', spec, [
      { image: 'docker.io/library/nginx', status: 'Scheduled', original: false },
      { image: 'docker.io/library/redis', status: 'Available', lastMonitor: '2026-11-25T09:00:00Z' },
    ]);
    const next = finalStatus({
      stored,
      compiled,
      allOriginals: new Set(),
      results: new Map([['docker.io/library/nginx', result('Available')]]),
      ledger: undefined,
      now: NOW,
    });
    const { availableCount, unavailableCount, conditions, ...rest } = next ?? {};
    assert.deepEqual({ availableCount, unavailableCount }, { availableCount: 2, unavailableCount: 0 });
    assert.deepEqual(conditions, [
      {
        type: 'Ready',
        status: 'True',
        lastTransitionTime: '2026-11-25T10:00:00Z',
        reason: 'AllAvailable',
        message: '1 image in use, all available',
      },
    ]);
    assert.deepEqual(rest, {
      imageCount: 2,
      images: [
        {
          image: 'docker.io/library/nginx',
          status: 'Available',
          original: false,
          lastMonitor: '2026-11-25T10:00:01Z',
        },
        {
          image: 'docker.io/library/redis',
          status: 'Available',
          lastMonitor: '2026-11-25T09:00:00Z',
          unusedSince: '2026-11-25T10:00:00Z',
        },
      ],
    });
  });

  test('nothing changed: no write', () => {
    const spec = { imageFilter: { include: ['.*'] } };
    const images: MonitoredImage[] = [{ image: 'docker.io/library/nginx', status: 'Available' }];
    const compiled = compileCisa(cisa('a', spec, images), [pod('nginx')], () => false, new Set(), NOW);
    const stored = cisa('a', spec, images);
    // As the previous tick left it, an hour ago: the same verdict is not written again.
    stored.status = withAvailabilitySummary(stored.status ?? {}, { now: NOW - 3_600_000 });
    const out = finalStatus({
      stored,
      compiled,
      allOriginals: new Set(),
      results: new Map(),
      ledger: undefined,
      now: NOW,
    });
    assert.equal(out, undefined);
  });

  test('an invalid filter leaves images and count alone but still carries the ledger', () => {
    const spec = { filter: { include: [{ label: '===' }] } };
    const images: MonitoredImage[] = [{ image: 'docker.io/library/nginx', status: 'Available' }];
    const compiled = compileCisa(cisa('a', spec, images), [], () => false, new Set(), NOW);
    const out = finalStatus({
      stored: cisa('a', spec, images),
      compiled,
      allOriginals: new Set(),
      results: new Map([['docker.io/library/nginx', result('NotFound', 'x')]]),
      ledger: () => ({ registries: [] }),
      now: NOW,
    });
    const { conditions, ...rest } = out ?? {};
    assert.deepEqual(rest, {
      imageCount: 1,
      images,
      monitoring: { registries: [] },
      availableCount: 1,
      unavailableCount: 0,
    });
    assert.equal(conditions?.[0]?.status, 'False');
    assert.equal(conditions?.[0]?.reason, 'InvalidFilter');
    assert.match(conditions?.[0]?.message ?? '', /^filter is invalid: spec\.filter\.include\[0\]\.label/);
  });
});
