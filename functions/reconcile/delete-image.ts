// Deleting a mirrored image without collateral damage (§5.5). kuik deleted by digest, which removes
// every tag of the repository that points at the same manifest: an expired `:1.27` could take
// `:latest` with it (QUIRK). Here: delete the tag itself (OCI 1.1; kuik #636); when the registry
// refuses tag deletion, fall back to the digest only if no other tag shares it, else leave it.

import { claimTag, otherClaim } from '#shared/claims.ts';
import { putSmallArtifact } from '#shared/registry/artifact.ts';
import type { RegistryClient } from '#shared/registry/client.ts';
import { RegistryError } from '#shared/registry/errors.ts';
import { toManifestRef } from '#shared/registry/reference.ts';
import { repoOf } from '#shared/registry/repo.ts';
import type { BasicCredential } from '#shared/registry/transport.ts';

export type DeleteOutcome = 'deleted' | 'absent' | 'kept-shared';

export async function deleteMirroredImage(
  client: RegistryClient,
  image: string,
  credentials: readonly BasicCredential[],
  /** This cluster's identity in the shared registry (§5.7, shared/claims.ts). */
  cluster = 'default',
  timeoutMs = 30_000,
): Promise<DeleteOutcome> {
  const ref = toManifestRef(image);
  const credential = credentials[0];
  const head = await client.probe(ref, { timeoutMs, credentials });
  if (head.outcome === 'NotFound') return 'absent';
  if (head.outcome !== 'Available') throw new Error(head.message);
  const tags = await repoOf(client, ref, credential, ['pull'], timeoutMs).listTags();
  const own = claimTag(cluster, ref);
  // A claim is a manifest of its own (ensureClaim): deleting its digest removes that tag only.
  const dropOwnClaim = async () => {
    if (!tags.includes(own)) return;
    const claim = await client.probe({ ...ref, tag: own, digest: undefined }, { timeoutMs, credentials });
    const d = claim.descriptor?.digest;
    if (d)
      await client
        .deleteManifest(
          { registry: ref.registry, repository: ref.repository, digest: d },
          { timeoutMs, credential },
        )
        .catch(() => {});
  };
  // Another cluster still has this image in use: withdraw our claim only, and keep the image. The
  // last cluster to let go deletes it.
  if (tags.some((t) => otherClaim(t, cluster, ref))) {
    await dropOwnClaim();
    return 'kept-shared';
  }
  if (ref.tag !== undefined && ref.digest === undefined) {
    try {
      await client.deleteManifest(ref, { timeoutMs, credential });
      await dropOwnClaim();
      return 'deleted';
    } catch (err) {
      const status = err instanceof RegistryError ? err.status : undefined;
      // Registries without tag deletion answer 400/405 (distribution: UNSUPPORTED / DIGEST_INVALID).
      if (status !== 400 && status !== 405 && status !== 501) throw err;
    }
  }
  const digest = ref.digest ?? head.descriptor?.digest;
  if (!digest) throw new Error(`no digest for ${image}`);
  // By digest every tag naming the manifest goes: only when none but this reference and our own
  // claim does (kuik deleted by digest regardless, QUIRK).
  for (const tag of tags) {
    if (tag === ref.tag || tag === own) continue;
    const other = await client.probe(
      { registry: ref.registry, repository: ref.repository, tag },
      { timeoutMs, credentials },
    );
    if (other.descriptor?.digest === digest) return 'kept-shared';
  }
  await client.deleteManifest(
    { registry: ref.registry, repository: ref.repository, digest },
    { timeoutMs, credential },
  );
  await dropOwnClaim();
  return 'deleted';
}

/**
 * This cluster's claim on a mirrored image it has in use (§5.7): a small OCI artifact manifest
 * tagged `kuik-claim.<cluster>.<ref>`, whose `subject` is the image and whose annotations name the
 * cluster. Being a manifest of its own (unique per cluster and reference), it can be deleted by
 * digest without touching the image or other claims, on registries without tag deletion too.
 * Costs one HEAD when the claim is there.
 */
export async function ensureClaim(
  client: RegistryClient,
  image: string,
  credentials: readonly BasicCredential[],
  cluster = 'default',
  timeoutMs = 30_000,
): Promise<void> {
  const ref = toManifestRef(image);
  const tag = claimTag(cluster, ref);
  const claim = await client.probe(
    { registry: ref.registry, repository: ref.repository, tag },
    { timeoutMs, credentials },
  );
  if (claim.outcome === 'Available') return;
  if (claim.outcome !== 'NotFound') throw new Error(claim.message);
  const credential = credentials[0];
  const image0 = await client.probe(ref, { timeoutMs, credentials });
  if (!image0.descriptor) throw new Error(image0.message || `no descriptor for ${image}`);
  const repo = repoOf(client, ref, credential, ['pull', 'push'], timeoutMs);
  await putSmallArtifact(repo, tag, 'application/vnd.kuik.claim.v1', {
    subject: image0.descriptor,
    annotations: {
      'kuik.enix.io/claim-cluster': cluster,
      'kuik.enix.io/claim-reference': ref.digest ?? ref.tag ?? 'latest',
    },
  });
}
