// Where a manifest lives in the distribution API: registry, repository and the manifest
// reference, and the URL paths built from them. Pure: no I/O. Parsing and normalization are
// shared/image's (§2.1); this module only turns its result into API paths.
//
// Digest references are first-class here (the router routes digest-pinned images), and a
// reference carrying both a tag and a digest is fetched by digest, as container runtimes do; a
// reference with neither means `latest`, as go-containerregistry does (§2.1 "Consequences").
import { type ImageReference, parseReference } from '../image/reference.ts';

export interface RepositoryRef {
  /** Host as it appears in the image reference: `docker.io`, `quay.io`, `127.0.0.1:5000`. */
  registry: string;
  /** Repository path inside the registry: `library/nginx`. */
  repository: string;
}

export interface ManifestRef extends RepositoryRef {
  tag?: string;
  digest?: string;
}

export class InvalidReferenceError extends Error {
  override name = 'InvalidReferenceError';
}

/** Docker Hub's API host: `docker.io` is a name, not an endpoint. */
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';

export function isDockerHub(registry: string): boolean {
  return registry === 'docker.io' || registry === 'index.docker.io' || registry === DOCKER_HUB_API_HOST;
}

/** The host to open connections to for a registry name. */
export function apiHost(registry: string): string {
  return isDockerHub(registry) ? DOCKER_HUB_API_HOST : registry;
}

/**
 * Where a reference lives. Strings go through the one reference parser (`shared/image`, §2.1), so
 * `nginx`, `docker.io/library/nginx` and `index.docker.io/library/nginx:latest` all land on the
 * same repository; a parse failure is an InvalidReferenceError with distribution's wording.
 */
export function toManifestRef(ref: ImageReference | ManifestRef | string): ManifestRef {
  if (typeof ref !== 'string' && 'registry' in ref) return ref;
  let parsed: ImageReference;
  if (typeof ref === 'string') {
    const r = parseReference(ref);
    if (!r.ok)
      throw new InvalidReferenceError(`invalid reference ${JSON.stringify(ref)}: ${r.error.message}`);
    parsed = r.value;
  } else {
    parsed = ref;
  }
  const out: ManifestRef = { registry: parsed.domain, repository: parsed.path };
  if (parsed.tag !== undefined) out.tag = parsed.tag;
  if (parsed.digest !== undefined) out.digest = parsed.digest;
  return out;
}

/** What goes after `/manifests/`: the digest, else the tag, else `latest` (as shared/image's registryReference). */
export function manifestReference(r: ManifestRef): string {
  return r.digest ?? r.tag ?? 'latest';
}

export function formatRef(r: ManifestRef): string {
  const name = `${r.registry}/${r.repository}`;
  if (r.digest !== undefined)
    return r.tag === undefined ? `${name}@${r.digest}` : `${name}:${r.tag}@${r.digest}`;
  return `${name}:${r.tag ?? 'latest'}`;
}

/**
 * Where the same repository serves `digest` (the `resolveDigest` second probe, §4.7 step 8): an
 * API location, not a reference, so it is not validated again; `withDigest` (shared/image) builds
 * and checks the `name@digest` reference people see.
 */
export function atDigest(r: ManifestRef, digest: string): ManifestRef {
  return { registry: r.registry, repository: r.repository, digest };
}

export function manifestPath(r: ManifestRef): string {
  return `/v2/${r.repository}/manifests/${manifestReference(r)}`;
}

export function blobPath(r: RepositoryRef, digest: string): string {
  return `/v2/${r.repository}/blobs/${digest}`;
}

/** The first page of a repository's tag list (`Link` headers name the next ones). */
export function tagsPath(r: RepositoryRef): string {
  return `/v2/${r.repository}/tags/list`;
}

/** OCI 1.1 referrers of a manifest. */
export function referrersPath(r: RepositoryRef, digest: string): string {
  return `/v2/${r.repository}/referrers/${digest}`;
}

/** Starting point of a blob upload; `mount`/`from` ask for a cross-repository mount (§5.4 step 6). */
export function uploadPath(r: RepositoryRef, mount?: { digest: string; from: string }): string {
  const base = `/v2/${r.repository}/blobs/uploads/`;
  if (!mount) return base;
  return `${base}?mount=${encodeURIComponent(mount.digest)}&from=${encodeURIComponent(mount.from)}`;
}
