// Reading one source blob as a sequence of exact-size pieces (one per upload chunk), hashing what
// passes through, and surviving a source connection that breaks mid-body: the reader re-opens the
// blob at the byte it had reached (`Range: bytes=N-`) and carries on, so the upload in progress
// never sees the hiccup and nothing already read is read again. Memory: one network chunk at a
// time (plus the unconsumed tail of one), never the blob.
import { createHash, type Hash } from 'node:crypto';

/** Opens the blob's body from `offset` (0 = the whole blob). */
export type OpenAt = (offset: number) => Promise<AsyncIterable<Uint8Array>>;

export interface ReaderStats {
  /** Times the source was re-opened after a failure. */
  reopens: number;
  /** Bytes handed to the upload. */
  bytesRead: number;
}

/** The source closed the body cleanly before the blob's declared size: worth a re-open. */
export class PrematureEndError extends Error {
  override name = 'PrematureEndError';
  constructor(position: number, size: number) {
    super(`the source blob ended at byte ${position} of ${size}`);
  }
}

export class SourceBlobReader {
  readonly #open: OpenAt;
  readonly #size: number;
  readonly #maxReopens: number;
  readonly #retryable: (err: unknown) => boolean;
  readonly #pause: (attempt: number) => Promise<void>;
  #position: number;
  #iterator: AsyncIterator<Uint8Array> | undefined;
  #tail: Uint8Array | undefined;
  /** Set only when reading starts at 0: a resumed upload cannot hash bytes it never read. */
  readonly #hash: Hash | undefined;
  readonly stats: ReaderStats = { reopens: 0, bytesRead: 0 };

  constructor(opts: {
    open: OpenAt;
    size: number;
    start?: number;
    maxReopens?: number;
    /** Whether a failure is worth a re-open (a 404 or 401 is not). Default: every failure. */
    retryable?: (err: unknown) => boolean;
    /** Wait before re-open number `attempt` (1-based). */
    pause?: (attempt: number) => Promise<void>;
  }) {
    this.#open = opts.open;
    this.#size = opts.size;
    this.#position = opts.start ?? 0;
    this.#maxReopens = opts.maxReopens ?? 5;
    this.#retryable = opts.retryable ?? (() => true);
    this.#pause = opts.pause ?? (() => Promise.resolve());
    this.#hash = this.#position === 0 ? createHash('sha256') : undefined;
  }

  get position(): number {
    return this.#position;
  }

  /** sha256 of everything read, when reading started at byte 0 and reached the end. */
  digest(): string | undefined {
    if (!this.#hash || this.#position !== this.#size) return undefined;
    return `sha256:${this.#hash.copy().digest('hex')}`;
  }

  /**
   * Exactly `n` bytes (fewer only at the end of the blob), in pieces as they arrive. Pieces are
   * not glued together: measured, larger writes saved no CPU and the copies cost memory.
   */
  async *take(n: number): AsyncGenerator<Uint8Array> {
    let left = Math.min(n, this.#size - this.#position);
    while (left > 0) {
      const piece = await this.#next(left);
      left -= piece.length;
      this.#position += piece.length;
      this.stats.bytesRead += piece.length;
      this.#hash?.update(piece);
      yield piece;
    }
  }

  /** Stops reading (closes the source connection). */
  async close(): Promise<void> {
    const it = this.#iterator;
    this.#iterator = undefined;
    this.#tail = undefined;
    await it?.return?.().catch(() => {});
  }

  async #next(max: number): Promise<Uint8Array> {
    if (this.#tail) {
      const t = this.#tail;
      if (t.length > max) {
        this.#tail = t.subarray(max);
        return t.subarray(0, max);
      }
      this.#tail = undefined;
      return t;
    }
    for (;;) {
      try {
        if (!this.#iterator) this.#iterator = (await this.#open(this.#position))[Symbol.asyncIterator]();
        const r = await this.#iterator.next();
        if (r.done) throw new PrematureEndError(this.#position, this.#size);
        const chunk = r.value;
        if (chunk.length === 0) continue;
        if (chunk.length > max) {
          this.#tail = chunk.subarray(max);
          return chunk.subarray(0, max);
        }
        return chunk;
      } catch (err) {
        await this.#iterator?.return?.().catch(() => {});
        this.#iterator = undefined;
        if (this.stats.reopens >= this.#maxReopens || !this.#retryable(err)) throw err;
        this.stats.reopens++;
        await this.#pause(this.stats.reopens);
      }
    }
  }
}
