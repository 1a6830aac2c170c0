// §6.3 pacing: candidate order, the ledger's reservations, and the budget under concurrent ticks.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultConfig, resolveRegistryMonitoring } from '#shared/config/config.ts';
import type { MonitoredImage, MonitoringLedger } from '#shared/crd/types.ts';
import {
  collectCandidates,
  earliestStart,
  latestProbes,
  nextStart,
  overBudget,
  type Reservation,
  release,
  reserve,
  spacingMs,
} from './pacing.ts';

const T0 = Date.parse('2026-11-25T10:00:00Z');
const MIN = 60_000;
const known = new Set(['docker.io', 'quay.io', 'r.local:5000']);

describe('spacing (§6.3 step 3)', () => {
  test('defaults: 3h/25 = 7 min 12 s; docker.io 1h/6 = 10 min', () => {
    const c = defaultConfig();
    assert.equal(spacingMs(resolveRegistryMonitoring(c, 'quay.io')), 7 * MIN + 12_000);
    assert.equal(spacingMs(resolveRegistryMonitoring(c, 'docker.io')), 10 * MIN);
  });
});

describe('candidates (§6.3 step 1)', () => {
  const img = (image: string, lastMonitor?: string): MonitoredImage => ({
    image,
    status: lastMonitor ? 'Available' : 'Scheduled',
    ...(lastMonitor ? { lastMonitor } : {}),
  });

  test('grouped by registry, never-checked first, then the oldest lastMonitor, then by name', () => {
    const c = collectCandidates([
      {
        name: 'a',
        images: [
          img('docker.io/library/b', '2026-11-25T09:00:00Z'),
          img('docker.io/library/a', '2026-11-25T08:00:00Z'),
          img('docker.io/library/z'),
          img('docker.io/library/y'),
          img('quay.io/x/y:1', '2026-11-25T07:00:00Z'),
        ],
      },
    ]);
    assert.deepEqual(
      c.get('docker.io')?.map((x) => x.image),
      ['docker.io/library/y', 'docker.io/library/z', 'docker.io/library/a', 'docker.io/library/b'],
    );
    assert.deepEqual(
      c.get('quay.io')?.map((x) => x.image),
      ['quay.io/x/y:1'],
    );
  });

  test('an image listed by two CISAs is one candidate, as overdue as its most overdue entry', () => {
    const c = collectCandidates([
      { name: 'a', images: [img('docker.io/library/n', '2026-11-25T09:00:00Z')] },
      { name: 'b', images: [img('docker.io/library/n')] },
    ]);
    assert.deepEqual(c.get('docker.io'), [
      { image: 'docker.io/library/n', registry: 'docker.io', lastMonitor: undefined, holders: ['a', 'b'] },
    ]);
  });

  test('latestProbes is the most recent lastMonitor per registry', () => {
    const l = latestProbes([
      { images: [img('docker.io/a', '2026-11-25T09:00:00Z'), img('docker.io/b', '2026-11-25T09:30:00Z')] },
      { images: [img('quay.io/c/d'), img('docker.io/e', '2026-11-25T09:10:00Z')] },
    ]);
    assert.deepEqual([...l], [['docker.io', Date.parse('2026-11-25T09:30:00Z')]]);
  });
});

describe('reservations', () => {
  const opts = (over: Partial<Parameters<typeof reserve>[2]> = {}) => ({
    tickId: 'tick-1',
    now: T0,
    probeDeadline: T0 + 40_000,
    leaseUntil: T0 + 50_000,
    latest: new Map<string, number>(),
    known,
    ...over,
  });

  test('slots that fit before the probe deadline, at most one per candidate', () => {
    const r = reserve(undefined, [{ registry: 'r.local:5000', spacingMs: 10_000, wanted: 10 }], opts());
    assert.ok(r.ok);
    assert.deepEqual(r.value.reservations, [
      {
        registry: 'r.local:5000',
        spacingMs: 10_000,
        start: T0,
        deadline: T0 + 40_000,
        count: 4,
        end: '2026-11-25T10:00:50.000Z',
      },
    ]);
    assert.deepEqual(r.value.ledger, {
      lease: { holder: 'tick-1', until: '2026-11-25T10:00:50.000Z' },
      registries: [{ registry: 'r.local:5000', nextProbeAt: '2026-11-25T10:00:50.000Z' }],
    });
    const few = reserve(undefined, [{ registry: 'r.local:5000', spacingMs: 10_000, wanted: 2 }], opts());
    assert.ok(few.ok);
    assert.equal(few.value.reservations[0]?.count, 2);
  });

  test('a registry whose next slot is past the deadline gets no reservation', () => {
    const ledger: MonitoringLedger = {
      registries: [{ registry: 'docker.io', nextProbeAt: '2026-11-25T10:05:00.000Z' }],
    };
    const r = reserve(ledger, [{ registry: 'docker.io', spacingMs: 10 * MIN, wanted: 2 }], opts());
    assert.ok(r.ok);
    assert.deepEqual(r.value.reservations, []);
    assert.deepEqual(r.value.ledger.registries, ledger.registries);
  });

  test('another tick holding an unexpired lease refuses; an expired one is taken over', () => {
    const held: MonitoringLedger = { lease: { holder: 'other', until: '2026-11-25T10:00:30.000Z' } };
    assert.deepEqual(reserve(held, [], opts()), {
      ok: false,
      error: { holder: 'other', until: '2026-11-25T10:00:30.000Z' },
    });
    const r = reserve(held, [], opts({ now: T0 + 30_000 }));
    assert.ok(r.ok);
    assert.equal(r.value.ledger.lease?.holder, 'tick-1');
  });

  test('without a ledger entry, kuik-written lastMonitor (second precision) holds the registry back', () => {
    const latest = new Map([['docker.io', T0 - 5 * MIN]]);
    assert.equal(earliestStart(undefined, 'docker.io', 10 * MIN, latest), T0 + 5 * MIN + 1000);
    const ledger: MonitoringLedger = {
      registries: [{ registry: 'docker.io', nextProbeAt: '2026-11-25T10:01:00Z' }],
    };
    assert.equal(earliestStart(ledger, 'docker.io', 10 * MIN, latest), T0 + MIN);
  });

  test('ledger entries of registries without images are dropped', () => {
    const ledger: MonitoringLedger = {
      registries: [{ registry: 'gone.example', nextProbeAt: '2026-11-25T11:00:00Z' }],
    };
    const r = reserve(ledger, [], opts());
    assert.ok(r.ok);
    assert.deepEqual(r.value.ledger.registries, []);
  });

  test('release gives back unused slots, drops the lease, records the tick', () => {
    const r = reserve(undefined, [{ registry: 'quay.io', spacingMs: 10_000, wanted: 4 }], opts());
    assert.ok(r.ok);
    const record = {
      startedAt: '2026-11-25T10:00:00Z',
      finishedAt: '2026-11-25T10:00:41Z',
      outcome: 'BudgetExceeded' as const,
      probed: 2,
      pending: 2,
    };
    const after = release(
      r.value.ledger,
      'tick-1',
      r.value.reservations,
      new Map([['quay.io', T0 + 10_000]]),
      record,
    );
    assert.deepEqual(after, {
      registries: [{ registry: 'quay.io', nextProbeAt: '2026-11-25T10:00:20.000Z' }],
      lastTick: record,
    });
    // Nothing started: back to the first slot, never earlier.
    const none = release(r.value.ledger, 'tick-1', r.value.reservations, new Map(), record);
    assert.equal(none?.registries?.[0]?.nextProbeAt, '2026-11-25T10:00:00.000Z');
    // The lease went to someone else: not ours to write.
    assert.equal(
      release({ ...r.value.ledger, lease: { holder: 'x', until: 'y' } }, 'tick-1', [], new Map(), record),
      undefined,
    );
  });

  test('nextStart keeps the spacing, follows a late clock, and stops at the deadline', () => {
    const r: Reservation = { registry: 'x', spacingMs: 100, start: 1000, deadline: 1300, count: 3, end: '' };
    assert.equal(nextStart(r, undefined, 900), 1000);
    assert.equal(nextStart(r, 1000, 1010), 1100);
    assert.equal(nextStart(r, 1000, 1150), 1150);
    assert.equal(nextStart(r, 1250, 1260), undefined); // 1350 would be past the deadline
    assert.equal(nextStart(r, undefined, 1300), undefined);
  });
});

describe('§10.11 J and the budget across instances', () => {
  test('J: two docker.io images: the second probe starts no sooner than 10 minutes after the first', () => {
    const spacing = spacingMs(resolveRegistryMonitoring(defaultConfig(), 'docker.io'));
    // Ticks every minute, each with a 45 s budget, until both images are probed.
    let ledger: MonitoringLedger | undefined;
    const starts: number[] = [];
    for (let minute = 0; minute < 30 && starts.length < 2; minute++) {
      const now = T0 + minute * MIN;
      const r = reserve(ledger, [{ registry: 'docker.io', spacingMs: spacing, wanted: 2 - starts.length }], {
        tickId: `t${minute}`,
        now,
        probeDeadline: now + 40_000,
        leaseUntil: now + 45_000,
        latest: new Map(),
        known,
      });
      assert.ok(r.ok);
      const last = new Map<string, number>();
      for (const res of r.value.reservations) {
        let prev: number | undefined;
        let n = 0;
        for (
          let t = nextStart(res, prev, now);
          t !== undefined && n < res.count;
          t = nextStart(res, prev, t)
        ) {
          n++;
          starts.push(t);
          prev = t;
          last.set(res.registry, t);
        }
      }
      const done = { startedAt: '', finishedAt: '', outcome: 'Complete' as const, probed: 0, pending: 0 };
      ledger = release(r.value.ledger, `t${minute}`, r.value.reservations, last, done);
    }
    assert.equal(starts.length, 2);
    assert.ok((starts[1] as number) - (starts[0] as number) >= 10 * MIN, `${starts}`);
  });

  test('random interleavings of concurrent ticks on one ledger never put two starts closer than spacing', () => {
    // A versioned store stands in for the API server: a write succeeds only on the version read
    // (resourceVersion precondition); a conflict re-reads and recomputes, as Kube.updateStatus does.
    let stored: { version: number; ledger: MonitoringLedger | undefined } = { version: 0, ledger: undefined };
    const spacing = new Map([
      ['docker.io', 700],
      ['quay.io', 130],
      ['r.local:5000', 10],
    ]);
    const starts: { registry: string; at: number }[] = [];
    let seed = 42;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 300; round++) {
      const now = round * 250 + Math.floor(rand() * 100);
      // Two or three ticks read the same version, then race to write.
      const ticks = Array.from({ length: 2 + Math.floor(rand() * 2) }, (_, i) => `r${round}-${i}`);
      const reads = ticks.map(() => stored);
      for (const [i, tickId] of ticks.entries()) {
        let read = reads[i]!;
        for (;;) {
          const r = reserve(
            read.ledger,
            [...spacing].map(([registry, s]) => ({
              registry,
              spacingMs: s,
              wanted: Math.floor(rand() * 50),
            })),
            { tickId, now, probeDeadline: now + 200, leaseUntil: now + 240, latest: new Map(), known },
          );
          if (!r.ok) break;
          if (read.version !== stored.version) {
            read = stored; // 409: re-read, recompute
            continue;
          }
          stored = { version: stored.version + 1, ledger: r.value.ledger };
          // Use some of the slots, at jittered times, then give the rest back (sometimes die instead).
          const last = new Map<string, number>();
          for (const res of r.value.reservations) {
            let prev: number | undefined;
            let t = now;
            for (let n = 0; n < res.count; n++) {
              // The clock moves on between two starts (late wake-ups, slow credential lookups).
              const at = nextStart(res, prev, t + Math.floor(rand() * 40));
              if (at === undefined || rand() < 0.05) break;
              starts.push({ registry: res.registry, at });
              prev = at;
              t = at;
              last.set(res.registry, at);
            }
          }
          if (rand() < 0.9) {
            const done = {
              startedAt: '',
              finishedAt: '',
              outcome: 'Complete' as const,
              probed: 0,
              pending: 0,
            };
            const after = release(stored.ledger, tickId, r.value.reservations, last, done);
            if (after) stored = { version: stored.version + 1, ledger: after };
          }
          break;
        }
      }
    }
    assert.ok(starts.length > 1000, `only ${starts.length} probes`);
    assert.equal(
      overBudget(starts, (r) => spacing.get(r)!),
      0,
    );
  });
});
