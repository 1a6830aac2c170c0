// The one error type the transport throws, classified so that callers map it to an outcome
// without string matching. Messages name the method and URL (never credentials: URLs we build
// carry no userinfo, and tokens travel only in headers) so an operator can replay them with curl.
import { type FailureOutcome, outcomeForStatus, type RateLimit } from './outcome.ts';

export type RegistryErrorKind =
  /** The registry (or its token server) answered with an unusable HTTP status. */
  | 'http'
  /** Connection refused/reset, DNS, TLS handshake, a socket closed mid-response. */
  | 'network'
  /** The caller's deadline, or the transport's own header/body timeout, passed. */
  | 'timeout'
  /** The caller aborted (e.g. the admission request is gone). */
  | 'aborted'
  /** A 200 we cannot use: missing headers, a digest mismatch, unparsable JSON, too big. */
  | 'protocol';

/** Which exchange failed: the `/v2/` ping, the token request, or the request itself. */
export type RegistryPhase = 'ping' | 'token' | 'request';

export class RegistryError extends Error {
  override name = 'RegistryError';
  readonly kind: RegistryErrorKind;
  readonly phase: RegistryPhase;
  readonly status: number | undefined;
  readonly rateLimit: RateLimit | undefined;

  constructor(
    kind: RegistryErrorKind,
    message: string,
    opts: { phase?: RegistryPhase; status?: number; rateLimit?: RateLimit; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.kind = kind;
    this.phase = opts.phase ?? 'request';
    this.status = opts.status;
    this.rateLimit = opts.rateLimit;
  }
}

/** §4.7 step 7 for thrown errors: an HTTP status maps by the table, everything else is Unreachable. */
export function outcomeOfError(err: unknown): FailureOutcome {
  if (!(err instanceof RegistryError) || err.kind !== 'http' || err.status === undefined)
    return 'Unreachable';
  // A ping answered 404 means "not a registry here", not "image missing".
  if (err.phase === 'ping' && err.status === 404) return 'Unreachable';
  return outcomeForStatus(err.status);
}

// The one error-to-message helper, re-exported for the registry modules that import it from here.
export { errorMessage } from '../errors.ts';

// Node/undici error codes that mean "try again": the peer went away or the network hiccupped.
// Connection refused is not among them (a stopped registry stays stopped for the next second), as
// in Go, whose net errors report ECONNREFUSED as not temporary.
const TEMPORARY_CODES = new Set([
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

export function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e instanceof Error; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = e.cause;
  }
  return undefined;
}

export function isTemporaryNetworkError(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && TEMPORARY_CODES.has(code);
}
