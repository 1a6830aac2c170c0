// The HTTP shell every function shares: its trigger routes plus health (Kubernetes and OpenFaaS
// spellings) and /metrics. Readiness is the function's own: a router whose watch cache has not
// synced yet must not take admission traffic.
import { Hono } from 'hono';
import type { Registry } from 'prom-client';

export interface AppOptions {
  registry: Registry;
  /** Ready to take traffic (e.g. caches synced). Liveness is only "the event loop answers". */
  ready?: () => boolean;
}

export function createApp({ registry, ready = () => true }: AppOptions): Hono {
  const app = new Hono();
  const live = () => new Response('ok');
  const readiness = () => (ready() ? new Response('ok') : new Response('not ready', { status: 503 }));
  app.get('/healthz', live);
  app.get('/_/health', live);
  app.get('/readyz', readiness);
  app.get('/_/ready', readiness);
  app.get('/metrics', async () => {
    return new Response(await registry.metrics(), { headers: { 'content-type': registry.contentType } });
  });
  return app;
}
