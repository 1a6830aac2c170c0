// The admission endpoint, served only on the router's TLS port (issue 14): the plain-HTTP port is
// for the kubelet's probes and Prometheus, and opening it to them must not open admission too
// (an AdmissionReview posted there made the router write Secret copies). With a client CA
// configured, the TLS port also refuses, at the handshake, any client without a certificate that
// CA signed: the apiserver presents one from its admission kubeconfig (docs/security.md).
import { readFileSync } from 'node:fs';
import type { HttpBindings } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { bodyTooLarge, limitBody } from '#shared/http/app.ts';
import { readBody } from '#shared/http/read-body.ts';
import type { Handled } from './handle.ts';

export const ADMISSION_PATHS = ['/mutate', '/mutate--v1-pod'] as const;

export function createAdmissionApp(
  review: (body: unknown) => Promise<Handled>,
  limit: { bodyLimit: number; bodyLimitKey: string },
): Hono {
  const app = new Hono();
  const incomingOf = (c: Context) => (c.env as Partial<HttpBindings> | undefined)?.incoming;
  // Bounded like every other endpoint (above the apiserver's 3 MiB request limit). Served by Node,
  // the body is read from its IncomingMessage under the same limit (shared/http/read-body.ts: the
  // web Request that hono's limit and c.req.json() build cost more than the parse); through
  // `app.request()` (no Node request), by hono as before.
  const limited = limitBody(limit.bodyLimit, limit.bodyLimitKey);
  app.use('*', async (c, next) => (incomingOf(c) ? await next() : await limited(c, next)));
  for (const path of ADMISSION_PATHS) {
    app.post(path, async (c) => {
      let body: unknown;
      try {
        const incoming = incomingOf(c);
        if (incoming) {
          const raw = await readBody(incoming, limit.bodyLimit);
          if (raw === undefined)
            return c.json({ error: bodyTooLarge(limit.bodyLimit, limit.bodyLimitKey) }, 413);
          body = JSON.parse(raw.toString('utf8'));
        } else {
          body = await c.req.json();
        }
      } catch {
        body = undefined;
      }
      const h = await review(body);
      return c.json(h.body as object, h.status as 200);
    });
  }
  return app;
}

export interface WebhookTlsFiles {
  tlsCertFile: string;
  tlsKeyFile: string;
  /** PEM CA bundle: when set, clients must present a certificate it signed (the apiserver's). */
  clientCaFile?: string | undefined;
}

/** The secure context, read again on every certificate reload (the CA belongs to it too). */
export function readWebhookTls(f: WebhookTlsFiles): { cert: Buffer; key: Buffer; ca?: Buffer } {
  return {
    cert: readFileSync(f.tlsCertFile),
    key: readFileSync(f.tlsKeyFile),
    ...(f.clientCaFile ? { ca: readFileSync(f.clientCaFile) } : {}),
  };
}

/** Server options for the listener: ask for and verify a client certificate when a CA is set. */
export function clientAuth(f: WebhookTlsFiles): { requestCert?: boolean; rejectUnauthorized?: boolean } {
  return f.clientCaFile ? { requestCert: true, rejectUnauthorized: true } : {};
}
