// §4.7–§4.8: is this alternative pullable right now? One probe per (reference, credentials) at a
// time (single-flight), and a verdict reused for a short TTL. Unlike kuik, the key includes a
// fingerprint of the credentials: a private image that namespace A can pull must not look
// available to namespace B, which has no credential for it (§4.8 QUIRK). kuik's decision cache,
// keyed by image alone, is not reproduced at all: deciding is cheap once probes are cached.
import type { ImageReference } from '#shared/image/reference.ts';
import { LruCache } from '#shared/lru.ts';
import type { RegistryClient } from '#shared/registry/client.ts';
import type { Outcome } from '#shared/registry/outcome.ts';
import { SingleFlight } from '#shared/single-flight.ts';

export interface Credential {
  username: string;
  password: string;
}

export interface ProbeResult {
  outcome: Outcome;
  /** Why it failed, with kuik's prefixes (`image not found: …`); empty when available. */
  message: string;
}

export type Probe = (image: ImageReference, credentials: readonly Credential[]) => Promise<ProbeResult>;

/**
 * The router's probe: a HEAD with the configured timeout and digest resolution
 * (`routing.activeCheck`). `kuik explain` builds the same one, so its verdicts are the router's.
 */
export function activeCheckProbe(
  client: Pick<RegistryClient, 'probe'>,
  check: { timeout: number; resolveDigest: boolean },
): Probe {
  return async (image, credentials) => {
    const r = await client.probe(image, {
      method: 'HEAD',
      timeoutMs: check.timeout,
      resolveDigest: check.resolveDigest,
      credentials,
    });
    return { outcome: r.outcome, message: r.message };
  };
}

export interface CheckResult extends ProbeResult {
  cached: boolean;
}

/**
 * The credentials part of a cache key. It stays in this process's memory, where the credentials
 * already are, and is never logged or sent; so it is the credentials themselves, joined, rather
 * than a hash (hashing on every check was a visible share of the router's CPU).
 */
export function credentialFingerprint(credentials: readonly Credential[]): string {
  if (credentials.length === 0) return 'anonymous';
  let key = '';
  for (const c of credentials) key += `${c.username}\u0000${c.password}\u0001`;
  return key;
}

export class AvailabilityChecker {
  readonly #probe: Probe;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #cache: LruCache<string, { result: ProbeResult; expires: number }>;
  readonly #inflight = new SingleFlight<ProbeResult>();
  readonly #onLookup: (hit: boolean) => void;

  constructor(opts: {
    probe: Probe;
    ttlMs: number;
    capacity?: number;
    now?: () => number;
    onLookup?: (hit: boolean) => void;
  }) {
    this.#probe = opts.probe;
    this.#onLookup = opts.onLookup ?? (() => {});
    this.#ttlMs = opts.ttlMs;
    this.#now = opts.now ?? Date.now;
    this.#cache = new LruCache(opts.capacity ?? 1000);
  }

  async check(image: ImageReference, credentials: readonly Credential[]): Promise<CheckResult> {
    const key = `${image.string}\n${credentialFingerprint(credentials)}`;
    const hit = this.#cache.get(key);
    if (hit && hit.expires > this.#now()) {
      this.#onLookup(true);
      return { ...hit.result, cached: true };
    }
    this.#onLookup(false);
    const flight = this.#inflight.do(key, async () => {
      const result = await this.#probe(image, credentials);
      if (this.#ttlMs > 0) this.#cache.set(key, { result, expires: this.#now() + this.#ttlMs });
      return result;
    });
    return { ...(await flight), cached: false };
  }
}
