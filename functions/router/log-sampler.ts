// Repeated log lines, sampled: the first of a kind is logged, its repeats within `windowMs` are
// counted, and the count is logged with the next line of that kind (or by `drain`, when the window
// is over and nothing came). While a registry is down every pod of a Deployment is rerouted alike,
// and a line per admission cost the router 63 MiB of logs where kuik wrote 4. Pure (time is
// passed in); bounded in keys.

export interface Sampled {
  /** Log this one. */
  log: boolean;
  /** Lines of this kind not logged since the last one that was. */
  suppressed: number;
}

export class LogSampler {
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { until: number; suppressed: number }>();
  /** Lines not logged because `maxKeys` kinds were already being counted. */
  #overflow = 0;

  constructor(opts: { windowMs?: number; maxKeys?: number; now?: () => number } = {}) {
    this.#windowMs = opts.windowMs ?? 60_000;
    this.#maxKeys = opts.maxKeys ?? 1_000;
    this.#now = opts.now ?? Date.now;
  }

  take(key: string): Sampled {
    const now = this.#now();
    const e = this.#entries.get(key);
    if (e && now < e.until) {
      e.suppressed++;
      return { log: false, suppressed: 0 };
    }
    if (!e && this.#entries.size >= this.#maxKeys) {
      this.#overflow++;
      return { log: false, suppressed: 0 };
    }
    const suppressed = e?.suppressed ?? 0;
    this.#entries.set(key, { until: now + this.#windowMs, suppressed: 0 });
    return { log: true, suppressed };
  }

  /**
   * Forgets the kinds whose window is over, returning those that had repeats nobody logged yet,
   * and the lines lost to the key bound. Call it every `windowMs`.
   */
  drain(): { repeats: [key: string, suppressed: number][]; overflow: number } {
    const now = this.#now();
    const repeats: [string, number][] = [];
    for (const [key, e] of this.#entries) {
      if (now < e.until) continue;
      if (e.suppressed > 0) repeats.push([key, e.suppressed]);
      this.#entries.delete(key);
    }
    const overflow = this.#overflow;
    this.#overflow = 0;
    return { repeats, overflow };
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  get keys(): number {
    return this.#entries.size;
  }
}
