// One time budget shared by every request of an operation: the probe's `timeout` covers the ping,
// the token, the manifest request, its retries and the resolveDigest second request (§4.7 step 4).
// `signal` aborts in-flight I/O; `deadline` lets the retry loop skip a backoff it cannot finish.

export interface RequestContext {
  signal?: AbortSignal;
  /** Epoch ms after which the operation has failed. */
  deadline?: number;
  /** The budget the deadline came from, for messages (`timed out after 1000 ms`). */
  timeoutMs?: number;
}

/** Only the context fields of a larger options object (no undefined keys: exactOptionalPropertyTypes). */
export function pickContext(opts: RequestContext): RequestContext {
  const ctx: RequestContext = {};
  if (opts.signal) ctx.signal = opts.signal;
  if (opts.deadline !== undefined) ctx.deadline = opts.deadline;
  if (opts.timeoutMs !== undefined) ctx.timeoutMs = opts.timeoutMs;
  return ctx;
}

/** A context with `timeoutMs` from now (0 or undefined: no deadline), also ending when `parent` aborts. */
export function withTimeout(timeoutMs: number | undefined, parent?: AbortSignal): RequestContext {
  if (timeoutMs === undefined || timeoutMs <= 0) return parent ? { signal: parent } : {};
  const timer = AbortSignal.timeout(timeoutMs);
  return {
    signal: parent ? AbortSignal.any([parent, timer]) : timer,
    deadline: Date.now() + timeoutMs,
    timeoutMs,
  };
}

/** Whether the failure of an aborted operation was our deadline (and not the caller giving up). */
export function deadlinePassed(ctx: RequestContext): boolean {
  if (ctx.deadline !== undefined && Date.now() >= ctx.deadline - 2) return true;
  const reason: unknown = ctx.signal?.reason;
  return reason instanceof Error && reason.name === 'TimeoutError';
}
