// The availability check (§4.7, §6.4 step 2): is this image pullable from its registry, and if
// not, why — as one of five typed outcomes with kuik's message prefixes. The router calls it for
// each alternative, the monitor for each scheduled image. It never throws.
import type { ImageReference } from '../image/reference.ts';
import { withTimeout } from './deadline.ts';
import { errorMessage, outcomeOfError, RegistryError } from './errors.ts';
import type { Descriptor } from './manifest.ts';
import { answerCost, fetchManifest, type ManifestAnswer } from './manifest-request.ts';
import {
  combineFailures,
  describeRateLimit,
  type FailureOutcome,
  failureMessage,
  type Outcome,
  outcomeForStatus,
  quotaExhausted,
  type RateLimit,
} from './outcome.ts';
import { atDigest, formatRef, type ManifestRef, toManifestRef } from './reference.ts';
import type { BasicCredential, RegistryTransport } from './transport.ts';

export interface ProbeOptions {
  /** `routing`: HEAD; `monitoring.registries.*.method`: HEAD or GET. */
  method?: 'HEAD' | 'GET';
  /**
   * Budget of one credential attempt in ms, covering ping, token, retries and the resolveDigest
   * request (§4.7 step 4). 0 or undefined: no deadline (the transport's header timeout still applies).
   */
  timeoutMs?: number;
  /** §4.7 step 8: also fetch `<repo>@<digest the tag resolved to>`, catching stale tag caches. */
  resolveDigest?: boolean;
  /** Tried one after the other, each a full attempt, until one succeeds (§2.8 step 4). None: anonymous. */
  credentials?: readonly BasicCredential[];
  /** The caller giving up (admission request cancelled). */
  signal?: AbortSignal;
}

export interface ProbeAttempt {
  /** `anonymous` or `user "robot" (secret ns/name)`: safe to log. */
  credential: string;
  outcome: Outcome;
  /** Empty when available. */
  message: string;
  /** Manifest requests this attempt made (retries included; pings and tokens not). */
  requests: number;
  rateLimit?: RateLimit;
}

export interface ProbeResult {
  /** The reference as probed (`host/repo:tag` or `host/repo@digest`). */
  reference: string;
  outcome: Outcome;
  available: boolean;
  /** `image not found: …`, `authentication failed: …`, `rate limit exceeded: …`, `registry unreachable: …`; empty when available. */
  message: string;
  /** What the tag resolved to (HEAD: from the headers; GET: from the body). */
  descriptor?: Descriptor;
  /** Rate-limit headers of the last response, free on HEAD (docs/behaviour.md §4.7). */
  rateLimit?: RateLimit;
  /** Manifest requests over all attempts. */
  requests: number;
  attempts: ProbeAttempt[];
}

export async function probe(
  transport: RegistryTransport,
  reference: string | ImageReference | ManifestRef,
  opts: ProbeOptions = {},
): Promise<ProbeResult> {
  let ref: ManifestRef;
  try {
    ref = toManifestRef(reference);
  } catch (err) {
    const message = failureMessage('Unreachable', errorMessage(err));
    const shown = typeof reference === 'string' ? reference : formatRef(toLocation(reference));
    return { reference: shown, outcome: 'Unreachable', available: false, message, requests: 0, attempts: [] };
  }
  const credentials: readonly (BasicCredential | undefined)[] =
    opts.credentials && opts.credentials.length > 0 ? opts.credentials : [undefined];
  const attempts: (ProbeAttempt & { descriptor?: Descriptor })[] = [];
  for (const credential of credentials) {
    const attempt = await probeOnce(transport, ref, credential, opts);
    attempts.push(attempt);
    if (attempt.outcome === 'Available' || opts.signal?.aborted) break;
  }
  return summarize(formatRef(ref), attempts);
}

function toLocation(r: ImageReference | ManifestRef): ManifestRef {
  return 'registry' in r ? r : { registry: r.domain, repository: r.path };
}

async function probeOnce(
  transport: RegistryTransport,
  ref: ManifestRef,
  credential: BasicCredential | undefined,
  opts: ProbeOptions,
): Promise<ProbeAttempt & { descriptor?: Descriptor }> {
  const who = describeCredential(credential);
  const method = opts.method ?? 'HEAD';
  const ctx = withTimeout(opts.timeoutMs, opts.signal);
  const shown = formatRef(ref);
  let requests = 0;
  let rateLimit: RateLimit | undefined;
  const fail = (outcome: FailureOutcome, detail: string): ProbeAttempt => {
    const a: ProbeAttempt = {
      credential: who,
      outcome,
      message: failureMessage(outcome, `${shown}: ${detail}`),
      requests,
    };
    if (rateLimit) a.rateLimit = rateLimit;
    return a;
  };
  try {
    const first = await fetchManifest(transport, ref, { ...ctx, method, credential });
    requests += answerCost(first).attempts;
    rateLimit = answerCost(first).rateLimit;
    const quota = quotaFailure(first);
    if (quota !== undefined) return fail('QuotaExceeded', quota);
    if (!first.ok)
      return fail(
        first.error.status === 200 ? 'Unreachable' : outcomeForStatus(first.error.status),
        first.error.message,
      );
    const descriptor = first.value.descriptor;

    if (opts.resolveDigest && ref.digest === undefined) {
      const second = await fetchManifest(transport, atDigest(ref, descriptor.digest), {
        ...ctx,
        method,
        credential,
      });
      const cost = answerCost(second);
      requests += cost.attempts;
      if (cost.rateLimit) rateLimit = cost.rateLimit;
      const q = quotaFailure(second);
      if (q !== undefined) return fail('QuotaExceeded', q);
      if (!second.ok) {
        const s = second.error.status;
        if (s === 404) {
          return fail(
            'NotFound',
            `tag/digest inconsistency: the tag resolves to ${descriptor.digest}, which the registry does not serve (${second.error.message})`,
          );
        }
        // A registry that cannot answer HEAD by digest gets the benefit of the doubt; one that
        // cannot GET it cannot serve the image.
        if ((s === 405 || s === 501) && method === 'HEAD') return ok(who, requests, rateLimit, descriptor);
        if (s === 401 || s === 403) return fail('InvalidAuth', second.error.message);
        return fail('Unreachable', second.error.message);
      }
    }
    return ok(who, requests, rateLimit, descriptor);
  } catch (err) {
    if (err instanceof RegistryError && err.rateLimit) rateLimit = err.rateLimit;
    const outcome = outcomeOfError(err);
    return fail(outcome, errorMessage(err));
  }
}

function ok(
  credential: string,
  requests: number,
  rateLimit: RateLimit | undefined,
  descriptor: Descriptor,
): ProbeAttempt & { descriptor: Descriptor } {
  const a: ProbeAttempt & { descriptor: Descriptor } = {
    credential,
    outcome: 'Available',
    message: '',
    requests,
    descriptor,
  };
  if (rateLimit) a.rateLimit = rateLimit;
  return a;
}

/** §4.7 step 6 and the 429 row of step 7: the detail of a rate-limit failure, if this answer is one. */
function quotaFailure(a: ManifestAnswer): string | undefined {
  const { rateLimit } = answerCost(a);
  if (quotaExhausted(rateLimit)) {
    const what = a.ok ? 'the registry answered but reports no quota left' : a.error.message;
    return `${what} (${describeRateLimit(rateLimit!)})`;
  }
  if (!a.ok && a.error.status === 429) {
    return a.error.rateLimit
      ? `${a.error.message} (${describeRateLimit(a.error.rateLimit)})`
      : a.error.message;
  }
  return undefined;
}

function summarize(reference: string, attempts: (ProbeAttempt & { descriptor?: Descriptor })[]): ProbeResult {
  const last = attempts[attempts.length - 1]!;
  const requests = attempts.reduce((n, a) => n + a.requests, 0);
  const clean = attempts.map(({ descriptor: _d, ...a }) => a);
  const base = {
    reference,
    requests,
    attempts: clean,
    ...(last.rateLimit ? { rateLimit: last.rateLimit } : {}),
  };
  if (last.outcome === 'Available') {
    return {
      ...base,
      outcome: 'Available',
      available: true,
      message: '',
      ...(last.descriptor ? { descriptor: last.descriptor } : {}),
    };
  }
  if (attempts.length === 1)
    return { ...base, outcome: last.outcome, available: false, message: last.message };
  // Errors of all attempts are joined (§2.8 step 4), under the prefix of the combined outcome.
  const outcome = combineFailures(attempts.map((a) => a.outcome as FailureOutcome));
  const detail = attempts.map((a) => `[${a.credential}] ${a.message}`).join('; ');
  return {
    ...base,
    outcome,
    available: false,
    message: failureMessage(outcome, `${attempts.length} credentials tried: ${detail}`),
  };
}

export function describeCredential(c: BasicCredential | undefined): string {
  if (!c) return 'anonymous';
  const from = c.source
    ? ` (secret ${c.source.namespace ? `${c.source.namespace}/` : ''}${c.source.name})`
    : '';
  return `user ${JSON.stringify(c.username)}${from}`;
}
