// Name resolution for registry connections, off libuv's thread pool.
//
// Node's default `dns.lookup` is getaddrinfo(3) on libuv's 4-thread pool. A lookup the DNS server
// never answers holds a thread for the whole resolver timeout (5 s × attempts), so a few hundred
// admission reviews naming unresolvable hosts queued every later lookup behind them, `localhost`
// included: no registry reached by name could be probed and no pod rerouted (issue 14). Here:
//   - IP literals are used as they are;
//   - names in /etc/hosts are answered from it (parsed once, re-read when its mtime changes), and
//     `localhost` always means the loopback addresses;
//   - other names go to c-ares (`dns.promises.Resolver`), which runs on the event loop, with a
//     per-try timeout and a bounded number of tries;
//   - answers are cached for their TTL (clamped), failures briefly; positive and negative answers
//     are kept in separate bounded caches, so a flood of junk names cannot evict the registries
//     already known; an expired answer is served while it is refreshed in the background, and
//     still served if the refresh fails (RFC 8767), for up to an hour: a DNS outage or flood does
//     not stop probes of registries already known;
//   - concurrent lookups of one name share one query (single-flight), and the number of distinct
//     new names being resolved at once is capped (more fail at once with EAI_AGAIN): c-ares keeps
//     at most 256 queries outstanding and queues the rest, so without a cap a flood of unanswered
//     names would delay every other query by the resolver timeout.
//
// Search domains: c-ares' query does not apply resolv.conf's `search` list, so a dotless name is
// tried with each search suffix first, then as is; a name with a dot is tried as is first, then
// with the suffixes (resolv.conf `ndots:1` behaviour; Kubernetes sets ndots:5, which would send
// four doomed queries before `quay.io` itself).
import { promises as dnsp } from 'node:dns';
import { readFileSync, statSync } from 'node:fs';
import { isIP, type LookupFunction } from 'node:net';
import { LruCache } from '../lru.ts';
import { SingleFlight } from '../single-flight.ts';

export interface Address {
  address: string;
  family: 4 | 6;
}

export interface ResolverOptions {
  /** DNS servers (`ip`, `ip:port`, `[ipv6]:port`); default: those of /etc/resolv.conf. */
  servers?: readonly string[];
  /** Per-try timeout of one query. */
  timeoutMs?: number;
  tries?: number;
  /** Ceiling for one name, all search suffixes and both address families included. */
  lookupTimeoutMs?: number;
  hostsFile?: string;
  resolvConf?: string;
  /** Entries of each cache (answers; failures). */
  maxEntries?: number;
  minTtlMs?: number;
  maxTtlMs?: number;
  /** How long a failure (no such name, timeout) is remembered. */
  negativeTtlMs?: number;
  /** How long an expired answer may still be used when its refresh fails. */
  maxStaleMs?: number;
  /** Distinct names resolved at once; more fail at once with EAI_AGAIN. */
  maxInFlight?: number;
  now?: () => number;
}

interface Positive {
  addresses: Address[];
  expires: number;
}

interface Negative {
  code: string;
  message: string;
  expires: number;
}

/** An error shaped like dns.lookup's, so callers' messages and retry rules read the same. */
export class LookupError extends Error {
  override name = 'LookupError';
  readonly code: string;
  readonly hostname: string;
  readonly syscall = 'getaddrinfo';
  constructor(code: string, hostname: string, detail?: string) {
    super(`getaddrinfo ${code} ${hostname}${detail ? ` (${detail})` : ''}`);
    this.code = code;
    this.hostname = hostname;
  }
}

// c-ares' "no such name" answers; anything else (timeout, refused, SERVFAIL) may pass.
const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'ENONAME', 'EBADNAME', 'EBADQUERY', 'EFORMERR']);

const LOOPBACK: Address[] = [
  { address: '127.0.0.1', family: 4 },
  { address: '::1', family: 6 },
];

/** `/etc/hosts` text → lower-case name → addresses, in file order. Pure. */
export function parseHosts(text: string): Map<string, Address[]> {
  const out = new Map<string, Address[]>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const [ip, ...names] = line.split(/\s+/);
    const family = isIP(ip ?? '');
    if (family !== 4 && family !== 6) continue;
    for (const n of names) {
      const key = n.toLowerCase().replace(/\.$/, '');
      const list = out.get(key) ?? [];
      if (!list.some((a) => a.address === ip)) list.push({ address: ip!, family });
      out.set(key, list);
    }
  }
  return out;
}

/** resolv.conf's `search` (or `domain`) suffixes. Pure. */
export function parseSearch(text: string): string[] {
  let search: string[] = [];
  for (const raw of text.split('\n')) {
    const [kw, ...rest] = raw
      .replace(/[#;].*/, '')
      .trim()
      .split(/\s+/);
    if (kw === 'search' || kw === 'domain') search = rest.filter((s) => s !== '' && s !== '.');
  }
  return search.map((s) => s.replace(/\.$/, '').toLowerCase());
}

/** The names to query for `name`, in order (see the header on search domains). Pure. */
export function candidates(name: string, search: readonly string[]): string[] {
  if (name.endsWith('.')) return [name.slice(0, -1)];
  const suffixed = search.map((s) => `${name}.${s}`);
  return name.includes('.') ? [name, ...suffixed] : [...suffixed, name];
}

/** A file read again only when its mtime changes, checked at most once per `everyMs`. */
class WatchedFile<T> {
  readonly #path: string;
  readonly #parse: (text: string) => T;
  readonly #empty: T;
  readonly #everyMs: number;
  #value: T;
  #mtime = -1;
  #checked = Number.NEGATIVE_INFINITY;
  constructor(path: string, parse: (text: string) => T, empty: T, everyMs = 2000) {
    this.#path = path;
    this.#parse = parse;
    this.#empty = empty;
    this.#everyMs = everyMs;
    this.#value = empty;
  }
  get(now: number): T {
    if (now - this.#checked < this.#everyMs) return this.#value;
    this.#checked = now;
    try {
      // Synchronous on purpose: a stat is microseconds, and fs's async calls use the thread pool
      // this module exists to stay off.
      const m = statSync(this.#path).mtimeMs;
      if (m !== this.#mtime) {
        this.#value = this.#parse(readFileSync(this.#path, 'utf8'));
        this.#mtime = m;
      }
    } catch {
      this.#value = this.#empty;
      this.#mtime = -1;
    }
    return this.#value;
  }
}

export class CachingResolver {
  readonly #resolver: dnsp.Resolver;
  readonly #opts: Required<Omit<ResolverOptions, 'servers'>>;
  readonly #positive: LruCache<string, Positive>;
  readonly #negative: LruCache<string, Negative>;
  readonly #inflight = new SingleFlight<Address[]>();
  readonly #hosts: WatchedFile<Map<string, Address[]>>;
  readonly #search: WatchedFile<string[]>;
  /** Queries sent to DNS servers (not answered from a cache, /etc/hosts or an IP literal). */
  queries = 0;

  constructor(opts: ResolverOptions = {}) {
    this.#opts = {
      timeoutMs: opts.timeoutMs ?? 1500,
      tries: opts.tries ?? 2,
      lookupTimeoutMs: opts.lookupTimeoutMs ?? 5000,
      hostsFile: opts.hostsFile ?? '/etc/hosts',
      resolvConf: opts.resolvConf ?? '/etc/resolv.conf',
      maxEntries: opts.maxEntries ?? 512,
      minTtlMs: opts.minTtlMs ?? 5_000,
      maxTtlMs: opts.maxTtlMs ?? 300_000,
      negativeTtlMs: opts.negativeTtlMs ?? 5_000,
      maxStaleMs: opts.maxStaleMs ?? 3_600_000,
      // c-ares keeps at most 256 queries outstanding per channel and queues the rest: two per
      // name, 64 names leave room for the refreshes of known ones.
      maxInFlight: opts.maxInFlight ?? 64,
      now: opts.now ?? Date.now,
    };
    this.#resolver = new dnsp.Resolver({ timeout: this.#opts.timeoutMs, tries: this.#opts.tries });
    if (opts.servers && opts.servers.length > 0) this.#resolver.setServers([...opts.servers]);
    this.#positive = new LruCache(this.#opts.maxEntries);
    this.#negative = new LruCache(this.#opts.maxEntries);
    this.#hosts = new WatchedFile(this.#opts.hostsFile, parseHosts, new Map());
    this.#search = new WatchedFile(this.#opts.resolvConf, parseSearch, []);
  }

  /** Addresses of `hostname` (IPv4 first), or a LookupError. */
  async resolve(hostname: string): Promise<Address[]> {
    const family = isIP(hostname);
    if (family === 4 || family === 6) return [{ address: hostname, family }];
    const name = hostname.toLowerCase().replace(/\.$/, '');
    if (name === '') throw new LookupError('ENOTFOUND', hostname);
    const now = this.#opts.now();
    const fromHosts = this.#hosts.get(now).get(name);
    if (fromHosts) return fromHosts;
    if (name === 'localhost' || name.endsWith('.localhost')) return LOOPBACK;

    const pos = this.#positive.get(name);
    const neg = this.#negative.get(name);
    const failing = neg !== undefined && neg.expires > now;
    if (pos && pos.expires > now) return pos.addresses;
    if (pos && now - pos.expires < this.#opts.maxStaleMs) {
      // Stale while revalidating: the registry keeps its last known address while a refresh runs
      // (or after it failed), so a DNS outage or flood cannot stop probes of known registries.
      // Refreshes are not counted against maxInFlight: at most one per cached name per TTL.
      if (!failing && !this.#inflight.has(name)) {
        this.#inflight.do(name, () => this.#query(name, hostname)).catch(() => {});
      }
      return pos.addresses;
    }
    if (failing) throw new LookupError(neg.code, hostname, neg.message);
    if (!this.#inflight.has(name) && this.#inflight.size >= this.#opts.maxInFlight) {
      throw new LookupError('EAI_AGAIN', hostname, 'too many DNS lookups in flight');
    }
    return await this.#inflight.do(name, () => this.#query(name, hostname));
  }

  async #query(name: string, shown: string): Promise<Address[]> {
    const deadline = this.#opts.now() + this.#opts.lookupTimeoutMs;
    let failure: { code: string; message: string } = { code: 'ENOTFOUND', message: 'no answer' };
    for (const candidate of candidates(name, this.#search.get(this.#opts.now()))) {
      if (this.#opts.now() >= deadline) {
        failure = { code: 'EAI_AGAIN', message: `no answer within ${this.#opts.lookupTimeoutMs} ms` };
        break;
      }
      const r = await this.#both(candidate, deadline - this.#opts.now());
      if ('addresses' in r) {
        this.#positive.set(name, { addresses: r.addresses, expires: this.#opts.now() + r.ttlMs });
        return r.addresses;
      }
      failure = r;
      // Only "no such name" moves on to the next suffix; a server that does not answer would not
      // answer the next one either.
      if (!NOT_FOUND.has(r.code)) break;
    }
    const code = NOT_FOUND.has(failure.code) ? 'ENOTFOUND' : 'EAI_AGAIN';
    const now = this.#opts.now();
    this.#negative.set(name, { code, message: failure.message, expires: now + this.#opts.negativeTtlMs });
    throw new LookupError(code, shown, failure.message);
  }

  /** A and AAAA of one name, in parallel, within `budgetMs`. */
  async #both(
    name: string,
    budgetMs: number,
  ): Promise<{ addresses: Address[]; ttlMs: number } | { code: string; message: string }> {
    this.queries++;
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<'timeout'>((r) => {
      timer = setTimeout(r, Math.max(0, budgetMs), 'timeout');
    });
    const settled = await Promise.race([
      Promise.allSettled([
        this.#resolver.resolve4(name, { ttl: true }),
        this.#resolver.resolve6(name, { ttl: true }),
      ]),
      budget,
    ]);
    clearTimeout(timer);
    if (settled === 'timeout') return { code: 'ETIMEOUT', message: `no answer within ${budgetMs} ms` };
    const [v4, v6] = settled;
    const addresses: Address[] = [];
    let ttl = Number.POSITIVE_INFINITY;
    if (v4.status === 'fulfilled')
      for (const a of v4.value) {
        addresses.push({ address: a.address, family: 4 });
        ttl = Math.min(ttl, a.ttl);
      }
    if (v6.status === 'fulfilled')
      for (const a of v6.value) {
        addresses.push({ address: a.address, family: 6 });
        ttl = Math.min(ttl, a.ttl);
      }
    if (addresses.length > 0) {
      const ttlMs = Math.min(this.#opts.maxTtlMs, Math.max(this.#opts.minTtlMs, ttl * 1000));
      return { addresses, ttlMs };
    }
    // Both failed, or answered with no address: report the IPv4 failure (the usual family), unless
    // it is a plain "no data" and IPv6's is more telling.
    const reasons = [v4, v6]
      .filter((s): s is PromiseRejectedResult => s.status === 'rejected')
      .map((s) => s.reason as { code?: string; message?: string });
    const worst = reasons.find((e) => !NOT_FOUND.has(e.code ?? '')) ?? reasons[0];
    return { code: worst?.code ?? 'ENODATA', message: worst?.message ?? 'no address' };
  }

  /** For net.connect / undici's `connect.lookup`: the dns.lookup calling convention. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const family = typeof options === 'number' ? options : (options?.family ?? 0);
    const all = typeof options === 'object' && options !== null && options.all === true;
    const want = family === 'IPv4' ? 4 : family === 'IPv6' ? 6 : family;
    this.resolve(hostname).then(
      (list) => {
        const chosen = want === 4 || want === 6 ? list.filter((a) => a.family === want) : list;
        if (chosen.length === 0) {
          callback(new LookupError('ENOTFOUND', hostname, `no IPv${want} address`), '', 0);
        } else if (all) {
          (callback as unknown as (e: null, a: Address[]) => void)(null, chosen);
        } else {
          callback(null, chosen[0]!.address, chosen[0]!.family);
        }
      },
      (err: unknown) => callback(err as NodeJS.ErrnoException, '', 0),
    );
  };
}

/** `KUIK_DNS_SERVERS=10.0.0.10,10.0.0.11:53`: DNS servers instead of resolv.conf's (tests, odd networks). */
export function serversFromEnv(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const raw = env['KUIK_DNS_SERVERS']?.trim();
  if (!raw) return undefined;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

let shared: CachingResolver | undefined;

/** The process's resolver, shared by every registry transport (one cache, one in-flight set). */
export function sharedResolver(): CachingResolver {
  if (!shared) {
    const servers = serversFromEnv();
    shared = new CachingResolver(servers ? { servers } : {});
  }
  return shared;
}
