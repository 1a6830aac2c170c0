// The pure parts of a tick that involve a whole CISA: compile its filter and run discovery (§6.2
// steps 2–9), pick the ledger CISA, and compute the status to write at the end of the tick from the
// status as stored at that moment (discovery again, probe results, the ledger). The tick (tick.ts)
// does the I/O around them.
import { isDeepStrictEqual } from 'node:util';
import type { V1Pod } from '@kubernetes/client-node';
import { withAvailabilitySummary } from '#shared/crd/summary.ts';
import type {
  ClusterImageSetAvailability,
  ClusterImageSetAvailabilityStatus,
  MonitoredImage,
  MonitoringLedger,
  MonitorStatus,
  TagDrift,
} from '#shared/crd/types.ts';
import { parseGoDuration } from '#shared/duration.ts';
import {
  compileSelection,
  type FilterError,
  type ImageMatcher,
  invalidFilterNote,
  type PodLike,
} from '#shared/filter/filter.ts';
import { rfc3339 } from '#shared/time.ts';
import { discover, type ImageVolumesOption } from './discovery.ts';

export interface CompiledCisa {
  name: string;
  uid: string;
  cisa: ClusterImageSetAvailability;
  /** Set when the filter does not compile: the CISA is left as it is and is not probed (§6.2 step 2/4, §6.3). */
  filterError?: FilterError;
  /** Pods in scope: accepted by the pod matcher and not globally skipped. */
  pods: V1Pod[];
  imageFilter?: ImageMatcher;
  expiryMs: number;
  /** status.images after discovery (the stored list when the filter is invalid). */
  images: MonitoredImage[];
  /** Image volumes count as images in use (config `imageVolumes`). */
  imageVolumes: boolean;
}

/** §6.2 steps 2–9 for one CISA, on the pods of the tick. */
export function compileCisa(
  cisa: ClusterImageSetAvailability,
  allPods: readonly V1Pod[],
  skip: (pod: PodLike) => boolean,
  originals: ReadonlySet<string>,
  now: number,
  opts: ImageVolumesOption = {},
): CompiledCisa {
  const base = {
    name: cisa.metadata.name ?? '',
    uid: cisa.metadata.uid ?? '',
    cisa,
    expiryMs: expiryOf(cisa),
    imageVolumes: opts.imageVolumes !== false,
  };
  const stored = cisa.status?.images ?? [];
  const sel = compileSelection(cisa);
  if (!sel.ok) return { ...base, filterError: sel.error, pods: [], images: [...stored] };
  const pods = allPods.filter((p) => !skip(p) && sel.value.podMatcher(p));
  const d = discover({
    images: stored,
    pods,
    imageFilter: sel.value.imageFilter,
    expiryMs: base.expiryMs,
    originals,
    now,
    imageVolumes: base.imageVolumes,
  });
  return { ...base, pods, imageFilter: sel.value.imageFilter, images: d.images };
}

/** `spec.unusedImageExpiry`; an unparsable value (stored before the CRD checked it) keeps everything. */
export function expiryOf(cisa: ClusterImageSetAvailability): number {
  const r = parseGoDuration(cisa.spec.unusedImageExpiry ?? '0s');
  return r.ok ? Math.max(0, r.value.ms) : 0;
}

/**
 * The CISA that keeps the ledger: the oldest (then by name). Creating a CISA never moves it; only
 * deleting the ledger CISA does, and the next one then starts from the images' lastMonitor.
 */
export function ledgerHolder(
  cisas: readonly ClusterImageSetAvailability[],
): ClusterImageSetAvailability | undefined {
  let best: ClusterImageSetAvailability | undefined;
  for (const c of cisas) {
    if (!best || older(c, best)) best = c;
  }
  return best;
}

function older(a: ClusterImageSetAvailability, b: ClusterImageSetAvailability): boolean {
  const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
  const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
  if (ta !== tb) return ta < tb;
  return (a.metadata.name ?? '') < (b.metadata.name ?? '');
}

export interface ProbeRecord {
  status: MonitorStatus;
  lastError: string | undefined;
  /** When the probe started (epoch ms); written as lastMonitor. */
  at: number;
  /** Tag drift found after the probe (docs/tag-drift.md): null clears it, undefined leaves it. */
  drift?: TagDrift | null;
}

/**
 * Probe results onto entries (§6.4 steps 3–4). An entry that a later probe already updated (another
 * tick, after this one's lease expired) keeps the newer result; an entry gone meanwhile stays gone.
 */
export function applyResults(
  images: readonly MonitoredImage[],
  results: ReadonlyMap<string, ProbeRecord>,
): MonitoredImage[] {
  return images.map((entry) => {
    const r = results.get(entry.image);
    if (!r) return entry;
    const at = rfc3339(r.at);
    const stored = entry.lastMonitor ? Date.parse(entry.lastMonitor) : Number.NaN;
    if (!Number.isNaN(stored) && stored > Date.parse(at)) return entry;
    const next: MonitoredImage = { ...entry, status: r.status, lastMonitor: at };
    if (r.lastError === undefined) delete next.lastError;
    else next.lastError = r.lastError;
    if (r.drift === null) delete next.drift;
    else if (r.drift !== undefined) next.drift = r.drift;
    return next;
  });
}

export interface FinalStatusInput {
  /** The CISA as stored right now (read by the status writer). */
  stored: ClusterImageSetAvailability;
  /** From compileCisa on the tick's pods, for the filter and scope. */
  compiled: CompiledCisa;
  allOriginals: ReadonlySet<string>;
  results: ReadonlyMap<string, ProbeRecord>;
  /** The ledger to write on the ledger CISA (undefined: leave status.monitoring as stored). */
  ledger: ((stored: MonitoringLedger | undefined) => MonitoringLedger | undefined) | undefined;
  now: number;
}

/**
 * The status to write at the end of the tick, computed from what is stored at write time (so a
 * retried write after a conflict recomputes it): discovery again on the tick's pods, then the
 * probe results, then the ledger. Undefined when nothing changed.
 */
export function finalStatus(input: FinalStatusInput): ClusterImageSetAvailabilityStatus | undefined {
  const { stored, compiled } = input;
  const before = stored.status ?? {};
  let images = before.images ?? [];
  let imageCount = before.imageCount;
  if (!compiled.filterError && compiled.imageFilter) {
    const d = discover({
      images,
      pods: compiled.pods,
      imageFilter: compiled.imageFilter,
      expiryMs: expiryOf(stored),
      originals: input.allOriginals,
      now: input.now,
      imageVolumes: compiled.imageVolumes,
    });
    images = applyResults(d.images, input.results);
    imageCount = images.length;
  }
  let next: ClusterImageSetAvailabilityStatus = { ...before, images };
  if (imageCount !== undefined) next.imageCount = imageCount;
  if (input.ledger) {
    const ledger = input.ledger(before.monitoring);
    if (ledger) next.monitoring = ledger;
  }
  // Beyond kuik: the column counts and the Ready condition, from the images just computed. The
  // monitor reads the spec (the filter) on every tick: it observed this generation.
  const generation = stored.metadata.generation;
  next = withAvailabilitySummary(next, {
    now: input.now,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    ...(compiled.filterError ? { invalidFilter: invalidFilterNote(compiled.filterError) } : {}),
  });
  // Compared as values: the key order of what was read is not ours.
  return isDeepStrictEqual(next, before) ? undefined : next;
}
