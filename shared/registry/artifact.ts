// Small artifacts in a shared registry (reconcile's claims, the monitor's quota records): the
// one way functions write state for other clusters into a registry.
import { RegistryError } from './errors.ts';
import { sha256Digest } from './manifest.ts';
import { OCI_MANIFEST } from './media-types.ts';
import type { Repo } from './repo.ts';

const EMPTY = '{}';
const EMPTY_DESCRIPTOR = {
  mediaType: 'application/vnd.oci.empty.v1+json',
  digest: sha256Digest(new TextEncoder().encode(EMPTY)),
  size: 2,
};

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
    mediaType: OCI_MANIFEST,
    artifactType,
    config: EMPTY_DESCRIPTOR,
    layers: [EMPTY_DESCRIPTOR],
    ...(body.subject ? { subject: body.subject } : {}),
    annotations: body.annotations,
  });
  await repo.putManifest(tag, new TextEncoder().encode(manifest), OCI_MANIFEST);
}
