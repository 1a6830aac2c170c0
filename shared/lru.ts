// A bounded cache with least-recently-used eviction, approximated by two generations: hits in
// the young generation cost one Map lookup (a true LRU re-inserts on every hit, which dominated
// the router's CPU profile); hits in the old generation are promoted; when the young generation
// fills, the old one is dropped whole. At most `max` entries are kept.

export class LruCache<K, V> {
  readonly #half: number;
  #young = new Map<K, V>();
  #old = new Map<K, V>();

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('LruCache size must be a positive integer');
    this.#half = Math.max(1, Math.floor(max / 2));
  }

  get size(): number {
    return this.#young.size + this.#old.size;
  }

  get(key: K): V | undefined {
    const v = this.#young.get(key);
    if (v !== undefined || this.#young.has(key)) return v;
    if (!this.#old.has(key)) return undefined;
    const promoted = this.#old.get(key) as V;
    this.#old.delete(key);
    this.#put(key, promoted);
    return promoted;
  }

  set(key: K, value: V): void {
    this.#old.delete(key);
    this.#put(key, value);
  }

  has(key: K): boolean {
    return this.#young.has(key) || this.#old.has(key);
  }

  clear(): void {
    this.#young.clear();
    this.#old.clear();
  }

  #put(key: K, value: V): void {
    if (!this.#young.has(key) && this.#young.size >= this.#half) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(key, value);
  }
}
