// The HTTP shell every function shares: its trigger routes plus health (Kubernetes and OpenFaaS
// spellings) and /metrics. Readiness is the function's own: a router whose watch cache has not
// synced yet must not take admission traffic.
//
// Every request body is bounded (`bodyLimit`, bytes): a larger one is answered 413 naming the
// limit, before the handler runs when Content-Length says so, or as soon as a chunked body passes
// it, so at most the limit is ever buffered per request.
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Registry } from 'prom-client';
import { formatSize } from '../size.ts';

/** Used when a function names none (tests); every function passes its own server.bodyLimit. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

export interface AppOptions {
  registry: Registry;
  /** Ready to take traffic (e.g. caches synced). Liveness is only "the event loop answers". */
  ready?: () => boolean;
  /** Largest request body accepted, in bytes. */
  bodyLimit?: number;
  /** Names the setting in the 413 message, so the operator knows what to raise. */
  bodyLimitKey?: string;
}

/**
 * The body limit as a middleware, for apps built outside createApp (the router's admission app,
 * served on its own TLS port): 413 naming the limit and the setting that raises it.
 */
export function limitBody(maxSize: number, key = 'server.bodyLimit'): MiddlewareHandler {
  return bodyLimit({ maxSize, onError: (c) => c.json({ error: bodyTooLarge(maxSize, key) }, 413) });
}

/** The 413's message: the limit, and the setting that raises it. */
export function bodyTooLarge(maxSize: number, key: string): string {
  return `request body larger than the limit of ${formatSize(maxSize)} (${maxSize} bytes, ${key})`;
}

export function createApp({
  registry,
  ready = () => true,
  bodyLimit: maxSize = DEFAULT_BODY_LIMIT,
  bodyLimitKey = 'server.bodyLimit',
}: AppOptions): Hono {
  const app = new Hono();
  app.use('*', limitBody(maxSize, bodyLimitKey));
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
