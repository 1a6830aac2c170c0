// The esbuild bundle (scripts/bundle.ts, what the image runs) is the same program as the sources:
// each function started from it as its own process does its real work against the harness. The
// whole suite can also run against a bundle: KUIK_FUNCTION_ENTRY=dist/bundle/main.mjs.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { sendCloudEvent } from '#shared/cloudevents.ts';
import type { ImageSetMirror } from '#shared/crd/types.ts';
import { Kube } from '#shared/kube/client.ts';
import { bundle } from '../../scripts/bundle.ts';
import { harness, kubeConfig } from '../harness/env.ts';
import { imageSetMirror, kubectl, namespace, uniq } from '../harness/fixtures.ts';
import { type RunningFunction, startFunction } from '../harness/functions.ts';
import { startProc } from '../harness/proc.ts';
import { registerRouterWebhook, waitActive } from '../harness/webhook.ts';

let entry: string;
let bundleDir: string;
const running: RunningFunction[] = [];

before(async () => {
  const dir = await mkdtemp(join(harness().runDir, 'bundle-'));
  bundleDir = dir;
  const { files } = await bundle(dir);
  assert.ok(files.some((f) => f.endsWith('main.mjs')));
  entry = join(dir, 'main.mjs');
});

after(async () => {
  for (const f of running) await f.stop();
});

async function start(name: 'router' | 'reconcile' | 'monitor' | 'copy', env: Record<string, string> = {}) {
  const f = await startFunction(name, { entry, env });
  running.push(f);
  return f;
}

test("the bundle is ASCII, so V8 keeps each module's source at one byte per character", async () => {
  // V8 holds every module's source for the life of the process, as UTF-16 if a single character
  // is not Latin-1: a ’ in one dependency's comment made the 7 MB shared chunk 14.6 MiB of RSS.
  const files = (await readdir(bundleDir, { recursive: true })).filter((f) => f.endsWith('.mjs'));
  assert.ok(files.length > 1);
  for (const f of files) {
    const bytes = await readFile(join(bundleDir, f));
    const at = bytes.findIndex((b) => b > 0x7f);
    assert.equal(at, -1, `${f}: non-ASCII in ${JSON.stringify(bytes.subarray(at - 40, at + 10).toString())}`);
  }
});

test('router from the bundle: a Pod created through the API server is annotated by it', async () => {
  const router = await start('router');
  const label = { key: 'kuik-bundle-test', value: uniq('on') };
  const unregister = await registerRouterWebhook({
    name: uniq('kuik-bundle'),
    url: `https://127.0.0.1:${router.webhookPort}/mutate`,
    namespaceLabel: label,
  });
  try {
    const ns = await namespace('bundle');
    await kubectl(['label', 'namespace', ns, `${label.key}=${label.value}`]);
    const pod: V1Pod = {
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
    };
    await waitActive(ns, pod, (p) => p.metadata?.annotations?.['kuik.enix.io/original-images'] !== undefined);
    const created = await kubeConfig()
      .makeApiClient(CoreV1Api)
      .createNamespacedPod({ namespace: ns, body: pod });
    assert.equal(created.metadata?.annotations?.['kuik.enix.io/original-images'], '{"app":"nginx:1.27"}');
  } finally {
    await unregister();
  }
});

test('reconcile from the bundle: an ImageSetMirror event finalizes the CR', async () => {
  const reconcile = await start('reconcile', { COPY_SINK: 'http://127.0.0.1:9/' });
  const ns = await namespace('bundle-rec');
  const name = uniq('ism');
  await imageSetMirror(ns, name, { mirrors: [{ registry: 'mirror.example.com', path: 'm' }] });
  const kube = new Kube(kubeConfig());
  const ref = { kind: 'ImageSetMirror' as const, name, namespace: ns };
  const cr = await kube.getKuik<ImageSetMirror>(ref);
  await sendCloudEvent(`http://127.0.0.1:${reconcile.port}/`, {
    id: uniq('ev'),
    type: 'dev.knative.apiserver.resource.add',
    source: harness().apiserver.url,
    subject: `/apis/kuik.enix.io/v1alpha1/namespaces/${ns}/imagesetmirrors/${name}`,
    data: cr,
  });
  const after = await kube.getKuik<ImageSetMirror>(ref);
  assert.deepEqual(after.metadata.finalizers, ['kuik.enix.io/mirror-cleanup']);
});

test('monitor and copy from the bundle: ready, metrics, and a refused non-event', async () => {
  const monitor = await start('monitor');
  const copy = await start('copy');
  for (const [f, prefix] of [
    [monitor, 'kube_image_keeper_monitor_'],
    [copy, 'kube_image_keeper_copy_'],
  ] as const) {
    assert.equal((await fetch(`http://127.0.0.1:${f.port}/_/ready`)).status, 200);
    assert.match(await (await fetch(`http://127.0.0.1:${f.port}/metrics`)).text(), new RegExp(prefix));
    // Not a tick, not a copy request: 400, so nothing retries it.
    const r = await fetch(`http://127.0.0.1:${f.port}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(r.status, 400);
  }
});

test('copy from the bundle as a JobSink Job: an unusable event exits 2 (no retry)', async () => {
  const h = harness();
  const dir = await mkdtemp(join(h.runDir, 'jobsink-'));
  await writeFile(
    join(dir, 'event'),
    JSON.stringify({ specversion: '1.0', id: '1', source: '/x', type: 'other' }),
  );
  const config = join(dir, 'config.yaml');
  await writeFile(config, '{}\n');
  const proc = startProc(h.runDir, uniq('copy-job'), process.execPath, [entry], {
    KUIK_FUNCTION: 'copy',
    KUIK_CONFIG: config,
    KUBECONFIG: h.kubeconfig,
    K_EVENT_PATH: dir,
  });
  assert.equal(await proc.exited, 2);
});
