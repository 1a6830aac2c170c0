// The copy engine against the harness's real registries (distribution 2.8: TLS + htpasswd, TLS +
// bearer token). Digests are checked with skopeo, not with our own code; a fault proxy stands in
// front of a registry only to cut a blob mid-body and to count what crosses the wire.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { Descriptor } from '#shared/registry/manifest.ts';
import { Repo } from '#shared/registry/repo.ts';
import { RegistryTransport } from '#shared/registry/transport.ts';
import { COPY_TRANSPORT, copyImage, mirrorImage } from '../../functions/copy/engine/copy.ts';
import type { UploadRecord } from '../../functions/copy/engine/sessions.ts';
import { harness, type RegistryInfo } from '../harness/env.ts';
import type { FaultProxy } from '../harness/fault-proxy.ts';
import { proxyInFrontOf, seed, seedArtifact, uniq } from '../harness/fixtures.ts';
import { run } from '../harness/proc.ts';
import { inspectRaw, skopeoAuth } from '../harness/registry.ts';

const MiB = 1024 * 1024;
const ALL = [{ architecture: 'amd64' }, { architecture: 'arm64' }];
const noPause = async () => {};

let ca: string;
let tls: RegistryInfo;
let token: RegistryInfo;
const transports: RegistryTransport[] = [];
const proxies: FaultProxy[] = [];

before(async () => {
  ({ tls, token } = harness().registries);
  ca = await readFile(tls.caFile, 'utf8');
});
after(async () => {
  await Promise.all([...transports.map((t) => t.close()), ...proxies.map((p) => p.close())]);
});

/** A fresh transport (no pooled connections, pings or tokens) trusting the harness CA. */
function transport(): RegistryTransport {
  const t = new RegistryTransport({
    ...COPY_TRANSPORT,
    defaultHost: { ca },
    retry: { attempts: 2, backoffMs: [20], jitter: 0 },
  });
  transports.push(t);
  return t;
}

const cred = (r: RegistryInfo) => [{ username: r.username, password: r.password }];

/** What most copies here are: tls registry to token registry, both platforms, a fresh transport. */
const tlsToToken = (source: string, destination: string, t = transport()) => ({
  transport: t,
  source,
  destination,
  sourceCredentials: cred(tls),
  destinationCredentials: cred(token),
  platforms: ALL,
});

async function proxy(reg: RegistryInfo): Promise<FaultProxy> {
  const p = await proxyInFrontOf(reg);
  proxies.push(p);
  return p;
}

function repoOf(reg: RegistryInfo, repository: string, actions: ('pull' | 'push')[]): Repo {
  return new Repo(transport(), {
    registry: reg.host,
    repository,
    credential: cred(reg)[0],
    scopes: [{ repository, actions }],
  });
}

/** The first layer of the first platform of an index. */
async function firstLayer(reg: RegistryInfo, repository: string, index: string): Promise<Descriptor> {
  const r = repoOf(reg, repository, ['pull']);
  const idx = await r.getManifest(index);
  assert.ok(idx?.kind === 'index');
  const child = await r.getManifest(idx.manifests[0]!.digest);
  assert.ok(child?.kind === 'image');
  return child.layers[0]!;
}

const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function* bytes(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}

/** Platforms of the children of a manifest list, as the registry serves it (skopeo). */
async function childPlatforms(reg: RegistryInfo, ref: string): Promise<string[]> {
  const raw = JSON.parse((await inspectRaw(reg, ref)).raw) as {
    manifests: { platform: { os: string; architecture: string } }[];
  };
  return raw.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`);
}

describe('copy engine, registry to registry', () => {
  test('copies tls → token with the same digest when every platform is wanted', async () => {
    const src = await seed(tls, uniq('engine/a'), 'v1', { layerMb: 0.5, layers: 2 });
    const dst = `${token.host}/${uniq('mirror/a')}:v1`;
    const r = await copyImage(tlsToToken(src.ref, dst));
    assert.equal((await inspectRaw(token, dst)).digest, src.digest);
    assert.equal(r.digest, src.digest);
    assert.equal(r.filtered, false);
    assert.deepEqual(r.platforms, { mirrored: ['linux/amd64', 'linux/arm64'], missing: [] });
    // 2 platforms × (2 layers + config).
    assert.equal(r.blobs.uploaded, 6);
    assert.equal(r.manifestsPushed, 3);
  });

  test('copies a non-image OCI artifact (artifactType, empty config, no platform) whole, with its digest', async () => {
    const files = { 'weights.bin': 'not an image layer', 'README.md': '# a data set an image volume mounts' };
    const src = await seedArtifact(tls, uniq('engine/artifact'), 'v1', { files });
    const dst = `${token.host}/${uniq('mirror/artifact')}:v1`;
    const r = await copyImage({
      ...tlsToToken(src.ref, dst),
      // No platform of an artifact can match: before artifacts were handled this failed with
      // "none of the configured platforms are available in the source image".
      platforms: [{ architecture: 'amd64' }],
    });
    const pushed = await inspectRaw(token, dst);
    assert.equal(pushed.digest, src.digest);
    assert.equal(JSON.parse(pushed.raw).artifactType, src.artifactType);
    assert.equal(r.artifactType, src.artifactType);
    assert.equal(r.platforms, undefined);
    assert.equal(r.blobs.uploaded, 3, 'two files and the empty config');
    // The files arrived byte for byte.
    const dstRepo = repoOf(token, dst.slice(token.host.length + 1, -':v1'.length), ['pull']);
    const manifest = await dstRepo.getManifest('v1');
    assert.ok(manifest?.kind === 'image');
    const contents = await Promise.all(
      manifest.layers.map(async (l) => Buffer.from(await dstRepo.readBlob(l.digest)).toString('utf8')),
    );
    assert.deepEqual(contents.sort(), Object.values(files).sort());
  });

  test('copies token → tls with the same digest', async () => {
    const src = await seed(token, uniq('engine/b'), 'v1', { layerMb: 0.2 });
    const dst = `${tls.host}/${uniq('mirror/b')}:v1`;
    await copyImage({
      transport: transport(),
      source: src.ref,
      destination: dst,
      sourceCredentials: cred(token),
      destinationCredentials: cred(tls),
      platforms: ALL,
    });
    assert.equal((await inspectRaw(tls, dst)).digest, src.digest);
  });

  test('filters an index to the configured platforms and reports the missing ones', async () => {
    const src = await seed(tls, uniq('engine/c'), 'v1');
    const dst = `${token.host}/${uniq('mirror/c')}:v1`;
    const r = await copyImage({
      ...tlsToToken(src.ref, dst),
      platforms: [{ architecture: 'amd64' }, { os: 'linux', architecture: 's390x' }],
    });
    const pushed = await inspectRaw(token, dst);
    assert.notEqual(pushed.digest, src.digest, 'a filtered index is a new document');
    assert.equal(r.digest, pushed.digest);
    assert.equal(r.filtered, true);
    assert.deepEqual(await childPlatforms(token, dst), ['linux/amd64']);
    assert.deepEqual(r.platforms, { mirrored: ['linux/amd64'], missing: ['linux/s390x'] });
  });

  test('keeps every child of a digest-pinned index: a filtered index could not have that digest', async () => {
    const src = await seed(tls, uniq('engine/pinned'), 'v1');
    const repo = src.ref.slice(0, src.ref.lastIndexOf(':'));
    const dst = `${token.host}/${uniq('mirror/pinned')}@${src.digest}`;
    const r = await copyImage({
      ...tlsToToken(`${repo}@${src.digest}`, dst),
      platforms: [{ architecture: 'amd64' }, { architecture: 's390x' }],
    });
    assert.equal(r.digest, src.digest);
    assert.equal(r.filtered, false);
    assert.deepEqual(await childPlatforms(token, dst), ['linux/amd64', 'linux/arm64']);
    assert.deepEqual(r.platforms, { mirrored: ['linux/amd64', 'linux/arm64'], missing: ['s390x'] });
  });

  test('refuses a single-arch image of another platform with kuik’s exact error', async () => {
    const src = await seed(tls, uniq('engine/d'), 'v1');
    // A single arm64 manifest (no index) under its own tag.
    const single = `${tls.host}/${uniq('engine/single')}:arm64`;
    await run('skopeo', [
      'copy',
      '--quiet',
      '--override-arch=arm64',
      ...skopeoAuth('src', tls),
      ...skopeoAuth('dest', tls),
      `docker://${src.ref}`,
      `docker://${single}`,
    ]);
    await assert.rejects(
      copyImage({
        ...tlsToToken(single, `${token.host}/${uniq('mirror/d')}:arm64`),
        platforms: [{ os: 'linux', architecture: 'amd64' }],
      }),
      { message: 'none of the configured platforms are available in the source image: linux/amd64' },
    );
  });

  test('a re-copy of a mirrored image pushes nothing: two manifest requests', async () => {
    const src = await seed(tls, uniq('engine/e'), 'v1');
    const dst = `${token.host}/${uniq('mirror/e')}:v1`;
    await copyImage(tlsToToken(src.ref, dst));
    const again = await copyImage(tlsToToken(src.ref, dst));
    assert.equal(again.alreadyPresent, true);
    assert.equal(again.manifestsPushed, 0);
    // Source GET + destination HEAD; then the signature lookups (one tag list, one referrers probe).
    assert.deepEqual(again.requests, { manifest: 2, tags: 1, referrers: 1 });
  });

  test('blobs already at the destination are skipped, not uploaded again', async () => {
    const src = await seed(tls, uniq('engine/f'), 'v1', { layerMb: 0.3 });
    const repo = uniq('mirror/f');
    const t = transport();
    const first = await copyImage(tlsToToken(src.ref, `${token.host}/${repo}:v1`, t));
    assert.equal(first.blobs.uploaded, 4);
    // Same blobs, another tag whose index is filtered (a new document): every manifest is pushed
    // again, no blob is.
    const p = await proxy(token);
    const second = await copyImage({
      ...tlsToToken(src.ref, `${p.host}/${repo}:amd64-only`),
      platforms: [{ architecture: 'amd64' }],
      attached: false,
    });
    assert.equal(second.blobs.uploaded, 0);
    assert.equal(p.count({ method: 'POST' }) + p.count({ method: 'PATCH' }), 0, 'no upload session opened');
    // The amd64 child is there already, so its blobs are not even looked at: one HEAD for the
    // child, one for the tag, one PUT for the new index.
    assert.deepEqual(second.requests, { manifest: 4 });
  });

  test('re-uses blobs of a deleted manifest with one HEAD each', async () => {
    const src = await seed(tls, uniq('engine/g'), 'v1', { archs: ['amd64'], layers: 3 });
    const repo = uniq('mirror/g');
    const copy = () => copyImage({ ...tlsToToken(src.ref, `${token.host}/${repo}:v1`), attached: false });
    await copy();
    // Delete the manifests: the blobs stay in the repository.
    const idx = await repoOf(token, repo, ['pull']).getManifest('v1');
    assert.ok(idx?.kind === 'index');
    const child = idx.manifests[0]!.digest;
    for (const d of [idx.digest, child]) {
      await run('skopeo', [
        'delete',
        `--creds=${token.username}:${token.password}`,
        `--cert-dir=${token.certDir}`,
        `docker://${token.host}/${repo}@${d}`,
      ]);
    }
    const again = await copy();
    assert.deepEqual(again.blobs, { skipped: 4, mounted: 0, uploaded: 0, resumed: 0, foreign: 0 });
    assert.equal(again.bytes.bytesUploaded, 0);
    assert.equal((await inspectRaw(token, `${token.host}/${repo}:v1`)).digest, src.digest);
  });

  test('mounts blobs across repositories of one registry instead of uploading them', async () => {
    const src = await seed(token, uniq('engine/h'), 'v1', { layerMb: 1 });
    const dst = `${token.host}/${uniq('mirror/h')}:v1`;
    const r = await copyImage({
      transport: transport(),
      source: src.ref,
      destination: dst,
      sourceCredentials: cred(token),
      destinationCredentials: cred(token),
      platforms: ALL,
    });
    assert.deepEqual(r.blobs, { skipped: 0, mounted: 4, uploaded: 0, resumed: 0, foreign: 0 });
    assert.equal(r.bytes.bytesUploaded, 0);
    assert.equal(r.bytes.bytesRead, 0);
    assert.equal((await inspectRaw(token, dst)).digest, src.digest);
  });

  test('a source cut mid-layer is re-read from the byte reached, not from the start', async () => {
    const name = uniq('engine/i');
    const src = await seed(tls, name, 'v1', { archs: ['amd64'], layerMb: 8 });
    const layer = await firstLayer(tls, name, src.digest);
    const p = await proxy(tls);
    const source = src.ref.replace(tls.host, p.host);
    // Cut the layer's GET after 3 MiB.
    p.fault({
      method: 'GET',
      path: new RegExp(`/blobs/${layer.digest}$`),
      times: 1,
      action: { cutAfter: 3 * MiB },
    });
    const dst = `${token.host}/${uniq('mirror/i')}:v1`;
    const r = await copyImage({
      ...tlsToToken(source, dst),
      chunkBytes: 2 * MiB,
      pause: noPause,
    });
    assert.equal((await inspectRaw(token, dst)).digest, src.digest);
    const gets = p.requests.filter((q) => q.method === 'GET' && /\/blobs\/sha256:/.test(q.path));
    const ranged = gets.filter((q) => q.headers['range'] !== undefined);
    assert.equal(ranged.length, 1, 'one ranged re-read');
    assert.equal(ranged[0]!.headers['range'], `bytes=${3 * MiB}-`);
    assert.equal(r.bytes.sourceReopens, 1);
    // Every byte crossed the proxy once: nothing was read twice.
    const served = gets.reduce((n, q) => n + q.bytesOut, 0);
    assert.equal(served, r.bytes.bytesRead);
    assert.equal(r.bytes.bytesUploaded, r.bytes.bytesRead);
  });

  test('resumes a recorded upload session from the bytes the registry holds', async () => {
    const name = uniq('engine/j');
    const src = await seed(tls, name, 'v1', { archs: ['amd64'], layerMb: 8 });
    const layerSize = (await firstLayer(tls, name, src.digest)).size;
    const p = await proxy(token);
    const repo = uniq('mirror/j');
    const records: UploadRecord[][] = [];
    const opts = { chunkBytes: 2 * MiB, recordEveryBytes: 2 * MiB, pause: noPause };
    const toProxy = () => tlsToToken(src.ref, `${p.host}/${repo}:v1`);
    // Run 1 stops after two chunks of the big layer, recording its session.
    await assert.rejects(
      copyImage({
        ...toProxy(),
        ...opts,
        persistSessions: async (r) => void records.push(r),
        // As on SIGTERM once 4 MiB of the layer are recorded.
        shouldStop: () => records.some((rs) => rs.some((r) => r.offset >= 4 * MiB)),
      }),
      /stopped at byte 4194304 of sha256:/,
    );
    const recorded = records.at(-1)!;
    assert.equal(recorded.length, 1);
    assert.equal(recorded[0]!.offset, 4 * MiB);
    const patched = () => p.requests.filter((q) => q.method === 'PATCH').reduce((n, q) => n + q.bytesIn, 0);
    // Two chunks of the layer, and the small config blob that went alongside.
    assert.ok(patched() >= 4 * MiB && patched() < 5 * MiB);

    // Run 2, a new transport (a new process would have nothing else), continues at 4 MiB.
    p.requests.length = 0;
    const r = await copyImage({ ...toProxy(), ...opts, resume: recorded });
    const resent = patched();
    assert.ok(resent < layerSize, `bytes sent by the second run (${resent}) < the layer (${layerSize})`);
    assert.equal(resent, layerSize - 4 * MiB, 'exactly the bytes the registry did not hold');
    // The source was read from 4 MiB on (a Range GET), not from the start.
    assert.equal(r.bytes.bytesRead, layerSize - 4 * MiB);
    assert.equal(r.blobs.resumed, 1);
    assert.equal(r.bytes.bytesResumed, 4 * MiB);
    assert.equal((await inspectRaw(token, `${token.host}/${repo}:v1`)).digest, src.digest);
  });

  test('a destination session the registry refuses is restarted, and the copy completes', async () => {
    const name = uniq('engine/k');
    const src = await seed(tls, name, 'v1', { archs: ['amd64'], layerMb: 4 });
    const layer = await firstLayer(tls, name, src.digest);
    const repo = uniq('mirror/k');
    // A recorded location whose `_state` no longer matches what the registry holds, as after a
    // process killed mid-PATCH: distribution refuses (and cancels) such a session.
    const dst = repoOf(token, repo, ['pull', 'push']);
    const start = await dst.startUpload();
    assert.ok(!start.mounted);
    await dst.patchChunk(start.location, 0, 3, bytes(new Uint8Array([1, 2, 3])));
    const r = await copyImage({
      ...tlsToToken(src.ref, `${token.host}/${repo}:v1`),
      resume: [{ digest: layer.digest, location: start.location, offset: 0 }],
      pause: noPause,
    });
    assert.equal(r.blobs.resumed, 0);
    assert.equal(r.blobs.uploaded, 2);
    assert.equal(r.bytes.sessionsRefused, 1);
    assert.equal((await inspectRaw(token, `${token.host}/${repo}:v1`)).digest, src.digest);
  });
});

describe('signatures and attestations', () => {
  test('copies a cosign-style .sig tag and OCI referrers (fallback tag schema) with the image', async () => {
    const repo = uniq('engine/signed');
    const src = await seed(tls, repo, 'v1');
    const hex = src.digest.slice('sha256:'.length);
    // A "signature": any small image under cosign's tag for the index digest.
    const sig = await seed(tls, repo, `sha256-${hex}.sig`, { archs: ['amd64'], fresh: true });
    // An OCI 1.1 referrer with the index as subject, listed under the fallback tag (distribution
    // 2.8 has no referrers API).
    const srcRepo = repoOf(tls, repo, ['pull', 'push']);
    const empty = new TextEncoder().encode('{}');
    const cfgDigest = sha256(empty);
    const up = await srcRepo.startUpload();
    assert.ok(!up.mounted);
    const held = await srcRepo.patchChunk(up.location, 0, empty.length, bytes(empty));
    await srcRepo.completeUpload(held.location, cfgDigest);
    const referrer = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: 'application/vnd.example.sbom.v1',
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: cfgDigest, size: 2 },
        layers: [{ mediaType: 'application/vnd.oci.empty.v1+json', digest: cfgDigest, size: 2 }],
        subject: { mediaType: 'application/vnd.oci.image.index.v1+json', digest: src.digest, size: 100 },
      }),
    );
    const referrerDigest = sha256(referrer);
    await srcRepo.putManifest(referrerDigest, referrer, 'application/vnd.oci.image.manifest.v1+json');
    await srcRepo.putManifest(
      `sha256-${hex}`,
      new TextEncoder().encode(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.index.v1+json',
          manifests: [
            {
              mediaType: 'application/vnd.oci.image.manifest.v1+json',
              digest: referrerDigest,
              size: referrer.length,
              artifactType: 'application/vnd.example.sbom.v1',
            },
          ],
        }),
      ),
      'application/vnd.oci.image.index.v1+json',
    );

    const dstRepo = uniq('mirror/signed');
    const r = await copyImage(tlsToToken(src.ref, `${token.host}/${dstRepo}:v1`));
    assert.deepEqual(r.attached.errors, []);
    assert.equal(
      (await inspectRaw(token, `${token.host}/${dstRepo}:sha256-${hex}.sig`)).digest,
      sig.digest,
      'the signature tag is at the mirror, same digest',
    );
    assert.equal(
      (await inspectRaw(token, `${token.host}/${dstRepo}@${referrerDigest}`)).digest,
      referrerDigest,
    );
    const fallback = JSON.parse((await inspectRaw(token, `${token.host}/${dstRepo}:sha256-${hex}`)).raw) as {
      manifests: { digest: string }[];
    };
    assert.deepEqual(
      fallback.manifests.map((m) => m.digest),
      [referrerDigest],
    );
    assert.deepEqual(
      r.attached.copied.sort(),
      [`referrer ${referrerDigest}`, `sha256-${hex}`, `sha256-${hex}.sig`].sort(),
    );
  });
});

describe('§5.4 step 8: a failed copy whose destination exists counts as mirrored', () => {
  test('the source is gone, the mirror is there: success, and the reason says so', async () => {
    const src = await seed(tls, uniq('engine/gone'), 'v1');
    const dst = `${token.host}/${uniq('mirror/gone')}:v1`;
    await copyImage(tlsToToken(src.ref, dst));
    const r = await mirrorImage(tlsToToken(`${tls.host}/${uniq('engine/never-pushed')}:v1`, dst));
    assert.ok(r.ok);
    assert.equal(r.value.digest, src.digest);
    assert.match(r.value.tolerated ?? '', /not found/);
  });

  test('the source is gone and so is the mirror: the copy fails with the source error', async () => {
    const r = await mirrorImage(
      tlsToToken(`${tls.host}/${uniq('engine/never-pushed')}:v1`, `${token.host}/${uniq('mirror/never')}:v1`),
    );
    assert.ok(!r.ok);
    assert.match(r.error.message, /not found/);
  });
});
