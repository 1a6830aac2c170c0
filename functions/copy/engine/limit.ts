// A counting semaphore per destination registry host: every copy in this process that pushes to
// one registry shares its slots, so ten concurrent copies to one Harbor make four uploads at a
// time, not forty (kuik uploads 4 blobs in parallel per copy, §5.4 step 6, with no global bound).

export class Semaphore {
  readonly #capacity: number;
  #used = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error(`semaphore capacity must be ≥ 1, got ${capacity}`);
    this.#capacity = capacity;
  }

  get inUse(): number {
    return this.#used;
  }

  async acquire(): Promise<() => void> {
    if (this.#used < this.#capacity) {
      this.#used++;
    } else {
      // The releaser hands its slot over directly, so #used never dips and no one jumps the queue.
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#used--;
    };
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

const perHost = new Map<string, Semaphore>();

/** The process-wide semaphore of a registry host; its capacity is fixed by the first caller. */
export function hostLimit(host: string, capacity: number): Semaphore {
  let s = perHost.get(host);
  if (!s) {
    s = new Semaphore(capacity);
    perHost.set(host, s);
  }
  return s;
}
