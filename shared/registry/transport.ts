// The one authenticated HTTP path to registries: every probe, manifest read, blob copy and delete
// goes through `RegistryTransport.request`. It owns, per registry host:
//   - a keep-alive undici Agent with that host's TLS settings (private CA, or `insecure`);
//   - the `/v2/` ping result (scheme and WWW-Authenticate challenge), cached and single-flight;
//   - bearer tokens per (registry, scopes, credential), cached until near expiry, single-flight;
// and per request: transport retries inside the caller's deadline (never on 429), one
// re-handshake on 401, and redirects for GET/HEAD (registries send blob GETs to object storage).
//
// Nothing secret leaves this module: errors name the method and URL, never a password or token,
// and nothing is logged here at all (callers log their decisions).
import { createHash } from 'node:crypto';
import { type IncomingHttpHeaders, STATUS_CODES } from 'node:http';
import type { LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import { createSecureContext, rootCertificates } from 'node:tls';
import { Agent, type Dispatcher, request } from 'undici';
import * as v from 'valibot';
import { LruCache } from '../lru.ts';
import { raceSignal, SingleFlight } from '../single-flight.ts';
import { type Challenge, parseChallenges, pickChallenge, type Scope, scopeStrings } from './challenge.ts';
import type { RegistryCredential } from './credentials.ts';
import { deadlinePassed, pickContext, type RequestContext } from './deadline.ts';
import {
  errorCode,
  errorMessage,
  isTemporaryNetworkError,
  RegistryError,
  type RegistryPhase,
} from './errors.ts';
import { isRetryableStatus, parseRateLimit } from './outcome.ts';
import { apiHost } from './reference.ts';
import { sharedResolver } from './resolver.ts';
import { backoffDelay, DEFAULT_RETRY, type RetryPolicy, sleepWithin } from './retry.ts';
import { DEFAULT_TOKEN_LIFETIME_MS, TokenCache } from './token-cache.ts';

/** What the client needs of a credential; shared/registry/credentials.ts's type carries more. */
export type BasicCredential = Pick<RegistryCredential, 'username' | 'password'> &
  Partial<Pick<RegistryCredential, 'registry' | 'source'>>;

export interface HostOptions {
  /**
   * Plain HTTP or TLS without verification, for a registry on a node's localhost or one with a
   * self-signed certificate (field notes #566). HTTPS is tried first, then HTTP.
   */
  insecure?: boolean;
  /** PEM of the CA(s) that sign this registry's certificate, trusted on top of the system roots. */
  ca?: string | Buffer | readonly (string | Buffer)[];
}

export interface TransportOptions {
  /** Per registry host (`quay.io`, `127.0.0.1:5000`, `docker.io`); unknown hosts use `defaultHost`. */
  hosts?: Readonly<Record<string, HostOptions>>;
  defaultHost?: HostOptions;
  retry?: RetryPolicy;
  /**
   * Retries of the `/v2/` ping. Default: `retry`'s attempts with each backoff capped at 250 ms. The
   * ping is shared by every caller and runs on its own budget, so kuik's 1 s / 3 s backoff there
   * outlived the probe's deadline: a 503 or a reset on `/v2/` was reported as `timed out after
   * 2000 ms` and cost the whole timeout. Now the ping fails fast with the status it got.
   */
  pingRetry?: RetryPolicy;
  /** Keep-alive connections per origin; more requests queue on them. */
  connectionsPerHost?: number;
  /** Ceiling for a response's headers (and each body chunk) when the caller has no deadline (§11.10). */
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  /** Budget of a shared ping or token fetch: it outlives any one caller's deadline. */
  authTimeoutMs?: number;
  /** How long a `/v2/` ping result is trusted before the next request pings again. */
  pingTtlMs?: number;
  tokenCacheSize?: number;
  userAgent?: string;
  /** HTTP/2 over TLS when the registry offers it via ALPN (default on; see docs/performance.md). */
  allowH2?: boolean;
  /**
   * Name resolution for registry connections. Default: the process's caching resolver
   * (shared/registry/resolver.ts), which stays off libuv's thread pool.
   */
  lookup?: LookupFunction;
  /**
   * Registry hosts whose ping result is remembered. Image references come from pods, so the
   * number of hosts is the cluster's users' to choose: the least recently used are forgotten.
   */
  maxHosts?: number;
}

export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface RegistryRequest extends RequestContext {
  method: HttpMethod;
  /** An API path (`/v2/<repo>/manifests/<ref>`) or an absolute URL (an upload's `Location`). */
  path: string;
  headers?: Readonly<Record<string, string>>;
  body?: string | Uint8Array | Readable | null;
  /** The token scopes this request needs: `[{repository, actions: ['pull']}]`. */
  scopes: readonly Scope[];
  credential?: BasicCredential | undefined;
  /**
   * Transport retries. Default: on for GET, HEAD, PUT and DELETE; off for POST and PATCH, whose
   * repetition is not harmless (a PATCH of an upload chunk moves the offset). A streamed body is
   * never retried nor replayed after a 401.
   */
  retry?: boolean;
}

export interface RegistryResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Must be consumed or dumped by the caller. */
  body: Dispatcher.ResponseData['body'];
  /** The URL that answered (after redirects). */
  url: string;
  /** HTTP requests made, retries, re-authentication and redirects included. */
  attempts: number;
}

export interface TransportStats {
  requests: number;
  /** TCP/TLS connections opened: with keep-alive and HTTP/2, a handful, not one per request. */
  connections: number;
  pings: number;
  tokenFetches: number;
}

interface PingResult {
  scheme: 'https' | 'http';
  /** undefined: the registry let us in anonymously (`/v2/` answered 200). */
  challenge: Challenge | undefined;
  at: number;
}

interface HostState {
  key: string;
  options: HostOptions;
  dispatcher: Agent;
  ping?: PingResult;
  /** What the ping in flight got so far (`503 Service Unavailable`): named if a caller times out on it. */
  pingProblem?: string;
}

const TokenResponse = v.object({
  token: v.optional(v.string()),
  access_token: v.optional(v.string()),
  expires_in: v.optional(v.number()),
});

const NO_OPTIONS: HostOptions = Object.freeze({});
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
const PING_BACKOFF_CAP_MS = 250;

/** `retry`'s shape with short pauses: the ping's policy unless one is given. */
export function pingRetryPolicy(retry: RetryPolicy): RetryPolicy {
  return { ...retry, backoffMs: retry.backoffMs.map((ms) => Math.min(ms, PING_BACKOFF_CAP_MS)) };
}

export class RegistryTransport {
  readonly stats: TransportStats = { requests: 0, connections: 0, pings: 0, tokenFetches: 0 };
  private readonly opts: TransportOptions;
  private readonly retry: RetryPolicy;
  private readonly pingRetry: RetryPolicy;
  private readonly hosts: LruCache<string, HostState>;
  /**
   * One Agent per distinct HostOptions (the configured hosts, and the default): never one per
   * host, since hosts come from pod specs. An Agent keeps a pool per origin and drops it once its
   * connections close, so hosts seen once cost nothing after their keep-alive ends.
   */
  private readonly agents = new Map<HostOptions, Agent>();
  private readonly pings = new SingleFlight<PingResult>();
  private readonly tokens: TokenCache;
  private readonly credKeys = new WeakMap<object, string>();

  constructor(opts: TransportOptions = {}) {
    this.opts = opts;
    this.retry = opts.retry ?? DEFAULT_RETRY;
    this.pingRetry = opts.pingRetry ?? pingRetryPolicy(this.retry);
    this.tokens = new TokenCache({ capacity: opts.tokenCacheSize ?? 1000 });
    this.hosts = new LruCache(opts.maxHosts ?? 1024);
  }

  /** Registry hosts whose state is held (bounded by `maxHosts`). */
  get hostCount(): number {
    return this.hosts.size;
  }

  /**
   * One authenticated exchange with `registry` (the name in image references: `docker.io` is sent
   * to Docker Hub's API host). HTTP error statuses are returned, not thrown; network failures,
   * timeouts and failed pings or token requests throw a RegistryError.
   */
  async request(registry: string, req: RegistryRequest): Promise<RegistryResponse> {
    const host = this.host(registry);
    const replayable = !isStream(req.body);
    const ctx: RequestContext = pickContext(req);
    let attempts = 0;
    const ping = await this.ensurePing(host, ctx);
    let url = new URL(req.path, `${ping.scheme}://${host.key}`);
    let auth = await this.authorization(host, ping.challenge, req, ctx);
    let reauthenticated = false;
    let redirects = 0;
    for (;;) {
      const sameOrigin = url.host === host.key;
      const headers: Record<string, string> = {
        'user-agent': this.opts.userAgent ?? 'kuik-functions',
        ...req.headers,
      };
      // Credentials go to the registry only, never to a redirect target (pre-signed storage URLs).
      if (auth !== undefined && sameOrigin) headers['authorization'] = auth;
      const { res, attempts: n } = await this.withRetries(host, url, req.method, headers, req.body, ctx, {
        retry: (req.retry ?? (req.method !== 'POST' && req.method !== 'PATCH')) && replayable,
        phase: 'request',
      });
      attempts += n;

      if (res.statusCode === 401 && sameOrigin && replayable && !reauthenticated) {
        reauthenticated = true;
        const next = await this.reauthenticate(host, res.headers, auth, req, ctx).catch(
          async (err: unknown) => {
            await res.body.dump().catch(() => {});
            throw err;
          },
        );
        if (next !== undefined && next !== auth) {
          await res.body.dump();
          auth = next;
          continue;
        }
      }
      if (
        REDIRECTS.has(res.statusCode) &&
        (req.method === 'GET' || req.method === 'HEAD') &&
        redirects < MAX_REDIRECTS
      ) {
        const location = header(res.headers, 'location');
        if (location !== undefined) {
          await res.body.dump();
          redirects++;
          url = new URL(location, url);
          continue;
        }
      }
      return { status: res.statusCode, headers: res.headers, body: res.body, url: url.toString(), attempts };
    }
  }

  /** Forgets cached pings and tokens (a registry whose auth was reconfigured, say). */
  forget(): void {
    this.hosts.clear();
    this.tokens.clear();
  }

  async close(): Promise<void> {
    const all = [...this.agents.values()];
    this.agents.clear();
    this.hosts.clear();
    await Promise.all(all.map((a) => a.close()));
  }

  // --- hosts and connections ---

  private host(registry: string): HostState {
    const key = apiHost(registry);
    let h = this.hosts.get(key);
    if (h) return h;
    const options =
      this.opts.hosts?.[registry] ?? this.opts.hosts?.[key] ?? this.opts.defaultHost ?? NO_OPTIONS;
    let dispatcher = this.agents.get(options);
    if (!dispatcher) {
      dispatcher = this.agent(options);
      dispatcher.on('connect', () => {
        this.stats.connections++;
      });
      this.agents.set(options, dispatcher);
    }
    h = { key, options, dispatcher };
    this.hosts.set(key, h);
    return h;
  }

  private agent(o: HostOptions): Agent {
    const extra = o.ca === undefined ? [] : Array.isArray(o.ca) ? o.ca : [o.ca];
    const connect: Record<string, unknown> = {
      rejectUnauthorized: !o.insecure,
      lookup: this.opts.lookup ?? sharedResolver().lookup,
    };
    if (extra.length > 0) {
      // `ca` replaces Node's trust store, so keep the system roots beside the registry's own CA
      // (its token realm may live on a public host). One secure context per host, built once:
      // parsing ~150 roots on every TLS handshake cost milliseconds and a megabyte each.
      connect['secureContext'] = createSecureContext({ ca: [...rootCertificates, ...extra.map(String)] });
    }
    return new Agent({
      connections: this.opts.connectionsPerHost ?? 32,
      keepAliveTimeout: 60_000,
      keepAliveMaxTimeout: 600_000,
      headersTimeout: this.opts.headersTimeoutMs ?? 30_000,
      bodyTimeout: this.opts.bodyTimeoutMs ?? 30_000,
      connectTimeout: 10_000,
      // HTTP/2 where the registry offers it (undici's default): over HTTP/1.1 undici closes the
      // connection after every HEAD unless the server says `Connection: keep-alive`, which Go's
      // server (distribution, Harbor, most registries) does not, so each probe paid a handshake.
      allowH2: this.opts.allowH2 ?? true,
      connect,
    });
  }

  // --- one HTTP exchange, with transport retries ---

  private async withRetries(
    host: HostState,
    url: URL,
    method: HttpMethod,
    headers: Record<string, string>,
    body: RegistryRequest['body'],
    ctx: RequestContext,
    opts: {
      retry: boolean;
      phase: RegistryPhase;
      policy?: RetryPolicy;
      /** Told what each attempt that is retried got, to name it if the caller times out meanwhile. */
      onRetry?: (problem: string) => void;
    },
  ): Promise<{ res: Dispatcher.ResponseData; attempts: number }> {
    const policy = opts.policy ?? this.retry;
    const max = opts.retry ? Math.max(1, policy.attempts) : 1;
    for (let attempt = 1; ; attempt++) {
      let res: Dispatcher.ResponseData;
      try {
        this.stats.requests++;
        res = await request(url, {
          method,
          headers,
          body: body ?? null,
          dispatcher: host.dispatcher,
          signal: ctx.signal ?? null,
        });
      } catch (err) {
        const failure = this.networkError(method, url, err, ctx, opts.phase);
        if (attempt < max && failure.kind === 'network' && isTemporaryNetworkError(err)) {
          opts.onRetry?.(describeNetworkError(err));
          if (await sleepWithin(backoffDelay(policy, attempt), ctx.deadline, ctx.signal)) continue;
        }
        throw failure;
      }
      if (attempt < max && isRetryableStatus(res.statusCode)) {
        // A backoff that cannot finish inside the deadline is not started: the caller gets this
        // response to classify now rather than a timeout later.
        const delay = backoffDelay(policy, attempt);
        if (ctx.deadline === undefined || Date.now() + delay < ctx.deadline) {
          opts.onRetry?.(statusLine(res.statusCode));
          await res.body.dump();
          if (await sleepWithin(delay, ctx.deadline, ctx.signal)) continue;
          throw this.networkError(method, url, ctx.signal?.reason ?? new Error('aborted'), ctx, opts.phase);
        }
      }
      return { res, attempts: attempt };
    }
  }

  private networkError(
    method: string,
    url: URL,
    err: unknown,
    ctx: RequestContext,
    phase: RegistryPhase,
  ): RegistryError {
    if (err instanceof RegistryError) return err;
    const where = `${method} ${redact(url)}`;
    const code = errorCode(err);
    if (ctx.signal?.aborted || (err instanceof Error && err.name === 'AbortError')) {
      if (deadlinePassed(ctx)) {
        const budget = ctx.timeoutMs === undefined ? '' : ` after ${ctx.timeoutMs} ms`;
        return new RegistryError('timeout', `${where}: timed out${budget}`, { phase, cause: err });
      }
      return new RegistryError('aborted', `${where}: aborted`, { phase, cause: err });
    }
    if (
      code === 'UND_ERR_HEADERS_TIMEOUT' ||
      code === 'UND_ERR_BODY_TIMEOUT' ||
      code === 'UND_ERR_CONNECT_TIMEOUT'
    ) {
      return new RegistryError('timeout', `${where}: ${errorMessage(err)}`, { phase, cause: err });
    }
    return new RegistryError('network', `${where}: ${describeNetworkError(err)}`, { phase, cause: err });
  }

  // --- ping and challenge ---

  private async ensurePing(host: HostState, ctx: RequestContext): Promise<PingResult> {
    const ttl = this.opts.pingTtlMs ?? 300_000;
    if (host.ping && Date.now() - host.ping.at < ttl) return host.ping;
    const shared = this.pings.do(host.key, async () => {
      delete host.pingProblem;
      const result = await this.ping(host);
      host.ping = result;
      return result;
    });
    return await raceSignal(shared, ctx.signal).catch((err: unknown) => {
      const failure = this.networkError('GET', new URL(`https://${host.key}/v2/`), err, ctx, 'ping');
      // The caller's deadline ended a ping still retrying: say what the registry answered.
      if (failure.kind === 'timeout' && host.pingProblem !== undefined) {
        throw new RegistryError('timeout', `${failure.message} (the ping got ${host.pingProblem})`, {
          phase: 'ping',
          cause: err,
        });
      }
      throw failure;
    });
  }

  /** `/v2/` over HTTPS, then plain HTTP for an insecure registry; reads the challenge. */
  private async ping(host: HostState): Promise<PingResult> {
    const ctx = this.authContext();
    const schemes: ('https' | 'http')[] = host.options.insecure ? ['https', 'http'] : ['https'];
    let lastErr: unknown;
    for (const scheme of schemes) {
      const url = new URL('/v2/', `${scheme}://${host.key}`);
      let res: Dispatcher.ResponseData;
      try {
        this.stats.pings++;
        ({ res } = await this.withRetries(
          host,
          url,
          'GET',
          { 'user-agent': this.opts.userAgent ?? 'kuik-functions' },
          null,
          ctx,
          {
            retry: true,
            phase: 'ping',
            policy: this.pingRetry,
            onRetry: (problem) => {
              host.pingProblem = problem;
            },
          },
        ));
      } catch (err) {
        lastErr = err;
        if (err instanceof RegistryError && err.kind === 'network') continue;
        throw err;
      }
      await res.body.dump();
      if (res.statusCode === 200) return { scheme, challenge: undefined, at: Date.now() };
      if (res.statusCode === 401) {
        const challenge = pickChallenge(parseChallenges(res.headers['www-authenticate']));
        if (challenge) return { scheme, challenge, at: Date.now() };
        throw new RegistryError('http', `GET ${redact(url)}: 401 without a Basic or Bearer challenge`, {
          phase: 'ping',
          status: 401,
        });
      }
      const rateLimit = parseRateLimit(res.headers);
      throw new RegistryError('http', `GET ${redact(url)}: unexpected status ${statusLine(res.statusCode)}`, {
        phase: 'ping',
        status: res.statusCode,
        ...(rateLimit ? { rateLimit } : {}),
      });
    }
    throw lastErr;
  }

  private authContext(): RequestContext {
    const ms = this.opts.authTimeoutMs ?? 10_000;
    return { signal: AbortSignal.timeout(ms), deadline: Date.now() + ms, timeoutMs: ms };
  }

  // --- credentials ---

  private async authorization(
    host: HostState,
    challenge: Challenge | undefined,
    req: RegistryRequest,
    ctx: RequestContext,
    stale?: string,
  ): Promise<string | undefined> {
    if (challenge === undefined) return undefined;
    if (challenge.scheme === 'basic') return req.credential ? basicHeader(req.credential) : undefined;
    if (challenge.scheme !== 'bearer') return undefined;
    const scopes = scopeStrings(req.scopes);
    const key = `${host.key}|${scopes.join(' ')}|${this.credentialKey(req.credential)}`;
    if (stale !== undefined) this.tokens.invalidate(key, stale.slice('Bearer '.length));
    const shared = this.tokens.getOrFetch(key, () =>
      this.fetchToken(host, challenge, scopes, req.credential),
    );
    const token = await raceSignal(shared, ctx.signal).catch((err: unknown) => {
      throw this.networkError('GET', realmUrl(challenge), err, ctx, 'token');
    });
    return `Bearer ${token}`;
  }

  /**
   * After a 401: adopt the challenge the registry just sent (it may have changed since the ping),
   * drop the refused token, and say which Authorization to try once more (undefined: give up).
   */
  private async reauthenticate(
    host: HostState,
    headers: IncomingHttpHeaders,
    used: string | undefined,
    req: RegistryRequest,
    ctx: RequestContext,
  ): Promise<string | undefined> {
    const challenge = pickChallenge(parseChallenges(headers['www-authenticate']));
    if (!challenge) return undefined;
    if (host.ping) host.ping = { ...host.ping, challenge };
    if (challenge.scheme === 'basic') {
      // Same credentials again would be refused again.
      const next = req.credential ? basicHeader(req.credential) : undefined;
      return next === used ? undefined : next;
    }
    return await this.authorization(
      host,
      challenge,
      req,
      ctx,
      used?.startsWith('Bearer ') ? used : undefined,
    );
  }

  private async fetchToken(
    host: HostState,
    challenge: Challenge,
    scopes: readonly string[],
    credential: BasicCredential | undefined,
  ): Promise<{ token: string; lifetimeMs: number }> {
    const ctx = this.authContext();
    const url = realmUrl(challenge);
    if (challenge.params['service']) url.searchParams.set('service', challenge.params['service']);
    for (const s of scopes) url.searchParams.append('scope', s);
    const headers: Record<string, string> = { 'user-agent': this.opts.userAgent ?? 'kuik-functions' };
    if (credential) headers['authorization'] = basicHeader(credential);
    this.stats.tokenFetches++;
    const { res } = await this.withRetries(host, url, 'GET', headers, null, ctx, {
      retry: true,
      phase: 'token',
    });
    const text = await res.body.text().catch(() => '');
    const where = `GET ${redact(url)}`;
    if (res.statusCode !== 200) {
      const rateLimit = parseRateLimit(res.headers);
      throw new RegistryError('http', `${where}: ${statusLine(res.statusCode)}${errorDetail(text)}`, {
        phase: 'token',
        status: res.statusCode,
        ...(rateLimit ? { rateLimit } : {}),
      });
    }
    let parsed: v.InferOutput<typeof TokenResponse>;
    try {
      parsed = v.parse(TokenResponse, JSON.parse(text));
    } catch {
      throw new RegistryError('protocol', `${where}: the token response is not the expected JSON`, {
        phase: 'token',
      });
    }
    const token = parsed.token || parsed.access_token;
    if (!token)
      throw new RegistryError('protocol', `${where}: the token response has no token`, { phase: 'token' });
    const lifetimeMs =
      parsed.expires_in !== undefined && parsed.expires_in > 0
        ? parsed.expires_in * 1000
        : DEFAULT_TOKEN_LIFETIME_MS;
    return { token, lifetimeMs };
  }

  /** A stable, non-reversible key per credential: the token cache never holds a password. */
  private credentialKey(c: BasicCredential | undefined): string {
    if (!c) return 'anonymous';
    const known = this.credKeys.get(c);
    if (known !== undefined) return known;
    const key = createHash('sha256').update(`${c.username}\0${c.password}`).digest('hex').slice(0, 32);
    this.credKeys.set(c, key);
    return key;
  }
}

function isStream(body: RegistryRequest['body']): boolean {
  return typeof body === 'object' && body !== null && !(body instanceof Uint8Array);
}

function basicHeader(c: BasicCredential): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

function realmUrl(challenge: Challenge): URL {
  const realm = challenge.params['realm'];
  if (!realm) throw new RegistryError('protocol', 'the Bearer challenge has no realm', { phase: 'token' });
  try {
    return new URL(realm);
  } catch {
    throw new RegistryError('protocol', `the Bearer challenge realm ${JSON.stringify(realm)} is not a URL`, {
      phase: 'token',
    });
  }
}

/** `404 Not Found`: the number for scripts, the words for people. */
export function statusLine(status: number): string {
  const text = STATUS_CODES[status];
  return text ? `${status} ${text}` : String(status);
}

export function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const value = h[name];
  return Array.isArray(value) ? value[0] : value;
}

/** URLs without userinfo and without query values that could carry signatures (storage redirects). */
export function redact(url: URL): string {
  const u = new URL(url.toString());
  u.username = '';
  u.password = '';
  for (const k of [...u.searchParams.keys()]) {
    if (/signature|token|credential|sig$|key/i.test(k)) u.searchParams.set(k, 'redacted');
  }
  return u.toString();
}

/** `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}` → `: MANIFEST_UNKNOWN manifest unknown`. */
export function errorDetail(body: string): string {
  if (body === '') return '';
  try {
    const doc = JSON.parse(body) as { errors?: { code?: unknown; message?: unknown }[]; details?: unknown };
    const first = doc.errors?.[0];
    if (first) {
      const parts = [first.code, first.message].filter((x) => typeof x === 'string' && x !== '');
      if (parts.length > 0) return `: ${parts.join(' ')}`;
    }
  } catch {
    // Not JSON: fall through to a short excerpt.
  }
  const line = body.replace(/\s+/g, ' ').trim().slice(0, 120);
  return line === '' ? '' : `: ${line}`;
}

/** Node's network errors, as an operator reads them: the code and what it was doing. */
function describeNetworkError(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e instanceof Error; depth++) {
    if (e.message && !parts.includes(e.message)) parts.push(e.message);
    e = e.cause;
  }
  return parts.join(': ') || errorMessage(err);
}
