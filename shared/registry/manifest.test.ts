import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  artifactTypeOf,
  blobsOf,
  configPlatform,
  filteredIndexBytes,
  isDigest,
  isForeignLayer,
  parseManifest,
  sha256Digest,
} from './manifest.ts';

const enc = (x: unknown) => new TextEncoder().encode(typeof x === 'string' ? x : JSON.stringify(x));
const d = (n: string, extra: Record<string, unknown> = {}) => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${n.repeat(64)}`,
  size: 10,
  ...extra,
});

describe('parseManifest', () => {
  it('parses an OCI index, keeps its exact bytes and digests them', () => {
    // Whitespace and key order a re-serialisation would change: the bytes must survive as served.
    const text = `{ "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",\n  "manifests": [${JSON.stringify(
      d('a', { platform: { os: 'linux', architecture: 'amd64' } }),
    )}], "annotations": {"x": "y"} }`;
    const bytes = enc(text);
    const r = parseManifest(bytes, 'application/vnd.oci.image.index.v1+json');
    assert.ok(r.ok);
    assert.equal(r.value.kind, 'index');
    assert.equal(r.value.bytes, bytes);
    assert.equal(r.value.digest, sha256Digest(bytes));
    assert.match(r.value.digest, /^sha256:[0-9a-f]{64}$/);
  });

  it('parses a Docker manifest list and a Docker v2 image', () => {
    const list = parseManifest(
      enc({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
        manifests: [d('a')],
      }),
      'application/vnd.docker.distribution.manifest.list.v2+json',
    );
    assert.ok(list.ok && list.value.kind === 'index');
    const img = parseManifest(
      enc({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        config: d('c', { mediaType: 'application/vnd.docker.container.image.v1+json' }),
        layers: [d('1'), d('2')],
      }),
      'application/vnd.docker.distribution.manifest.v2+json',
    );
    assert.ok(img.ok && img.value.kind === 'image');
    assert.deepEqual(
      blobsOf(img.value).map((b) => b.digest[7]),
      ['1', '2', 'c'],
    );
  });

  it('tells index from image by shape when the media type is absent (OCI allows it)', () => {
    const r = parseManifest(enc({ schemaVersion: 2, manifests: [] }), 'application/json');
    assert.ok(r.ok && r.value.kind === 'index');
    const s = parseManifest(enc({ schemaVersion: 2, config: d('c'), layers: [] }), undefined);
    assert.ok(s.ok && s.value.kind === 'image');
  });

  it('refuses Docker schema 1 with a message that says what to do', () => {
    for (const [body, ct] of [
      [{ schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [] }, 'application/json'],
      [{ schemaVersion: 1 }, 'application/vnd.docker.distribution.manifest.v1+prettyjws'],
    ] as const) {
      const r = parseManifest(enc(body), ct);
      assert.ok(!r.ok);
      assert.match(r.error, /^Docker schema 1 manifests are not supported/);
    }
  });

  it('refuses garbage with a reason', () => {
    assert.deepEqual(parseManifest(enc('nope'), undefined), {
      ok: false,
      error: 'the manifest is not valid JSON',
    });
    const r = parseManifest(
      enc({ schemaVersion: 2, config: d('c'), layers: [{ digest: 'x', size: 1 }] }),
      undefined,
    );
    assert.ok(!r.ok);
    assert.match(r.error, /invalid manifest/);
  });

  it('spots foreign layers', () => {
    assert.ok(
      isForeignLayer(d('1', { mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip' })),
    );
    assert.ok(!isForeignLayer(d('1', { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' })));
  });
});

describe('filteredIndexBytes', () => {
  it('keeps every other field and only the kept children, in order', () => {
    const doc = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [d('a', { platform: { architecture: 'amd64', os: 'linux' } }), d('b'), d('c')],
      annotations: { 'org.example': 'kept' },
    };
    const r = parseManifest(enc(doc), undefined);
    assert.ok(r.ok && r.value.kind === 'index');
    const out = JSON.parse(
      new TextDecoder().decode(filteredIndexBytes(r.value, [r.value.manifests[2]!, r.value.manifests[0]!])),
    );
    assert.deepEqual(out, { ...doc, manifests: [doc.manifests[0], doc.manifests[2]] });
  });
});

describe('configPlatform', () => {
  it('reads os, architecture and variant of an image config', () => {
    assert.deepEqual(configPlatform(enc({ os: 'linux', architecture: 'arm', variant: 'v7', rootfs: {} })), {
      os: 'linux',
      architecture: 'arm',
      variant: 'v7',
    });
    assert.equal(configPlatform(enc({ rootfs: {} })), undefined);
    assert.equal(configPlatform(enc('not json')), undefined);
  });
});

describe('artifactTypeOf', () => {
  const image = (config: string, artifactType?: string) => {
    const r = parseManifest(
      enc({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        ...(artifactType ? { artifactType } : {}),
        config: { mediaType: config, digest: `sha256:${'c'.repeat(64)}`, size: 2 },
        layers: [{ mediaType: 'text/plain', digest: `sha256:${'d'.repeat(64)}`, size: 5 }],
      }),
      'application/vnd.oci.image.manifest.v1+json',
    );
    assert.ok(r.ok && r.value.kind === 'image');
    return r.value;
  };
  it('an OCI 1.1 artifact: artifactType over the empty config', () => {
    assert.equal(
      artifactTypeOf(image('application/vnd.oci.empty.v1+json', 'application/vnd.example.data.v1')),
      'application/vnd.example.data.v1',
    );
  });
  it('an older artifact says its type with its config media type (a Helm chart)', () => {
    assert.equal(
      artifactTypeOf(image('application/vnd.cncf.helm.config.v1+json')),
      'application/vnd.cncf.helm.config.v1+json',
    );
  });
  it('OCI and Docker images, and a config without a media type, are images', () => {
    assert.equal(artifactTypeOf(image('application/vnd.oci.image.config.v1+json')), undefined);
    assert.equal(artifactTypeOf(image('application/vnd.docker.container.image.v1+json')), undefined);
    assert.equal(artifactTypeOf(image('')), undefined);
  });
});

describe('isDigest: one pattern for descriptors and Docker-Content-Digest headers', () => {
  it('takes OCI algorithm:encoded digests', () => {
    assert.ok(isDigest(`sha256:${'a'.repeat(64)}`));
    assert.ok(isDigest(`sha512:${'0'.repeat(128)}`));
    assert.ok(isDigest(`multihash+base58:${'Q'.repeat(46)}`));
  });

  it('refuses a sha256 that is not 64 lowercase hex (the copy took any length before)', () => {
    assert.ok(!isDigest(`sha256:${'a'.repeat(63)}`));
    assert.ok(!isDigest(`sha256:${'A'.repeat(64)}`));
    assert.ok(!isDigest(`sha256:${'g'.repeat(64)}`));
    const r = parseManifest(
      enc({ schemaVersion: 2, config: d('c'), layers: [{ digest: `sha256:${'1'.repeat(32)}`, size: 1 }] }),
      undefined,
    );
    assert.ok(!r.ok);
    assert.match(r.error, /descriptor digest is not a digest/);
  });

  it('refuses a short encoding of another algorithm and anything outside the grammar', () => {
    assert.ok(!isDigest('md5:abc'));
    assert.ok(!isDigest(`SHA256:${'a'.repeat(64)}`));
    assert.ok(!isDigest('a'.repeat(64)));
    assert.ok(!isDigest(`sha256:${'a'.repeat(64)} `));
  });
});
