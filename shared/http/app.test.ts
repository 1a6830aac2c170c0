import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter } from 'prom-client';
import { createRegistry } from '../metrics.ts';
import { createApp } from './app.ts';
import { listen } from './serve.ts';

test('health answers on the Kubernetes and OpenFaaS paths; readiness follows the function', async () => {
  let ready = false;
  const app = createApp({ registry: createRegistry('t'), ready: () => ready });
  for (const p of ['/healthz', '/_/health']) assert.equal((await app.request(p)).status, 200);
  for (const p of ['/readyz', '/_/ready']) assert.equal((await app.request(p)).status, 503);
  ready = true;
  for (const p of ['/readyz', '/_/ready']) assert.equal((await app.request(p)).status, 200);
});

test('/metrics exposes the registry in Prometheus text format over a real socket', async () => {
  const registry = createRegistry('router');
  const c = new Counter({ name: 'kube_image_keeper_test_total', help: 'test', registers: [registry] });
  c.inc(3);
  const srv = await listen(createApp({ registry }), { port: 0, host: '127.0.0.1' });
  try {
    const res = await fetch(`http://127.0.0.1:${srv.port}/metrics`);
    const body = await res.text();
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    assert.match(body, /kube_image_keeper_test_total\{function="router"\} 3/);
    assert.match(body, /kube_image_keeper_process_cpu_seconds_total/);
  } finally {
    await srv.close();
  }
});
