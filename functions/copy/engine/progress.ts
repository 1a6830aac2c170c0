// How far one image copy is, in bytes of its blobs: what an operator reads in the mirror's status,
// in the copy's log and in the progress gauges while a long copy runs. No I/O here: the engine
// tells it which blobs the image has and where each transfer is; the copy function's shell reads
// snapshots at its own pace (progress-report.ts).
//
// Total: every distinct blob (config and layers) of every manifest the copy pushes, each counted
// once however many manifests share it, foreign layers left out (never uploaded). Known once the
// manifests are read, before any blob moves; an index of indexes adds its grandchildren as they
// are read. Done: blobs already at the mirror (skipped, mounted, completed), plus the bytes each
// transfer in flight has sent (a resumed upload starts at the bytes the registry held).

export interface ProgressSnapshot {
  bytesDone: number;
  bytesTotal: number;
  /** floor(100 × done / total); 100 only when every byte is there. */
  percent: number;
}

/** Whole percent, rounded down so that 100 means done (99.9 % is still 99). 0 with no total yet. */
export function percentOf(done: number, total: number): number {
  if (total <= 0) return 0;
  const clamped = Math.min(Math.max(done, 0), total);
  return Math.floor((clamped * 100) / total);
}

export class CopyProgress {
  readonly #sizes = new Map<string, number>();
  /** Blobs whose bytes are all at the mirror. */
  readonly #complete = new Set<string>();
  /** Transfers in flight: where each one is now. */
  readonly #live = new Map<string, () => number>();

  /** Blobs the image consists of; a digest already known is not counted twice. */
  expect(blobs: readonly { digest: string; size: number }[]): void {
    for (const b of blobs) if (!this.#sizes.has(b.digest)) this.#sizes.set(b.digest, Math.max(0, b.size));
  }

  /** A transfer of `digest` started; `position` says how many of its bytes have been sent. */
  live(digest: string, position: () => number): void {
    if (this.#sizes.has(digest) && !this.#complete.has(digest)) this.#live.set(digest, position);
  }

  /** Every byte of `digest` is at the mirror (already there, mounted, or the upload completed). */
  complete(digest: string): void {
    if (!this.#sizes.has(digest)) return; // not part of the image (a signature, an attestation)
    this.#complete.add(digest);
    this.#live.delete(digest);
  }

  snapshot(): ProgressSnapshot {
    let bytesTotal = 0;
    let bytesDone = 0;
    for (const [digest, size] of this.#sizes) {
      bytesTotal += size;
      if (this.#complete.has(digest)) bytesDone += size;
      else {
        const at = this.#live.get(digest)?.();
        if (at !== undefined) bytesDone += Math.min(Math.max(at, 0), size);
      }
    }
    return { bytesDone, bytesTotal, percent: percentOf(bytesDone, bytesTotal) };
  }
}
