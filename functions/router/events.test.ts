import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import type { Kube } from '#shared/kube/client.ts';
import { createLogger } from '#shared/log.ts';
import type { ContainerDecision } from './decide.ts';
import { RerouteEvents } from './events.ts';

// A flood of reviews for named pods that are never stored (forged, or refused by a later webhook):
// each waits a while for its pod to learn the UID, so what is held at once must be bounded (issue
// 14: before, every such review held its pod and polled the API for ~11 s, without a bound).
test('reroutes of named pods that never get stored: at most 256 wait for their pod, the rest are dropped and counted', async () => {
  let reads = 0;
  let inFlight = 0;
  let most = 0;
  const gone = () => Object.assign(new Error('pods "p" not found'), { code: 404 });
  const kube = {
    core: {
      readNamespacedPod: async () => {
        reads++;
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setImmediate(r));
        inFlight--;
        throw gone();
      },
    },
    addToEventSeries: async () => {
      throw new Error('no event may be written for a pod that was never stored');
    },
  } as unknown as Kube;
  const events = new RerouteEvents(kube, createLogger('test', 'silent'), { intervalMs: 10 });
  const decision = {
    container: 'c',
    original: 'upstream.example/app:1',
    chosen: 'mirror.example/app:1',
    reason: 'OnFailure',
    by: 'ImageSetMirror demo/m',
    alternatives: [],
    rejected: [],
  } as unknown as ContainerDecision;
  const pods = 1_000;
  for (let i = 0; i < pods; i++) {
    const pod: V1Pod = { metadata: { name: `p${i}`, namespace: 'flood' } };
    events.emit(pod, 'flood', [decision]);
  }
  assert.equal(events.dropped, pods - 256, 'every reroute past the bound is dropped at once and counted');
  // The lookups run on timers; wait for the first round of them.
  await new Promise((r) => setTimeout(r, 400));
  assert.ok(reads > 0 && reads <= 256, `reads after the first round: ${reads}`);
  assert.ok(most <= 256, `lookups in flight at once: ${most}`);
  events.stop();
});
