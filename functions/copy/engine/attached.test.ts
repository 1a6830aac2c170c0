import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseManifest } from '#shared/registry/manifest.ts';
import {
  cosignTags,
  findAttachedTags,
  mergeReferrersIndex,
  referrerDescriptor,
  referrersTag,
} from './attached.ts';

const dg = (c: string) => `sha256:${c.repeat(64)}`;

describe('attached artifacts', () => {
  it('names cosign and fallback tags after the digest', () => {
    assert.equal(referrersTag(dg('a')), `sha256-${'a'.repeat(64)}`);
    assert.deepEqual(cosignTags(dg('a')), [
      `sha256-${'a'.repeat(64)}.sig`,
      `sha256-${'a'.repeat(64)}.att`,
      `sha256-${'a'.repeat(64)}.sbom`,
    ]);
  });

  it('finds the tags of the given digests in a tag list, and only those', () => {
    const tags = [
      'v1',
      `sha256-${'a'.repeat(64)}.sig`,
      `sha256-${'b'.repeat(64)}`,
      `sha256-${'c'.repeat(64)}.att`,
    ];
    const r = findAttachedTags(tags, [dg('a'), dg('b')]);
    assert.deepEqual([...r.cosign], [[dg('a'), [`sha256-${'a'.repeat(64)}.sig`]]]);
    assert.deepEqual([...r.referrersTag], [[dg('b'), `sha256-${'b'.repeat(64)}`]]);
  });

  it('describes a referrer with its artifact type and annotations', () => {
    const bytes = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: 'application/vnd.example.sbom',
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: dg('e'), size: 2 },
        layers: [],
        subject: { mediaType: 'application/vnd.oci.image.index.v1+json', digest: dg('a'), size: 100 },
        annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' },
      }),
    );
    const m = parseManifest(bytes, undefined);
    assert.ok(m.ok);
    assert.deepEqual(referrerDescriptor(m.value), {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: m.value.digest,
      size: bytes.length,
      artifactType: 'application/vnd.example.sbom',
      annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' },
    });
  });

  it('carries only string annotations into a referrer descriptor (a malformed one is left out, not copied)', () => {
    const bytes = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: dg('e'), size: 2 },
        layers: [],
        annotations: { ok: 'yes', count: 3, nested: { a: 'b' } },
      }),
    );
    const m = parseManifest(bytes, undefined);
    assert.ok(m.ok);
    assert.deepEqual(referrerDescriptor(m.value).annotations, { ok: 'yes' });
  });

  it('merges new referrers into the fallback index and says when nothing is new', () => {
    const a = { mediaType: 'x', digest: dg('1'), size: 1 };
    const b = { mediaType: 'x', digest: dg('2'), size: 2 };
    const merged = mergeReferrersIndex([a], [a, b]);
    assert.ok(merged);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(merged)), {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [a, b],
    });
    assert.equal(mergeReferrersIndex([a, b], [b]), undefined);
  });
});
