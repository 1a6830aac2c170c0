// Bearer tokens cached per (registry, scopes, credential) until shortly before they expire, with
// one fetch in flight per key: 64 concurrent probes of one repository cost ONE token request
// (ARCHITECTURE "Shared code"; the benchmark counts them on the token server).
import { SingleFlight } from '../single-flight.ts';

export interface FetchedToken {
  token: string;
  /** Lifetime the token server granted (`expires_in`). */
  lifetimeMs: number;
}

interface Entry {
  token: string;
  expiresAt: number;
}

/** Distribution's token spec: a token without `expires_in` lives 60 s. */
export const DEFAULT_TOKEN_LIFETIME_MS = 60_000;

/**
 * Refresh when 90 % of the lifetime has passed: a token fetched at t=0 for 300 s is reused until
 * t=270 s, so a request never leaves with a token that expires on the way. Measured from our
 * clock when the fetch started, not the server's `issued_at`, so clock skew cannot stretch it.
 */
export function tokenExpiry(fetchStartedAt: number, lifetimeMs: number): number {
  return fetchStartedAt + Math.floor(lifetimeMs * 0.9);
}

export class TokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly flight = new SingleFlight<string>();
  private readonly capacity: number;
  private readonly now: () => number;

  constructor(opts: { capacity?: number; now?: () => number } = {}) {
    this.capacity = opts.capacity ?? 1000;
    this.now = opts.now ?? Date.now;
  }

  get(key: string): string | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.token;
  }

  /** The cached token, or the result of the one fetch running for this key. */
  getOrFetch(key: string, fetch: () => Promise<FetchedToken>): Promise<string> {
    const cached = this.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    return this.flight.do(key, async () => {
      const started = this.now();
      const { token, lifetimeMs } = await fetch();
      this.set(key, token, tokenExpiry(started, lifetimeMs));
      return token;
    });
  }

  /**
   * Drops `token` after a registry refused it. Only that token: when 64 requests see a 401 for
   * the same stale token, the first one's refetch is not thrown away by the other 63.
   */
  invalidate(key: string, token: string): void {
    if (this.entries.get(key)?.token === token) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private set(key: string, token: string, expiresAt: number): void {
    this.entries.delete(key);
    // Insertion order is age order: evict the oldest when full.
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { token, expiresAt });
  }
}
