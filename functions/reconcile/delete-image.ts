// Deleting a mirrored image without collateral damage (§5.5). kuik deleted by digest, which removes
// every tag of the repository that points at the same manifest: an expired `:1.27` could take
// `:latest` with it (QUIRK). Here: delete the tag itself (OCI 1.1; kuik #636); when the registry
// refuses tag deletion, fall back to the digest only if no other tag shares it, else leave it.

import type { RegistryClient } from '../../shared/registry/client.ts';
import { RegistryError } from '../../shared/registry/errors.ts';
import { type ManifestRef, toManifestRef } from '../../shared/registry/reference.ts';
import type { BasicCredential } from '../../shared/registry/transport.ts';

export type DeleteOutcome = 'deleted' | 'absent' | 'kept-shared';

async function tagsOf(
  client: RegistryClient,
  ref: ManifestRef,
  credential: BasicCredential | undefined,
): Promise<string[]> {
  const res = await client.transport.request(ref.registry, {
    method: 'GET',
    path: `/v2/${ref.repository}/tags/list`,
    scopes: [{ repository: ref.repository, actions: ['pull'] }],
    credential,
  });
  const text = await res.body.text();
  if (res.status !== 200)
    throw new RegistryError('http', `GET tags/list: ${res.status}`, { status: res.status });
  const tags = (JSON.parse(text) as { tags?: string[] | null }).tags;
  return tags ?? [];
}

export async function deleteMirroredImage(
  client: RegistryClient,
  image: string,
  credentials: readonly BasicCredential[],
  timeoutMs = 30_000,
): Promise<DeleteOutcome> {
  const ref = toManifestRef(image);
  const credential = credentials[0];
  const head = await client.probe(ref, { timeoutMs, credentials });
  if (head.outcome === 'NotFound') return 'absent';
  if (head.outcome !== 'Available') throw new Error(head.message);
  if (ref.tag !== undefined && ref.digest === undefined) {
    try {
      await client.deleteManifest(ref, { timeoutMs, credential });
      return 'deleted';
    } catch (err) {
      const status = err instanceof RegistryError ? err.status : undefined;
      // Registries without tag deletion answer 400/405 (distribution: UNSUPPORTED / DIGEST_INVALID).
      if (status !== 400 && status !== 405 && status !== 501) throw err;
    }
  }
  const digest = ref.digest ?? head.descriptor?.digest;
  if (!digest) throw new Error(`no digest for ${image}`);
  // Only delete the manifest when nothing else names it.
  for (const tag of await tagsOf(client, ref, credential)) {
    if (tag === ref.tag) continue;
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
  return 'deleted';
}
