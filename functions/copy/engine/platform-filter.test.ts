import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkImagePlatform, selectChildren } from './platform-filter.ts';

const amd64 = { architecture: 'amd64' };
const arm64 = { architecture: 'arm64' };
const child = (digest: string, os: string, architecture: string, variant?: string) => ({
  digest,
  platform: { os, architecture, ...(variant ? { variant } : {}) },
});

describe('selecting index children (§5.4 step 4)', () => {
  const index = [
    child('sha256:a', 'linux', 'amd64'),
    child('sha256:b', 'linux', 'arm64', 'v8'),
    child('sha256:c', 'unknown', 'unknown'),
    { digest: 'sha256:d' },
  ];

  it('keeps the configured platforms, drops attestations and platform-less children (partial intersection → success, #72)', () => {
    const r = selectChildren(index, [amd64, { architecture: 's390x' }]);
    assert.ok(r.ok);
    assert.deepEqual(
      r.value.keep.map((c) => c.digest),
      ['sha256:a'],
    );
    assert.equal(r.value.unchanged, false);
    assert.deepEqual(r.value.mirrored, ['linux/amd64']);
    assert.deepEqual(r.value.missing, ['s390x']);
  });

  it('reports the index unchanged when every child is kept', () => {
    const r = selectChildren(index.slice(0, 2), [amd64, arm64]);
    assert.ok(r.ok);
    assert.equal(r.value.unchanged, true);
    assert.deepEqual(r.value.mirrored, ['linux/amd64', 'linux/arm64/v8']);
    assert.deepEqual(r.value.missing, []);
  });

  it('fails with the exact error when nothing matches (empty intersection → error, #72)', () => {
    const r = selectChildren(index, [{ os: 'linux', architecture: 'ppc64le' }]);
    assert.deepEqual(r, {
      ok: false,
      error: 'none of the configured platforms are available in the source image: linux/ppc64le',
    });
  });

  it('checks a single image by its config platform', () => {
    assert.deepEqual(checkImagePlatform({ os: 'linux', architecture: 'arm64' }, [amd64]), {
      ok: false,
      error: 'none of the configured platforms are available in the source image: amd64',
    });
    assert.deepEqual(checkImagePlatform({ os: 'linux', architecture: 'amd64' }, [amd64, arm64]), {
      ok: true,
      value: { mirrored: ['linux/amd64'], missing: ['arm64'] },
    });
    const none = checkImagePlatform(undefined, [amd64]);
    assert.ok(!none.ok);
    assert.match(
      none.error,
      /^none of the configured platforms are available in the source image: amd64 \(the image config declares no platform\)$/,
    );
  });
});
