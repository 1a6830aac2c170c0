// Transport retries (§4.7 step 5): up to 3 attempts, ~1 s then ~3 s apart with ±10 % jitter, all
// inside the caller's deadline. Tests pass a policy with tiny delays; production keeps kuik's.
import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryPolicy {
  /** Total attempts, the first included. */
  attempts: number;
  /** Delay before the 2nd, 3rd, … attempt; the last value repeats if attempts outrun the list. */
  backoffMs: readonly number[];
  /** ±fraction of each delay, so that many clients do not retry in lockstep. */
  jitter: number;
}

/** go-containerregistry's default backoff as kuik configures it: 1 s × 3^n, 3 steps, 10 % jitter. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, backoffMs: [1000, 3000], jitter: 0.1 };

export const NO_RETRY: RetryPolicy = { attempts: 1, backoffMs: [], jitter: 0 };

/** Delay before attempt number `attempt` (1-based: the delay before the 2nd attempt is attempt=1). */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const base = policy.backoffMs[Math.min(attempt, policy.backoffMs.length) - 1] ?? 0;
  const spread = base * policy.jitter;
  return Math.max(0, Math.round(base - spread + 2 * spread * random()));
}

/**
 * Sleeps `ms` unless that would end past `deadline` (epoch ms): then it returns false at once, so
 * the caller reports the failure it has now instead of waiting for a timeout it cannot beat. This
 * is why a 503 under the webhook's 1 s budget fails fast instead of at the deadline.
 */
export async function sleepWithin(
  ms: number,
  deadline: number | undefined,
  signal?: AbortSignal,
): Promise<boolean> {
  if (deadline !== undefined && Date.now() + ms >= deadline) return false;
  if (signal?.aborted) return false;
  try {
    await sleep(ms, undefined, signal ? { signal } : {});
    return true;
  } catch {
    return false;
  }
}
