// The registry client's public surface. Functions import from here; the copy engine also uses
// the transport and reference helpers directly.
export type { Challenge, Scope, ScopeAction } from './challenge.ts';
export { parseChallenges, pickChallenge, scopeString, scopeStrings } from './challenge.ts';
export { RegistryClient } from './client.ts';
export { type RequestContext, withTimeout } from './deadline.ts';
export { outcomeOfError, RegistryError, type RegistryErrorKind, type RegistryPhase } from './errors.ts';
export {
  type Descriptor,
  deleteManifest,
  fetchManifest,
  getManifest,
  MAX_MANIFEST_BYTES,
  type Manifest,
  type ManifestAnswer,
  type ManifestRequestOptions,
} from './manifest.ts';
export * from './media-types.ts';
export {
  combineFailures,
  type FailureOutcome,
  failureMessage,
  isRetryableStatus,
  MESSAGE_PREFIX,
  OUTCOMES,
  type Outcome,
  outcomeForStatus,
  parseRateLimit,
  quotaExhausted,
  type RateLimit,
} from './outcome.ts';
export {
  describeCredential,
  type ProbeAttempt,
  type ProbeOptions,
  type ProbeResult,
  probe,
} from './probe.ts';
export {
  apiHost,
  blobPath,
  formatRef,
  InvalidReferenceError,
  type ManifestRef,
  manifestPath,
  manifestReference,
  type RepositoryRef,
  toManifestRef,
  uploadPath,
  withDigest,
} from './reference.ts';
export { backoffDelay, DEFAULT_RETRY, NO_RETRY, type RetryPolicy } from './retry.ts';
export {
  type BasicCredential,
  type HostOptions,
  type HttpMethod,
  type RegistryRequest,
  type RegistryResponse,
  RegistryTransport,
  type TransportOptions,
  type TransportStats,
} from './transport.ts';
