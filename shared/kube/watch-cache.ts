// An in-memory copy of one resource collection, kept by list + watch. The router reads its routing
// CRs from here on every admission, so a lookup must never touch the network.
//
// Written here rather than taken from client-node's makeInformer for two reasons: Node watches are
// known to stop delivering silently (no error, no close), which an informer never notices, so this
// cache relists on a timer no matter what; and callers need to know when the first list has landed
// (readiness) and to be told of every change (metrics), with the object before and after.

import { type KubeConfig, KubernetesObjectApi, Watch } from '@kubernetes/client-node';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; uid?: string };
}

export interface WatchCacheOptions<T = KubeObject> {
  kc: KubeConfig;
  apiVersion: string;
  kind: string;
  /** URL path of the collection, e.g. /apis/kuik.enix.io/v1alpha1/imagesetmirrors. */
  path: string;
  log: Logger;
  /** Full relist period, the guard against silently stalled watches. */
  relistMs?: number;
  /** Called after every change of the cache (add, update, delete, relist). */
  onChange?: () => void;
  /** Only the objects with these labels (e.g. the Secrets a function made, not every Secret). */
  labelSelector?: string;
  /** What is kept of each object (drop what no reader needs: memory is per object). */
  transform?: (o: T) => T;
}

const key = (o: KubeObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

export class WatchCache<T extends KubeObject> {
  readonly #opts: WatchCacheOptions<T>;
  readonly #store = new Map<string, T>();
  #resourceVersion = '';
  #synced = false;
  #stopped = false;
  #abort: AbortController | undefined;
  #relistTimer: NodeJS.Timeout | undefined;
  #generation = 0;
  relists = 0;
  watchRestarts = 0;

  constructor(opts: WatchCacheOptions<T>) {
    this.#opts = opts;
  }

  get synced(): boolean {
    return this.#synced;
  }

  /** Every cached object (a snapshot array; the objects themselves must be treated as read-only). */
  list(namespace?: string): T[] {
    const all = [...this.#store.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.#store.get(`${namespace ?? ''}/${name}`);
  }

  /** Lists, starts watching, and resolves once the first list is in the cache. */
  async start(): Promise<void> {
    await this.#relist();
    const period = this.#opts.relistMs ?? 5 * 60_000;
    this.#relistTimer = setInterval(() => {
      void this.#relist().catch((err) =>
        this.#opts.log.warn({ err: errorMessage(err), kind: this.#opts.kind }, 'relist failed'),
      );
    }, period);
    this.#relistTimer.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#relistTimer);
    this.#abort?.abort();
  }

  async #relist(): Promise<void> {
    const api = KubernetesObjectApi.makeApiClient(this.#opts.kc);
    const { labelSelector, transform } = this.#opts;
    const list = await api.list<T>(
      this.#opts.apiVersion,
      this.#opts.kind,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      labelSelector,
    );
    const generation = ++this.#generation;
    this.#store.clear();
    for (const item of list.items) this.#store.set(key(item), transform ? transform(item) : item);
    this.#resourceVersion = list.metadata?.resourceVersion ?? '';
    this.#synced = true;
    this.relists++;
    this.#opts.onChange?.();
    // Replace the watch: the old one may be the silently stalled one this relist guards against.
    this.#abort?.abort();
    await this.#watch(generation);
  }

  async #watch(generation: number): Promise<void> {
    if (this.#stopped || generation !== this.#generation) return;
    const restart = (delayMs: number, relist: boolean) => {
      if (this.#stopped || generation !== this.#generation) return;
      this.watchRestarts++;
      setTimeout(() => {
        const next = relist ? this.#relist() : this.#watch(generation);
        void next.catch((err) => {
          this.#opts.log.warn({ err: errorMessage(err), kind: this.#opts.kind }, 'watch restart failed');
          restart(Math.min(delayMs * 2, 30_000), true);
        });
      }, delayMs).unref();
    };
    const w = new Watch(this.#opts.kc);
    this.#abort = await w.watch(
      this.#opts.path,
      {
        resourceVersion: this.#resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: 300,
        ...(this.#opts.labelSelector ? { labelSelector: this.#opts.labelSelector } : {}),
      },
      (phase, obj: T & { code?: number }) => {
        if (generation !== this.#generation) return;
        if (phase === 'ERROR') {
          // 410 Gone: our resourceVersion is too old; only a fresh list can continue.
          this.#opts.log.info({ kind: this.#opts.kind, code: obj.code }, 'watch error, relisting');
          restart(100, true);
          return;
        }
        if (obj.metadata?.resourceVersion) this.#resourceVersion = obj.metadata.resourceVersion;
        if (phase === 'BOOKMARK') return;
        if (phase === 'DELETED') this.#store.delete(key(obj));
        else this.#store.set(key(obj), this.#opts.transform ? this.#opts.transform(obj) : obj);
        this.#opts.onChange?.();
      },
      (err) => {
        // The server closes watches after timeoutSeconds; resume from the last resourceVersion.
        if (err && !this.#stopped)
          this.#opts.log.info({ kind: this.#opts.kind, err: errorMessage(err) }, 'watch ended');
        restart(err ? 1000 : 0, false);
      },
    );
  }
}
