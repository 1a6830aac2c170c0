// Signatures and attestations that travel with an image (beyond kuik): where they live in a
// registry and how the destination's copy of the referrers list is kept. Pure.
//
// Two conventions exist side by side:
// - cosign's tags: `sha256-<hex>.sig`, `.att`, `.sbom` in the image's repository, each a small
//   image whose layers are the signature or attestation payloads;
// - OCI 1.1 referrers: manifests with a `subject` pointing at the image, listed by
//   `GET /v2/<name>/referrers/<digest>`, or, on registries without that API, in an index under the
//   fallback tag `sha256-<hex>` (the "referrers tag schema" of the distribution spec).
import type { Descriptor, Manifest } from '#shared/registry/manifest.ts';

export const COSIGN_SUFFIXES = ['sig', 'att', 'sbom'] as const;

/** `sha256:abc…` → `sha256-abc…`: the spec's fallback tag, truncated to the tag grammar's 128 characters. */
export function referrersTag(digest: string): string {
  return digest.replace(':', '-').slice(0, 128);
}

export function cosignTags(digest: string): string[] {
  return COSIGN_SUFFIXES.map((s) => `${referrersTag(digest)}.${s}`);
}

export interface AttachedTags {
  /** Image digest → cosign tags present for it. */
  cosign: Map<string, string[]>;
  /** Image digest → its referrers fallback tag, when present. */
  referrersTag: Map<string, string>;
}

/** Which of `tags` (a repository's tag list) belong to the given image digests. */
export function findAttachedTags(tags: readonly string[], digests: readonly string[]): AttachedTags {
  const present = new Set(tags);
  const out: AttachedTags = { cosign: new Map(), referrersTag: new Map() };
  for (const d of digests) {
    const c = cosignTags(d).filter((t) => present.has(t));
    if (c.length > 0) out.cosign.set(d, c);
    const r = referrersTag(d);
    if (present.has(r)) out.referrersTag.set(d, r);
  }
  return out;
}

/** The descriptor a referrers list carries for a manifest (distribution spec: artifactType, annotations). */
export function referrerDescriptor(m: Manifest): Descriptor {
  const artifactType = m.kind === 'image' ? (m.artifactType ?? m.config.mediaType) : undefined;
  return {
    mediaType: m.mediaType,
    digest: m.digest,
    size: m.bytes.length,
    ...(artifactType ? { artifactType } : {}),
    ...(m.annotations ? { annotations: m.annotations } : {}),
  };
}

export const OCI_INDEX_TYPE = 'application/vnd.oci.image.index.v1+json';

/** The fallback tag's index with `add` merged in (by digest; existing entries first). Undefined: nothing new. */
export function mergeReferrersIndex(
  existing: readonly Descriptor[],
  add: readonly Descriptor[],
): Uint8Array | undefined {
  const have = new Set(existing.map((d) => d.digest));
  const fresh = add.filter((d) => !have.has(d.digest));
  if (fresh.length === 0) return undefined;
  return new TextEncoder().encode(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX_TYPE, manifests: [...existing, ...fresh] }),
  );
}
