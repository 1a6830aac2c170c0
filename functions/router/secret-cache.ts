// Secrets the router reads on every admission (pods' pull secrets, CRs' credentials), reused for a
// few seconds and fetched once however many admissions ask at the same time. Absent Secrets are
// remembered too; errors are not.
import type { V1Secret } from '@kubernetes/client-node';
import { LruCache } from '../../shared/lru.ts';
import { SingleFlight } from '../../shared/single-flight.ts';

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
