// Reconcile's copy requests against a copy sink that answers only when the copy is done (the copy
// Service itself, COPY_SINK pointing at it): the requests of one event go out together, a bounded
// number at a time, instead of one after the other (issue 14 item 5d: six mirrors on a stalled
// registry held one event for the sum of the copies, past the Service's 60 s timeout).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, test } from 'node:test';
import { parseConfig } from '#shared/config/config.ts';
import type { KuikRef } from '#shared/kube/client.ts';
import { createLogger } from '#shared/log.ts';
import { RegistryClient } from '#shared/registry/client.ts';
import { reconcileDeps } from '../../functions/reconcile/main.ts';
import { COPY_REQUEST_CONCURRENCY, reconcileMirrorSet } from '../../functions/reconcile/mirror-set.ts';
import { harness, kubeConfig } from '../harness/env.ts';
import { imageSetMirror, namespace, pod, uniq } from '../harness/fixtures.ts';
import { listenLocal } from '../harness/proc.ts';

/** A sink that holds every request `holdMs` before its 202, counting how many it holds at once. */
async function stallingSink(holdMs: number) {
  let inFlight = 0;
  const seen = { total: 0, maxInFlight: 0 };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.total++;
      inFlight++;
      seen.maxInFlight = Math.max(seen.maxInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        res.statusCode = 202;
        res.end();
      }, holdMs);
    });
  });
  const port = await listenLocal(server, 'sink');
  return {
    url: `http://127.0.0.1:${port}/`,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const client = new RegistryClient();
after(() => client.close());

test('six copy requests of one reconcile are in flight together, at most COPY_REQUEST_CONCURRENCY at once', async () => {
  const host = harness().registries.tls.host;
  const ns = await namespace('copies');
  const repo = uniq('copies/app');
  // No kubelet here: the pod stays pending, but its spec is what reconcile reads.
  await pod(
    ns,
    Array.from({ length: 6 }, (_, i) => `${host}/${repo}:t${i}`),
  );
  const name = uniq('ism');
  // Nothing is copied (the sink only answers), so the mirror registry need not exist.
  await imageSetMirror(ns, name, {
    filter: { include: [{ image: `.*/${repo.replace('/', '\\/')}:.*` }] },
    mirrors: [{ registry: '127.0.0.1:9', path: 'mirror' }],
  });
  // Each request held 3 s: requests sent one after the other never overlap, and ones sent
  // together (in the same turn of reconcile's event loop) overlap even on a loaded machine.
  const sink = await stallingSink(3000);
  try {
    const cfg = parseConfig('{}\n');
    assert.ok(cfg.ok);
    const deps = reconcileDeps(
      cfg.value.config,
      { COPY_SINK: sink.url },
      kubeConfig(),
      createLogger('copies', 'silent'),
      client,
    );
    const ref: KuikRef = { kind: 'ImageSetMirror', name, namespace: ns };
    const r = await reconcileMirrorSet(ref, deps);
    assert.deepEqual(r.errors, []);
    assert.equal(r.copiesRequested, 6);
    assert.equal(sink.seen.total, 6);
    assert.ok(sink.seen.maxInFlight > 1, `at most ${sink.seen.maxInFlight} request(s) in flight at once`);
    assert.ok(
      sink.seen.maxInFlight <= COPY_REQUEST_CONCURRENCY,
      `${sink.seen.maxInFlight} requests in flight, above the bound ${COPY_REQUEST_CONCURRENCY}`,
    );
  } finally {
    await sink.close();
  }
});
