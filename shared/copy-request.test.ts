import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COPY_EVENT_TYPE, type CopyRequest, copyEventId, parseCopyRequest } from './copy-request.ts';

const valid: CopyRequest = {
  owner: { kind: 'ImageSetMirror', name: 'm', namespace: 'ns', uid: 'u-1' },
  source: 'docker.io/library/nginx:1.27',
  destination: 'harbor.example.com/mirror/library/nginx:1.27',
  sourcePullSecrets: { namespace: 'ns', names: ['pull'] },
  destinationSecret: { namespace: 'ns', name: 'push' },
  platforms: [{ os: 'linux', architecture: 'amd64' }],
};

describe('copy request', () => {
  it('has the event type reconcile sends', () => {
    assert.equal(COPY_EVENT_TYPE, 'dev.kuik.copy.requested');
  });

  it('accepts a complete request and returns it unchanged', () => {
    const r = parseCopyRequest(structuredClone(valid));
    assert.ok(r.ok);
    assert.deepEqual(r.value, valid);
  });

  it('accepts a cluster owner without namespace and no secrets', () => {
    const r = parseCopyRequest({
      owner: { kind: 'ClusterImageSetMirror', name: 'c', uid: 'u' },
      source: 'quay.io/a/b@sha256:' + 'a'.repeat(64),
      destination: 'reg.example.com/a/b@sha256:' + 'a'.repeat(64),
      platforms: [{ architecture: 'arm64', variant: 'v8' }],
    });
    assert.ok(r.ok);
    assert.deepEqual(r.value.platforms, [{ architecture: 'arm64', variant: 'v8' }]);
  });

  it('refuses a namespaced owner without namespace', () => {
    const r = parseCopyRequest({ ...valid, owner: { kind: 'ImageSetMirror', name: 'm', uid: 'u' } });
    assert.ok(!r.ok);
    assert.match(r.error, /owner.namespace is required/);
  });

  it('refuses a source that is not a reference, naming it', () => {
    const r = parseCopyRequest({ ...valid, source: 'nginx:' });
    assert.ok(!r.ok);
    assert.match(r.error, /source "nginx:" is not an image reference: invalid reference format/);
  });

  it('refuses an empty platform list and a platform without architecture', () => {
    const a = parseCopyRequest({ ...valid, platforms: [] });
    assert.ok(!a.ok);
    assert.match(a.error, /at least one platform/);
    const b = parseCopyRequest({ ...valid, platforms: [{ os: 'linux' }] });
    assert.ok(!b.ok);
    assert.match(b.error, /architecture/);
  });

  it('refuses non-objects', () => {
    for (const d of [null, 'x', 3, []]) assert.ok(!parseCopyRequest(d).ok);
  });

  it('gives the same id to the same copy and different ids to different copies', () => {
    const id = copyEventId(valid);
    assert.match(id, /^[0-9a-f]{32}$/);
    assert.equal(copyEventId(structuredClone(valid)), id);
    // The Secrets it reads with make another copy: a copy that failed without credentials (a
    // Job the JobSink keeps) must not swallow the request that has them.
    assert.notEqual(copyEventId({ ...valid, destinationSecret: undefined } as CopyRequest), id);
    assert.notEqual(copyEventId({ ...valid, sourcePullSecrets: undefined } as CopyRequest), id);
    assert.notEqual(
      copyEventId({ ...valid, sourcePullSecrets: { namespace: 'other', names: ['x'] } } as CopyRequest),
      id,
    );
    assert.notEqual(copyEventId({ ...valid, destination: `${valid.destination}x` }), id);
    assert.notEqual(copyEventId({ ...valid, owner: { ...valid.owner, uid: 'u-2' } }), id);
    assert.notEqual(copyEventId({ ...valid, platforms: [{ architecture: 'amd64' }] }), id);
    // Field boundaries cannot be shifted to collide.
    assert.notEqual(
      copyEventId({ ...valid, source: 'a/b', destination: 'c/d' }),
      copyEventId({ ...valid, source: 'a/bc', destination: '/d' }),
    );
  });
});

describe('pinnedDigest (tag drift, pin)', () => {
  const pinned = { ...valid, pinnedDigest: `sha256:${'a'.repeat(64)}` };
  it('is kept when valid, and makes another copy (another event id)', () => {
    const r = parseCopyRequest(pinned);
    assert.ok(r.ok);
    assert.equal(r.value.pinnedDigest, pinned.pinnedDigest);
    assert.notEqual(copyEventId(pinned), copyEventId(valid));
  });
  it('is refused when not a sha256 digest', () => {
    const r = parseCopyRequest({ ...valid, pinnedDigest: 'latest' });
    assert.ok(!r.ok);
    assert.match(r.error, /pinnedDigest must be a sha256 digest/);
  });
});
