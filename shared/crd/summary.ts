// The at-a-glance part of each kind's status (beyond kuik): the counts the printer columns show
// and the `Ready` condition. Pure functions of the status the writer is about to store, so every
// writer of a kind (reconcile and copy for mirror sets, the monitor for CISAs, reconcile for
// RIS/CRIS) derives them the same way and they can never disagree with the lists they summarise.
import { type Condition, type ConditionInput, findCondition, READY, setCondition } from './conditions.ts';
import type {
  ClusterImageSetAvailabilityStatus,
  ImageSetMirrorStatus,
  MatchingImage,
  MonitoredImage,
  ReplicatedUpstream,
} from './types.ts';

/** How many entries a message names before it says "and N more". */
const NAMED = 3;

function named<T>(items: readonly T[], render: (t: T) => string): string {
  const shown = items.slice(0, NAMED).map(render).join('; ');
  return items.length > NAMED ? `${shown}; and ${items.length - NAMED} more` : shown;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

// ---- ImageSetMirror / ClusterImageSetMirror -----------------------------------------------------

export interface MirrorSetCounts {
  /** Entries in status.matchingImages (in use or waiting for their retention). */
  imageCount: number;
  /** Mirror entries with `mirroredAt`. */
  mirroredCount: number;
  /** Mirror entries of images in use with neither `mirroredAt` nor `lastError`: a copy is due. */
  pendingCount: number;
  /** Mirror entries of images in use whose last copy failed (`lastError`). */
  failingCount: number;
}

export function mirrorSetCounts(images: readonly MatchingImage[]): MirrorSetCounts {
  const c: MirrorSetCounts = {
    imageCount: images.length,
    mirroredCount: 0,
    pendingCount: 0,
    failingCount: 0,
  };
  for (const e of images) {
    const inUse = e.unusedSince === undefined;
    for (const m of e.mirrors ?? []) {
      if (m.mirroredAt) c.mirroredCount++;
      // An unused entry is never copied again: its old error says nothing about the mirror set now.
      if (!inUse) continue;
      if (m.lastError) c.failingCount++;
      else if (!m.mirroredAt) c.pendingCount++;
    }
  }
  return c;
}

/** The Ready condition of a mirror set, without observedGeneration. */
export function mirrorSetReady(
  images: readonly MatchingImage[],
  invalidFilter?: string,
): Omit<ConditionInput, 'observedGeneration'> {
  if (invalidFilter !== undefined) {
    return { type: READY, status: 'False', reason: 'InvalidFilter', message: invalidFilter };
  }
  const c = mirrorSetCounts(images);
  const inUse = images.filter((e) => e.unusedSince === undefined);
  const total = inUse.reduce((n, e) => n + (e.mirrors?.length ?? 0), 0);
  if (c.failingCount > 0) {
    const failing = inUse.flatMap((e) => (e.mirrors ?? []).filter((m) => m.lastError));
    return {
      type: READY,
      status: 'False',
      reason: 'MirrorFailed',
      message: `${c.failingCount} of ${plural(total, 'mirror')} failed: ${named(failing, (m) => `${m.image}: ${m.lastError}`)}`,
    };
  }
  if (c.pendingCount > 0) {
    return {
      type: READY,
      status: 'Unknown',
      reason: 'Mirroring',
      message: `${c.pendingCount} of ${plural(total, 'mirror')} waiting for their copy`,
    };
  }
  if (inUse.length === 0) {
    return {
      type: READY,
      status: 'True',
      reason: 'NothingToMirror',
      message: 'no running pod uses an image this resource selects',
    };
  }
  return {
    type: READY,
    status: 'True',
    reason: 'Mirrored',
    message: `${plural(total, 'mirror')} of ${plural(inUse.length, 'image')} in use in place`,
  };
}

/**
 * The status with its counts and Ready condition recomputed from `matchingImages`.
 * `observedGeneration` undefined keeps the stored one: the copy function writes entries but does
 * not read the spec, so only reconcile may say which generation it acted on. `invalidFilter`
 * undefined with `keepInvalidFilter` keeps a stored InvalidFilter verdict (a copy finishing after
 * the filter was broken must not call the resource Ready).
 */
export function withMirrorSetSummary(
  status: ImageSetMirrorStatus | undefined,
  opts: { now: number; observedGeneration?: number; invalidFilter?: string; keepInvalidFilter?: boolean },
): ImageSetMirrorStatus {
  const images = status?.matchingImages ?? [];
  const previous = findCondition(status?.conditions, READY);
  const invalid =
    opts.invalidFilter ??
    (opts.keepInvalidFilter && previous?.reason === 'InvalidFilter' ? previous.message : undefined);
  const generation = opts.observedGeneration ?? previous?.observedGeneration;
  const ready = mirrorSetReady(images, invalid);
  return {
    ...status,
    ...mirrorSetCounts(images),
    conditions: setCondition(
      status?.conditions,
      { ...ready, ...(generation !== undefined ? { observedGeneration: generation } : {}) },
      opts.now,
    ),
  };
}

// ---- ClusterImageSetAvailability ---------------------------------------------------------------

export interface AvailabilityCounts {
  availableCount: number;
  /** Checked and not Available (NotFound, Unreachable, InvalidAuth, UnavailableSecret, QuotaExceeded). */
  unavailableCount: number;
}

export function availabilityCounts(images: readonly MonitoredImage[]): AvailabilityCounts {
  let availableCount = 0;
  let unavailableCount = 0;
  for (const i of images) {
    if (i.status === 'Available') availableCount++;
    else if (i.status !== 'Scheduled') unavailableCount++;
  }
  return { availableCount, unavailableCount };
}

/** Ready: every image a pod uses now was checked and is Available (unused ones do not count). */
export function availabilityReady(
  images: readonly MonitoredImage[],
  invalidFilter?: string,
): Omit<ConditionInput, 'observedGeneration'> {
  if (invalidFilter !== undefined) {
    return { type: READY, status: 'False', reason: 'InvalidFilter', message: invalidFilter };
  }
  const inUse = images.filter((i) => i.unusedSince === undefined);
  const down = inUse.filter((i) => i.status !== 'Available' && i.status !== 'Scheduled');
  if (down.length > 0) {
    return {
      type: READY,
      status: 'False',
      reason: 'ImagesUnavailable',
      message: `${down.length} of ${plural(inUse.length, 'image')} in use unavailable: ${named(down, (i) => `${i.image} (${i.status})`)}`,
    };
  }
  const unchecked = inUse.filter((i) => i.status === 'Scheduled').length;
  if (unchecked > 0) {
    return {
      type: READY,
      status: 'Unknown',
      reason: 'Checking',
      message: `${unchecked} of ${plural(inUse.length, 'image')} in use not checked yet`,
    };
  }
  if (inUse.length === 0) {
    return {
      type: READY,
      status: 'True',
      reason: 'NothingToMonitor',
      message: 'no running pod uses an image this resource selects',
    };
  }
  return {
    type: READY,
    status: 'True',
    reason: 'AllAvailable',
    message: `${plural(inUse.length, 'image')} in use, all available`,
  };
}

export function withAvailabilitySummary(
  status: ClusterImageSetAvailabilityStatus,
  opts: { now: number; observedGeneration?: number; invalidFilter?: string },
): ClusterImageSetAvailabilityStatus {
  const images = status.images ?? [];
  return {
    ...status,
    ...availabilityCounts(images),
    conditions: setCondition(
      status.conditions,
      {
        ...availabilityReady(images, opts.invalidFilter),
        ...(opts.observedGeneration !== undefined ? { observedGeneration: opts.observedGeneration } : {}),
      },
      opts.now,
    ),
  };
}

// ---- ReplicatedImageSet / ClusterReplicatedImageSet --------------------------------------------

export interface ReplicatedStatus {
  /** Entries in spec.upstreams. */
  upstreamCount?: number;
  conditions?: Condition[];
}

/**
 * Ready: the pod filter and every upstream's imageFilter compile. The errors come from the same
 * compilers the router uses (an upstream that does not compile is skipped when routing).
 */
export function replicatedReady(
  upstreams: readonly ReplicatedUpstream[],
  errors: { podFilter?: string; upstreams: string[] },
): Omit<ConditionInput, 'observedGeneration'> {
  if (errors.podFilter !== undefined) {
    return { type: READY, status: 'False', reason: 'InvalidFilter', message: errors.podFilter };
  }
  if (errors.upstreams.length > 0) {
    return {
      type: READY,
      status: 'False',
      reason: 'InvalidUpstreamFilter',
      message: `${errors.upstreams.length} of ${plural(upstreams.length, 'upstream')} skipped by the router: ${named(errors.upstreams, (e) => e)}`,
    };
  }
  const matching = upstreams.filter((u) => u.imageFilter !== undefined).length;
  return {
    type: READY,
    status: 'True',
    reason: 'Valid',
    message: `${plural(upstreams.length, 'upstream')}, ${matching} with an imageFilter`,
  };
}

export function withReplicatedSummary(
  status: ReplicatedStatus | undefined,
  upstreams: readonly ReplicatedUpstream[],
  errors: { podFilter?: string; upstreams: string[] },
  opts: { now: number; observedGeneration?: number },
): ReplicatedStatus {
  return {
    ...status,
    upstreamCount: upstreams.length,
    conditions: setCondition(
      status?.conditions,
      {
        ...replicatedReady(upstreams, errors),
        ...(opts.observedGeneration !== undefined ? { observedGeneration: opts.observedGeneration } : {}),
      },
      opts.now,
    ),
  };
}
