// The resync's loop: every item, a few at a time, until a deadline. Each resync (resync.ts) runs
// within its time budget; on a cluster with thousands of mirror sets one resync may not reach
// them all, so each resync starts at another place in the list (`rotate`) and every item is reached
// within a few resyncs, whatever the order the API server lists them in. Pure but for `fn`.

/** `items` starting at `offset` (modulo its length), wrapping around. */
export function rotate<T>(items: readonly T[], offset: number): T[] {
  if (items.length === 0) return [];
  const k = ((Math.floor(offset) % items.length) + items.length) % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

export interface EachUntilOptions {
  /** How many items run at once (≥ 1). */
  concurrency: number;
  /** No item starts at or after this time (epoch ms); items already started finish. */
  stopAt?: number | undefined;
  now: () => number;
}

/**
 * Runs `fn` over `items`, `concurrency` at a time, in order, starting none once `stopAt` is
 * reached. `fn` must not throw (the caller isolates each item's failure). Resolves with how many
 * items were started and how many were not reached.
 */
export async function eachUntil<T>(
  items: readonly T[],
  opts: EachUntilOptions,
  fn: (item: T) => Promise<void>,
): Promise<{ started: number; notReached: number }> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      if (opts.stopAt !== undefined && opts.now() >= opts.stopAt) return;
      const item = items[next++] as T;
      await fn(item);
    }
  };
  const workers = Math.max(1, Math.min(Math.floor(opts.concurrency), items.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return { started: next, notReached: items.length - next };
}
