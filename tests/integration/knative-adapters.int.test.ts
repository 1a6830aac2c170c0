// Knative's real adapters, built from knative.dev/eventing, deliver real CloudEvents from the
// harness's kube-apiserver to a receiver on loopback: the path reconcile and monitor rely on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apply, kubectl, namespace, patchStatus, uniq } from '../harness/fixtures.ts';
import {
  type ReceivedEvent,
  readyPingSourceStatus,
  startApiServerSourceAdapter,
  startEventSink,
  startPingAdapter,
} from '../harness/knative.ts';

test('apiserver_receive_adapter sends a Resource-mode CloudEvent for a created Pod', async (t) => {
  const ns = await namespace('knative');
  const sink = await startEventSink();
  t.after(() => sink.close());
  const adapter = await startApiServerSourceAdapter({
    sink: sink.url,
    namespaces: [ns],
    resources: [{ group: '', version: 'v1', resource: 'pods' }],
  });
  t.after(() => adapter.stop());
  // The adapter sends nothing for what exists when its watch starts, and drops what changes before
  // (tests/harness/fixtures.ts, waitUntilReconcileReceives): create pods until one is delivered.
  let ev: ReceivedEvent | undefined;
  let pod = '';
  for (let attempt = 0; ev === undefined; attempt++) {
    if (attempt === 10) throw new Error(`no add event for any of ${attempt} pods`);
    pod = uniq('pod');
    await kubectl(['run', pod, '-n', ns, '--image=nginx:1.27', '--restart=Never']);
    const name = pod;
    ev = await sink
      .waitFor(
        (e) =>
          e.type === 'dev.knative.apiserver.resource.add' &&
          (e.data as { metadata?: { name?: string } })?.metadata?.name === name,
        3000,
      )
      .catch(() => undefined);
  }
  const data = ev.data as {
    kind: string;
    metadata: { namespace: string };
    spec: { containers: { image: string }[] };
  };
  assert.equal(data.kind, 'Pod');
  assert.equal(data.metadata.namespace, ns);
  assert.equal(data.spec.containers[0]?.image, 'nginx:1.27');
  assert.match(ev.source, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(ev.subject?.includes(`/namespaces/${ns}/pods/${pod}`), `subject ${ev.subject}`);

  await kubectl(['delete', 'pod', pod, '-n', ns, '--wait=false']);
  await sink.waitFor(
    (e) =>
      e.type === 'dev.knative.apiserver.resource.delete' &&
      (e.data as { metadata?: { name?: string } })?.metadata?.name === pod,
  );
});

test('mtping delivers ticks of a PingSource to its sink', async (t) => {
  const ns = await namespace('ping');
  const sink = await startEventSink();
  t.after(() => sink.close());
  const name = uniq('tick');
  await apply({
    apiVersion: 'sources.knative.dev/v1',
    kind: 'PingSource',
    metadata: { name, namespace: ns },
    // Six fields: mtping's cron parser accepts seconds, so the test needs no minute-long wait.
    spec: {
      schedule: '*/2 * * * * *',
      contentType: 'application/json',
      data: '{"tick":true}',
      sink: { uri: sink.url },
    },
  });
  await patchStatus('pingsource', name, readyPingSourceStatus(sink.url), ns);
  const adapter = await startPingAdapter();
  t.after(() => adapter.stop());
  const ev = await sink.waitFor((e) => e.type === 'dev.knative.sources.ping', 45_000);
  assert.deepEqual(ev.data, { tick: true });
  assert.equal(ev.source, `/apis/v1/namespaces/${ns}/pingsources/${name}`);
});
