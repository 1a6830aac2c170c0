// Image reference parsing and normalization with Docker distribution/reference parity (docs/behaviour.md §2.1).
//
// kuik compares and generates every image string through
// `reference.ParseNormalizedNamed(s).String()` (distribution/reference v0.6.0, digests validated by
// opencontainers/go-digest v1.0.0). This module reproduces that function: the same accepted
// inputs, the same normalized string, the same rejections. The grammar below is a transcription
// of distribution's regexp.go; JS and Go (Perl mode) both pick the leftmost-first submatch, so
// the captured domain/path/tag/digest are the same as Go's.
//
// Unlike kuik, digest references are first-class here: `nginx@sha256:…` and `nginx:1@sha256:…`
// parse into a reference with a digest, and the mapping helpers keep the digest. Whether a caller
// skips them (kuik's `@` exclusion, §2.2) is the caller's decision, not the parser's.
import { LruCache } from '../lru.ts';
import type { Result } from '../result.ts';

/**
 * Distribution's RepositoryNameTotalLengthMax. v0.6.0 counts it on the repository path without
 * the domain (`library/nginx`), including a `library/` the user did not write.
 */
export const NAME_TOTAL_LENGTH_MAX = 255;

/**
 * No real reference is longer than this: host ≤ 253 (DNS) + port, path ≤ 255, `:` + tag ≤ 129,
 * `@sha512:` + 128 hex is under 800. Longer input is rejected before any regex runs, which bounds
 * the backtracking the (linear in practice, not provably linear) JS regexes below could do on a
 * hostile pod spec. Distribution has no host length limit; a host over ~600 characters is the one
 * input it accepts and we do not.
 */
export const REFERENCE_MAX_INPUT_LENGTH = 1024;

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';

// --- grammar (distribution/reference regexp.go) ---
const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const optionalPort = '(?::[0-9]+)?';
const tagPat = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}';
const ipv6address = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const host = `(?:${domainName}|${ipv6address})`;
const domainAndPort = host + optionalPort;
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const namePat = `(?:${domainAndPort}/)?${remoteName}`;

const referenceRegexp = new RegExp(`^(${namePat})(?::(${tagPat}))?(?:@(${digestPat}))?$`);
const anchoredNameRegexp = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`);
const anchoredIdentifierRegexp = /^[a-f0-9]{64}$/;
const anchoredTagRegexp = new RegExp(`^${tagPat}$`);
const anchoredDigestRegexp = new RegExp(`^${digestPat}$`);

/** Hex length of each digest algorithm kuik's binary can verify (go-digest's Available()). */
const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

/** A parsed, normalized image reference. Plain data: compare `string`, split with helpers. */
export interface ImageReference {
  /**
   * Registry host[:port]: the first `/`-separated component of `name` (§2.3). Equals
   * distribution's Domain() except for hosts that are not valid domain names (`foo_bar.com/x`),
   * where distribution reports "" but still prints the same string.
   */
  readonly domain: string;
  /** Repository path inside the registry, without tag or digest, e.g. `library/nginx`. */
  readonly path: string;
  /** `domain/path`: distribution's Name(), e.g. `docker.io/library/nginx`. */
  readonly name: string;
  readonly tag: string | undefined;
  /** `algorithm:hex`, e.g. `sha256:…`. */
  readonly digest: string | undefined;
  /** The normalized reference, `name[:tag][@digest]`: ParseNormalizedNamed(x).String(). */
  readonly string: string;
}

export type ReferenceErrorCode =
  | 'empty'
  | 'too-long'
  | 'hex-identifier'
  | 'uppercase'
  | 'invalid-format'
  | 'name-too-long'
  | 'invalid-digest'
  | 'unsupported-digest';

export interface ReferenceError {
  readonly code: ReferenceErrorCode;
  /** distribution's wording where it has one, so log lines read like kuik's. */
  readonly message: string;
}

export type ReferenceResult = Result<ImageReference, ReferenceError>;

function fail(code: ReferenceErrorCode, message: string): ReferenceResult {
  return { ok: false, error: { code, message } };
}

/** distribution's splitDockerDomain: which part of the input is a registry host. */
function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const i = name.indexOf('/');
  let domain: string;
  let remainder: string;
  const first = i === -1 ? '' : name.slice(0, i);
  if (
    i === -1 ||
    (!first.includes('.') && !first.includes(':') && first !== 'localhost' && first.toLowerCase() === first)
  ) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

/** go-digest v1.0.0 Digest.Validate, restricted to the algorithms kuik links (sha256/384/512). */
function validateDigest(digest: string): ReferenceError | undefined {
  const i = digest.indexOf(':');
  if (i <= 0 || i + 1 === digest.length)
    return { code: 'invalid-digest', message: 'invalid checksum digest format' };
  const algorithm = digest.slice(0, i);
  const encoded = digest.slice(i + 1);
  const size = DIGEST_HEX_LENGTH[algorithm];
  if (size === undefined) {
    if (!anchoredDigestRegexp.test(digest)) {
      return { code: 'invalid-digest', message: 'invalid checksum digest format' };
    }
    return { code: 'unsupported-digest', message: 'unsupported digest algorithm' };
  }
  if (encoded.length !== size) return { code: 'invalid-digest', message: 'invalid checksum digest length' };
  if (!/^[a-f0-9]+$/.test(encoded))
    return { code: 'invalid-digest', message: 'invalid checksum digest format' };
  return undefined;
}

/** distribution's Parse, on an already domain-qualified string. */
function parseQualified(s: string): ReferenceResult {
  const m = referenceRegexp.exec(s);
  if (m === null) {
    if (s === '') return fail('empty', 'repository name must have at least one component');
    if (referenceRegexp.test(s.toLowerCase())) {
      return fail('uppercase', 'repository name must be lowercase');
    }
    return fail('invalid-format', 'invalid reference format');
  }
  const name = m[1] ?? '';
  const nameMatch = anchoredNameRegexp.exec(name);
  // distribution's own path: without the domain, or the whole name when the first component is
  // not a valid host (it then reports Domain() "").
  const distributionPath = nameMatch?.[1] === undefined ? name : (nameMatch[2] ?? name);
  if (distributionPath.length > NAME_TOTAL_LENGTH_MAX) {
    return fail('name-too-long', `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  const tag = m[2] === undefined || m[2] === '' ? undefined : m[2];
  const digest = m[3] === undefined || m[3] === '' ? undefined : m[3];
  if (digest !== undefined) {
    const err = validateDigest(digest);
    if (err !== undefined) return { ok: false, error: err };
  }
  // distribution captures the domain with anchoredNameRegexp; when the first component is not a
  // valid host (underscore, say) it reports Domain() "" yet prints the same string. We keep the
  // first component as `domain` so that registry grouping (§2.3) sees what kuik's string split sees.
  const slash = name.indexOf('/');
  const domain = nameMatch?.[1] ?? (slash === -1 ? '' : name.slice(0, slash));
  const path = domain === '' ? name : name.slice(domain.length + 1);
  let str = name;
  if (tag !== undefined) str += `:${tag}`;
  if (digest !== undefined) str += `@${digest}`;
  return { ok: true, value: { domain, path, name, tag, digest, string: str } };
}

/**
 * Parse and normalize an image reference exactly as distribution's
 * `ParseNormalizedNamed(input).String()` does (§2.1). Never throws.
 *
 * `nginx` → `docker.io/library/nginx` (no default tag), `index.docker.io/x/y` → `docker.io/x/y`,
 * `localhost:5000/foo:bar` unchanged; uppercase in the repository path, a bare 64-hex string and
 * the empty string are rejected.
 */
export function parseReference(input: string): ReferenceResult {
  // Results are immutable and inputs repeat (every admission parses the same images and their
  // alternatives), so recent ones are remembered. Only references that parse: those are at most
  // REFERENCE_MAX_INPUT_LENGTH long. A rejected input is the sender's to choose, long and distinct
  // each time (2 MiB invalid images in 200 reviews kept +420 MiB as cache keys, issue 14), and
  // rejecting it again is cheap (too-long inputs are refused before any regex runs).
  const hit = parsed.get(input);
  if (hit !== undefined) return hit;
  const result = parseUncached(input);
  if (result.ok) parsed.set(input, result);
  return result;
}

const parsed = new LruCache<string, ReferenceResult>(8192);

/** Entries in the parse cache (for tests of what it keeps). */
export function referenceCacheSize(): number {
  return parsed.size;
}

function parseUncached(input: string): ReferenceResult {
  if (input === '') return fail('empty', 'invalid reference format');
  if (input.length > REFERENCE_MAX_INPUT_LENGTH) {
    return fail('too-long', `invalid reference format: longer than ${REFERENCE_MAX_INPUT_LENGTH} characters`);
  }
  if (anchoredIdentifierRegexp.test(input)) {
    return fail(
      'hex-identifier',
      `invalid repository name (${input}), cannot specify 64-byte hexadecimal strings`,
    );
  }
  const { domain, remainder } = splitDockerDomain(input);
  const tagSep = remainder.indexOf(':');
  const remote = tagSep === -1 ? remainder : remainder.slice(0, tagSep);
  if (remote.toLowerCase() !== remote) {
    return fail('uppercase', `invalid reference format: repository name (${remote}) must be lowercase`);
  }
  return parseQualified(`${domain}/${remainder}`);
}

/** The normalized string, or undefined when the input does not parse (kuik skips those silently). */
export function normalizeReference(input: string): string | undefined {
  const r = parseReference(input);
  return r.ok ? r.value.string : undefined;
}

/**
 * Registry / path split of a normalized reference (§2.3): at the first `/`. The path keeps the
 * tag and digest: `docker.io/library/nginx:1.27` → `docker.io` + `library/nginx:1.27`.
 */
export function splitRegistryPath(ref: ImageReference): { registry: string; path: string } {
  const i = ref.string.indexOf('/');
  return { registry: ref.string.slice(0, i), path: ref.string.slice(i + 1) };
}

/** Whether `tag` is a valid tag (`[\w][\w.-]{0,127}`). */
export function isValidTag(tag: string): boolean {
  return anchoredTagRegexp.test(tag);
}

/** Validate a digest string the way distribution does when it appears in a reference. */
export function checkDigest(digest: string): ReferenceError | undefined {
  if (!anchoredDigestRegexp.test(digest))
    return { code: 'invalid-digest', message: 'invalid checksum digest format' };
  return validateDigest(digest);
}

/**
 * The by-digest reference of a repository, `name@digest` (the tag is dropped: a registry serves
 * a digest regardless of tag). The router uses it to pin what it probed and to address a mirror
 * by content. Accepts a parsed reference or any input `parseReference` accepts.
 */
export function withDigest(repository: ImageReference | string, digest: string): ReferenceResult {
  const base =
    typeof repository === 'string' ? parseReference(repository) : { ok: true as const, value: repository };
  if (!base.ok) return base;
  const err = checkDigest(digest);
  if (err !== undefined) return { ok: false, error: err };
  return parseReference(`${base.value.name}@${digest}`);
}

/** The same repository with another tag and no digest. */
export function withTag(repository: ImageReference | string, tag: string): ReferenceResult {
  const base =
    typeof repository === 'string' ? parseReference(repository) : { ok: true as const, value: repository };
  if (!base.ok) return base;
  if (!isValidTag(tag)) return fail('invalid-format', 'invalid tag format');
  return parseReference(`${base.value.name}:${tag}`);
}

/**
 * The reference a registry is asked for: the digest when there is one (a registry resolves
 * `name:tag@digest` by digest), else the tag, else `latest`, as go-containerregistry and the
 * container runtimes do for a tag-less reference.
 */
export function registryReference(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}
