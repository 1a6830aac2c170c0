// Which tick requests run: the monitor's ticks and reconcile's resyncs. A tick endpoint is reachable
// by anything that can POST to it (OpenFaaS's cron-connector form carries no credential), and one
// tick costs cluster-wide lists and status writes: twenty POSTs must cost what one does. A tick runs only when none is running and
// the last successful one started at least `minIntervalMs` ago; every other request is coalesced
// (answered at once, no work). A failed tick does not start the interval, so the sender's retry of
// it (mtping retries a 503) runs.

export type Admission =
  | { run: true; startedAt: number }
  | { run: false; reason: 'Running'; runningSince: number }
  | { run: false; reason: 'TooSoon'; lastTickAt: number; nextTickAfter: number };

export class TickGate {
  #running: number | undefined;
  #lastStart: number | undefined;

  readonly minIntervalMs: number;
  readonly now: () => number;

  constructor(minIntervalMs: number, now: () => number) {
    this.minIntervalMs = minIntervalMs;
    this.now = now;
  }

  admit(): Admission {
    const now = this.now();
    if (this.#running !== undefined) return { run: false, reason: 'Running', runningSince: this.#running };
    if (this.#lastStart !== undefined && now - this.#lastStart < this.minIntervalMs) {
      return {
        run: false,
        reason: 'TooSoon',
        lastTickAt: this.#lastStart,
        nextTickAfter: this.#lastStart + this.minIntervalMs,
      };
    }
    this.#running = now;
    return { run: true, startedAt: now };
  }

  /** The admitted tick ended; `ok`: it succeeded, so the interval counts from its start. */
  done(ok: boolean): void {
    if (ok && this.#running !== undefined) this.#lastStart = this.#running;
    this.#running = undefined;
  }
}
