// The resync end to end: with the ApiServerSource adapter stopped, a mirror set created meanwhile
// is finalized and filled by the resync of a reconcile process, triggered by its own PingSource
// through Knative's own mtping (manifests/reconcile/ping.yaml). Cluster-wide
// (`.cluster.int.test.ts`): the resync reconciles every mirror set of the cluster, so
// tests/run.ts runs this file alone, after the files that hand-make mirror set statuses.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { resolveConfig } from '#shared/config/config.ts';
import type { ImageSetMirror } from '#shared/crd/types.ts';
import { listen } from '#shared/http/serve.ts';
import { Kube } from '#shared/kube/client.ts';
import { createLogger } from '#shared/log.ts';
import { createRegistry } from '#shared/metrics.ts';
import { reconcileDeps } from '../../functions/reconcile/main.ts';
import { createReconcileMetrics } from '../../functions/reconcile/metrics.ts';
import { createReconcileApp } from '../../functions/reconcile/server.ts';
import { kubeConfig } from '../harness/env.ts';
import {
  apply,
  eventually,
  imageSetMirror,
  kubectl,
  namespace,
  patchStatus,
  pod,
  samples,
  uniq,
  waitUntilReconcileReceives,
} from '../harness/fixtures.ts';
import { startFunction } from '../harness/functions.ts';
import {
  type Adapter,
  readyPingSourceStatus,
  startApiServerSourceAdapter,
  startEventSink,
  startPingAdapter,
  WATCHED,
} from '../harness/knative.ts';

const kube = new Kube(kubeConfig());
const log = createLogger('resync-test', process.env['LOG_LEVEL'] ?? 'silent');
let mtping: Adapter;
const cleanups: (() => Promise<unknown>)[] = [];

before(async () => {
  mtping = await startPingAdapter();
});
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  await mtping?.stop();
});

describe('the resync', () => {
  test('ApiServerSource adapter stopped, an ImageSetMirror created: a resync of the reconcile process, pinged by its own PingSource, fills its status', async () => {
    const ns = await namespace('mon-resync');
    const config = resolveConfig({});
    assert.ok(config.ok);
    // The reconcile function, fed by Knative's adapter, as deployed.
    const reconcileSink = await startEventSink();
    cleanups.push(() => reconcileSink.close());
    const rdeps = reconcileDeps(config.value.config, { COPY_SINK: reconcileSink.url }, kubeConfig(), log);
    const registry = createRegistry('reconcile');
    const reconcile = await listen(createReconcileApp(rdeps, registry, createReconcileMetrics(registry)), {
      port: 0,
      host: '127.0.0.1',
    });
    cleanups.push(() => reconcile.close());
    const adapter = await startApiServerSourceAdapter({
      sink: `http://127.0.0.1:${reconcile.port}/`,
      namespaces: [ns],
      resources: [WATCHED.imagesetmirrors, WATCHED.pods],
    });
    cleanups.push(() => adapter.stop());
    await waitUntilReconcileReceives(ns);
    // The events of what follows are lost: nobody delivers them.
    await adapter.stop();
    const ism = uniq('ism');
    await imageSetMirror(ns, ism, {
      filter: { include: [{ image: 'docker\\.io/library/nginx:.*' }] },
      mirrors: [{ registry: 'mirror.example.com', path: 'cache' }],
    });
    await pod(ns, ['nginx:1.27']);

    // reconcile as a process (node functions/main.ts, KUIK_FUNCTION=reconcile) with a sink of its
    // own, pinged by mtping as the resync PingSource of manifests/ does.
    const resyncSink = await startEventSink();
    cleanups.push(() => resyncSink.close());
    const proc = await startFunction('reconcile', { env: { COPY_SINK: resyncSink.url } });
    cleanups.push(() => proc.stop());
    const url = `http://127.0.0.1:${proc.port}/`;
    const ping = uniq('resync');
    await apply({
      apiVersion: 'sources.knative.dev/v1',
      kind: 'PingSource',
      metadata: { name: ping, namespace: ns },
      spec: { schedule: '*/2 * * * * *', sink: { uri: url } },
    });
    await patchStatus('pingsource', ping, readyPingSourceStatus(url), ns);
    cleanups.push(() => kubectl(['delete', 'pingsource', ping, '-n', ns, '--wait=false']));

    const filled = await eventually('ISM status from the resync', async () => {
      const o = await kube.getKuik<ImageSetMirror>({ kind: 'ImageSetMirror', name: ism, namespace: ns });
      return o.status?.matchingImages?.length ? o : undefined;
    }).catch(async (err: Error) => {
      // What the reconcile process said is the first thing to read when this fails.
      const tail = (await readFile(proc.proc.logFile, 'utf8')).split('\n').slice(-30).join('\n');
      throw new Error(`${err.message}\nreconcile log (last lines):\n${tail}`);
    });
    assert.deepEqual(filled.status?.matchingImages, [
      {
        image: 'docker.io/library/nginx:1.27',
        mirrors: [{ image: 'mirror.example.com/cache/library/nginx:1.27' }],
      },
    ]);
    assert.deepEqual(filled.metadata.finalizers, ['kuik.enix.io/mirror-cleanup']);
    // The copy request went out through the resync (the process's own sink), not the events.
    const copy = await resyncSink.waitFor(
      (e) => (e.data as { owner?: { name?: string } })?.owner?.name === ism,
    );
    assert.equal(
      (copy.data as { destination: string }).destination,
      'mirror.example.com/cache/library/nginx:1.27',
    );
    assert.equal(
      reconcileSink.events.filter((e) => (e.data as { owner?: { name?: string } })?.owner?.name === ism)
        .length,
      0,
    );
    // The status and the copy request come out while reconcileAll is still going through the
    // cluster's other mirror sets; its counters are there once the resync is done.
    const metrics = await eventually('resync counted', async () => {
      const text = await (await fetch(`${url}metrics`)).text();
      return samples(text, 'kube_image_keeper_reconcile_resyncs_total').some(
        (s) => s.labels['result'] === 'ok',
      )
        ? text
        : undefined;
    });
    assert.ok(
      samples(metrics, 'kube_image_keeper_reconcile_total').some(
        (s) => s.labels['kind'] === 'ImageSetMirror' && s.labels['outcome'] === 'reconciled' && s.value >= 1,
      ),
    );
  });
});
