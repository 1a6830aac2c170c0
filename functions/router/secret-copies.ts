// Pull-secret copies (§4.9) written only when they are missing or differ from their source. Every
// admission routed through a mirror with a credential used to refresh its copy (CREATE → 409 →
// GET → PUT): four API calls and an etcd write per pod, with nothing changed. The copies the
// router made are watched (by their managed-by label, so no other Secret is listed), and an
// admission whose copy is already there and current writes nothing.
//
// The guarantees are the ones of writing every time: a copy missing (never made, deleted) is
// created; one that differs (the source Secret rotated: the source is read through the 10 s
// SecretCache, as before) is replaced. Only the copy is compared: type, data, and the owner labels.
import { isDeepStrictEqual } from 'node:util';
import type { V1Secret } from '@kubernetes/client-node';
import { LruCache } from '#shared/lru.ts';
import { SingleFlight } from '#shared/single-flight.ts';

/** The label every copy carries (secret-copy.ts): what the watch selects on. */
export const COPY_SELECTOR = 'app.kubernetes.io/managed-by=kuik-functions';

export interface SecretWriter {
  create(secret: V1Secret): Promise<V1Secret>;
  replace(secret: V1Secret): Promise<V1Secret>;
  read(namespace: string, name: string): Promise<V1Secret | undefined>;
}

/** True when `stored` already is `wanted`: same type and data, and every label `wanted` sets. */
export function copyIsCurrent(stored: V1Secret | undefined, wanted: V1Secret): boolean {
  if (!stored) return false;
  if ((stored.type ?? 'Opaque') !== (wanted.type ?? 'Opaque')) return false;
  if (!isDeepStrictEqual(stored.data ?? {}, wanted.data ?? {})) return false;
  const labels = stored.metadata?.labels ?? {};
  return Object.entries(wanted.metadata?.labels ?? {}).every(([k, v]) => labels[k] === v);
}

/** What the watch keeps of a copy: what copyIsCurrent reads, and the resourceVersion to replace it. */
export function slimCopy(s: V1Secret): V1Secret {
  const m = s.metadata ?? {};
  return {
    metadata: {
      ...(m.name === undefined ? {} : { name: m.name }),
      ...(m.namespace === undefined ? {} : { namespace: m.namespace }),
      ...(m.resourceVersion === undefined ? {} : { resourceVersion: m.resourceVersion }),
      ...(m.labels === undefined ? {} : { labels: m.labels }),
    },
    ...(s.type === undefined ? {} : { type: s.type }),
    ...(s.data === undefined ? {} : { data: s.data }),
  };
}

export type CopyResult = 'current' | 'created' | 'replaced';

export class SecretCopies {
  readonly #cached: (namespace: string, name: string) => V1Secret | undefined;
  readonly #writer: SecretWriter;
  readonly #inflight = new SingleFlight<CopyResult>();
  /**
   * What this process wrote in the last seconds: the watch shows a write a moment later, and an
   * admission in between must not write the same copy again.
   */
  readonly #recent = new LruCache<string, { copy: V1Secret; until: number }>(1024);
  readonly #now: () => number;
  writes = 0;

  constructor(
    cached: (namespace: string, name: string) => V1Secret | undefined,
    writer: SecretWriter,
    now: () => number = Date.now,
  ) {
    this.#cached = cached;
    this.#writer = writer;
    this.#now = now;
  }

  /** Makes the copy `wanted` exist as it is; writes nothing when it already does. */
  async ensure(wanted: V1Secret): Promise<CopyResult> {
    const namespace = wanted.metadata?.namespace ?? '';
    const name = wanted.metadata?.name ?? '';
    const key = `${namespace}/${name}`;
    const stored = this.#cached(namespace, name);
    if (copyIsCurrent(stored, wanted)) return 'current';
    const recent = this.#recent.get(key);
    if (recent && recent.until > this.#now() && copyIsCurrent(recent.copy, wanted)) return 'current';
    return await this.#inflight.do(key, async () => {
      const result = await this.#write(wanted, stored);
      this.#recent.set(key, { copy: wanted, until: this.#now() + 5_000 });
      return result;
    });
  }

  async #write(wanted: V1Secret, stored: V1Secret | undefined): Promise<CopyResult> {
    const namespace = wanted.metadata?.namespace ?? '';
    const name = wanted.metadata?.name ?? '';
    let current = stored;
    for (let attempt = 1; attempt <= 5; attempt++) {
      this.writes++;
      try {
        if (!current) {
          await this.#writer.create(wanted);
          return 'created';
        }
        await this.#writer.replace({
          ...wanted,
          metadata: { ...wanted.metadata, resourceVersion: current.metadata?.resourceVersion ?? '' },
        });
        return 'replaced';
      } catch (err) {
        // 409: the cache was behind (made or changed meanwhile, by us or another replica): read
        // what is there and start over from it. 404 on replace: deleted meanwhile: create.
        const code = (err as { code?: number }).code;
        if ((code !== 409 && code !== 404) || attempt === 5) throw err;
        current = await this.#writer.read(namespace, name);
        if (copyIsCurrent(current, wanted)) return 'current';
      }
    }
    throw new Error('unreachable');
  }
}
