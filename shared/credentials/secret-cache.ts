// Secrets read again and again (the router: on every admission, pods' pull secrets and CRs'
// credentials; reconcile: mirror credentials, for every mirror set of a resync), reused for a
// few seconds and fetched once however many callers ask at the same time. Absent Secrets are
// remembered too; errors are not.
import type { V1Secret } from '@kubernetes/client-node';
import { apiStatus, type Kube } from '../kube/client.ts';
import { LruCache } from '../lru.ts';
import { SingleFlight } from '../single-flight.ts';

/** Reads a Secret: undefined when it does not exist; rejects on any other error. */
type Fetch = (namespace: string, name: string) => Promise<V1Secret | undefined>;

export class SecretCache {
  readonly #fetch: Fetch;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #cache = new LruCache<string, { secret: V1Secret | undefined; expires: number }>(4096);
  readonly #inflight = new SingleFlight<V1Secret | undefined>();
  fetches = 0;

  constructor(fetch: Fetch, ttlMs: number, now: () => number = Date.now) {
    this.#fetch = fetch;
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  async get(namespace: string, name: string): Promise<V1Secret | undefined> {
    const key = `${namespace}/${name}`;
    const hit = this.#cache.get(key);
    if (hit && hit.expires > this.#now()) return hit.secret;
    const flight = this.#inflight.do(key, async () => {
      this.fetches++;
      const secret = await this.#fetch(namespace, name);
      this.#cache.set(key, { secret, expires: this.#now() + this.#ttlMs });
      return secret;
    });
    return await flight;
  }
}

/**
 * Reads Secrets through the API, with the function's own ServiceAccount (its RBAC decides which):
 * a 404 is an absent Secret, any other error is thrown.
 */
export function apiSecretReader(kube: Pick<Kube, 'getSecret'>): Fetch {
  return async (namespace, name) => {
    try {
      return await kube.getSecret(namespace, name);
    } catch (err) {
      if (apiStatus(err) === 404) return undefined;
      throw err;
    }
  };
}

/** A SecretCache reading through `kube` (a missing Secret is remembered as absent). */
export function kubeSecretCache(kube: Pick<Kube, 'getSecret'>, ttlMs: number): SecretCache {
  return new SecretCache(apiSecretReader(kube), ttlMs);
}
