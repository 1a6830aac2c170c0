// One blob, source repository → destination repository, streaming and resumable:
//
//   1. HEAD at the destination: already there → skip (a re-copy re-sends nothing).
//   2. A session recorded by an earlier run (status `mirrors[].uploads`) → GET its location; the
//      registry says how many bytes it holds (`Range: 0-N`) and the upload continues from there,
//      re-reading the source from that byte with `Range: bytes=N-`.
//   3. Same registry host → cross-repository mount (`?mount=&from=`): no bytes move at all.
//   4. Otherwise a new session: POST, then PATCH chunks (`Content-Range`), then PUT `?digest=`.
//
// Each chunk's body is streamed from the source as it arrives; a source connection that breaks is
// re-opened at the byte reached (SourceBlobReader), so the destination never sees it. A
// destination connection that breaks mid-chunk is recovered by asking the session where it is;
// registries that refuse a session after a cut (distribution checks its `_state` token against
// the bytes held and cancels on a mismatch) get a fresh session.
//
// Integrity: the registry checks the digest at the final PUT. When this run read the blob from
// byte 0 it also hashes it itself and refuses to commit a mismatch, so a corrupt source is named
// as such instead of as the registry's DIGEST_INVALID.
import { isTemporaryNetworkError, RegistryError } from '#shared/registry/errors.ts';
import type { Descriptor } from '#shared/registry/manifest.ts';
import type { Repo } from '#shared/registry/repo.ts';
import { SourceBlobReader } from './blob-reader.ts';
import type { CopyProgress } from './progress.ts';
import type { SessionBook } from './sessions.ts';

export type BlobOutcome = 'skipped' | 'mounted' | 'uploaded' | 'resumed';

export interface BlobStats {
  /** Bytes sent to the destination (PATCH bodies). */
  bytesUploaded: number;
  /** Bytes read from the source. */
  bytesRead: number;
  /** Where resumed uploads started, summed: bytes not sent again thanks to resuming. */
  bytesResumed: number;
  /** Source re-opens after a broken connection. */
  sourceReopens: number;
  /** Sessions abandoned and restarted from byte 0 after a failure in this run. */
  restarts: number;
  /** Sessions recorded by an earlier run that the registry no longer accepts (see docs/copy.md). */
  sessionsRefused: number;
}

export function emptyBlobStats(): BlobStats {
  return {
    bytesUploaded: 0,
    bytesRead: 0,
    bytesResumed: 0,
    sourceReopens: 0,
    restarts: 0,
    sessionsRefused: 0,
  };
}

export class CopyInterrupted extends Error {
  override name = 'CopyInterrupted';
}

export interface BlobContext {
  src: Repo;
  dst: Repo;
  /** Mount instead of upload (same registry host, another repository). */
  mount: boolean;
  chunkBytes: number;
  sessions: SessionBook;
  stats: BlobStats;
  /** Asked between chunks: true → record the session and stop (graceful SIGTERM). */
  shouldStop: () => boolean;
  /** Pause before retrying after a failure (tests pass a no-op). */
  pause: (attempt: number) => Promise<void>;
  /** Where each transfer is, for the copy's progress report. */
  progress?: CopyProgress;
}

const MAX_DESTINATION_RECOVERIES = 3;

export async function copyBlob(desc: Descriptor, ctx: BlobContext): Promise<BlobOutcome> {
  const { src, dst } = ctx;
  if (await dst.hasBlob(desc.digest)) {
    ctx.sessions.finish(desc.digest);
    ctx.progress?.complete(desc.digest);
    return 'skipped';
  }

  let location: string | undefined;
  let offset = 0;
  let outcome: BlobOutcome = 'uploaded';

  const recorded = ctx.sessions.resumable(desc.digest);
  if (recorded && recorded.offset <= desc.size) {
    const status = await dst.uploadStatus(recorded.location, recorded.offset);
    if (status && status.offset <= desc.size) {
      location = status.location;
      offset = status.offset;
      if (offset > 0) {
        outcome = 'resumed';
        ctx.stats.bytesResumed += offset;
      }
    } else {
      ctx.stats.sessionsRefused++;
    }
  }

  if (location === undefined && ctx.mount) {
    const r = await dst.startUpload({ digest: desc.digest, from: src.repository });
    if (r.mounted) {
      ctx.sessions.finish(desc.digest);
      ctx.progress?.complete(desc.digest);
      return 'mounted';
    }
    // The registry could not mount (no access to the source repository, say) and opened a plain
    // session instead: use it.
    location = r.location;
  }
  if (location === undefined) {
    const r = await dst.startUpload();
    if (r.mounted) {
      ctx.progress?.complete(desc.digest);
      return 'mounted';
    }
    location = r.location;
  }

  let reader = newReader(desc, offset, ctx);
  // Bytes handed to the upload so far, whichever reader is current (a reader is replaced after a
  // broken destination connection, from the byte the registry says it holds).
  ctx.progress?.live(desc.digest, () => reader.position);
  const retired = new WeakSet<SourceBlobReader>();
  const retire = async (r: SourceBlobReader) => {
    if (retired.has(r)) return;
    retired.add(r);
    ctx.stats.bytesRead += r.stats.bytesRead;
    ctx.stats.sourceReopens += r.stats.reopens;
    await r.close();
  };
  let recoveries = 0;
  try {
    while (offset < desc.size) {
      const length = Math.min(ctx.chunkBytes, desc.size - offset);
      const before = reader.stats.bytesRead;
      try {
        const r = await dst.patchChunk(location, offset, length, reader.take(length));
        ctx.stats.bytesUploaded += length;
        if (r.offset !== offset + length) {
          throw new RegistryError(
            'protocol',
            `the registry holds ${r.offset} bytes of ${desc.digest} after a chunk ending at ${offset + length}`,
          );
        }
        location = r.location;
        offset = r.offset;
      } catch (err) {
        ctx.stats.bytesUploaded += reader.stats.bytesRead - before;
        if (
          err instanceof RegistryError &&
          err.kind === 'http' &&
          err.status !== undefined &&
          err.status < 500
        )
          throw err;
        if (
          !(
            isTemporaryNetworkError(err) ||
            (err instanceof RegistryError && err.kind !== 'http') ||
            isServerError(err)
          )
        )
          throw err;
        if (++recoveries > MAX_DESTINATION_RECOVERIES) throw err;
        await ctx.pause(recoveries);
        // Where is the session now? A spec-following registry says; one that refuses the
        // session after a cut gets a fresh one from byte 0.
        const status = await dst.uploadStatus(location, offset);
        await retire(reader);
        if (status && status.offset <= desc.size) {
          location = status.location;
          offset = status.offset;
        } else {
          ctx.stats.restarts++;
          await dst.cancelUpload(location);
          const r = await dst.startUpload();
          if (r.mounted) {
            ctx.progress?.complete(desc.digest);
            return 'mounted';
          }
          location = r.location;
          offset = 0;
          outcome = 'uploaded';
        }
        reader = newReader(desc, offset, ctx);
        continue;
      }
      await ctx.sessions.progress({ digest: desc.digest, location, offset }, length);
      if (offset < desc.size && ctx.shouldStop()) {
        await ctx.sessions.flush();
        throw new CopyInterrupted(
          `stopped at byte ${offset} of ${desc.digest} (${desc.size} bytes); the session is recorded for the next run`,
        );
      }
    }
    const own = reader.digest();
    if (own !== undefined && own !== desc.digest) {
      await dst.cancelUpload(location);
      ctx.sessions.finish(desc.digest);
      throw new RegistryError(
        'protocol',
        `the source blob ${desc.digest} does not match its digest (read ${own})`,
      );
    }
    await dst.completeUpload(location, desc.digest);
    ctx.sessions.finish(desc.digest);
    ctx.progress?.complete(desc.digest);
    return outcome;
  } finally {
    await retire(reader);
  }
}

function isServerError(err: unknown): boolean {
  return err instanceof RegistryError && err.kind === 'http' && (err.status ?? 0) >= 500;
}

function newReader(desc: Descriptor, start: number, ctx: BlobContext): SourceBlobReader {
  return new SourceBlobReader({
    open: (at) => ctx.src.openBlob(desc.digest, at),
    size: desc.size,
    start,
    retryable: (err) =>
      !(err instanceof RegistryError && err.kind === 'http' && err.status !== undefined && err.status < 500),
    pause: ctx.pause,
  });
}
