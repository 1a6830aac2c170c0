// §5.4: copy one image, source reference → mirror reference, registry to registry.
//
//   1. GET the source manifest. An index is filtered by the configured platforms (§5.4 step 4);
//      when nothing is filtered its bytes are pushed unchanged, so the mirror has the source's
//      digest. A single image must itself be of a configured platform (step 5); a non-image OCI
//      artifact (artifactType, or a config that is not an image config) has none and is copied
//      as it is.
//   2. HEAD the destination: the very manifest is already there → nothing to push (a no-op
//      re-copy costs two manifest requests).
//   3. Children, then their blobs (skipped, mounted, resumed or streamed: blob.ts), then the
//      manifests bottom-up: a registry refuses a manifest whose blobs or children it lacks.
//   4. Signatures and attestations of what was pushed (attached.ts): cosign tags and OCI referrers.
//
// Beyond kuik: the missing platforms are reported, not only logged (kuik #594); a digest-pinned
// destination keeps every child, since a filtered index could not have the pinned digest.

import { errorMessage } from '#shared/errors.ts';
import { isUnknownPlatform, type PlatformSpec, renderPlatform } from '#shared/image/platform.ts';
import {
  artifactTypeOf,
  blobsOf,
  configPlatform,
  type Descriptor,
  filteredIndexBytes,
  type ImageManifest,
  type IndexManifest,
  isForeignLayer,
  type Manifest,
  sha256Digest,
} from '#shared/registry/manifest.ts';
import { apiHost, type ManifestRef, toManifestRef } from '#shared/registry/reference.ts';
import { Repo } from '#shared/registry/repo.ts';
import type { BasicCredential, RegistryTransport, TransportOptions } from '#shared/registry/transport.ts';
import { ok, type Result } from '#shared/result.ts';
import { copyAttached } from './attached-copy.ts';
import {
  type BlobContext,
  type BlobOutcome,
  type BlobStats,
  CopyInterrupted,
  copyBlob,
  emptyBlobStats,
} from './blob.ts';
import { chooseCredential } from './credentials-choice.ts';
import { hostLimit } from './limit.ts';
import { checkImagePlatform, selectChildren } from './platform-filter.ts';
import type { CopyProgress } from './progress.ts';
import { type Persist, SessionBook, type UploadRecord } from './sessions.ts';

export interface CopyOptions {
  transport: RegistryTransport;
  /** Normalized references (status.matchingImages[].image and its mirror). */
  source: string;
  destination: string;
  /** Tried in turn until one is accepted (§2.8 step 4); empty: anonymous. */
  sourceCredentials?: readonly BasicCredential[];
  destinationCredentials?: readonly BasicCredential[];
  platforms: readonly PlatformSpec[];
  /** Concurrent blob transfers per destination registry host, process-wide (default 4). */
  hostConcurrency?: number;
  /** PATCH size (default 32 MiB). */
  chunkBytes?: number;
  /** Sessions an earlier run recorded (status `mirrors[].uploads`). */
  resume?: readonly UploadRecord[];
  /** Records sessions in progress (status write); called at most once per `recordEveryBytes`. */
  persistSessions?: Persist;
  recordEveryBytes?: number;
  /** Asked between chunks: stop after recording the sessions (a graceful SIGTERM). */
  shouldStop?: () => boolean;
  /** Told the image's blobs and where each transfer is; the caller reads it while the copy runs. */
  progress?: CopyProgress;
  /** Copy cosign signatures/attestations and OCI referrers (default true). */
  attached?: boolean;
  signal?: AbortSignal;
  pause?: (attempt: number) => Promise<void>;
}

export interface CopyResult {
  /** Digest of the manifest the destination reference now points at. */
  digest: string;
  mediaType: string;
  /** The source was an index and children were left out: the mirror has a different digest. */
  filtered: boolean;
  sourceDigest: string;
  /** Absent for a non-image artifact: it has no platform, and every copy of it is the whole of it. */
  platforms?: { mirrored: string[]; missing: string[] };
  /** The source is a non-image OCI artifact of this type (#shared/registry/manifest.ts artifactTypeOf). */
  artifactType?: string;
  /** The destination already had this exact manifest: nothing was pushed. */
  alreadyPresent: boolean;
  blobs: Record<BlobOutcome | 'foreign', number>;
  bytes: BlobStats;
  manifestsPushed: number;
  attached: { copied: string[]; errors: string[] };
  /** Registry exchanges by kind (manifest, blob, upload, tags, referrers); auth not included. */
  requests: Record<string, number>;
}

/**
 * How the copy wants its transport: HTTP/1.1. Over HTTP/2 every blob of a copy shares one TLS
 * connection (one core's worth of encryption on each side, one flow-control window); measured on
 * the harness, HTTP/1.1 with a connection per transfer used a quarter less CPU and was faster
 * (docs/performance.md). Probes keep HTTP/2, which suits many small requests.
 */
export const COPY_TRANSPORT: TransportOptions = { allowH2: false };

export class CopyError extends Error {
  override name = 'CopyError';
}

const DEFAULT_CHUNK = 32 * 1024 * 1024;

/** §5.4's steps in order (the file's header says why each is there); each step is one function below. */
export async function copyImage(opts: CopyOptions): Promise<CopyResult> {
  const ends = openEnds(opts);
  const { src, manifest } = await readSource(ends, opts);
  const { dst, existing } = await headDestination(ends, opts);
  const plan = await planTop(manifest, src, ends.dstRef, opts.platforms);
  const result = startResult(manifest, plan, existing, ends.requests);
  const pusher = treePusher(opts, ends, src, dst, result);
  if (!result.alreadyPresent) await pushMissing(pusher, manifest, plan, ends.putReference);
  if (opts.attached ?? true) await copyAttachedOf(pusher, manifest, plan);
  return result;
}

/** Both ends of one copy before any request: references, repositories, and the request count. */
interface Ends {
  srcRef: ManifestRef;
  dstRef: ManifestRef;
  /** Same registry, other repository: blobs are mounted, not moved. */
  mount: boolean;
  srcBase: Repo;
  dstBase: Repo;
  /** What the destination manifest is pushed (and first looked up) under. */
  putReference: string;
  requests: Record<string, number>;
}

/** Step 1's decision: what to push at the top, and which children it names. */
interface Plan {
  top: { bytes: Uint8Array; mediaType: string; digest: string };
  children: Descriptor[];
  platforms: { mirrored: string[]; missing: string[] } | undefined;
  artifactType: string | undefined;
  /** Children were left out: the mirror has a digest of its own. */
  filtered: boolean;
}

/** The blob and manifest pushes of one copy, with what they share (one transfer per blob). */
interface Pusher {
  src: Repo;
  dst: Repo;
  /** Where blobs and manifests pushed are counted. */
  result: CopyResult;
  /** A manifest and everything under it, pushed under `reference` (children by digest). */
  pushTree(m: Manifest, reference: string, bytes?: Uint8Array, track?: boolean): Promise<void>;
  /** A child the destination lacks, read from the source; undefined when the destination has it. */
  readChild(c: Descriptor): Promise<{ child: Manifest; digest: string } | undefined>;
  /** The image's own blobs count towards its progress; signatures and attestations do not. */
  expect(m: Manifest): void;
}

/** The references parsed and a repository for each end, counting every registry exchange. No I/O. */
function openEnds(opts: CopyOptions): Ends {
  const srcRef = toManifestRef(opts.source);
  const dstRef = toManifestRef(opts.destination);
  const requests: Record<string, number> = {};
  const count = (kind: string) => {
    requests[kind] = (requests[kind] ?? 0) + 1;
  };
  const sameHost = apiHost(srcRef.registry) === apiHost(dstRef.registry);
  const mount = sameHost && srcRef.repository !== dstRef.repository;
  const signal = opts.signal;

  const srcBase = new Repo(
    opts.transport,
    {
      registry: srcRef.registry,
      repository: srcRef.repository,
      scopes: [{ repository: srcRef.repository, actions: ['pull'] }],
      signal,
    },
    count,
  );
  // One scope set for every destination request (one token); pull on the source repository too
  // when mounting from it.
  const dstBase = new Repo(
    opts.transport,
    {
      registry: dstRef.registry,
      repository: dstRef.repository,
      scopes: [
        { repository: dstRef.repository, actions: ['pull', 'push'] },
        ...(mount ? [{ repository: srcRef.repository, actions: ['pull' as const] }] : []),
      ],
      signal,
    },
    count,
  );
  const putReference = dstRef.tag ?? dstRef.digest ?? 'latest';
  return { srcRef, dstRef, mount, srcBase, dstBase, putReference, requests };
}

/** 1a. GET the source manifest, with the first source credential the registry accepts. */
async function readSource(ends: Ends, opts: CopyOptions): Promise<{ src: Repo; manifest: Manifest }> {
  const srcReference = ends.srcRef.digest ?? ends.srcRef.tag ?? 'latest';
  const { repo: src, value: manifest } = await chooseCredential(
    ends.srcBase,
    opts.sourceCredentials ?? [],
    (r) => r.getManifest(srcReference),
    (m) => m !== undefined,
  );
  if (!manifest) throw new CopyError(`source image ${opts.source} not found`);
  return { src, manifest };
}

/** 2. HEAD the destination, with the first destination credential it accepts: is it there already? */
async function headDestination(
  ends: Ends,
  opts: CopyOptions,
): Promise<{ dst: Repo; existing: Awaited<ReturnType<Repo['headManifest']>> }> {
  const { repo: dst, value: existing } = await chooseCredential(
    ends.dstBase,
    opts.destinationCredentials ?? [],
    (r) => r.headManifest(ends.putReference),
  );
  return { dst, existing };
}

/**
 * 1b. What to push at the top: an index filtered by the configured platforms, or a single image
 * checked against them (its config read from the source), or an artifact as it is. A pinned
 * destination must get exactly the pinned digest.
 */
async function planTop(
  manifest: Manifest,
  src: Repo,
  dstRef: ManifestRef,
  platforms: readonly PlatformSpec[],
): Promise<Plan> {
  const plan =
    manifest.kind === 'index'
      ? planIndex(manifest, platforms, dstRef.digest !== undefined)
      : await planImage(manifest, src, platforms);
  if (dstRef.digest !== undefined && dstRef.digest !== plan.top.digest) {
    throw new CopyError(`the source manifest is ${plan.top.digest}, not the pinned ${dstRef.digest}`);
  }
  return plan;
}

/**
 * An index: its own bytes when no child is left out, or when the destination is pinned to its
 * digest (then every child is kept, whatever the platforms); else a filtered copy. Pure.
 */
function planIndex(manifest: IndexManifest, platforms: readonly PlatformSpec[], pinned: boolean): Plan {
  const sel = selectChildren(manifest.manifests, platforms);
  if (!sel.ok) throw new CopyError(sel.error);
  if (sel.value.unchanged || pinned) {
    return {
      top: { bytes: manifest.bytes, mediaType: manifest.mediaType, digest: manifest.digest },
      children: manifest.manifests,
      platforms: {
        mirrored: pinned
          ? [
              ...new Set(
                manifest.manifests.flatMap((c) =>
                  c.platform && !isUnknownPlatform(c.platform) ? [renderPlatform(c.platform)] : [],
                ),
              ),
            ]
          : sel.value.mirrored,
        missing: sel.value.missing,
      },
      artifactType: undefined,
      filtered: false,
    };
  }
  const bytes = filteredIndexBytes(manifest, sel.value.keep);
  return {
    top: { bytes, mediaType: manifest.mediaType, digest: sha256Digest(bytes) },
    children: sel.value.keep,
    platforms: { mirrored: sel.value.mirrored, missing: sel.value.missing },
    artifactType: undefined,
    filtered: true,
  };
}

/** A single image, pushed as it is once its platform is one of the configured ones. */
async function planImage(
  manifest: ImageManifest,
  src: Repo,
  platforms: readonly PlatformSpec[],
): Promise<Plan> {
  const plan: Plan = {
    top: { bytes: manifest.bytes, mediaType: manifest.mediaType, digest: manifest.digest },
    children: [],
    platforms: undefined,
    artifactType: artifactTypeOf(manifest),
    filtered: false,
  };
  // A non-image artifact (an image volume's data set, a chart) has no platform to check and its
  // config may be no JSON at all: it is copied whole, whatever mirroring.platforms says.
  if (plan.artifactType === undefined) {
    const config = configPlatform(await src.readBlob(manifest.config.digest));
    const check = checkImagePlatform(config, platforms);
    if (!check.ok) throw new CopyError(check.error);
    plan.platforms = { mirrored: check.value.mirrored, missing: check.value.missing };
  }
  return plan;
}

/** The report, filled in by the pushes that follow. Pure. */
function startResult(
  manifest: Manifest,
  plan: Plan,
  existing: { digest: string } | undefined,
  requests: Record<string, number>,
): CopyResult {
  return {
    digest: plan.top.digest,
    mediaType: plan.top.mediaType,
    filtered: plan.filtered,
    sourceDigest: manifest.digest,
    ...(plan.platforms ? { platforms: plan.platforms } : {}),
    ...(plan.artifactType !== undefined ? { artifactType: plan.artifactType } : {}),
    alreadyPresent: existing?.digest === plan.top.digest,
    blobs: { skipped: 0, mounted: 0, uploaded: 0, resumed: 0, foreign: 0 },
    bytes: emptyBlobStats(),
    manifestsPushed: 0,
    attached: { copied: [], errors: [] },
    requests,
  };
}

/**
 * 3's machinery: blobs (skipped, mounted, resumed or streamed: blob.ts) within the destination
 * host's process-wide limit, and manifests bottom-up, counted in `result`.
 */
function treePusher(opts: CopyOptions, ends: Ends, src: Repo, dst: Repo, result: CopyResult): Pusher {
  const sessions = new SessionBook({
    ...(opts.resume ? { resume: opts.resume } : {}),
    ...(opts.persistSessions ? { persist: opts.persistSessions } : {}),
    ...(opts.recordEveryBytes !== undefined ? { everyBytes: opts.recordEveryBytes } : {}),
  });
  const { blobs } = result;
  const limit = hostLimit(apiHost(ends.dstRef.registry), opts.hostConcurrency ?? 4);
  const blobCtx: BlobContext = {
    src,
    dst,
    mount: ends.mount,
    chunkBytes: opts.chunkBytes ?? DEFAULT_CHUNK,
    sessions,
    stats: result.bytes,
    shouldStop: opts.shouldStop ?? (() => false),
    pause: opts.pause ?? ((n) => new Promise((r) => setTimeout(r, 250 * n))),
    ...(opts.progress ? { progress: opts.progress } : {}),
  };
  const expect = (m: Manifest) => {
    if (m.kind === 'image') opts.progress?.expect(blobsOf(m).filter((d) => !isForeignLayer(d)));
  };
  // One transfer per blob digest, however many manifests share it.
  const inflight = new Map<string, Promise<void>>();
  const copyBlobOnce = (d: Descriptor): Promise<void> => {
    let p = inflight.get(d.digest);
    if (!p) {
      p = (async () => {
        if (isForeignLayer(d)) {
          blobs.foreign++;
          return;
        }
        const outcome = await limit.run(() => {
          // Waiting for a slot can outlast a stop request: do not start a blob then.
          if (blobCtx.shouldStop()) throw new CopyInterrupted(`stopped before copying ${d.digest}`);
          return copyBlob(d, blobCtx);
        });
        blobs[outcome]++;
      })();
      inflight.set(d.digest, p);
    }
    return p;
  };
  const pushTree = async (m: Manifest, reference: string, bytes = m.bytes, track = true): Promise<void> => {
    if (m.kind === 'image') {
      if (track) expect(m);
      await allSettledOrThrow(blobsOf(m).map(copyBlobOnce));
    } else {
      const planned = await allSettledValues(m.manifests.map((c) => readChild(c)));
      await allSettledOrThrow(
        planned.map((p) => (p ? pushTree(p.child, p.digest, p.child.bytes, track) : null)),
      );
    }
    await dst.putManifest(reference, bytes, m.mediaType);
    result.manifestsPushed++;
  };
  const readChild = async (c: Descriptor): Promise<{ child: Manifest; digest: string } | undefined> => {
    if (await dst.headManifest(c.digest)) return undefined;
    const child = await src.getManifest(c.digest);
    if (!child) throw new CopyError(`source manifest ${c.digest} (${describeChild(c)}) not found`);
    return { child, digest: c.digest };
  };
  return { src, dst, result, pushTree, readChild, expect };
}

/**
 * 3. Children, then their blobs, then the manifests bottom-up: a registry refuses a manifest whose
 * blobs or children it lacks.
 */
async function pushMissing(p: Pusher, manifest: Manifest, plan: Plan, putReference: string): Promise<void> {
  if (manifest.kind === 'image') {
    await p.pushTree(manifest, putReference);
    return;
  }
  // Every child manifest first, so the progress total is known before the first blob moves.
  const planned = await allSettledValues(plan.children.map((c) => p.readChild(c)));
  for (const c of planned) if (c) p.expect(c.child);
  await allSettledOrThrow(planned.map((c) => (c ? p.pushTree(c.child, c.digest) : null)));
  await p.dst.putManifest(putReference, plan.top.bytes, plan.top.mediaType);
  p.result.manifestsPushed++;
}

/** 4. Signatures and attestations of what was pushed (attached.ts): cosign tags and OCI referrers. */
async function copyAttachedOf(p: Pusher, manifest: Manifest, plan: Plan): Promise<void> {
  // The source top-level digest's artifacts only apply when the mirror has that digest.
  const digests = [...(plan.filtered ? [] : [manifest.digest]), ...plan.children.map((c) => c.digest)];
  await copyAttached({
    src: p.src,
    dst: p.dst,
    digests,
    pushTree: (m, reference) => p.pushTree(m, reference, m.bytes, false),
    result: p.result,
  });
}

function describeChild(c: Descriptor): string {
  return c.platform ? renderPlatform(c.platform) : (c.mediaType ?? 'no platform');
}

/** Wait for all, then throw the first failure: no upload is left running behind a thrown error. */
async function allSettledOrThrow(ps: (Promise<unknown> | null)[]): Promise<void> {
  await allSettledValues(ps);
}

/** Their values once all have settled, or the first failure. */
async function allSettledValues<T>(ps: (Promise<T> | T)[]): Promise<Awaited<T>[]> {
  const rs = await Promise.allSettled(ps);
  const failed = rs.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return rs.map((r) => (r as PromiseFulfilledResult<Awaited<T>>).value);
}

export type { ManifestRef };
export { CopyInterrupted };

export interface Mirrored {
  /** Digest at the destination reference. */
  digest: string;
  /** The copy's report; absent when the copy failed but the destination already had the image. */
  result?: CopyResult;
  /** §5.4 step 8: why the copy failed although the image counts as mirrored. */
  tolerated?: string;
}

/** A failure says whether the copy was stopped on request: that one is not an error to report. */
export type MirrorOutcome = Result<Mirrored, { message: string; interrupted: boolean }>;

/**
 * copyImage with kuik's tolerance (§5.4 step 8, shared-registry safety §5.7): when the copy fails,
 * one GET of the destination manifest; if it is there (pushed by another cluster, or we may not
 * push), the image counts as mirrored. A copy stopped on request is reported as such, unchecked.
 */
export async function mirrorImage(opts: CopyOptions): Promise<MirrorOutcome> {
  try {
    const result = await copyImage(opts);
    return ok({ digest: result.digest, result });
  } catch (err) {
    const message = errorMessage(err);
    if (err instanceof CopyInterrupted) return { ok: false, error: { message, interrupted: true } };
    const dstRef = toManifestRef(opts.destination);
    const base = new Repo(opts.transport, {
      registry: dstRef.registry,
      repository: dstRef.repository,
      scopes: [{ repository: dstRef.repository, actions: ['pull'] }],
      signal: opts.signal,
    });
    const reference = dstRef.tag ?? dstRef.digest ?? 'latest';
    try {
      const { value } = await chooseCredential(
        base,
        opts.destinationCredentials ?? [],
        (r) => r.getManifest(reference),
        (m) => m !== undefined,
      );
      if (value) return ok({ digest: value.digest, tolerated: message });
    } catch {
      // The check failing changes nothing: the copy failed.
    }
    return { ok: false, error: { message, interrupted: false } };
  }
}
