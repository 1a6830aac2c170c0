// Deleting a mirrored image without collateral damage (§5.5). kuik deleted by digest, which removes
// every tag of the repository that points at the same manifest: an expired `:1.27` could take
// `:latest` with it (QUIRK). Here: delete the tag itself (OCI 1.1; kuik #636); when the registry
// refuses tag deletion, fall back to the digest only if no other tag shares it, else leave it.

import { createHash } from 'node:crypto';
import { claimTag, otherClaim } from '#shared/claims.ts';
import type { ScopeAction } from '#shared/registry/challenge.ts';
import type { RegistryClient } from '#shared/registry/client.ts';
import { RegistryError } from '#shared/registry/errors.ts';
import { type ManifestRef, toManifestRef } from '#shared/registry/reference.ts';
import type { BasicCredential } from '#shared/registry/transport.ts';
import { Repo } from '../copy/engine/repo.ts';

export type DeleteOutcome = 'deleted' | 'absent' | 'kept-shared';

/**
 * The copy engine's repository client (tags with pagination, uploads, manifests) for one
 * repository; reconcile uses it for claims and tag lists rather than a second set of hand-made
 * requests.
 */
export function repoOf(
  client: RegistryClient,
  ref: ManifestRef,
  credential: BasicCredential | undefined,
  actions: ScopeAction[],
  timeoutMs: number,
): Repo {
  return new Repo(client.transport, {
    registry: ref.registry,
    repository: ref.repository,
    credential,
    scopes: [{ repository: ref.repository, actions }],
    signal: AbortSignal.timeout(timeoutMs),
  });
}

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

const EMPTY = '{}';
const EMPTY_DESCRIPTOR = {
  mediaType: 'application/vnd.oci.empty.v1+json',
  digest: `sha256:${createHash('sha256').update(EMPTY).digest('hex')}`,
  size: 2,
};

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

/**
 * PUT a manifest that carries only annotations (and an optional subject), with the empty blob as
 * config and layer: how clusters sharing a registry leave state for each other there (claims, quota
 * records) without any database. Registries of distribution 2.8 accept it (no referrers API needed).
 */
export async function putSmallArtifact(
  repo: Repo,
  tag: string,
  artifactType: string,
  body: { subject?: unknown; annotations: Record<string, string> },
): Promise<void> {
  if (!(await repo.hasBlob(EMPTY_DESCRIPTOR.digest))) {
    const start = await repo.startUpload();
    if (start.mounted) throw new RegistryError('protocol', 'empty blob: unexpected mount');
    const bytes = new TextEncoder().encode(EMPTY);
    const sent = await repo.patchChunk(
      start.location,
      0,
      bytes.length,
      (async function* () {
        yield bytes;
      })(),
    );
    await repo.completeUpload(sent.location, EMPTY_DESCRIPTOR.digest);
  }
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType,
    config: EMPTY_DESCRIPTOR,
    layers: [EMPTY_DESCRIPTOR],
    ...(body.subject ? { subject: body.subject } : {}),
    annotations: body.annotations,
  });
  await repo.putManifest(
    tag,
    new TextEncoder().encode(manifest),
    'application/vnd.oci.image.manifest.v1+json',
  );
}
