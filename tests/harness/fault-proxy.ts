// A small HTTP(S) reverse proxy in front of a real harness registry that injects the faults a real
// registry cannot produce on demand: a stall past the client's timeout, 5xx bursts, a 429 with
// Docker Hub's rate-limit headers, `RateLimit-Remaining: 0` on a 200, a reset socket, and a
// stale cache that keeps serving a tag's old answer (the reason for `resolveDigest`, §4.7). It
// counts every request, so tests can assert "exactly one manifest request" (no retry on 429).
//
// Everything else passes through to the real registry unchanged, Host header included, so the
// registry's Location headers point back at the proxy.

import { readFile } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { Transform } from 'node:stream';
import { Agent, request } from 'undici';
import { errorMessage } from '#shared/errors.ts';
import { listenLocal } from './proc.ts';

export type FaultAction =
  /** Answer this instead of asking the registry. */
  | { respond: { status: number; headers?: Record<string, string>; body?: string } }
  /** Never answer: the client's deadline has to save it. */
  | { stall: true }
  /** Destroy the connection without an answer (a network error on the client's side). */
  | { reset: true }
  /** Pass through and add these headers to the registry's answer. */
  | { addHeaders: Record<string, string> }
  /** Serve the last real answer recorded for the same method and path: a stale cache. */
  | { replay: true }
  /**
   * Pass through, streaming the registry's answer, and destroy the connection after this many
   * body bytes: a source that dies mid-blob. (Streamed, not recorded: blobs can be large.)
   */
  | { cutAfter: number }
  /**
   * Pass through once this promise settles, the request body unread meanwhile: a transfer paused
   * at a point the test chooses (to look at a copy in the middle, however fast the machine is).
   */
  | { hold: Promise<void> };

export interface FaultRule {
  method?: string;
  /** Matched against the path with its query string. */
  path?: RegExp;
  /** Let this many matching requests through untouched first. */
  after?: number;
  /** Then fault this many (default: every one). */
  times?: number;
  action: FaultAction;
}

export interface SeenRequest {
  method: string;
  path: string;
  /** The status sent, or what the proxy did instead. */
  result: number | 'stalled' | 'reset' | 'cut';
  faulted: boolean;
  /** Request headers as received (lower-case names), e.g. to check a `range` header. */
  headers: Record<string, string | string[] | undefined>;
  /** Request body bytes passed on to the registry (PATCH and PUT uploads). */
  bytesIn: number;
  /** Response body bytes sent back to the client. */
  bytesOut: number;
}

export interface FaultProxy {
  /** `127.0.0.1:PORT`: use it as the registry host in references. */
  host: string;
  tls: boolean;
  requests: SeenRequest[];
  /** Adds a rule (first matching rule wins); returns a function that removes it. */
  fault(rule: FaultRule): () => void;
  clearFaults(): void;
  /**
   * Enforce a rate limit per credential on requests matching `path` (method: any) that carry an
   * Authorization header (Basic: per user name; Bearer: per token), over a sliding window: each
   * answer passed through carries Docker Hub's `ratelimit-limit: L;w=W` and
   * `ratelimit-remaining: R;w=W`, and once L requests fell within the last W seconds the next is
   * answered 429 TOOMANYREQUESTS with `ratelimit-remaining: 0;w=W` (and not counted). Returns a
   * function that removes it.
   */
  quota(q: { limit: number; windowSeconds: number; path?: RegExp }): () => void;
  /** Requests seen, optionally only those of a method and/or path pattern. */
  count(filter?: { method?: string; path?: RegExp }): number;
  close(): Promise<void>;
}

interface LiveRule extends FaultRule {
  seen: number;
}

interface Recorded {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

export async function startFaultProxy(opts: {
  /** The real registry, `127.0.0.1:PORT`, spoken to over HTTPS. */
  upstream: string;
  /** CA that signed the upstream's certificate. */
  caFile: string;
  /** Serve HTTPS with this certificate (signed by the same CA); omit for plain HTTP. */
  tls?: { certFile: string; keyFile: string };
}): Promise<FaultProxy> {
  const ca = await readFile(opts.caFile, 'utf8');
  const upstream = new Agent({ connect: { ca } });
  const rules: LiveRule[] = [];
  const requests: SeenRequest[] = [];
  const recorded = new Map<string, Recorded>();
  const stalled = new Set<ServerResponse>();
  const sockets = new Set<Socket>();

  let quota:
    | { limit: number; windowSeconds: number; path?: RegExp; spent: Map<string, number[]> }
    | undefined;
  /** The quota's verdict on a request: headers to add, a 429 to send, or nothing (not counted). */
  const charge = (req: IncomingMessage): { refuse: boolean; headers: Record<string, string> } | undefined => {
    if (!quota) return undefined;
    if (quota.path && !quota.path.test(req.url ?? '')) return undefined;
    const auth = req.headers.authorization;
    if (!auth) return undefined;
    const who = auth.startsWith('Basic ')
      ? Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':')[0]!
      : auth;
    const now = Date.now();
    const spent = (quota.spent.get(who) ?? []).filter((t) => now - t < quota!.windowSeconds * 1000);
    quota.spent.set(who, spent);
    const w = `;w=${quota.windowSeconds}`;
    if (spent.length >= quota.limit)
      return {
        refuse: true,
        headers: { 'ratelimit-limit': `${quota.limit}${w}`, 'ratelimit-remaining': `0${w}` },
      };
    spent.push(now);
    return {
      refuse: false,
      headers: {
        'ratelimit-limit': `${quota.limit}${w}`,
        'ratelimit-remaining': `${quota.limit - spent.length}${w}`,
      },
    };
  };

  const pickRule = (req: IncomingMessage): LiveRule | undefined => {
    for (const r of rules) {
      if (r.method !== undefined && r.method !== req.method) continue;
      if (r.path !== undefined && !r.path.test(req.url ?? '')) continue;
      r.seen++;
      const n = r.seen - (r.after ?? 0);
      if (n <= 0) return undefined;
      if (r.times !== undefined && n > r.times) continue;
      return r;
    }
    return undefined;
  };

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const seen: SeenRequest = {
      method,
      path,
      result: 0,
      faulted: false,
      headers: req.headers,
      bytesIn: 0,
      bytesOut: 0,
    };
    requests.push(seen);
    const rule = pickRule(req);
    const charged = rule ? undefined : charge(req);
    const action: FaultAction | undefined = charged?.refuse
      ? {
          respond: {
            status: 429,
            headers: { 'content-type': 'application/json', ...charged.headers },
            body: JSON.stringify({
              errors: [{ code: 'TOOMANYREQUESTS', message: 'You have reached your pull rate limit.' }],
            }),
          },
        }
      : charged
        ? { addHeaders: charged.headers }
        : rule?.action;
    seen.faulted = action !== undefined;
    try {
      if (action && 'stall' in action) {
        seen.result = 'stalled';
        stalled.add(res);
        req.resume();
        return;
      }
      if (action && 'reset' in action) {
        seen.result = 'reset';
        req.socket.destroy();
        return;
      }
      if (action && 'respond' in action) {
        req.resume();
        const body = action.respond.body ?? '';
        res.writeHead(action.respond.status, {
          'content-length': Buffer.byteLength(body),
          ...action.respond.headers,
        });
        res.end(method === 'HEAD' ? undefined : body);
        seen.result = action.respond.status;
        return;
      }
      const key = `${method} ${path}`;
      if (action && 'replay' in action) {
        const old = recorded.get(key);
        if (!old) throw new Error(`fault proxy: nothing recorded for ${key} to replay`);
        req.resume();
        res.writeHead(old.status, old.headers);
        res.end(method === 'HEAD' ? undefined : old.body);
        seen.result = old.status;
        return;
      }
      if (action && 'hold' in action) await action.hold;
      // Pass through to the real registry.
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
      }
      const hasBody = method !== 'GET' && method !== 'HEAD';
      const counted = hasBody
        ? req.pipe(
            new Transform({
              transform(chunk: Buffer, _enc, done) {
                seen.bytesIn += chunk.length;
                done(null, chunk);
              },
            }),
          )
        : null;
      const up = await request(`https://${opts.upstream}${path}`, {
        method,
        headers,
        body: counted,
        dispatcher: upstream,
      });
      if (action && 'cutAfter' in action) {
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(up.headers)) {
          if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
        }
        res.writeHead(up.statusCode, out);
        let left = action.cutAfter;
        for await (const chunk of up.body) {
          const c = chunk as Buffer;
          if (c.length >= left) {
            res.write(c.subarray(0, left));
            seen.bytesOut += left;
            break;
          }
          res.write(c);
          seen.bytesOut += c.length;
          left -= c.length;
        }
        seen.result = 'cut';
        up.body.destroy();
        // Let the written bytes leave before the connection dies mid-body.
        await new Promise<void>((r) => res.socket?.write('', () => r()) ?? r());
        req.socket.destroy();
        return;
      }
      const body = Buffer.from(await up.body.arrayBuffer());
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(up.headers)) {
        if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
      }
      if (action && 'addHeaders' in action) Object.assign(out, action.addHeaders);
      recorded.set(key, { status: up.statusCode, headers: out, body });
      res.writeHead(up.statusCode, out);
      res.end(method === 'HEAD' ? undefined : body);
      seen.bytesOut = method === 'HEAD' ? 0 : body.length;
      seen.result = up.statusCode;
    } catch (err) {
      seen.result = 502;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`fault proxy: ${errorMessage(err)}`);
    }
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => void handler(req, res);
  let server: Server;
  if (opts.tls) {
    const [cert, key] = await Promise.all([readFile(opts.tls.certFile), readFile(opts.tls.keyFile)]);
    server = createHttpsServer({ cert, key }, onRequest);
  } else {
    server = createHttpServer(onRequest);
  }
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const port = await listenLocal(server, 'fault proxy');

  return {
    host: `127.0.0.1:${port}`,
    tls: opts.tls !== undefined,
    requests,
    fault(rule) {
      const live: LiveRule = { ...rule, seen: 0 };
      rules.push(live);
      return () => {
        const i = rules.indexOf(live);
        if (i !== -1) rules.splice(i, 1);
      };
    },
    clearFaults() {
      rules.length = 0;
      quota = undefined;
    },
    quota(q) {
      const live = { ...q, spent: new Map<string, number[]>() };
      quota = live;
      return () => {
        if (quota === live) quota = undefined;
      };
    },
    count(filter = {}) {
      return requests.filter(
        (r) =>
          (filter.method === undefined || r.method === filter.method) &&
          (filter.path === undefined || filter.path.test(r.path)),
      ).length;
    },
    async close() {
      for (const res of stalled) res.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await upstream.close();
    },
  };
}
