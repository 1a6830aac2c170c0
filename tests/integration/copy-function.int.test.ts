// The copy function against the real kube-apiserver and registries: CloudEvents in over HTTP (the
// Hono app, in this process) or from a JobSink-style event file (the function's own process, the
// way a Job runs it), status written on the real ImageSetMirror and read back.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { CloudEvent, HTTP } from 'cloudevents';
import type { Hono } from 'hono';
import type { CopyRequest } from '#shared/copy-request.ts';
import type { ImageSetMirror, MirrorStatusEntry } from '#shared/crd/types.ts';
import { Kube } from '#shared/kube/client.ts';
import { createLogger } from '#shared/log.ts';
import { createRegistry } from '#shared/metrics.ts';
import { RegistryTransport } from '#shared/registry/transport.ts';
import { COPY_TRANSPORT } from '../../functions/copy/engine/copy.ts';
import { type CopyDeps, DEFAULT_SETTINGS } from '../../functions/copy/handle.ts';
import { createCopyMetrics } from '../../functions/copy/metrics.ts';
import { createCopyApp } from '../../functions/copy/server.ts';
import { copyEventPost, copyJobEvent, copyRequest, mirrorSetToCopy } from '../harness/copy-event.ts';
import { harness, kubeConfig, type RegistryInfo } from '../harness/env.ts';
import type { FaultProxy } from '../harness/fault-proxy.ts';
import {
  apply,
  eventually,
  namespace,
  patchStatus,
  pod,
  proxyInFrontOf,
  registrySecret,
  seed,
  uniq,
} from '../harness/fixtures.ts';
import { startCopyJob } from '../harness/functions.ts';
import { inspectRaw } from '../harness/registry.ts';

const MiB = 1024 * 1024;
const kube = new Kube(kubeConfig());
let tls: RegistryInfo;
let token: RegistryInfo;
let ns: string;
let app: Hono;
let transport: RegistryTransport;
/** The mirror registry as the CRs name it: a counting proxy in front of the token registry. */
let mirror: FaultProxy;

before(async () => {
  ({ tls, token } = harness().registries);
  ns = await namespace('copy');
  transport = new RegistryTransport({
    ...COPY_TRANSPORT,
    defaultHost: { ca: await readFile(tls.caFile, 'utf8') },
  });
  const registry = createRegistry('copy');
  const deps: CopyDeps = {
    kube,
    transport,
    log: createLogger('copy', process.env['LOG_LEVEL'] ?? 'silent'),
    now: Date.now,
    settings: DEFAULT_SETTINGS,
  };
  app = createCopyApp(deps, registry, createCopyMetrics(registry));
  mirror = await proxyInFrontOf(token);
  // The pod's pull secret for the source registry and the mirror's push credential.
  await registrySecret(ns, 'pull', tls);
  await registrySecret(ns, 'push', token, mirror.host);
});
after(async () => {
  await transport?.close();
  await mirror?.close();
});

/** An ImageSetMirror whose status has one entry with one mirror, as reconcile leaves it. */
const mirrorSet = async (source: string, mirrorStatus: Partial<MirrorStatusEntry> = {}) =>
  await mirrorSetToCopy({
    namespace: ns,
    source,
    registry: mirror.host,
    path: 'mirror',
    platforms: [{ architecture: 'amd64' }, { architecture: 'arm64' }],
    mirrorStatus,
  });

const read = (name: string) => kube.getKuik<ImageSetMirror>({ kind: 'ImageSetMirror', name, namespace: ns });
/** Every Event about the mirror set `name`. */
const eventsOf = async (name: string) =>
  (await kube.events.listNamespacedEvent({ namespace: ns, fieldSelector: `regarding.name=${name}` })).items;
const mirrorOf = (cr: ImageSetMirror) => cr.status?.matchingImages?.[0]?.mirrors?.[0];

/** Every Secret `get` the API server saw in `namespace` (its audit log, level Metadata). */
async function secretReads(namespace: string): Promise<string[]> {
  return (await readFile(harness().apiserver.auditLog, 'utf8'))
    .split('\n')
    .filter((l) => l.includes('"secrets"'))
    .flatMap((l) => {
      const e = JSON.parse(l) as {
        verb?: string;
        objectRef?: { resource?: string; namespace?: string; name?: string };
      };
      const o = e.objectRef;
      return e.verb === 'get' && o?.resource === 'secrets' && o.namespace === namespace ? [o.name ?? ''] : [];
    });
}

/**
 * The names of the Secrets of `namespace` read while `f` ran. A marker Secret read after `f` and
 * seen in the audit log first proves the log has caught up (absence is then meaningful).
 */
async function secretsReadDuring(namespace: string, f: () => Promise<void>): Promise<string[]> {
  const before = (await secretReads(namespace)).length;
  await f();
  const marker = uniq('marker');
  await kube.getSecret(namespace, marker).catch(() => undefined);
  const after = await eventually('the audit log caught up', async () => {
    const all = await secretReads(namespace);
    return all.includes(marker) ? all : undefined;
  });
  return after.slice(before).filter((n) => n !== marker);
}

async function post(req: CopyRequest): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await app.request('/', copyEventPost(req));
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const RFC3339_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

describe('copy function over HTTP', () => {
  test('mirrors the image and writes mirroredAt, digest and platforms on the ImageSetMirror', async () => {
    const src = await seed(tls, uniq('fn/a'), 'v1');
    const { name, req, destination } = await mirrorSet(src.ref, { lastError: 'an earlier failure' });
    const r = await post(req);
    assert.equal(r.status, 200);
    assert.equal(r.body['outcome'], 'mirrored');
    const m = mirrorOf(await read(name));
    assert.match(m?.mirroredAt ?? '', RFC3339_SECONDS);
    assert.equal(m?.digest, src.digest);
    assert.deepEqual(m?.platforms, { mirrored: ['linux/amd64', 'linux/arm64'], missing: [] });
    assert.equal(m?.lastError, undefined);
    assert.equal(m?.uploads, undefined);
    assert.equal((await inspectRaw(token, destination.replace(mirror.host, token.host))).digest, src.digest);
    const events = await eventsOf(name);
    assert.deepEqual(
      events.map((e) => [e.type, e.reason]),
      [['Normal', 'Mirrored']],
    );
  });

  test('a duplicate event for a mirrored entry makes one manifest HEAD and writes nothing', async () => {
    const src = await seed(tls, uniq('fn/b'), 'v1');
    const { name, req } = await mirrorSet(src.ref);
    assert.equal((await post(req)).body['outcome'], 'mirrored');
    const before = await read(name);
    const seen = mirror.requests.length;
    const r = await post(req);
    assert.equal(r.body['outcome'], 'already-mirrored');
    const requests = mirror.requests.slice(seen);
    assert.deepEqual(
      requests.map((q) => `${q.method} ${q.path.replace(/\?.*/, '')}`),
      [`HEAD /v2/mirror/${req.source.slice(tls.host.length + 1).replace(':v1', '')}/manifests/v1`],
    );
    assert.equal((await read(name)).metadata.resourceVersion, before.metadata.resourceVersion);
  });

  test('the same request twice at once runs one copy: the second joins the first and gets its answer', async () => {
    const src = await seed(tls, uniq('fn/j'), 'v1');
    const { req } = await mirrorSet(src.ref);
    const repoPath = `/v2/mirror/${req.source.slice(tls.host.length + 1).replace(':v1', '')}/`;
    const seen = mirror.requests.length;
    const [a, b] = await Promise.all([post(req), post(req)]);
    assert.deepEqual(a, b);
    assert.equal(a.body['outcome'], 'mirrored');
    const puts = mirror.requests
      .slice(seen)
      .filter((q) => q.method === 'PUT' && q.path.startsWith(`${repoPath}manifests/`));
    // One index and its two platform manifests, each written once.
    assert.equal(puts.length, 3, puts.map((q) => q.path).join('\n'));
  });

  test('re-mirrors an entry mirrored for other platforms than the request’s, and reports the new set', async () => {
    const src = await seed(tls, uniq('fn/p'), 'v1');
    const { name, req } = await mirrorSet(src.ref);
    // Mirrored first with amd64 only, as `mirroring.platforms` then said.
    const first = await post({ ...req, platforms: [{ architecture: 'amd64' }] });
    assert.equal(first.body['outcome'], 'mirrored');
    assert.deepEqual(mirrorOf(await read(name))?.platforms, { mirrored: ['linux/amd64'], missing: [] });
    // The configuration now says amd64 + arm64 (req's): copied again, not "already mirrored".
    const again = await post(req);
    assert.equal(again.body['outcome'], 'mirrored');
    const m = mirrorOf(await read(name));
    assert.deepEqual(m?.platforms, { mirrored: ['linux/amd64', 'linux/arm64'], missing: [] });
    assert.equal(m?.digest, src.digest, 'nothing filtered: the upstream digest');
    // And now it is up to date.
    assert.equal((await post(req)).body['outcome'], 'already-mirrored');
  });

  test('re-mirrors an entry marked mirrored whose image vanished from the registry (kuik #541)', async () => {
    const src = await seed(tls, uniq('fn/c'), 'v1');
    const { name, req } = await mirrorSet(src.ref, {
      mirroredAt: '2020-01-01T00:00:00Z',
      digest: src.digest,
    });
    const r = await post(req);
    assert.equal(r.body['outcome'], 'mirrored');
    assert.notEqual(mirrorOf(await read(name))?.mirroredAt, '2020-01-01T00:00:00Z');
  });

  test('a failed copy writes lastError and leaves mirroredAt unset', async () => {
    const { name, req } = await mirrorSet(`${tls.host}/${uniq('fn/missing')}:v1`);
    const r = await post(req);
    assert.equal(r.status, 200);
    assert.equal(r.body['outcome'], 'failed');
    const m = mirrorOf(await read(name));
    assert.match(m?.lastError ?? '', /not found/);
    assert.equal(m?.mirroredAt, undefined);
    // One Warning event for `kubectl describe`; the same failure again records no second one.
    await post(req);
    const events = await eventsOf(name);
    assert.deepEqual(
      events.map((e) => [e.type, e.reason]),
      [['Warning', 'MirrorFailed']],
    );
    assert.match(events[0]?.note ?? '', /not found/);
  });

  test('a single image of another platform fails with kuik’s exact error in status (§10.11 H)', async () => {
    const src = await seed(tls, uniq('fn/arm'), 'v1', { archs: ['arm64'] });
    const { name, req } = await mirrorSet(src.ref);
    const r = await post({ ...req, platforms: [{ architecture: 'amd64' }] });
    assert.equal(r.body['outcome'], 'failed');
    assert.equal(
      mirrorOf(await read(name))?.lastError,
      'none of the configured platforms are available in the source image: amd64',
    );
  });

  test('a missing pull secret fails the copy with a message naming it, never its content', async () => {
    const src = await seed(tls, uniq('fn/d'), 'v1');
    const { name, req } = await mirrorSet(src.ref);
    await pod(ns, [src.ref], ['pull', 'nope']);
    const r = await post({ ...req, sourcePullSecrets: { namespace: ns, names: ['pull', 'nope'] } });
    assert.equal(r.body['outcome'], 'failed');
    assert.equal(mirrorOf(await read(name))?.lastError, `pull secret ${ns}/nope: not found`);
  });

  test('writes nothing for a request about another incarnation of the CR', async () => {
    const src = await seed(tls, uniq('fn/e'), 'v1');
    const { name, req } = await mirrorSet(src.ref);
    const before = await read(name);
    const r = await post({ ...req, owner: { ...req.owner, uid: 'an-older-uid' } });
    assert.equal(r.body['outcome'], 'gone');
    assert.equal((await read(name)).metadata.resourceVersion, before.metadata.resourceVersion);
  });

  test('answers 400 with the reason to a malformed event, and writes nothing', async () => {
    const src = await seed(tls, uniq('fn/f'), 'v1');
    const { name, req } = await mirrorSet(src.ref);
    const before = await read(name);
    const bad = await post({ ...req, platforms: [] });
    assert.equal(bad.status, 400);
    assert.match(String(bad.body['error']), /platforms must list at least one platform/);
    const notCe = await app.request('/', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(notCe.status, 400);
    const msg = HTTP.binary(new CloudEvent({ type: 'dev.example.other', source: '/x', data: req }));
    const other = await app.request('/', {
      method: 'POST',
      headers: msg.headers as Record<string, string>,
      body: msg.body as string,
    });
    assert.equal(other.status, 400);
    assert.match(String(((await other.json()) as { error: string }).error), /unexpected event type/);
    assert.equal((await read(name)).metadata.resourceVersion, before.metadata.resourceVersion);
  });
});

describe('copy function: the Secrets it reads come from the cluster, not the request (issue 14)', () => {
  /** Namespace B: a private registry's pull secret, a pod using it, a push credential. */
  let other: string;
  before(async () => {
    other = await namespace('victim');
    await registrySecret(other, 'regcred', tls);
    await registrySecret(other, 'team-push', token, mirror.host);
  });

  test('a request for an ImageSetMirror naming another namespace’s Secrets is refused: 403, none read, nothing written', async () => {
    // B really runs a private image with regcred; the forged request asks A's mirror set to copy it.
    const src = await seed(tls, uniq('fn/private'), 'v1');
    await pod(other, [src.ref], ['regcred']);
    const { name, req } = await mirrorSet(src.ref);
    const before = await read(name);
    let r: Awaited<ReturnType<typeof post>> | undefined;
    const reads = await secretsReadDuring(other, async () => {
      r = await post({
        ...req,
        sourcePullSecrets: { namespace: other, names: ['regcred'] },
        destinationSecret: { namespace: other, name: 'team-push' },
      });
    });
    assert.equal(r?.status, 403);
    assert.equal(r?.body['outcome'], 'refused');
    assert.match(
      String(r?.body['error']),
      new RegExp(`is not the credential ImageSetMirror ${ns}/${name} names`),
    );
    assert.deepEqual(reads, [], 'no Secret of the other namespace was read');
    assert.equal((await read(name)).metadata.resourceVersion, before.metadata.resourceVersion);
    const repo = req.destination.slice(mirror.host.length).split(':')[0] ?? '';
    assert.deepEqual(
      mirror.requests.filter((q) => q.path.includes(repo)),
      [],
      'the mirror registry never heard of it',
    );

    // The pull secrets alone (the right destination credential): still refused, still none read.
    const reads2 = await secretsReadDuring(other, async () => {
      r = await post({ ...req, sourcePullSecrets: { namespace: other, names: ['regcred'] } });
    });
    assert.equal(r?.status, 403);
    assert.match(String(r?.body['error']), /may only use Secrets of its own namespace/);
    assert.deepEqual(reads2, []);
  });

  test('pull secrets that no pod running the source lists are refused, even in the mirror set’s own namespace', async () => {
    const src = await seed(tls, uniq('fn/nopod'), 'v1');
    const { name, req } = await mirrorSet(src.ref);
    const before = await read(name);
    let r: Awaited<ReturnType<typeof post>> | undefined;
    const reads = await secretsReadDuring(ns, async () => {
      // `push` is a Secret of this namespace, but no pod pulls the source with it.
      r = await post({ ...req, sourcePullSecrets: { namespace: ns, names: ['push'] } });
    });
    assert.equal(r?.status, 403);
    assert.match(
      String(r?.body['error']),
      new RegExp(`no pod in namespace ${ns} runs ${src.ref} with pull secrets push`),
    );
    assert.deepEqual(reads, []);
    assert.equal((await read(name)).metadata.resourceVersion, before.metadata.resourceVersion);
  });

  test('a ClusterImageSetMirror reads a namespace’s pull secrets only when a pod there runs the source with them', async () => {
    const src = await seed(tls, uniq('fn/cism'), 'v1');
    const name = uniq('cism');
    const destination = `${mirror.host}/mirror/${src.ref.slice(tls.host.length + 1)}`;
    await apply({
      apiVersion: 'kuik.enix.io/v1alpha1',
      kind: 'ClusterImageSetMirror',
      metadata: { name },
      spec: {
        mirrors: [
          {
            registry: mirror.host,
            path: 'mirror',
            credentialSecret: { name: 'team-push', namespace: other },
          },
        ],
      },
    });
    await patchStatus('cism', name, {
      status: { matchingImages: [{ image: src.ref, mirrors: [{ image: destination }] }] },
    });
    const ref = { kind: 'ClusterImageSetMirror' as const, name };
    const cr = await kube.getKuik<ImageSetMirror>(ref);
    const owner = { kind: 'ClusterImageSetMirror' as const, name, uid: cr.metadata.uid ?? '' };
    const req = copyRequest(owner, src.ref, destination, {
      secretsNamespace: other,
      pull: 'regcred',
      push: 'team-push',
      platforms: [{ architecture: 'amd64' }, { architecture: 'arm64' }],
    });
    // No pod in B runs this image yet: refused, regcred not read.
    let r: Awaited<ReturnType<typeof post>> | undefined;
    const reads = await secretsReadDuring(other, async () => {
      r = await post(req);
    });
    assert.equal(r?.status, 403);
    assert.deepEqual(reads, []);
    // A destination credential the spec does not name: refused.
    r = await post({ ...req, destinationSecret: { namespace: ns, name: 'push' } });
    assert.equal(r.status, 403);
    assert.match(String(r.body['error']), new RegExp(`names for ${destination} \\(${other}/team-push\\)`));
    // Once a pod in B runs it with regcred, the same request copies.
    await pod(other, [src.ref], ['regcred']);
    r = await post(req);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body['outcome'], 'mirrored');
    const m = (await kube.getKuik<ImageSetMirror>(ref)).status?.matchingImages?.[0]?.mirrors?.[0];
    assert.equal(m?.digest, src.digest);
  });
});

describe('copy function as a JobSink Job', () => {
  /** Runs `node functions/main.ts` as the Job's container would, with the event file mounted. */
  /** The Job with this request as its event (structured mode, as the JobSink stores it). */
  const job = (req: CopyRequest, env: Record<string, string> = {}) => startCopyJob(copyJobEvent(req), env);

  test('reads the event file, copies, writes status and exits 0', async () => {
    const src = await seed(tls, uniq('fn/job'), 'v1');
    const { name, req } = await mirrorSet(src.ref);
    const p = await job(req);
    assert.equal(await p.exited, 0, await readFile(p.logFile, 'utf8'));
    const m = mirrorOf(await read(name));
    assert.equal(m?.digest, src.digest);
    assert.match(m?.mirroredAt ?? '', RFC3339_SECONDS);
  });

  test('SIGTERM mid-layer records the upload in status; the retried Job resumes it', async () => {
    // 40 chunks of 1 MiB, each followed by a status write: the test sees the first records long
    // before the layer could finish.
    const src = await seed(tls, uniq('fn/resume'), 'v1', { archs: ['amd64'], layerMb: 40 });
    const { name, req } = await mirrorSet(src.ref);
    const small = { KUIK_COPY_CHUNK_MIB: '1', KUIK_COPY_RECORD_EVERY_MIB: '1' };
    const patched = () =>
      mirror.requests.filter((q) => q.method === 'PATCH').reduce((n, q) => n + q.bytesIn, 0);
    const before = patched();

    const first = await job(req, small);
    let recorded: MirrorStatusEntry['uploads'];
    for (let i = 0; i < 600 && !recorded; i++) {
      recorded = mirrorOf(await read(name))?.uploads?.filter((u) => u.offset >= 2 * MiB);
      if (!recorded?.length) recorded = undefined;
      if (!recorded) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(recorded, 'the Job recorded its upload session');
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 1, 'an interrupted copy asks for a retry');
    const m1 = mirrorOf(await read(name));
    assert.equal(m1?.mirroredAt, undefined);
    const session = m1?.uploads?.[0];
    assert.ok(session && session.offset >= 2 * MiB);
    const sentFirst = patched() - before;

    const second = await job(req, small);
    assert.equal(await second.exited, 0, await readFile(second.logFile, 'utf8'));
    const sentSecond = patched() - before - sentFirst;
    const layer = JSON.parse(
      (
        await inspectRaw(
          tls,
          `${src.ref.slice(0, src.ref.lastIndexOf(':'))}@${await firstChild(src.ref, src.digest)}`,
        )
      ).raw,
    ) as { layers: { size: number }[] };
    const layerSize = layer.layers[0]!.size;
    assert.ok(
      sentSecond < layerSize,
      `the retry sent ${sentSecond} bytes, less than the ${layerSize}-byte layer`,
    );
    assert.equal(sentSecond, layerSize - session.offset, 'exactly what the registry did not hold');
    const m2 = mirrorOf(await read(name));
    assert.equal(m2?.digest, src.digest);
    assert.equal(m2?.uploads, undefined, 'sessions cleared on success');
    const log = await readFile(second.logFile, 'utf8');
    assert.match(log, /"bytes_resumed":\d+/);
  });

  test('a request naming Secrets it may not use exits 2, nothing written', async () => {
    const src = await seed(tls, uniq('fn/job-forged'), 'v1');
    const { name, req } = await mirrorSet(src.ref);
    const before = await read(name);
    const p = await job({ ...req, destinationSecret: { namespace: 'kube-system', name: 'push' } });
    assert.equal(await p.exited, 2, await readFile(p.logFile, 'utf8'));
    assert.match(await readFile(p.logFile, 'utf8'), /copy refused/);
    assert.equal((await read(name)).metadata.resourceVersion, before.metadata.resourceVersion);
  });

  test('an unusable event file exits 2 (retrying cannot help)', async () => {
    const p = await startCopyJob(
      '{"specversion":"1.0","id":"x","source":"/x","type":"dev.kuik.copy.requested","data":{}}',
    );
    assert.equal(await p.exited, 2);
    assert.match(await readFile(p.logFile, 'utf8'), /invalid copy request/);
  });
});

async function firstChild(ref: string, digest: string): Promise<string> {
  const idx = JSON.parse((await inspectRaw(tls, `${ref.slice(0, ref.lastIndexOf(':'))}@${digest}`)).raw) as {
    manifests: { digest: string }[];
  };
  return idx.manifests[0]!.digest;
}
