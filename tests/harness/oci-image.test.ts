import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { MEDIA, parsePlatform, parseSize, writeOciImage } from './oci-image.ts';

const root = mkdtempSync(join(tmpdir(), 'kuik-oci-image-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

const blob = (dir: string, digest: string) => readFileSync(join(dir, 'blobs', 'sha256', digest.slice(7)));
const json = (dir: string, digest: string) => JSON.parse(blob(dir, digest).toString('utf8'));

/** Checks a layout the way a reader would: every blob under its own digest, every reference resolves. */
function checkLayout(dir: string): { indexDigest: string; layers: string[] } {
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'oci-layout'), 'utf8')), {
    imageLayoutVersion: '1.0.0',
  });
  for (const name of readdirSync(join(dir, 'blobs', 'sha256'))) {
    const hex = createHash('sha256')
      .update(readFileSync(join(dir, 'blobs', 'sha256', name)))
      .digest('hex');
    assert.equal(hex, name, 'a blob is stored under the sha256 of its bytes');
  }
  assert.deepEqual(readdirSync(join(dir, 'blobs')), ['sha256'], 'no temporary file left');
  const top = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  assert.equal(top.manifests.length, 1);
  const desc = top.manifests[0];
  assert.equal(desc.mediaType, MEDIA.index);
  assert.equal(desc.size, blob(dir, desc.digest).length);
  const index = json(dir, desc.digest);
  assert.equal(index.mediaType, MEDIA.index);
  const layers: string[] = [];
  for (const m of index.manifests) {
    assert.equal(m.mediaType, MEDIA.manifest);
    assert.equal(m.size, blob(dir, m.digest).length);
    const manifest = json(dir, m.digest);
    assert.equal(manifest.config.mediaType, MEDIA.config);
    assert.equal(manifest.config.size, blob(dir, manifest.config.digest).length);
    const config = json(dir, manifest.config.digest);
    assert.equal(config.architecture, m.platform.architecture, 'config and index agree on the platform');
    assert.equal(config.os, m.platform.os);
    assert.equal(config.variant, m.platform.variant);
    assert.equal(config.rootfs.diff_ids.length, manifest.layers.length);
    manifest.layers.forEach((l: { mediaType: string; digest: string; size: number }, i: number) => {
      assert.equal(l.mediaType, MEDIA.layer);
      const gz = blob(dir, l.digest);
      assert.equal(l.size, gz.length);
      const tar = gunzipSync(gz);
      const diffId = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
      assert.equal(config.rootfs.diff_ids[i], diffId, 'diff_id is the sha256 of the uncompressed layer');
      layers.push(l.digest);
    });
  }
  return { indexDigest: desc.digest, layers };
}

test('a layout of any platforms: digests, sizes, index, manifests and configs consistent', async () => {
  const dir = join(root, 'three');
  const img = await writeOciImage(dir, {
    tag: 'v2',
    layerBytes: 3000,
    layers: 2,
    platforms: ['amd64', 'linux/arm64', 'linux/arm/v7'],
  });
  const { indexDigest, layers } = checkLayout(dir);
  assert.equal(indexDigest, img.index.digest);
  assert.equal(layers.length, 6);
  assert.equal(new Set(layers).size, 6, 'every platform and layer has content of its own');
  const top = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  assert.equal(top.manifests[0].annotations['org.opencontainers.image.ref.name'], 'v2');
  const index = json(dir, img.index.digest);
  assert.deepEqual(
    index.manifests.map((m: { platform: object }) => m.platform),
    [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
      { os: 'linux', architecture: 'arm', variant: 'v7' },
    ],
  );
});

test('a layer is a tar that tar reads: one file of the requested size', async () => {
  const dir = join(root, 'tar');
  const img = await writeOciImage(dir, { layerBytes: 1234, platforms: ['amd64'] });
  const layer = img.manifests[0]!.layers[0]!;
  const listing = execFileSync('tar', ['-tvzf', join(dir, 'blobs', 'sha256', layer.digest.slice(7))], {
    encoding: 'utf8',
  });
  assert.match(listing, /^-rw-r--r-- 0\/0 +1234 1970-01-01 00:00 data-linux-amd64-0\.bin\n$/);
});

test('deterministic: the same seed and options give the same digests; another seed shares nothing', async () => {
  const a = await writeOciImage(join(root, 'a'), { seed: 's1', layerBytes: 5000 });
  const b = await writeOciImage(join(root, 'b'), { seed: 's1', layerBytes: 5000 });
  const c = await writeOciImage(join(root, 'c'), { seed: 's2', layerBytes: 5000 });
  assert.equal(a.index.digest, b.index.digest);
  assert.notEqual(a.index.digest, c.index.digest);
  const layersOf = (i: typeof a) => i.manifests.flatMap((m) => m.layers.map((l) => l.digest));
  assert.deepEqual(
    layersOf(a).filter((d) => layersOf(c).includes(d)),
    [],
  );
});

test('incompressible and streamed: a layer over several chunks keeps its size through gzip', async () => {
  const bytes = 2.5 * 1024 * 1024; // across the 1 MiB generation chunks, ending mid-chunk
  const img = await writeOciImage(join(root, 'big'), { layerBytes: bytes, platforms: ['amd64'] });
  checkLayout(join(root, 'big'));
  const layer = img.manifests[0]!.layers[0]!;
  assert.ok(layer.size > bytes, `gzip did not shrink it: ${layer.size} bytes for ${bytes}`);
  const tar = gunzipSync(blob(join(root, 'big'), layer.digest));
  assert.equal(tar.length, 512 + bytes + 1024);
});

test('platform and size parsing, with clear errors', () => {
  assert.deepEqual(parsePlatform('arm64'), { os: 'linux', architecture: 'arm64' });
  assert.deepEqual(parsePlatform('windows/amd64'), { os: 'windows', architecture: 'amd64' });
  assert.throws(() => parsePlatform('linux//v7'), /want ARCH, OS\/ARCH/);
  assert.equal(parseSize('1MiB'), 1024 * 1024);
  assert.equal(parseSize('1.5KiB'), 1536);
  assert.equal(parseSize('10'), 10);
  assert.throws(() => parseSize('1MB'), /want a number of B, KiB, MiB or GiB/);
});

test('the CLI writes a layout and prints its reference and digest', () => {
  const dir = join(root, 'cli');
  const out = execFileSync(
    process.execPath,
    [join(import.meta.dirname, 'oci-image.ts'), dir, '--tag', 'v3', '--size', '1KiB', '--platforms', 'amd64'],
    { encoding: 'utf8' },
  );
  const { indexDigest } = checkLayout(dir);
  assert.equal(out, `oci:${dir}:v3 ${indexDigest}\n`);
});
