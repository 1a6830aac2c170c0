// Gives memory back once a load is over. Under load V8 grows its heap and its young generation
// and glibc its arenas; once the load stops, nothing shrinks them again: no allocation means no
// garbage collection, so the process keeps the RSS of its busiest minute for hours (issue 16: 164
// MiB after load against 107 idle). One full collection after the load has stopped compacts the
// heap and returns the emptied pages (docs/performance.md, "Where the memory goes").
//
// Never on the admission path: an admission only counts itself (`touch`), a timer looks at the
// count. A collection runs once per load, `idleMs` after its last admission, and at most once per
// `minIntervalMs`: a router that is never idle for `idleMs` never collects; one admitting a pod
// every few seconds collects at most once a minute (a full collection of this heap is ≈ 10–30 ms of
// CPU).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface IdleGcOptions {
  /** How long without an admission counts as the load having stopped. */
  idleMs: number;
  /** The least time between two collections. */
  minIntervalMs: number;
}

export const IDLE_GC_DEFAULTS: IdleGcOptions = { idleMs: 5_000, minIntervalMs: 60_000 };

/** The decision, with no timer and no V8: when the load has stopped and a collection is due. */
export class IdleGcPolicy {
  readonly #o: IdleGcOptions;
  #admissions = 0;
  #seen = 0;
  #lastAdmissionAt = Number.NEGATIVE_INFINITY;
  #lastCollectionAt = Number.NEGATIVE_INFINITY;
  /**
   * Admissions since the last collection: there is something to give back. True at first: start-up
   * (loading the modules, the first lists of the watch caches) leaves garbage and a young
   * generation grown to its maximum, so the first collection runs once the process is ready.
   */
  #dirty = true;

  constructor(o: IdleGcOptions = IDLE_GC_DEFAULTS) {
    this.#o = o;
  }

  /** One admission (the only cost on the admission path: an increment). */
  touch(): void {
    this.#admissions++;
  }

  /** Called every so often by the timer; true when a collection should run now. */
  due(now: number): boolean {
    if (this.#admissions !== this.#seen) {
      this.#seen = this.#admissions;
      this.#lastAdmissionAt = now;
      this.#dirty = true;
      return false;
    }
    if (!this.#dirty) return false;
    if (now - this.#lastAdmissionAt < this.#o.idleMs) return false;
    if (now - this.#lastCollectionAt < this.#o.minIntervalMs) return false;
    this.#dirty = false;
    this.#lastCollectionAt = now;
    return true;
  }
}

/**
 * V8's full collection. Node exposes it only with --expose-gc; the flag set at run time is the
 * documented way for a library (the global `gc` then exists in new contexts), so the image needs
 * no extra flag and a test or benchmark runs the same code.
 */
export function v8FullGc(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Starts the timer; returns the admission counter and a stop(). */
export function startIdleGc(
  collect: () => void,
  onCollect: (ms: number) => void,
  o: IdleGcOptions = IDLE_GC_DEFAULTS,
): { touch: () => void; stop: () => void } {
  const policy = new IdleGcPolicy(o);
  // A check every second is enough: the collection runs between idleMs and idleMs + 1 s after
  // the last admission.
  const timer = setInterval(
    () => {
      if (!policy.due(Date.now())) return;
      const t0 = performance.now();
      collect();
      onCollect(performance.now() - t0);
    },
    Math.min(1_000, o.idleMs),
  );
  timer.unref();
  return { touch: () => policy.touch(), stop: () => clearInterval(timer) };
}
