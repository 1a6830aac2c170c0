// A small bounded LRU map. The router compiles the same CR patterns and selectors on every
// admission request; caching the compiled form keeps that cost to a Map lookup while the bound
// keeps a churn of distinct patterns from growing memory without limit.

export class LruCache<K, V> {
  readonly #max: number;
  readonly #map = new Map<K, V>();

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('LruCache size must be a positive integer');
    this.#max = max;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: K): V | undefined {
    if (!this.#map.has(key)) return undefined;
    const value = this.#map.get(key) as V;
    // Map keeps insertion order: re-inserting marks the entry most recently used.
    this.#map.delete(key);
    this.#map.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next();
      if (!oldest.done) this.#map.delete(oldest.value);
    }
  }

  has(key: K): boolean {
    return this.#map.has(key);
  }

  clear(): void {
    this.#map.clear();
  }
}
