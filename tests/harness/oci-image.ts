// Synthetic multi-arch OCI images for tests and benchmarks, written as an OCI image layout (the
// form `skopeo copy oci:DIR:TAG docker://…` reads). Any size, any platforms; the layer content is
// an AES-256-CTR keystream derived from a seed, so it is incompressible (a benchmark moves every
// byte) and deterministic (the same seed and options give the same digests on every machine).
// Layers are streamed to disk — content → tar → gzip → file, hashing on the way — so a 1 GiB
// image never sits in memory.
//
// CLI: node tests/harness/oci-image.ts DIR [--tag v1] [--size 1MiB] [--layers 1]
//        [--platforms linux/amd64,linux/arm64] [--seed demo]

import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { errorMessage } from '#shared/errors.ts';

export const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export interface OciImageOptions {
  /** The tag the layout's index.json names (`org.opencontainers.image.ref.name`). Default `v1`. */
  tag?: string;
  /** Bytes of content in each layer (before tar and gzip). Default 10 KiB. */
  layerBytes?: number;
  /** Layers per platform image. Default 1. */
  layers?: number;
  /** `amd64`, `linux/arm64`, `linux/arm/v7`… Default amd64 and arm64. */
  platforms?: string[];
  /** Same seed and options, same bytes and digests. Different seeds share no layer. */
  seed?: string;
  /** gzip level of the layers (0–9). Default 1: the content does not compress anyway. */
  gzipLevel?: number;
}

export interface OciImage {
  dir: string;
  tag: string;
  /** The descriptor of the image index (what a registry serves for the tag). */
  index: Descriptor;
  manifests: { descriptor: Descriptor; config: Descriptor; layers: (Descriptor & { diffId: string })[] }[];
}

/** `amd64` → linux/amd64; `linux/arm/v7` → with a variant. */
export function parsePlatform(p: string): Platform {
  const parts = p.split('/');
  if (parts.length === 1 && parts[0]) return { os: 'linux', architecture: parts[0] };
  if ((parts.length === 2 || parts.length === 3) && parts.every((x) => x !== '')) {
    return { os: parts[0]!, architecture: parts[1]!, ...(parts[2] ? { variant: parts[2] } : {}) };
  }
  throw new Error(`platform ${JSON.stringify(p)}: want ARCH, OS/ARCH or OS/ARCH/VARIANT`);
}

const CHUNK = 1 << 20;

/** `bytes` of AES-256-CTR keystream keyed by sha256(key): deterministic, incompressible. */
export function keystream(key: string, bytes: number): Readable {
  const cipher = createCipheriv('aes-256-ctr', createHash('sha256').update(key).digest(), Buffer.alloc(16));
  const zeros = Buffer.alloc(CHUNK);
  let left = bytes;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(CHUNK, left);
      left -= n;
      this.push(cipher.update(n === CHUNK ? zeros : zeros.subarray(0, n)));
    },
  });
}

/** A ustar header for one regular file (mode 0644, owner 0:0, mtime 0: reproducible). */
export function tarHeader(name: string, size: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar name too long: ${name}`);
  // 11 octal digits: the classic size field holds up to 8 GiB - 1.
  if (size >= 8 ** 11) throw new Error(`tar entry too large: ${size} bytes`);
  const h = Buffer.alloc(512);
  const put = (s: string, off: number, len: number) => h.write(s, off, len, 'latin1');
  const octal = (n: number, len: number) => n.toString(8).padStart(len - 1, '0');
  put(name, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(0, 12), 136, 12);
  put('        ', 148, 8); // checksum counts its own field as spaces
  put('0', 156, 1);
  put('ustar\u000000', 257, 8);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${octal(sum, 7)}\u0000 `, 148, 8);
  return h;
}

/** One file named `name` holding `content`, as a tar stream (header, data, padding, end). */
async function* tarOf(name: string, size: number, content: Readable): AsyncGenerator<Buffer> {
  yield tarHeader(name, size);
  for await (const chunk of content) yield chunk as Buffer;
  const pad = (512 - (size % 512)) % 512;
  // The archive ends with two zero blocks.
  yield Buffer.alloc(pad + 1024);
}

/** Hashes and counts what passes through. */
class Digester extends Transform {
  readonly hash = createHash('sha256');
  size = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    cb(null, chunk);
  }
  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

async function putBlob(dir: string, data: Buffer | string, mediaType: string): Promise<Descriptor> {
  const buf = Buffer.from(data);
  const hex = createHash('sha256').update(buf).digest('hex');
  await writeFile(join(dir, 'blobs', 'sha256', hex), buf);
  return { mediaType, digest: `sha256:${hex}`, size: buf.length };
}

async function putLayer(
  dir: string,
  key: string,
  name: string,
  bytes: number,
  level: number,
): Promise<Descriptor & { diffId: string }> {
  const tmp = join(dir, 'blobs', `.tmp-${randomBytes(6).toString('hex')}`);
  const raw = new Digester();
  const gz = new Digester();
  await pipeline(
    Readable.from(tarOf(name, bytes, keystream(key, bytes))),
    raw,
    createGzip({ level }),
    gz,
    createWriteStream(tmp),
  );
  const digest = gz.digest();
  await rename(tmp, join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)));
  return { mediaType: MEDIA.layer, digest, size: gz.size, diffId: raw.digest() };
}

/** Writes an OCI image layout at `dir` holding one multi-platform image index, tagged `tag`. */
export async function writeOciImage(dir: string, opts: OciImageOptions = {}): Promise<OciImage> {
  const tag = opts.tag ?? 'v1';
  const layerBytes = Math.floor(opts.layerBytes ?? 10 * 1024);
  const layerCount = opts.layers ?? 1;
  const platforms = (opts.platforms ?? ['amd64', 'arm64']).map(parsePlatform);
  const seed = opts.seed ?? 'kuik';
  const level = opts.gzipLevel ?? 1;
  if (!(layerBytes >= 0) || !Number.isInteger(layerCount) || layerCount < 0 || platforms.length === 0) {
    throw new Error('writeOciImage: layerBytes >= 0, an integer layers >= 0 and at least one platform');
  }
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));

  const manifests: OciImage['manifests'] = [];
  for (const p of platforms) {
    const id = [p.os, p.architecture, p.variant].filter(Boolean).join('-');
    const layers: (Descriptor & { diffId: string })[] = [];
    for (let i = 0; i < layerCount; i++) {
      layers.push(await putLayer(dir, `${seed}\n${id}\n${i}`, `data-${id}-${i}.bin`, layerBytes, level));
    }
    const config = await putBlob(
      dir,
      JSON.stringify({
        architecture: p.architecture,
        os: p.os,
        ...(p.variant ? { variant: p.variant } : {}),
        config: {},
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      }),
      MEDIA.config,
    );
    const manifest = await putBlob(
      dir,
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA.manifest,
        config,
        layers: layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
      }),
      MEDIA.manifest,
    );
    manifests.push({ descriptor: { ...manifest, platform: p }, config, layers });
  }
  const index = await putBlob(
    dir,
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.index,
      manifests: manifests.map((m) => m.descriptor),
    }),
    MEDIA.index,
  );
  const named = { ...index, annotations: { 'org.opencontainers.image.ref.name': tag } };
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [named] }));
  return { dir, tag, index, manifests };
}

/** The OCI empty descriptor's content: what an artifact without a config points its config at. */
export const EMPTY_CONFIG = { mediaType: 'application/vnd.oci.empty.v1+json', data: '{}' } as const;

export interface OciArtifact {
  dir: string;
  tag: string;
  /** The artifact manifest (what a registry serves for the tag: no index, no platform). */
  manifest: Descriptor;
  artifactType: string;
  files: Descriptor[];
}

/**
 * Writes an OCI image layout at `dir` holding one non-image OCI 1.1 artifact, tagged `tag`: an
 * `artifactType`, the empty config and one layer per file (named by its title annotation, as ORAS
 * writes them). What an image volume may mount besides an image: a data set, a model.
 */
export async function writeOciArtifact(
  dir: string,
  opts: { tag?: string; artifactType?: string; files?: Record<string, string> } = {},
): Promise<OciArtifact> {
  const tag = opts.tag ?? 'v1';
  const artifactType = opts.artifactType ?? 'application/vnd.kuik.test.data.v1';
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const config = await putBlob(dir, EMPTY_CONFIG.data, EMPTY_CONFIG.mediaType);
  const files: Descriptor[] = [];
  for (const [name, content] of Object.entries(opts.files ?? { 'data.txt': 'kuik test data\n' })) {
    const blob = await putBlob(dir, content, 'text/plain');
    files.push({ ...blob, annotations: { 'org.opencontainers.image.title': name } });
  }
  const manifest = await putBlob(
    dir,
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.manifest, artifactType, config, layers: files }),
    MEDIA.manifest,
  );
  const named = { ...manifest, annotations: { 'org.opencontainers.image.ref.name': tag } };
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [named] }));
  return { dir, tag, manifest, artifactType, files };
}

/** `10`, `10KiB`, `1.5MiB`, `1GiB` → bytes. */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB)?$/i.exec(s.trim());
  if (!m) throw new Error(`size ${JSON.stringify(s)}: want a number of B, KiB, MiB or GiB`);
  const unit = { b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 }[(m[2] ?? 'B').toLowerCase()]!;
  return Math.floor(Number(m[1]) * unit);
}

async function main(argv: string[]): Promise<void> {
  const { parseArgs } = await import('node:util');
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      tag: { type: 'string', default: 'v1' },
      size: { type: 'string', default: '10KiB' },
      layers: { type: 'string', default: '1' },
      platforms: { type: 'string', default: 'linux/amd64,linux/arm64' },
      seed: { type: 'string', default: 'kuik' },
    },
  });
  const dir = positionals[0];
  if (!dir || positionals.length > 1) {
    throw new Error(
      'usage: oci-image.ts DIR [--tag v1] [--size 10KiB] [--layers 1] [--platforms linux/amd64,linux/arm64] [--seed kuik]',
    );
  }
  const img = await writeOciImage(dir, {
    tag: values.tag,
    layerBytes: parseSize(values.size),
    layers: Number(values.layers),
    platforms: values.platforms.split(','),
    seed: values.seed,
  });
  console.log(`oci:${dir}:${img.tag} ${img.index.digest}`);
}

if (import.meta.main) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(`oci-image: ${errorMessage(err)}`);
    process.exit(2);
  });
}
