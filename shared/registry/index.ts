// The registry client's public surface: the probing client, the repository client (repo.ts) on
// the same transport, and the one manifest model (manifest.ts).

export { putSmallArtifact } from './artifact.ts';
export type { Challenge, Scope, ScopeAction } from './challenge.ts';
export { parseChallenges, pickChallenge, scopeString, scopeStrings } from './challenge.ts';
export { RegistryClient } from './client.ts';
export { type RequestContext, withTimeout } from './deadline.ts';
export { outcomeOfError, RegistryError, type RegistryErrorKind, type RegistryPhase } from './errors.ts';
export {
  artifactTypeOf,
  blobsOf,
  configPlatform,
  type Descriptor,
  filteredIndexBytes,
  type ImageManifest,
  type IndexManifest,
  isDigest,
  isForeignLayer,
  type Manifest,
  type ManifestResult,
  parseManifest,
  sha256Digest,
} from './manifest.ts';
export {
  deleteManifest,
  type FetchedManifest,
  fetchManifest,
  getManifest,
  MAX_MANIFEST_BYTES,
  type ManifestAnswer,
  type ManifestRequestOptions,
} from './manifest-request.ts';
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
  atDigest,
  blobPath,
  formatRef,
  InvalidReferenceError,
  type ManifestRef,
  manifestPath,
  manifestReference,
  type RepositoryRef,
  referrersPath,
  tagsPath,
  toManifestRef,
  uploadPath,
} from './reference.ts';
export { heldBytes, Repo, type RepoOptions, type RequestCounter, repoOf, type UploadStart } from './repo.ts';
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
