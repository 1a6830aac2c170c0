import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CopyRequest } from '#shared/copy-request.ts';
import {
  applyFailure,
  applyProgress,
  applySuccess,
  applyUploads,
  findMirror,
  type MirrorSet,
  refreshSummary,
} from './status.ts';

const req: CopyRequest = {
  owner: { kind: 'ImageSetMirror', name: 'm', namespace: 'ns', uid: 'uid-1' },
  source: 'docker.io/library/nginx:1.27',
  destination: 'mirror.example.com/library/nginx:1.27',
  platforms: [{ architecture: 'amd64' }],
};

function cr(mirror: Record<string, unknown> = {}): MirrorSet {
  return {
    apiVersion: 'kuik.enix.io/v1alpha1',
    kind: 'ImageSetMirror',
    metadata: { name: 'm', namespace: 'ns', uid: 'uid-1' },
    spec: {},
    status: {
      matchingImages: [
        { image: 'docker.io/library/redis:7', mirrors: [{ image: 'mirror.example.com/library/redis:7' }] },
        {
          image: req.source,
          mirrors: [{ image: 'other.example.com/nginx:1.27' }, { image: req.destination, ...mirror }],
        },
      ],
    },
  };
}
const mirrorOf = (o: MirrorSet) => o.status!.matchingImages![1]!.mirrors![1]!;

describe('copy status', () => {
  it('finds the mirror entry, or says why not', () => {
    assert.ok(findMirror(cr(), req).ok);
    assert.deepEqual(findMirror({ ...cr(), metadata: { uid: 'other' } }, req), { ok: false, error: 'uid' });
    assert.deepEqual(findMirror(cr(), { ...req, source: 'docker.io/library/nginx:1.28' }), {
      ok: false,
      error: 'entry',
    });
    assert.deepEqual(findMirror(cr(), { ...req, destination: 'gone.example.com/x:1' }), {
      ok: false,
      error: 'mirror',
    });
  });

  it('on success sets mirroredAt, digest and platforms, and clears the error and upload sessions', () => {
    const o = cr({
      lastError: 'boom',
      uploads: [{ digest: 'sha256:a', location: 'https://r/u', offset: 5 }],
    });
    const changed = applySuccess(
      o,
      req,
      { digest: 'sha256:abc', platforms: { mirrored: ['linux/amd64'], missing: ['linux/arm64'] } },
      Date.UTC(2026, 0, 2, 3, 4, 5, 600),
    );
    assert.ok(changed);
    assert.deepEqual(mirrorOf(o), {
      image: req.destination,
      mirroredAt: '2026-01-02T03:04:05Z',
      digest: 'sha256:abc',
      platforms: { mirrored: ['linux/amd64'], missing: ['linux/arm64'] },
    });
    // Nothing else moved.
    assert.deepEqual(o.status!.matchingImages![0], cr().status!.matchingImages![0]);
  });

  it('writes nothing for a re-created CR or a pruned mirror', () => {
    const o = { ...cr(), metadata: { name: 'm', namespace: 'ns', uid: 'uid-2' } };
    assert.equal(applySuccess(o, req, { digest: 'sha256:a' }, 0), false);
    assert.equal(applyFailure(cr(), { ...req, destination: 'gone.example.com/x:1' }, 'x'), false);
  });

  it('on failure sets lastError once and keeps the upload sessions for the next attempt', () => {
    const uploads = [{ digest: 'sha256:a', location: 'https://r/u', offset: 5 }];
    const o = cr({ uploads });
    assert.ok(applyFailure(o, req, 'registry unreachable'));
    assert.deepEqual(mirrorOf(o), { image: req.destination, uploads, lastError: 'registry unreachable' });
    assert.equal(applyFailure(o, req, 'registry unreachable'), false, 'same error: no write');
  });

  it('records upload sessions, and clears them when none is left', () => {
    const o = cr();
    assert.ok(applyUploads(o, req, [{ digest: 'sha256:a', location: 'https://r/u', offset: 64 }]));
    assert.deepEqual(mirrorOf(o).uploads, [{ digest: 'sha256:a', location: 'https://r/u', offset: 64 }]);
    assert.ok(applyUploads(o, req, []));
    assert.equal(mirrorOf(o).uploads, undefined);
    assert.equal(applyUploads(o, req, []), false);
  });

  it('writes progress while the copy runs; a success clears it', () => {
    const o = cr();
    const now = Date.UTC(2026, 11, 1, 10, 0, 0);
    assert.ok(applyProgress(o, req, { bytesDone: 25, bytesTotal: 100, percent: 25 }, now));
    assert.deepEqual(mirrorOf(o).progress, {
      bytesDone: 25,
      bytesTotal: 100,
      percent: 25,
      updatedAt: '2026-12-01T10:00:00Z',
    });
    assert.ok(applySuccess(o, req, { digest: 'sha256:abc' }, now));
    assert.equal(mirrorOf(o).progress, undefined);
  });

  it('recomputes the counts and Ready after a copy writes its entry', () => {
    const o = cr();
    refreshSummary(o, 0);
    assert.equal(o.status?.pendingCount, 3);
    assert.equal(o.status?.conditions?.[0]?.status, 'Unknown');
    applyFailure(o, req, 'boom');
    refreshSummary(o, 0);
    assert.equal(o.status?.failingCount, 1);
    assert.equal(o.status?.conditions?.[0]?.reason, 'MirrorFailed');
  });
});
