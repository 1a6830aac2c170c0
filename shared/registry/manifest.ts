// The one manifest model: an index (OCI index, Docker manifest list) of children, or an image (OCI
// or Docker v2 manifest) of a config and layers, made of descriptors whose digests follow the one
// digest pattern below. Parsed from the registry's bytes with a valibot schema once; the bytes
// themselves are kept, because an unfiltered copy pushes them unchanged (same digest). The probe
// and the repository client (manifest-request.ts, repo.ts) check registry answers with it. Pure.
import { createHash } from 'node:crypto';
import * as v from 'valibot';
import type { Result } from '../result.ts';
import {
  bareMediaType,
  isIndexMediaType,
  MANIFEST_MEDIA_TYPES,
  OCI_INDEX,
  OCI_MANIFEST,
} from './media-types.ts';

export const DOCKER_SCHEMA1_TYPES = [
  'application/vnd.docker.distribution.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
];

/**
 * Layers a registry must not receive (§5.4 step 6): Windows base layers and OCI
 * non-distributable layers live at their `urls`, and licences forbid pushing them elsewhere.
 */
const FOREIGN_LAYER_TYPES = new Set([
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
]);

export function isForeignLayer(d: Descriptor): boolean {
  return FOREIGN_LAYER_TYPES.has(d.mediaType);
}

/** OCI image-spec `algorithm:encoded` (descriptor.md "Digests"). */
const DIGEST_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** The encodings of the algorithms registries use, exactly: a wrong length is a corrupt digest. */
const REGISTERED_ENCODINGS: Readonly<Record<string, RegExp>> = {
  sha256: /^[a-f0-9]{64}$/,
  sha384: /^[a-f0-9]{96}$/,
  sha512: /^[a-f0-9]{128}$/,
};

/**
 * Whether `s` is a digest: the OCI grammar, with sha256/384/512 as lowercase hex of their exact
 * length. Any other algorithm needs 32 characters or more: nothing shorter is a real hash, and the
 * probe refused such Docker-Content-Digest headers before there was one pattern.
 */
export function isDigest(s: string): boolean {
  if (!DIGEST_RE.test(s)) return false;
  const i = s.indexOf(':');
  const encoding = REGISTERED_ENCODINGS[s.slice(0, i)];
  const encoded = s.slice(i + 1);
  return encoding ? encoding.test(encoded) : encoded.length >= 32;
}

const PlatformSchema = v.object({
  os: v.optional(v.string()),
  architecture: v.optional(v.string()),
  variant: v.optional(v.string()),
  'os.version': v.optional(v.string()),
});

const DescriptorSchema = v.looseObject({
  mediaType: v.optional(v.string(), ''),
  digest: v.pipe(v.string(), v.check(isDigest, 'descriptor digest is not a digest')),
  size: v.pipe(v.number(), v.integer(), v.minValue(0)),
  urls: v.optional(v.array(v.string())),
  platform: v.optional(PlatformSchema),
  artifactType: v.optional(v.string()),
  annotations: v.optional(v.record(v.string(), v.string())),
});

export type Descriptor = v.InferOutput<typeof DescriptorSchema>;

const IndexSchema = v.looseObject({
  schemaVersion: v.literal(2),
  mediaType: v.optional(v.string()),
  manifests: v.array(DescriptorSchema),
  subject: v.optional(DescriptorSchema),
});

const ImageSchema = v.looseObject({
  schemaVersion: v.literal(2),
  mediaType: v.optional(v.string()),
  artifactType: v.optional(v.string()),
  config: DescriptorSchema,
  layers: v.array(DescriptorSchema),
  subject: v.optional(DescriptorSchema),
});

interface Common {
  /** The media type the registry served it as (Content-Type), or the document's own. */
  mediaType: string;
  /** The exact bytes the registry served: pushing them unchanged keeps the digest. */
  bytes: Uint8Array;
  /** sha256 of `bytes`. */
  digest: string;
  subject?: Descriptor;
  /** The manifest's own annotations (string values only, as the OCI spec defines them). */
  annotations?: Record<string, string>;
}

export interface IndexManifest extends Common {
  kind: 'index';
  manifests: Descriptor[];
  /** The parsed document, for re-serialising a filtered copy with every other field kept. */
  doc: Record<string, unknown>;
}

export interface ImageManifest extends Common {
  kind: 'image';
  config: Descriptor;
  layers: Descriptor[];
  artifactType?: string;
}

export type Manifest = IndexManifest | ImageManifest;

export type ManifestResult = Result<Manifest>;

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A manifest's annotations as the spec defines them (string to string). A value of another type
 * is left out rather than failing the manifest: the bytes are copied unchanged either way, and
 * only a referrers descriptor carries these.
 */
function stringAnnotations(a: unknown): Record<string, string> | undefined {
  if (typeof a !== 'object' || a === null || Array.isArray(a)) return undefined;
  const out = Object.entries(a).filter((e): e is [string, string] => typeof e[1] === 'string');
  return out.length > 0 ? Object.fromEntries(out) : undefined;
}

/**
 * Parse a manifest from its bytes. `contentType` is the registry's Content-Type; when it is
 * missing or generic, the document's own `mediaType` (or its shape) decides.
 */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined): ManifestResult {
  let doc: unknown;
  try {
    doc = JSON.parse(utf8.decode(bytes));
  } catch {
    return { ok: false, error: 'the manifest is not valid JSON' };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    return { ok: false, error: 'the manifest is not a JSON object' };
  const o = doc as Record<string, unknown>;
  const served = contentType ? bareMediaType(contentType) : '';
  const declared = typeof o['mediaType'] === 'string' ? o['mediaType'] : '';
  if (
    DOCKER_SCHEMA1_TYPES.includes(served) ||
    DOCKER_SCHEMA1_TYPES.includes(declared) ||
    o['schemaVersion'] === 1
  ) {
    return {
      ok: false,
      error:
        'Docker schema 1 manifests are not supported (deprecated since 2017): rebuild or re-push the image with a current tool so the registry serves schema 2 or OCI',
    };
  }
  let mediaType = MANIFEST_MEDIA_TYPES.includes(served) ? served : declared;
  if (!MANIFEST_MEDIA_TYPES.includes(mediaType)) {
    // OCI allows `mediaType` to be absent; the shape tells.
    if (Array.isArray(o['manifests'])) mediaType = OCI_INDEX;
    else if (o['config'] !== undefined) mediaType = OCI_MANIFEST;
    else return { ok: false, error: `unsupported manifest media type ${JSON.stringify(served || declared)}` };
  }
  const digest = sha256Digest(bytes);
  const annotations = stringAnnotations(o['annotations']);
  if (isIndexMediaType(mediaType)) {
    const r = v.safeParse(IndexSchema, doc);
    if (!r.success)
      return { ok: false, error: `invalid index: ${v.summarize(r.issues).replaceAll('\n', '; ')}` };
    return {
      ok: true,
      value: {
        kind: 'index',
        mediaType,
        bytes,
        digest,
        manifests: r.output.manifests,
        doc: o,
        ...(r.output.subject ? { subject: r.output.subject } : {}),
        ...(annotations ? { annotations } : {}),
      },
    };
  }
  const r = v.safeParse(ImageSchema, doc);
  if (!r.success)
    return { ok: false, error: `invalid manifest: ${v.summarize(r.issues).replaceAll('\n', '; ')}` };
  return {
    ok: true,
    value: {
      kind: 'image',
      mediaType,
      bytes,
      digest,
      config: r.output.config,
      layers: r.output.layers,
      ...(r.output.artifactType ? { artifactType: r.output.artifactType } : {}),
      ...(r.output.subject ? { subject: r.output.subject } : {}),
      ...(annotations ? { annotations } : {}),
    },
  };
}

/**
 * The index with only `keep` as children, every other field as the source had it. Serialised
 * compactly: a new document either way, so the digest changes (§5.4 step 4).
 */
export function filteredIndexBytes(index: IndexManifest, keep: readonly Descriptor[]): Uint8Array {
  const wanted = new Set(keep.map((d) => d.digest));
  const original = index.doc['manifests'] as unknown[];
  const manifests = original.filter((m) => wanted.has((m as { digest: string }).digest));
  return new TextEncoder().encode(JSON.stringify({ ...index.doc, manifests }));
}

/** The config media types of a runnable image (OCI, Docker); any other config is an artifact's. */
const IMAGE_CONFIG_TYPES = new Set([
  'application/vnd.oci.image.config.v1+json',
  'application/vnd.docker.container.image.v1+json',
]);

/**
 * The artifact type of a non-image OCI artifact (what an image volume may mount: a model, a data
 * set, a Helm chart), or undefined for an image. OCI 1.1 artifacts set `artifactType` over the
 * empty config; older ones say it with the config's own media type. A config without a media type
 * is taken for an image (what the copy did before artifacts were handled).
 */
export function artifactTypeOf(m: ImageManifest): string | undefined {
  const config = m.config.mediaType;
  if (config === '' || IMAGE_CONFIG_TYPES.has(config)) return undefined;
  return m.artifactType ?? config;
}

/** Blobs of an image in upload order: layers first, config last (as registries expect nothing else). */
export function blobsOf(image: ImageManifest): Descriptor[] {
  return [...image.layers, image.config];
}

const ConfigPlatformSchema = v.looseObject({
  os: v.optional(v.string()),
  architecture: v.optional(v.string()),
  variant: v.optional(v.string()),
});

/** os/architecture/variant of an image config blob; undefined when it is not JSON or has none. */
export function configPlatform(
  bytes: Uint8Array,
): { os?: string; architecture?: string; variant?: string } | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(utf8.decode(bytes));
  } catch {
    return undefined;
  }
  const r = v.safeParse(ConfigPlatformSchema, doc);
  if (!r.success || !r.output.architecture) return undefined;
  return {
    ...(r.output.os ? { os: r.output.os } : {}),
    architecture: r.output.architecture,
    ...(r.output.variant ? { variant: r.output.variant } : {}),
  };
}
