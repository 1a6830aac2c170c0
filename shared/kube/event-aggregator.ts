// Repeats of one event counted in memory and written as one series update per key every few
// seconds, as Kubernetes' own event correlator does. The router reroutes every pod a ReplicaSet
// makes while a registry is down: writing each occurrence (a LIST, then a PATCH or a CREATE,
// serialised per key) cost more API server CPU than the admissions themselves, and after a burst
// of 10,000 reroutes the writes went on for minutes, holding every waiting occurrence in memory.
//
// Here `record` is synchronous and O(1) (it never waits for, nor fails, the caller), a key writes
// at most once per `intervalMs`, at most `maxInFlight` writes run at once, and at most `maxKeys`
// keys are held (idle ones are forgotten first; when every key is busy a new one is dropped and
// counted). After the load stops, what is left is at most one write per key.
import { type EventFacts, type EventRegarding, type StoredEventRef, seriesKey } from './event-series.ts';

export type SeriesWriter = (
  regarding: EventRegarding,
  facts: EventFacts,
  add: number,
  known: StoredEventRef | undefined,
) => Promise<StoredEventRef>;

export interface EventAggregatorOptions {
  write: SeriesWriter;
  /** At most one write per key in this period (the first occurrence is written at once). */
  intervalMs?: number;
  /** Keys held in memory (with their stored event, so a repeat needs no list). */
  maxKeys?: number;
  /** Writes running at once, whatever the number of keys. */
  maxInFlight?: number;
  /** A write failed; `lost` occurrences are not recorded. */
  onError?: (err: unknown, regarding: EventRegarding, facts: EventFacts, lost: number) => void;
  now?: () => number;
}

interface Entry {
  regarding: EventRegarding;
  facts: EventFacts;
  pending: number;
  known: StoredEventRef | undefined;
  lastWrite: number;
  state: 'idle' | 'waiting' | 'ready' | 'writing';
  timer: NodeJS.Timeout | undefined;
}

export class EventAggregator {
  readonly #write: SeriesWriter;
  readonly #intervalMs: number;
  readonly #maxKeys: number;
  readonly #maxInFlight: number;
  readonly #onError: EventAggregatorOptions['onError'];
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #ready = new Set<string>();
  #inFlight = 0;
  #idleWaiters: (() => void)[] = [];
  /** While above 0, the interval is ignored: everything pending is written now. */
  #flushing = 0;
  /** Occurrences not recorded because every key was busy. */
  dropped = 0;
  /** Writes made (one per flushed key). */
  writes = 0;

  constructor(opts: EventAggregatorOptions) {
    this.#write = opts.write;
    this.#intervalMs = opts.intervalMs ?? 5_000;
    this.#maxKeys = opts.maxKeys ?? 1_000;
    this.#maxInFlight = opts.maxInFlight ?? 4;
    this.#onError = opts.onError;
    this.#now = opts.now ?? Date.now;
  }

  get keys(): number {
    return this.#entries.size;
  }

  /** One more occurrence of the event `facts` about `regarding`. Never throws, never waits. */
  record(regarding: EventRegarding, facts: EventFacts): void {
    const key = seriesKey(regarding.namespace || 'default', regarding, facts);
    const now = this.#now();
    let entry = this.#entries.get(key);
    if (!entry) {
      if (this.#entries.size >= this.#maxKeys && !this.#evictOne()) {
        this.dropped++;
        return;
      }
      entry = {
        regarding,
        facts,
        pending: 0,
        known: undefined,
        lastWrite: 0,
        state: 'idle',
        timer: undefined,
      };
    } else {
      // Re-inserted so the Map's order is least recently seen first (eviction order).
      this.#entries.delete(key);
    }
    this.#entries.set(key, entry);
    entry.pending++;
    if (entry.state === 'idle') this.#schedule(key, entry, now);
  }

  /** Writes everything pending now (ignoring the interval) and resolves when nothing is left. */
  async flush(): Promise<void> {
    this.#flushing++;
    try {
      await this.#flushNow();
    } finally {
      this.#flushing--;
    }
  }

  async #flushNow(): Promise<void> {
    for (const [key, entry] of this.#entries) {
      if (entry.state === 'waiting') {
        clearTimeout(entry.timer);
        entry.state = 'ready';
        this.#ready.add(key);
      }
    }
    this.#pump();
    while (this.#inFlight > 0 || this.#ready.size > 0) {
      await new Promise<void>((r) => this.#idleWaiters.push(r));
    }
  }

  /** Stops the timers; pending counts that were not flushed are lost. */
  stop(): void {
    for (const entry of this.#entries.values()) clearTimeout(entry.timer);
    this.#entries.clear();
    this.#ready.clear();
  }

  #schedule(key: string, entry: Entry, now: number): void {
    const due = entry.lastWrite + this.#intervalMs;
    if (entry.lastWrite === 0 || due <= now || this.#flushing > 0) {
      entry.state = 'ready';
      this.#ready.add(key);
      this.#pump();
      return;
    }
    entry.state = 'waiting';
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (this.#entries.get(key) !== entry) return;
      entry.state = 'ready';
      this.#ready.add(key);
      this.#pump();
    }, due - now);
    entry.timer.unref();
  }

  /** Forgets the least recently seen key with nothing to write (looking at a few only). */
  #evictOne(): boolean {
    let looked = 0;
    for (const [key, entry] of this.#entries) {
      if (entry.state === 'idle') {
        this.#entries.delete(key);
        return true;
      }
      if (++looked >= 64) break;
    }
    return false;
  }

  #pump(): void {
    while (this.#inFlight < this.#maxInFlight && this.#ready.size > 0) {
      const key = this.#ready.values().next().value as string;
      this.#ready.delete(key);
      const entry = this.#entries.get(key);
      if (!entry || entry.pending === 0) {
        if (entry) entry.state = 'idle';
        continue;
      }
      const add = entry.pending;
      entry.pending = 0;
      entry.state = 'writing';
      this.#inFlight++;
      this.writes++;
      this.#write(entry.regarding, entry.facts, add, entry.known)
        .then(
          (known) => {
            entry.known = known;
          },
          (err: unknown) => {
            // The stored event may be gone or changed: look it up again next time.
            entry.known = undefined;
            this.#onError?.(err, entry.regarding, entry.facts, add);
          },
        )
        .finally(() => {
          this.#inFlight--;
          entry.lastWrite = this.#now();
          entry.state = 'idle';
          if (entry.pending > 0 && this.#entries.get(key) === entry)
            this.#schedule(key, entry, entry.lastWrite);
          this.#pump();
          if (this.#inFlight === 0 && this.#ready.size === 0) {
            const waiters = this.#idleWaiters;
            this.#idleWaiters = [];
            for (const w of waiters) w();
          }
        });
    }
  }
}
