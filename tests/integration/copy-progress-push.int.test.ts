// A copy run as a JobSink Job serves no /metrics: its progress gauges reach Prometheus through the
// router it pushes to (shared/metrics-push.ts). The copy is held mid-upload by a fault proxy in
// front of the mirror registry, so the test sees it in flight however fast the machine is; once
// the Job has exited, its push at stop has removed the series.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { copyJobEvent, mirrorSetToCopy } from '../harness/copy-event.ts';
import { harness, type RegistryInfo } from '../harness/env.ts';
import type { FaultProxy } from '../harness/fault-proxy.ts';
import {
  eventually,
  namespace,
  proxyInFrontOf,
  registrySecret,
  samples,
  seed,
  uniq,
} from '../harness/fixtures.ts';
import { type RunningFunction, startCopyJob, startFunction } from '../harness/functions.ts';
import { imageManifest } from '../harness/registry.ts';

const execFileP = promisify(execFile);
const MiB = 1024 * 1024;
const DONE = 'kube_image_keeper_copy_progress_done_bytes';
const SIZE = 'kube_image_keeper_copy_progress_size_bytes';

let tls: RegistryInfo;
let token: RegistryInfo;
let router: RunningFunction;
let mirror: FaultProxy;
let ns: string;

before(async () => {
  ({ tls, token } = harness().registries);
  router = await startFunction('router');
  mirror = await proxyInFrontOf(token);
  ns = await namespace('progress-push');
  await registrySecret(ns, 'pull', tls);
  await registrySecret(ns, 'push', token, mirror.host);
});

after(async () => {
  await mirror?.close();
  await router?.stop();
});

const routerMetrics = async () => await (await fetch(`http://127.0.0.1:${router.port}/metrics`)).text();

test('a copy Job held mid-upload shows its progress gauges on the router it pushes to, and not once it exited', async () => {
  const src = await seed(tls, uniq('progress-push/big'), 'v1', { archs: ['amd64'], layerMb: 16, layers: 1 });
  const raw = await imageManifest(tls, src.ref);
  assert.ok(raw.layers && raw.config, JSON.stringify(raw));
  const total = raw.config.size + raw.layers.reduce((n, l) => n + l.size, 0);

  const { destination, req } = await mirrorSetToCopy({
    namespace: ns,
    source: src.ref,
    registry: mirror.host,
    path: 'progress',
  });

  // The config blob's PATCH and the layer's first 4 MiB chunk go by; the next one waits.
  let release = () => {};
  const hold = new Promise<void>((r) => {
    release = r;
  });
  mirror.fault({ method: 'PATCH', after: 2, times: 1, action: { hold } });
  const job = await startCopyJob(copyJobEvent(req), {
    KUIK_METRICS_PUSH_URL: `http://127.0.0.1:${router.port}/metrics/push`,
    KUIK_METRICS_PUSH_INTERVAL_MS: '500',
    KUIK_COPY_CHUNK_MIB: '4',
    KUIK_COPY_PROGRESS_SECONDS: '0.2',
  });
  try {
    const labels = { registry: mirror.host, image: destination, function: 'copy' };
    const done = await eventually(
      'the held copy’s progress on the router',
      async () => {
        const text = await routerMetrics();
        const d = samples(text, DONE);
        return d.length === 1 && d[0]!.value >= 4 * MiB && samples(text, SIZE).length === 1
          ? text
          : undefined;
      },
      120_000,
    );
    assert.deepEqual(samples(done, SIZE), [{ labels, value: total }]);
    const d = samples(done, DONE)[0]!;
    assert.deepEqual(d.labels, labels);
    assert.ok(d.value < total, `${d.value} of ${total}: the copy is held`);
    // The router's exposition stays valid with pushed gauges in it.
    const p = execFileP('promtool', ['check', 'metrics']);
    p.child.stdin?.end(done);
    await p;
  } finally {
    // Whatever happened, the copy finishes, so nothing outlives the test.
    release();
  }
  assert.equal(await job.exited, 0, await readFile(job.logFile, 'utf8'));
  // The Job's last push said it had nothing in flight any more.
  const text = await routerMetrics();
  assert.deepEqual(samples(text, DONE), [], text);
  assert.deepEqual(samples(text, SIZE), []);
});
