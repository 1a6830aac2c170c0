// Tag drift (docs/tag-drift.md): `app:v1` pushed again upstream after pods started from it. The
// kubelet keeps the digest it pulled (`status.containerStatuses[].imageID`), the mirror keeps what
// it copied first, and the tag now names other bytes: a pod routed today may run something else
// than its siblings. The monitor already HEADs the tag (its probe); this compares the digest the
// probe saw with what the running containers report and what the mirrors hold. Pure.
import type { V1Pod } from '@kubernetes/client-node';
import type { TagDriftAction } from '#shared/config/config.ts';
import type {
  ClusterImageSetMirror,
  DriftAction,
  ImageSetMirror,
  ImageSetMirrorStatus,
  TagDrift,
} from '#shared/crd/types.ts';
import { normalizeReference, parseReference } from '#shared/image/reference.ts';
import { podOriginals } from '#shared/kube/pod-images.ts';

const DIGEST = /sha256:[0-9a-f]{64}/;

/**
 * The digest in a kubelet's `imageID`: `docker-pullable://repo@sha256:…`, `repo@sha256:…` or a bare
 * `sha256:…` (some runtimes report the config digest there; it then never equals a manifest
 * digest, and such containers are left out rather than reported as drifting).
 */
export function imageIdDigest(imageID: string | undefined): string | undefined {
  if (!imageID?.includes('@')) return undefined;
  return DIGEST.exec(imageID.slice(imageID.lastIndexOf('@')))?.[0];
}

/** The original image of each container (`init:` prefix for init containers), normalized. */
function originalsOf(pod: V1Pod): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of pod.spec?.initContainers ?? []) if (c.image) out.set(`init:${c.name}`, c.image);
  for (const c of pod.spec?.containers ?? []) if (c.image) out.set(c.name, c.image);
  // A malformed annotation: the spec's images are what the containers run.
  for (const [k, v] of Object.entries(podOriginals(pod).map)) out.set(k, v);
  for (const [k, v] of out) {
    const n = normalizeReference(v);
    if (n) out.set(k, n);
    else out.delete(k);
  }
  return out;
}

/**
 * Digests the running containers whose original image is `image` report, with how many run each.
 * Only running containers count: a waiting one has not pulled (or pulled and failed).
 */
export function runningDigests(pods: readonly V1Pod[], image: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const pod of pods) {
    const originals = originalsOf(pod);
    const statuses = [
      ...(pod.status?.initContainerStatuses ?? []).map((s) => ({ key: `init:${s.name}`, s })),
      ...(pod.status?.containerStatuses ?? []).map((s) => ({ key: s.name, s })),
    ];
    for (const { key, s } of statuses) {
      if (!s.state?.running || originals.get(key) !== image) continue;
      const d = imageIdDigest(s.imageID);
      if (d) out.set(d, (out.get(d) ?? 0) + 1);
    }
  }
  return out;
}

/** A mirror of `image` in a mirror set's status, with the digest it holds. */
export interface MirrorOf {
  set: ImageSetMirror | ClusterImageSetMirror;
  mirror: string;
  digest: string | undefined;
  pinnedDigest: string | undefined;
}

/** Every mirror of `image` that has been copied, across mirror sets. */
export function mirrorsOf(
  sets: readonly (ImageSetMirror | ClusterImageSetMirror)[],
  image: string,
): MirrorOf[] {
  const out: MirrorOf[] = [];
  for (const set of sets)
    for (const entry of set.status?.matchingImages ?? []) {
      if (entry.image !== image) continue;
      for (const m of entry.mirrors ?? [])
        if (m.mirroredAt !== undefined)
          // What the mirror was copied from: a copy filtered to platforms has a digest of its own, so
          // `digest` cannot be compared with the tag's. A mirror copied before `sourceDigest` was
          // recorded is left out of the comparison until it is copied again.
          out.push({
            set,
            mirror: m.image,
            digest: m.sourceDigest,
            pinnedDigest: m.pinnedDigest,
          });
    }
  return out;
}

/** Whether drift applies at all: a tag (a digest reference cannot move). */
export function isTagReference(image: string): boolean {
  const r = parseReference(image);
  return r.ok && r.value.digest === undefined;
}

export interface DriftInput {
  image: string;
  /** What the tag names upstream now (the probe's HEAD). */
  upstream: string;
  running: ReadonlyMap<string, number>;
  mirrors: readonly MirrorOf[];
  action: TagDriftAction;
  /** The drift stored on the entry, to keep its `detectedAt` while the digests stay the same. */
  previous: TagDrift | undefined;
  now: string;
}

/** What to do to a mirror: copy the tag again, or pin it to a digest (and copy that when it differs). */
export type MirrorChange =
  | { kind: 'remirror'; set: MirrorOf['set']; mirror: string }
  | { kind: 'pin'; set: MirrorOf['set']; mirror: string; digest: string; copy: boolean };

export interface DriftVerdict {
  /** Undefined: no drift (the entry's drift is cleared). */
  drift: TagDrift | undefined;
  /** The digests changed since the stored drift (or drift appeared): worth an Event. */
  isNew: boolean;
  changes: MirrorChange[];
}

/**
 * Does the tag drift, and what should happen to the mirrors? Drift: a running container or a
 * mirror holds another digest than the tag names upstream now.
 * - `report`: nothing changes.
 * - `remirror`: every mirror holding another digest than upstream is copied again from the tag.
 * - `pin`: every mirror is pinned to the one digest the running containers use (and copied again
 *   if it holds another); with containers running different digests there is nothing to pin to.
 */
export function judgeDrift(input: DriftInput): DriftVerdict {
  const { upstream, running, mirrors } = input;
  const runningList = [...running.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([digest, containers]) => ({ digest, containers }));
  const mirrorList = mirrors.flatMap((m) => (m.digest ? [{ image: m.mirror, digest: m.digest }] : []));
  const differs =
    runningList.some((r) => r.digest !== upstream) || mirrorList.some((m) => m.digest !== upstream);
  if (!differs) return { drift: undefined, isNew: false, changes: [] };

  const changes: MirrorChange[] = [];
  let action: DriftAction = 'Reported';
  if (input.action === 'remirror') {
    for (const m of mirrors)
      if (m.digest !== upstream) changes.push({ kind: 'remirror', set: m.set, mirror: m.mirror });
    action = 'Remirrored';
  } else if (input.action === 'pin') {
    const only = runningList.length === 1 ? runningList[0]!.digest : undefined;
    if (only === undefined) action = runningList.length === 0 ? 'Reported' : 'PinImpossible';
    else {
      action = 'Pinned';
      for (const m of mirrors)
        if (m.pinnedDigest !== only || m.digest !== only)
          changes.push({ kind: 'pin', set: m.set, mirror: m.mirror, digest: only, copy: m.digest !== only });
    }
  }
  const same =
    input.previous !== undefined &&
    input.previous.upstream === upstream &&
    JSON.stringify(input.previous.running ?? []) === JSON.stringify(runningList) &&
    JSON.stringify(input.previous.mirrors ?? []) === JSON.stringify(mirrorList);
  const drift: TagDrift = {
    upstream,
    ...(mirrorList.length > 0 ? { mirrors: mirrorList } : {}),
    ...(runningList.length > 0 ? { running: runningList } : {}),
    detectedAt: same ? input.previous!.detectedAt : input.now,
    action,
  };
  return { drift, isNew: !same, changes };
}

/** The Event's one-line note. */
export function driftNote(image: string, d: TagDrift): string {
  const short = (x: string) => x.slice(0, 19);
  const run =
    (d.running ?? []).map((r) => `${short(r.digest)} (${r.containers})`).join(', ') || 'none running';
  const mir = (d.mirrors ?? []).map((m) => `${m.image} ${short(m.digest)}`).join(', ') || 'no mirror';
  const did = {
    Reported: 'reported only (monitoring.tagDrift.action: report)',
    Remirrored: 'mirror copied again from the tag',
    Pinned: 'mirror pinned to the running digest',
    PinImpossible: 'not pinned: the running containers use different digests',
  }[d.action ?? 'Reported'];
  return `${image}: the tag names ${short(d.upstream)} upstream; containers run ${run}; mirror: ${mir}; ${did}`;
}

/**
 * The change to a mirror set's status (read-modify-write inside the status writer): remirror
 * removes `mirroredAt` so reconcile copies the tag again (as §4.10's stale mirror does); pin records
 * `pinnedDigest` and, when the mirror holds another digest, removes `mirroredAt` so that digest is
 * copied. False when there was nothing to change.
 */
export function applyMirrorChange(
  status: ImageSetMirrorStatus | undefined,
  image: string,
  change: MirrorChange,
): boolean {
  let changed = false;
  for (const entry of status?.matchingImages ?? []) {
    if (entry.image !== image) continue;
    for (const m of entry.mirrors ?? []) {
      if (m.image !== change.mirror) continue;
      if (change.kind === 'pin' && m.pinnedDigest !== change.digest) {
        m.pinnedDigest = change.digest;
        changed = true;
      }
      if ((change.kind === 'remirror' || change.copy) && m.mirroredAt !== undefined) {
        delete m.mirroredAt;
        changed = true;
      }
    }
  }
  return changed;
}
