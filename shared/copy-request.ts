// The copy request: what reconcile asks the copy function to do for one mirror entry (§5.4), as
// the data of a `dev.kuik.copy.requested` CloudEvent. One schema, imported by the sender
// (reconcile) and the receiver (copy), so the two cannot drift.
//
// The event id is a hash of what the copy is, not of when it was asked for: a JobSink creates one
// Job per (source, id), so two reconciles asking for the same copy create one Job, and a changed
// `mirroring.platforms` (a different copy) gets a new one.
import { createHash } from 'node:crypto';
import * as v from 'valibot';
import { parseReference } from './image/reference.ts';
import type { Result } from './result.ts';

export const COPY_EVENT_TYPE = 'dev.kuik.copy.requested';
export const COPY_EVENT_SOURCE = '/kuik/reconcile';

export interface Platform {
  os?: string;
  architecture: string;
  variant?: string;
}

export interface CopyRequest {
  owner: { kind: 'ImageSetMirror' | 'ClusterImageSetMirror'; name: string; namespace?: string; uid: string };
  /** Normalized source reference = status.matchingImages[].image (tag, digest, or tag@digest). */
  source: string;
  /** Normalized mirror reference = status.matchingImages[].mirrors[].image. */
  destination: string;
  /** The pod's imagePullSecrets, read in that namespace. */
  sourcePullSecrets?: { namespace: string; names: string[] };
  /** §2.7 push credential of the mirror. */
  destinationSecret?: { namespace: string; name: string };
  /** `mirroring.platforms`. */
  platforms: Platform[];
  /**
   * Beyond kuik: copy this digest of `source` (a tag) under the destination tag instead of what the
   * tag names now: the mirror entry's `pinnedDigest` (monitoring.tagDrift.action pin).
   */
  pinnedDigest?: string;
}

const nonEmpty = (what: string) =>
  v.pipe(v.string(`${what} must be a string`), v.minLength(1, `${what} is empty`));

const reference = (what: string) =>
  v.pipe(
    nonEmpty(what),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const r = parseReference(dataset.value);
      if (!r.ok)
        addIssue({
          message: `${what} ${JSON.stringify(dataset.value)} is not an image reference: ${r.error.message}`,
        });
    }),
  );

const PlatformSchema = v.object({
  os: v.optional(v.string('platform os must be a string')),
  architecture: nonEmpty('platform architecture'),
  variant: v.optional(v.string('platform variant must be a string')),
});

const CopyRequestSchema = v.pipe(
  v.object(
    {
      owner: v.object(
        {
          kind: v.picklist(
            ['ImageSetMirror', 'ClusterImageSetMirror'],
            'owner.kind must be ImageSetMirror or ClusterImageSetMirror',
          ),
          name: nonEmpty('owner.name'),
          namespace: v.optional(v.string('owner.namespace must be a string')),
          uid: nonEmpty('owner.uid'),
        },
        'owner must be an object',
      ),
      source: reference('source'),
      destination: reference('destination'),
      sourcePullSecrets: v.optional(
        v.object(
          {
            namespace: nonEmpty('sourcePullSecrets.namespace'),
            names: v.array(nonEmpty('sourcePullSecrets.names[]'), 'sourcePullSecrets.names must be an array'),
          },
          'sourcePullSecrets must be an object',
        ),
      ),
      destinationSecret: v.optional(
        v.object(
          { namespace: nonEmpty('destinationSecret.namespace'), name: nonEmpty('destinationSecret.name') },
          'destinationSecret must be an object',
        ),
      ),
      platforms: v.pipe(
        v.array(PlatformSchema, 'platforms must be an array'),
        v.minLength(1, 'platforms must list at least one platform'),
      ),
      pinnedDigest: v.optional(
        v.pipe(
          v.string('pinnedDigest must be a string'),
          v.regex(/^sha256:[0-9a-f]{64}$/, 'pinnedDigest must be a sha256 digest'),
        ),
      ),
    },
    'copy request must be a JSON object',
  ),
  v.check(
    (r) => r.owner.kind !== 'ImageSetMirror' || (r.owner.namespace ?? '') !== '',
    'owner.namespace is required for an ImageSetMirror',
  ),
);

export type CopyRequestResult = Result<CopyRequest>;

/** The data of a copy event, validated; the error names every problem, for the 400 answer. */
export function parseCopyRequest(data: unknown): CopyRequestResult {
  const r = v.safeParse(CopyRequestSchema, data);
  if (!r.success)
    return { ok: false, error: `invalid copy request: ${r.issues.map((i) => i.message).join('; ')}` };
  // Rebuild without undefined keys: exactOptionalPropertyTypes-friendly and stable for hashing.
  const o = r.output;
  const request: CopyRequest = {
    owner: {
      kind: o.owner.kind,
      name: o.owner.name,
      uid: o.owner.uid,
      ...(o.owner.namespace ? { namespace: o.owner.namespace } : {}),
    },
    source: o.source,
    destination: o.destination,
    platforms: o.platforms.map(canonicalPlatform),
    ...(o.sourcePullSecrets ? { sourcePullSecrets: o.sourcePullSecrets } : {}),
    ...(o.destinationSecret ? { destinationSecret: o.destinationSecret } : {}),
    ...(o.pinnedDigest ? { pinnedDigest: o.pinnedDigest } : {}),
  };
  return { ok: true, value: request };
}

function canonicalPlatform(p: {
  os?: string | undefined;
  architecture: string;
  variant?: string | undefined;
}): Platform {
  return {
    ...(p.os ? { os: p.os } : {}),
    architecture: p.architecture,
    ...(p.variant ? { variant: p.variant } : {}),
  };
}

/**
 * A deterministic CloudEvent id for the copy: sha256 over the owner's uid, source, destination,
 * platforms, and the Secrets it reads with (fields in a fixed order, empty fields dropped), hex,
 * first 32 characters (128 bits).
 *
 * The JobSink runs one Job per id and keeps a finished Job (ttlSecondsAfterFinished), so an id
 * that failed is not run again while its Job exists. The Secrets are part of the id because they
 * decide whether the copy can succeed: found on a real cluster, a Deployment's first pod had no
 * pull secrets, its copy failed with 401, and the next pod's request (with them) was the same id,
 * so it never ran. A Secret whose content is fixed in place keeps its id: docs/copy.md says how
 * to run it again.
 */
export function copyEventId(
  req: Pick<
    CopyRequest,
    | 'owner'
    | 'source'
    | 'destination'
    | 'platforms'
    | 'pinnedDigest'
    | 'sourcePullSecrets'
    | 'destinationSecret'
  >,
): string {
  const platforms = req.platforms.map((p) => [p.os ?? '', p.architecture, p.variant ?? '']);
  // A pinned copy is another copy; without a pin or Secrets the key (and every such id) is unchanged.
  const key = JSON.stringify([
    req.owner.uid,
    req.source,
    req.destination,
    platforms,
    ...(req.pinnedDigest ? [req.pinnedDigest] : []),
    ...(req.sourcePullSecrets
      ? [['pull', req.sourcePullSecrets.namespace, ...req.sourcePullSecrets.names]]
      : []),
    ...(req.destinationSecret ? [['push', req.destinationSecret.namespace, req.destinationSecret.name]] : []),
  ]);
  return createHash('sha256').update(key).digest('hex').slice(0, 32);
}
