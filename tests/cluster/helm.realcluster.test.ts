// kuik-functions on a real cluster installed with `helm install` of the chart (image and the test's
// settings as values): the three functions come up as the chart renders them, and the whole path
// works: a pod's image mirrored through the JobSink, then a pod routed to the mirror and Running
// with its upstream stopped.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { errorMessage } from '#shared/errors.ts';
import { NET } from './host.ts';
import { installWithHelm, KUIK_NS } from './kuik.ts';
import type { NsRegistry } from './registries.ts';
import {
  applyYaml,
  digestOf,
  eventually,
  imageSetMirrorYaml,
  jsonpath,
  MIRROR_PORT,
  pullSecret,
  pushRunnable,
  runPod,
  UPSTREAM_PORT,
  waitMirrored,
} from './scenario.ts';
import { type Cluster, startCluster } from './start.ts';

const NS = 'helm-e2e';
let c: Cluster;
let upstream: NsRegistry;
let mirror: NsRegistry;

describe('kuik-functions on a real Knative cluster, installed with helm install', {
  timeout: 3_600_000,
}, () => {
  before(async () => {
    c = await startCluster();
    upstream = await c.addRegistry('upstream', UPSTREAM_PORT);
    mirror = await c.addRegistry('mirror', MIRROR_PORT);
    await pushRunnable(c, upstream, 'demo/app', 'v1');
    await installWithHelm(c);
    await c.k('create', 'namespace', NS);
    await pullSecret(c, NS, 'upstream-pull', upstream);
    await pullSecret(c, NS, 'mirror-cred', mirror);
  });
  after(async () => {
    await c?.stop();
  });

  test('the chart installs the router, reconcile and monitor Knative Services, the JobSink and the sources, all Ready', async () => {
    const want = [
      'ApiServerSource/kuik-reconcile=True',
      'JobSink/kuik-copy=True',
      'PingSource/kuik-monitor=True',
      'PingSource/kuik-reconcile-resync=True',
      // The copy's Knative Service is rendered too (copy.sink: service uses it); idle at zero.
      'Service/kuik-copy=True',
      'Service/kuik-monitor=True',
      'Service/kuik-reconcile=True',
    ];
    let lines: string[] = [];
    // Ready, and staying so: a source's adapter Deployment may still be rolling when it first says so.
    await eventually('every kuik-functions object Ready', async () => {
      const ready = await jsonpath(
        c,
        ['-n', KUIK_NS, 'get', 'ksvc,jobsink,apiserversource,pingsource'],
        '{range .items[*]}{.kind}/{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
      );
      lines = ready.split('\n').filter(Boolean).sort();
      return JSON.stringify(lines) === JSON.stringify(want);
    }).catch((err) => {
      throw new Error(`${errorMessage(err)}: ${lines.join(', ')}`);
    });
    assert.deepEqual(lines, want);
  });

  test('mirrored through the JobSink, then routed to the mirror and Running with the upstream stopped', async () => {
    const up = `${NET.nodeIp}:${UPSTREAM_PORT}`;
    await runPod(c, NS, 'first', `${up}/demo/app:v1`);
    await applyYaml(c, imageSetMirrorYaml(NS, 'demo', 'mirror'));
    await waitMirrored(c, NS, 'demo');
    assert.equal(
      await digestOf(c, mirror, 'mirror/demo/app', 'v1'),
      await digestOf(c, upstream, 'demo/app', 'v1'),
    );
    await upstream.stop();
    try {
      await runPod(c, NS, 'second', `${up}/demo/app:v1`);
      assert.equal(
        await jsonpath(c, ['-n', NS, 'get', 'pod', 'second'], '{.spec.containers[0].image}'),
        `${NET.nodeIp}:${MIRROR_PORT}/mirror/demo/app:v1`,
      );
      await c.k('-n', NS, 'wait', 'pod/second', '--for=condition=Ready', '--timeout=300s');
    } finally {
      await upstream.start();
    }
  });
});
