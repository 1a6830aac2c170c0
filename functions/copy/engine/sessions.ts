// The upload sessions of a copy in progress, kept where a new process can find them: the copy may
// die (Job retry, pod evicted, SIGTERM on scale-down) and "CRD status is the only shared state",
// so the sessions go to the mirror entry's status (`mirrors[].uploads`) through the `persist`
// callback. Writes are throttled (one per `everyBytes` uploaded across all blobs) because each is
// a read-modify-write on the API server; a forced write happens when the copy is told to stop.

export interface UploadRecord {
  /** The blob being uploaded. */
  digest: string;
  /** The session's latest location (registries rotate it after every chunk). */
  location: string;
  /** Bytes the registry holds. */
  offset: number;
}

export type Persist = (records: UploadRecord[]) => Promise<void>;

export class SessionBook {
  readonly #sessions = new Map<string, UploadRecord>();
  readonly #resume: ReadonlyMap<string, UploadRecord>;
  readonly #persist: Persist | undefined;
  readonly #everyBytes: number;
  #sinceWrite = 0;
  /** Writes are chained: two blobs crossing the threshold together make two ordered writes. */
  #chain: Promise<void> = Promise.resolve();
  #written = false;
  writes = 0;
  lastError: unknown;

  constructor(opts: { resume?: readonly UploadRecord[]; persist?: Persist; everyBytes?: number }) {
    this.#resume = new Map((opts.resume ?? []).map((r) => [r.digest, r]));
    this.#persist = opts.persist;
    this.#everyBytes = opts.everyBytes ?? 64 * 1024 * 1024;
  }

  /** A session recorded by an earlier run for this blob, if any. */
  resumable(digest: string): UploadRecord | undefined {
    return this.#resume.get(digest);
  }

  /** Whether any session was ever written to status (then a final write must clear them). */
  get written(): boolean {
    return this.#written;
  }

  records(): UploadRecord[] {
    return [...this.#sessions.values()].sort((a, b) => (a.digest < b.digest ? -1 : 1));
  }

  /** A chunk landed: remember the session; write when enough bytes went by since the last write. */
  async progress(rec: UploadRecord, bytes: number): Promise<void> {
    this.#sessions.set(rec.digest, rec);
    this.#sinceWrite += bytes;
    if (this.#sinceWrite >= this.#everyBytes) await this.flush();
  }

  /** The blob is complete (or abandoned): its session is no longer worth resuming. */
  finish(digest: string): void {
    this.#sessions.delete(digest);
  }

  /** Write the current sessions now (after a stop request, or on the threshold). Never throws. */
  async flush(): Promise<void> {
    if (!this.#persist) return;
    this.#sinceWrite = 0;
    const records = this.records();
    const persist = this.#persist;
    this.#chain = this.#chain.then(async () => {
      try {
        await persist(records);
        this.#written = true;
        this.writes++;
      } catch (err) {
        // Losing a resume point costs bytes, not correctness: the copy carries on.
        this.lastError = err;
      }
    });
    await this.#chain;
  }
}
