// Serves a Hono app over HTTP, or HTTPS when a certificate is given (the router: the apiserver
// only calls webhooks over TLS). Resolves once listening, with the bound port and a close().
//
// Every server cuts slow clients (docs/reliability.md): the headers must arrive within
// `headersTimeout` and the whole request, body included, within `requestTimeout`, or Node answers
// 408 and closes the connection, dropping what was buffered. Node's defaults (60 s, 300 s, checked
// every 30 s) let a client that trickles its body hold a connection and its buffer for 5 minutes.
// Neither timeout covers the time the handler takes once the request is in (a monitor tick, a copy).
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { DEFAULT_TLS_POLICY, secureContextOptions, type TlsPolicy } from './tls-policy.ts';

export interface Serving {
  port: number;
  /** The underlying server (an https.Server when TLS was given). */
  server: Server;
  close(): Promise<void>;
}

export interface ServerTimeouts {
  /** Milliseconds to receive the request line and headers. */
  headersTimeout: number;
  /** Milliseconds to receive the whole request (≥ headersTimeout). */
  requestTimeout: number;
}

/** The configuration's defaults (server.headersTimeout, server.requestTimeout). */
export const DEFAULT_TIMEOUTS: ServerTimeouts = { headersTimeout: 3_000, requestTimeout: 5_000 };

/** Node's options for the timeouts; its expiry check runs often enough to honour them closely. */
export function timeoutOptions(t: ServerTimeouts) {
  return {
    headersTimeout: t.headersTimeout,
    requestTimeout: t.requestTimeout,
    // Node checks for expired requests on this period (default 30 s): a fifth of the shortest
    // timeout, so a 5 s limit cuts within about 6 s. The check walks only the open connections.
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(t.headersTimeout / 5))),
  };
}

export async function listen(
  app: Hono,
  opts: {
    port: number;
    host?: string;
    /**
     * The certificate pair, the TLS policy (`policy`: DEFAULT_TLS_POLICY when omitted), and any other
     * Node TLS server option (a client CA with requestCert, for mutual TLS).
     */
    tls?: { cert: string | Buffer; key: string | Buffer; policy?: TlsPolicy } & import('node:tls').TlsOptions;
    timeouts?: ServerTimeouts;
  },
): Promise<Serving> {
  const timeouts = timeoutOptions(opts.timeouts ?? DEFAULT_TIMEOUTS);
  return await new Promise((resolve, reject) => {
    const server = serve(
      {
        fetch: app.fetch,
        port: opts.port,
        hostname: opts.host ?? '0.0.0.0',
        ...(opts.tls
          ? {
              createServer: createHttpsServer,
              serverOptions: {
                ...timeouts,
                ...opts.tls,
                ...secureContextOptions(opts.tls.policy ?? DEFAULT_TLS_POLICY, opts.tls),
              },
            }
          : { serverOptions: timeouts }),
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
