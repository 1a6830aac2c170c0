// Serves a Hono app over HTTP, or HTTPS when a certificate is given (the router: the apiserver
// only calls webhooks over TLS). Resolves once listening, with the bound port and a close().
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';

export interface Serving {
  port: number;
  /** The underlying server (an https.Server when TLS was given). */
  server: Server;
  close(): Promise<void>;
}

export async function listen(
  app: Hono,
  opts: {
    port: number;
    host?: string;
    /** Node's TLS server options: cert and key, and a client CA with requestCert for mutual TLS. */
    tls?: { cert: string | Buffer; key: string | Buffer } & import('node:tls').TlsOptions;
  },
): Promise<Serving> {
  return await new Promise((resolve, reject) => {
    const server = serve(
      {
        fetch: app.fetch,
        port: opts.port,
        hostname: opts.host ?? '0.0.0.0',
        ...(opts.tls ? { createServer: createHttpsServer, serverOptions: opts.tls } : {}),
      },
      (info: AddressInfo) =>
        resolve({
          port: info.port,
          server: server as unknown as Server,
          close: () =>
            new Promise<void>((r) => {
              server.close(() => r());
              // Keep-alive connections would hold close() open until they idle out.
              (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
            }),
        }),
    );
    server.on('error', reject);
  });
}
