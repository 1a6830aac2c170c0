// One copy request, end to end: the CR and its mirror entry, the Secrets, the copy, the status.
// Request in, result out, no globals: the HTTP shell (server.ts) and the Job entry (job.ts) both
// call this.
//
//   - The entry must still be the one the request is about (same CR uid, entry and mirror still in
//     status); otherwise nothing is done and nothing is written.
//   - A mirror already marked mirrored whose destination still has the image is a duplicate
//     event: one HEAD, no write. A mirror whose image vanished from the registry is
//     copied again (the registry is the truth, kuik #541).
//   - The Secrets read are the ones the cluster vouches for (allowed-secrets.ts), not the ones the
//     request names: a request naming others is refused, nothing read, nothing written.
//   - Success: mirroredAt, digest, platforms; lastError and upload sessions cleared. Failure:
//     lastError, sessions kept for the next attempt. Stopped on request: only the sessions.
import type { CopyRequest } from '#shared/copy-request.ts';
import type { SecretRef } from '#shared/credentials/mirror-credential.ts';
import { CredentialResolver, describeFailures } from '#shared/credentials/resolver.ts';
import { apiSecretReader } from '#shared/credentials/secret-cache.ts';
import { errorMessage } from '#shared/errors.ts';
import { platformsChanged } from '#shared/image/platform.ts';
import { apiStatus, type Kube, type KuikRef } from '#shared/kube/client.ts';
import { type Logger, untrusted } from '#shared/log.ts';
import type { RegistryCredential } from '#shared/registry/credentials.ts';
import { toManifestRef } from '#shared/registry/reference.ts';
import { Repo } from '#shared/registry/repo.ts';
import type { RegistryTransport } from '#shared/registry/transport.ts';
import type { Result } from '#shared/result.ts';
import { allowedDestination, allowedSource, sourceNamespace } from './allowed-secrets.ts';
import { type CopyResult, mirrorImage } from './engine/copy.ts';
import { chooseCredential } from './engine/credentials-choice.ts';
import { CopyProgress } from './engine/progress.ts';
import type { CopyMetrics } from './metrics.ts';
import { describeProgress, startProgressReporter } from './progress-report.ts';
import {
  applyFailure,
  applyProgress,
  applySuccess,
  applyUploads,
  findMirror,
  type MirrorSet,
  refreshSummary,
} from './status.ts';

export interface CopySettings {
  chunkBytes: number;
  recordEveryBytes: number;
  hostConcurrency: number;
  /** At most one progress log line and status write per image this often (KUIK_COPY_PROGRESS_SECONDS). */
  progressEveryMs: number;
}

export const DEFAULT_SETTINGS: CopySettings = {
  chunkBytes: 32 * 1024 * 1024,
  recordEveryBytes: 64 * 1024 * 1024,
  hostConcurrency: 4,
  progressEveryMs: 10_000,
};

export interface CopyDeps {
  kube: Pick<Kube, 'getKuik' | 'updateStatus' | 'getSecret' | 'recordEvent' | 'core'>;
  transport: RegistryTransport;
  log: Logger;
  now: () => number;
  settings: CopySettings;
  /** True once the process was asked to stop: copies record their sessions and return. */
  shouldStop?: () => boolean;
  metrics?: CopyMetrics;
}

export type CopyOutcome =
  | 'mirrored'
  /** The copy failed but the destination has the image (§5.4 step 8). */
  | 'tolerated'
  /** A duplicate request for a mirror that is in place. */
  | 'already-mirrored'
  | 'failed'
  /** Stopped on request with its upload sessions recorded; a rerun resumes. */
  | 'interrupted'
  /** The CR is gone or was re-created (another uid). */
  | 'gone'
  /** The entry or the mirror is no longer in status. */
  | 'stale'
  /** The request names Secrets its mirror set or pods do not vouch for: nothing read or written. */
  | 'refused';

export interface HandleResult {
  outcome: CopyOutcome;
  source: string;
  destination: string;
  digest?: string;
  error?: string;
  result?: CopyResult;
  durationMs: number;
}

export async function handleCopy(req: CopyRequest, deps: CopyDeps): Promise<HandleResult> {
  const t0 = performance.now();
  const ref: KuikRef = { kind: req.owner.kind, name: req.owner.name, namespace: req.owner.namespace };
  const done = (r: Omit<HandleResult, 'source' | 'destination' | 'durationMs'>): HandleResult => {
    const out: HandleResult = {
      ...r,
      source: req.source,
      destination: req.destination,
      durationMs: Math.round(performance.now() - t0),
    };
    report(out, req, deps);
    return out;
  };

  let cr: MirrorSet;
  try {
    cr = await deps.kube.getKuik<MirrorSet>(ref);
  } catch (err) {
    if (apiStatus(err) === 404) return done({ outcome: 'gone' });
    throw err;
  }
  const found = findMirror(cr, req);
  if (!found.ok) return done({ outcome: found.error === 'uid' ? 'gone' : 'stale' });
  const mirror = found.value;

  // Which Secrets may be read, from the CR and the pods, before any is (issue 14).
  const destination = allowedDestination(cr, req);
  if (!destination.ok) return done({ outcome: 'refused', error: destination.error });
  const sourceNs = sourceNamespace(cr, req);
  if (!sourceNs.ok) return done({ outcome: 'refused', error: sourceNs.error });
  if (sourceNs.value !== undefined) {
    const pods = await deps.kube.core.listNamespacedPod({ namespace: sourceNs.value });
    const source = allowedSource(req, pods.items);
    if (!source.ok) return done({ outcome: 'refused', error: source.error });
  }

  const creds = await credentials(req, destination.value, deps);
  if (!creds.ok) return await fail(creds.error);

  // Present is enough, whatever digest the tag has now: a mirror is copied once and never
  // re-synced with a moving upstream tag (§5.4 step 9). Unless `mirroring.platforms` changed
  // since: then it is copied again for the new set.
  if (mirror.mirroredAt !== undefined && !platformsChanged(mirror.platforms, req.platforms)) {
    const present = await destinationDigest(req, creds.value.destination, deps).catch(() => undefined);
    if (present !== undefined) return done({ outcome: 'already-mirrored', digest: present });
  }

  // Progress while the copy runs: log line, status and gauges (docs/copy.md).
  const progress = new CopyProgress();
  const untrack = deps.metrics?.track(toManifestRef(req.destination).registry, req.destination, () =>
    progress.snapshot(),
  );
  const reporter = startProgressReporter({
    everyMs: deps.settings.progressEveryMs,
    now: deps.now,
    snapshot: () => progress.snapshot(),
    report: async (p) => {
      deps.log.info(
        {
          owner: untrusted(ownerName(req)),
          source: untrusted(req.source),
          destination: untrusted(req.destination),
          bytes_done: p.bytesDone,
          bytes_total: p.bytesTotal,
          percent: p.percent,
        },
        `copy progress: ${describeProgress(p)}`,
      );
      try {
        await deps.kube.updateStatus<MirrorSet>(
          ref,
          (o) => applyProgress(o, req, p, deps.now()) && refreshSummary(o, deps.now()),
        );
      } catch (err) {
        // Progress is informative: a failed write costs nothing but the update.
        deps.log.warn({ err: errorMessage(err) }, 'could not write copy progress');
      }
    },
  });
  const outcome = await mirrorImage({
    progress,
    transport: deps.transport,
    // A pinned mirror copies the pinned digest of the tag, not what the tag names now (tag drift).
    source: req.pinnedDigest ? `${req.source}@${req.pinnedDigest}` : req.source,
    destination: req.destination,
    sourceCredentials: creds.value.source,
    destinationCredentials: creds.value.destination,
    platforms: req.platforms,
    chunkBytes: deps.settings.chunkBytes,
    recordEveryBytes: deps.settings.recordEveryBytes,
    hostConcurrency: deps.settings.hostConcurrency,
    ...(mirror.uploads ? { resume: mirror.uploads } : {}),
    persistSessions: async (records) => {
      await deps.kube.updateStatus<MirrorSet>(
        ref,
        (o) => applyUploads(o, req, records) && refreshSummary(o, deps.now()),
      );
    },
    ...(deps.shouldStop ? { shouldStop: deps.shouldStop } : {}),
  }).finally(async () => {
    // Before the final write, so that no progress lands after it.
    await reporter.stop();
    untrack?.();
  });

  if (!outcome.ok) {
    if (outcome.error.interrupted) return done({ outcome: 'interrupted', error: outcome.error.message });
    return await fail(outcome.error.message);
  }
  const platforms = outcome.value.result?.platforms;
  const artifactType = outcome.value.result?.artifactType;
  const written = await deps.kube.updateStatus<MirrorSet>(
    ref,
    (o) =>
      applySuccess(
        o,
        req,
        {
          digest: outcome.value.digest,
          ...(outcome.value.result?.sourceDigest ? { sourceDigest: outcome.value.result.sourceDigest } : {}),
          ...(platforms ? { platforms } : {}),
          ...(artifactType !== undefined ? { artifact: true } : {}),
        },
        deps.now(),
      ) && refreshSummary(o, deps.now()),
  );
  if (written) {
    const missing = platforms?.missing.length ? `; missing platforms: ${platforms.missing.join(', ')}` : '';
    const artifact = artifactType !== undefined ? `; OCI artifact ${artifactType}` : '';
    await event(
      cr,
      'Normal',
      'Mirrored',
      `${req.destination} (${outcome.value.digest})${missing}${artifact}`,
      deps,
    );
  }
  if (outcome.value.tolerated !== undefined) {
    return done({ outcome: 'tolerated', digest: outcome.value.digest, error: outcome.value.tolerated });
  }
  return done({
    outcome: 'mirrored',
    digest: outcome.value.digest,
    ...(outcome.value.result ? { result: outcome.value.result } : {}),
  });

  async function fail(error: string): Promise<HandleResult> {
    // An event when the error is new, not on every retry of the same failure.
    const written = await deps.kube.updateStatus<MirrorSet>(
      ref,
      (o) => applyFailure(o, req, error) && refreshSummary(o, deps.now()),
    );
    if (written) await event(cr, 'Warning', 'MirrorFailed', `${req.destination}: ${error}`, deps);
    return done({ outcome: 'failed', error });
  }
}

/** An Event on the CR for `kubectl describe`; a failure to record it is only logged. */
async function event(
  cr: MirrorSet,
  type: 'Normal' | 'Warning',
  reason: string,
  note: string,
  deps: CopyDeps,
): Promise<void> {
  const err = await deps.kube.recordEvent(
    {
      apiVersion: cr.apiVersion,
      kind: cr.kind,
      name: cr.metadata.name ?? '',
      namespace: cr.metadata.namespace,
      uid: cr.metadata.uid,
    },
    { type, reason, action: 'Copy', note, controller: 'kuik.enix.io/copy' },
  );
  if (err) deps.log.warn({ reason, err }, 'could not record event');
}

type Credentials = Result<{ source: RegistryCredential[]; destination: RegistryCredential[] }>;

/**
 * §5.4 steps 1–2: the pod's pull secrets for the source, the mirror's credential for the
 * destination, both already checked against the cluster (allowed-secrets.ts).
 */
async function credentials(
  req: CopyRequest,
  destinationSecret: SecretRef | undefined,
  deps: CopyDeps,
): Promise<Credentials> {
  // Read afresh for each copy (no cache): a copy runs minutes, a rotated credential must count.
  const resolver = new CredentialResolver(apiSecretReader(deps.kube));
  const namespace = req.sourcePullSecrets?.namespace ?? '';
  const sourceSecrets = (req.sourcePullSecrets?.names ?? []).map((name) => ({ namespace, name }));
  const source = await resolver.resolve(sourceSecrets, req.source);
  if (!source.ok) return { ok: false, error: describeFailures(source.error, 'pull secret') };
  let destination: RegistryCredential[] = [];
  if (destinationSecret) {
    const d = await resolver.resolve([destinationSecret], req.destination);
    if (!d.ok) return { ok: false, error: describeFailures(d.error, 'credential secret') };
    destination = d.value;
  }
  return { ok: true, value: { source: source.value, destination } };
}

/** One HEAD of the destination reference: its digest, or undefined when it is not there. */
async function destinationDigest(
  req: CopyRequest,
  credentials: readonly RegistryCredential[],
  deps: CopyDeps,
): Promise<string | undefined> {
  const r = toManifestRef(req.destination);
  const base = new Repo(deps.transport, {
    registry: r.registry,
    repository: r.repository,
    scopes: [{ repository: r.repository, actions: ['pull'] }],
  });
  const { value } = await chooseCredential(
    base,
    credentials,
    (repo) => repo.headManifest(r.tag ?? r.digest ?? 'latest'),
    (v) => v !== undefined,
  );
  return value?.digest;
}

function ownerName(req: CopyRequest): string {
  return `${req.owner.kind}/${req.owner.namespace ? `${req.owner.namespace}/` : ''}${req.owner.name}`;
}

/** One log line per copy, with what a person greps for; metrics beside it. */
function report(r: HandleResult, req: CopyRequest, deps: CopyDeps): void {
  const owner = ownerName(req);
  const res = r.result;
  const line = {
    owner: untrusted(owner),
    source: untrusted(r.source),
    destination: untrusted(r.destination),
    outcome: r.outcome,
    digest: r.digest,
    duration_ms: r.durationMs,
    ...(r.error !== undefined ? { error: untrusted(r.error) } : {}),
    ...(res
      ? {
          filtered: res.filtered,
          ...(res.platforms ? { platforms: res.platforms } : {}),
          ...(res.artifactType !== undefined ? { artifact_type: res.artifactType } : {}),
          already_present: res.alreadyPresent,
          blobs: res.blobs,
          bytes_uploaded: res.bytes.bytesUploaded,
          bytes_resumed: res.bytes.bytesResumed,
          source_reopens: res.bytes.sourceReopens,
          ...(res.bytes.sessionsRefused > 0 ? { sessions_refused: res.bytes.sessionsRefused } : {}),
          attached: res.attached.copied,
          ...(res.attached.errors.length > 0 ? { attached_errors: res.attached.errors } : {}),
        }
      : {}),
  };
  if (r.outcome === 'failed') deps.log.warn(line, 'copy failed');
  else if (r.outcome === 'refused')
    deps.log.warn(line, 'copy refused: the request names Secrets it may not use');
  else if (r.outcome === 'tolerated')
    deps.log.warn(line, 'could not mirror image, but the image seems to be already mirrored');
  else deps.log.info(line, `copy ${r.outcome}`);
  deps.metrics?.observe(r, toManifestRef(req.destination).registry);
}
