// Quota records in the shared registry (shared/quota.ts, docs/shared-quota.md): read every
// cluster's, write this cluster's own. One repository of the mirror registry holds them, one tag
// per (cluster, registry, credential): a read is a tag list and one small GET per record, a write
// one PUT. Failures are reported to the caller, which then paces on what it has (the configured
// spacing): sharing is an improvement, never a condition for probing.

import {
  isQuotaTag,
  parseRecord,
  QUOTA_ARTIFACT_TYPE,
  type QuotaRecord,
  quotaTag,
  recordAnnotations,
} from '#shared/quota.ts';
import { putSmallArtifact } from '#shared/registry/artifact.ts';
import type { RegistryClient } from '#shared/registry/client.ts';
import { repoOf } from '#shared/registry/repo.ts';
import type { BasicCredential } from '#shared/registry/transport.ts';

export interface QuotaStore {
  /** Every cluster's records, this one's included. */
  read(): Promise<QuotaRecord[]>;
  /** Publishes this cluster's record for the record's (registry, credential). */
  write(record: QuotaRecord): Promise<void>;
}

export interface QuotaStoreOptions {
  client: RegistryClient;
  /** `host[:port]` of the shared (mirror) registry. */
  registry: string;
  repository: string;
  /** Push credential of that registry, read when needed (a Secret may change). */
  credential: () => Promise<BasicCredential | undefined>;
  timeoutMs?: number;
}

export function registryQuotaStore(o: QuotaStoreOptions): QuotaStore {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const repo = async (actions: ('pull' | 'push')[]) =>
    repoOf(
      o.client,
      { registry: o.registry, repository: o.repository },
      await o.credential(),
      actions,
      timeoutMs,
    );
  return {
    async read() {
      const r = await repo(['pull']);
      const tags = (await r.listTags()).filter(isQuotaTag);
      const records = await Promise.all(
        tags.map(async (tag) => {
          const m = await r.getManifest(tag);
          if (!m) return undefined; // Withdrawn between the list and the GET.
          try {
            const doc = JSON.parse(new TextDecoder().decode(m.bytes)) as {
              annotations?: Record<string, unknown>;
            };
            return parseRecord(doc.annotations);
          } catch {
            return undefined; // Not ours to judge: a tag that only looks like a record.
          }
        }),
      );
      return records.filter((x): x is QuotaRecord => x !== undefined);
    },
    async write(record) {
      const r = await repo(['pull', 'push']);
      await putSmallArtifact(
        r,
        quotaTag(record.cluster, record.registry, record.credential),
        QUOTA_ARTIFACT_TYPE,
        { annotations: recordAnnotations(record) },
      );
    },
  };
}
