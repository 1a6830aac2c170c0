// Signatures and attestations copied with the image (beyond kuik; what lives where: attached.ts).
// Cost when there are none: one tag listing and one referrers request on the source. A failure
// here never fails the image copy: the image is usable without its signature, and the error is
// reported in the result (and logged by the caller) for the next run to retry.
import { errorMessage } from '#shared/errors.ts';
import type { Descriptor, Manifest } from '#shared/registry/manifest.ts';
import type { Repo } from '#shared/registry/repo.ts';
import { findAttachedTags, mergeReferrersIndex, OCI_INDEX_TYPE, referrersTag } from './attached.ts';
import type { CopyResult } from './copy.ts';

export interface AttachedContext {
  src: Repo;
  dst: Repo;
  /** Digests present at the destination whose artifacts should follow them. */
  digests: readonly string[];
  pushTree: (m: Manifest, reference: string) => Promise<void>;
  result: Pick<CopyResult, 'attached'>;
}

export async function copyAttached(ctx: AttachedContext): Promise<void> {
  const { src, dst, digests, result } = ctx;
  if (digests.length === 0) return;
  const fail = (what: string, err: unknown) => result.attached.errors.push(`${what}: ${errorMessage(err)}`);

  let tags: string[] = [];
  try {
    tags = await src.listTags();
  } catch (err) {
    fail('listing source tags', err);
  }
  const found = findAttachedTags(tags, digests);

  // OCI referrers: the API when the source has it (asked once per digest, given up on at the
  // first "unsupported"), else the fallback tags found in the listing.
  const referrers = new Map<string, Descriptor[]>();
  for (const d of digests) {
    try {
      const r = await src.referrers(d);
      if (r === 'unsupported') break;
      if (r.length > 0) referrers.set(d, r);
    } catch (err) {
      fail(`referrers of ${d}`, err);
      break;
    }
  }
  for (const [d, tag] of found.referrersTag) {
    if (referrers.has(d)) continue;
    try {
      const idx = await src.getManifest(tag);
      if (idx?.kind === 'index' && idx.manifests.length > 0) referrers.set(d, idx.manifests);
    } catch (err) {
      fail(`referrers tag ${tag}`, err);
    }
  }

  for (const cosignTags of found.cosign.values()) {
    for (const tag of cosignTags) {
      try {
        const m = await src.getManifest(tag);
        if (!m) continue;
        const there = await dst.headManifest(tag);
        if (there?.digest === m.digest) continue;
        await ctx.pushTree(m, tag);
        result.attached.copied.push(tag);
      } catch (err) {
        fail(`cosign tag ${tag}`, err);
      }
    }
  }

  let dstHasReferrersApi: boolean | undefined;
  for (const [subject, descriptors] of referrers) {
    const present: Descriptor[] = [];
    for (const desc of descriptors) {
      try {
        if (!(await dst.headManifest(desc.digest))) {
          const m = await src.getManifest(desc.digest);
          if (!m) continue;
          await ctx.pushTree(m, desc.digest);
          result.attached.copied.push(`referrer ${desc.digest}`);
        }
        present.push(desc);
      } catch (err) {
        fail(`referrer ${desc.digest} of ${subject}`, err);
      }
    }
    if (present.length === 0) continue;
    try {
      // A registry with the referrers API indexes a pushed manifest's subject itself; one
      // without needs the fallback tag kept up to date by whoever pushes (the distribution spec).
      dstHasReferrersApi ??= (await dst.referrers(subject)) !== 'unsupported';
      if (dstHasReferrersApi) continue;
      const tag = referrersTag(subject);
      const current = await dst.getManifest(tag);
      const merged = mergeReferrersIndex(current?.kind === 'index' ? current.manifests : [], present);
      if (merged) {
        await dst.putManifest(tag, merged, OCI_INDEX_TYPE);
        result.attached.copied.push(tag);
      }
    } catch (err) {
      fail(`referrers tag of ${subject}`, err);
    }
  }
}
