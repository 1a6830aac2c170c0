// Reporting a running copy's progress (engine/progress.ts) at a bounded rate: one log line and one
// status write per image at most every `everyMs`, and only when the bytes moved since the last
// report. Each status write is a read-modify-write of the whole mirror set on the API server, so
// a copy of a few GiB must not write on every chunk; a copy that ends within the first period
// writes nothing at all (the final status says it is mirrored).
import type { ProgressSnapshot } from './engine/progress.ts';

/** The pure part: whether a snapshot is worth reporting now. */
export class ProgressThrottle {
  readonly #everyMs: number;
  #last: { at: number; bytesDone: number } | undefined;

  constructor(everyMs: number, startedAt: number) {
    this.#everyMs = everyMs;
    // The first report comes one period after the start, not at once: small copies never report.
    this.#last = { at: startedAt, bytesDone: -1 };
  }

  /** True (and remembered as reported) when a period has passed since the last report and bytes moved. */
  due(now: number, snap: ProgressSnapshot): boolean {
    const last = this.#last;
    if (last && now - last.at < this.#everyMs) return false;
    if (last && last.bytesDone === snap.bytesDone) return false;
    if (snap.bytesTotal === 0) return false;
    this.#last = { at: now, bytesDone: snap.bytesDone };
    return true;
  }
}

/** `12.5 MiB of 50.0 MiB (25%)`, for the log line's message-free fields a person reads. */
export function describeProgress(p: ProgressSnapshot): string {
  const mib = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  return `${mib(p.bytesDone)} of ${mib(p.bytesTotal)} (${p.percent}%)`;
}

export interface ProgressReporter {
  /** Stops the timer and waits for a report in flight: the final status write must come after it. */
  stop(): Promise<void>;
}

/**
 * Runs `report` with a snapshot whenever the throttle allows, checking every second (or every
 * period, if shorter). One report at a time: a slow API server delays the next, never piles them up.
 */
export function startProgressReporter(opts: {
  everyMs: number;
  now: () => number;
  snapshot: () => ProgressSnapshot;
  report: (snap: ProgressSnapshot) => Promise<void>;
}): ProgressReporter {
  const throttle = new ProgressThrottle(opts.everyMs, opts.now());
  let inflight: Promise<void> | undefined;
  const timer = setInterval(
    () => {
      if (inflight) return;
      const snap = opts.snapshot();
      if (!throttle.due(opts.now(), snap)) return;
      // The reporter logs its own failures; nothing may escape a timer.
      inflight = opts
        .report(snap)
        .catch(() => undefined)
        .finally(() => {
          inflight = undefined;
        });
    },
    Math.min(1000, opts.everyMs),
  );
  // A copy's progress never keeps a process alive.
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await inflight;
    },
  };
}
