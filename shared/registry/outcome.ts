// What a registry answer means for availability (§4.7, §6.5): the typed outcomes, the HTTP status
// mapping, the message prefixes kuik users grep for, rate-limit headers, and which failures are
// worth retrying. Pure: no I/O.

export type Outcome = 'Available' | 'NotFound' | 'Unreachable' | 'InvalidAuth' | 'QuotaExceeded';
export type FailureOutcome = Exclude<Outcome, 'Available'>;

export const OUTCOMES: readonly Outcome[] = [
  'Available',
  'NotFound',
  'Unreachable',
  'InvalidAuth',
  'QuotaExceeded',
];

/** kuik's message prefixes (§4.7 step 7); CISA `lastError` and logs start with them. */
export const MESSAGE_PREFIX: Readonly<Record<FailureOutcome, string>> = {
  NotFound: 'image not found',
  InvalidAuth: 'authentication failed',
  QuotaExceeded: 'rate limit exceeded',
  Unreachable: 'registry unreachable',
};

export function failureMessage(outcome: FailureOutcome, detail: string): string {
  return `${MESSAGE_PREFIX[outcome]}: ${detail}`;
}

/** §4.7 step 7: the outcome of a failed request with this HTTP status. */
export function outcomeForStatus(status: number): FailureOutcome {
  if (status === 429) return 'QuotaExceeded';
  if (status === 404) return 'NotFound';
  if (status === 401 || status === 403) return 'InvalidAuth';
  return 'Unreachable';
}

/**
 * Statuses go-containerregistry's transport retries (§4.7 step 5), minus 429: kuik removed 429 so
 * that a rate limit surfaces as QuotaExceeded instead of being hammered (field notes #12, #650).
 */
const RETRYABLE_STATUS = new Set([408, 499, 500, 502, 503, 504, 522]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUS.has(status);
}

export interface RateLimit {
  /** Requests allowed per window (`ratelimit-limit: 100;w=21600` → 100). */
  limit?: number;
  remaining?: number;
  /** Window length in seconds, from the `w=` parameter. */
  windowSeconds?: number;
  /** Seconds until the quota resets (`ratelimit-reset`), when the registry says. */
  resetSeconds?: number;
  /** Docker Hub's `docker-ratelimit-source`: the IP or account the quota is counted against. */
  source?: string;
  /** The headers as received, for operators comparing with `curl -I`. */
  raw: Record<string, string>;
}

type Headers = Record<string, string | string[] | undefined>;

const RATE_LIMIT_HEADERS = [
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  'docker-ratelimit-source',
] as const;

function header(h: Headers, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `100;w=21600` → {value: 100, w: 21600}; a bare `100` (IETF draft form) → {value: 100}. */
function parseQuotaValue(v: string): { value?: number; w?: number } {
  const [first, ...params] = v.split(';').map((s) => s.trim());
  const out: { value?: number; w?: number } = {};
  const n = Number(first);
  if (first !== undefined && first !== '' && Number.isFinite(n)) out.value = n;
  for (const p of params) {
    const m = /^w=(\d+)$/.exec(p);
    if (m) out.w = Number(m[1]);
  }
  return out;
}

/** The rate-limit headers of a response (header names lower-cased, as undici gives them). */
export function parseRateLimit(h: Headers): RateLimit | undefined {
  const raw: Record<string, string> = {};
  for (const name of RATE_LIMIT_HEADERS) {
    const v = header(h, name);
    if (v !== undefined) raw[name] = v;
  }
  if (Object.keys(raw).length === 0) return undefined;
  const out: RateLimit = { raw };
  if (raw['ratelimit-limit'] !== undefined) {
    const q = parseQuotaValue(raw['ratelimit-limit']);
    if (q.value !== undefined) out.limit = q.value;
    if (q.w !== undefined) out.windowSeconds = q.w;
  }
  if (raw['ratelimit-remaining'] !== undefined) {
    const q = parseQuotaValue(raw['ratelimit-remaining']);
    if (q.value !== undefined) out.remaining = q.value;
    if (q.w !== undefined && out.windowSeconds === undefined) out.windowSeconds = q.w;
  }
  if (raw['ratelimit-reset'] !== undefined) {
    const q = parseQuotaValue(raw['ratelimit-reset']);
    if (q.value !== undefined) out.resetSeconds = q.value;
  }
  if (raw['docker-ratelimit-source'] !== undefined) out.source = raw['docker-ratelimit-source'];
  return out;
}

/**
 * §4.7 step 6: `RateLimit-Remaining: 0;…` means the quota is spent, even on a 200. kuik tests the
 * `0;` prefix (Docker Hub's form); the bare `0` of the IETF draft means the same and is accepted too.
 */
export function quotaExhausted(rl: RateLimit | undefined): boolean {
  const v = rl?.raw['ratelimit-remaining'];
  return v !== undefined && /^0(?:;|$)/.test(v.trim());
}

export function describeRateLimit(rl: RateLimit): string {
  return Object.entries(rl.raw)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
}

/**
 * Several credentials, several failures (§2.8 step 4): which outcome does the probe report? The
 * most specific answer wins. A NotFound from a credential that could read the repository says
 * more than an InvalidAuth from one that could not, and InvalidAuth is reported only when every
 * credential was refused. (kuik classifies the joined Go error by its first matching cause,
 * which makes the verdict depend on the order of pull secrets.)
 */
const PRECEDENCE: readonly FailureOutcome[] = ['NotFound', 'QuotaExceeded', 'Unreachable', 'InvalidAuth'];

export function combineFailures(outcomes: readonly FailureOutcome[]): FailureOutcome {
  for (const o of PRECEDENCE) if (outcomes.includes(o)) return o;
  return 'Unreachable';
}
