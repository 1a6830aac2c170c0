// TypeScript shapes of kuik v2's five kinds (group kuik.enix.io, version v1alpha1), as a user
// writes them and as kuik stores them. Field names and optionality follow kuik v2 exactly so that
// existing YAML applies unchanged (docs/behaviour.md §1); our additions to status are marked "beyond kuik".
// The valibot schemas in schemas.ts validate objects into these types at the boundary.

import type { Condition } from './conditions.ts';

export const GROUP = 'kuik.enix.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Legacy regex filter (§1.2, §3.2); also the per-upstream filter of RIS/CRIS. */
export interface ImageFilterDefinition {
  include?: string[];
  exclude?: string[];
}

/** One item of a namespaced unified filter: exactly one key is set (CEL-enforced). */
export interface FilterItem {
  image?: string;
  label?: string;
  annotation?: string;
}

/** One item of a cluster-scoped unified filter: adds the namespace dimension. */
export interface ClusterFilterItem extends FilterItem {
  namespace?: string;
}

export interface Filter {
  include?: FilterItem[];
  exclude?: FilterItem[];
}

export interface ClusterFilter {
  include?: ClusterFilterItem[];
  exclude?: ClusterFilterItem[];
}

/** `namespace` is ignored on namespaced kinds (the CR's own namespace is used). */
export interface CredentialSecret {
  name?: string;
  namespace?: string;
}

export interface Cleanup {
  enabled?: boolean;
  /** Go duration string, e.g. "24h". */
  retention?: string;
}

export interface Mirror {
  registry?: string;
  path?: string;
  priority?: number;
  credentialSecret?: CredentialSecret;
  /** Accepted for compatibility; kuik never reads it, and neither do we (docs/crds.md). */
  cleanup?: Cleanup;
  /**
   * Beyond kuik: a pull-only credential for this mirror. When set, the router copies this Secret
   * (not `credentialSecret`, which may hold push rights) into application namespaces.
   */
  pullSecret?: CredentialSecret;
}

export interface ReplicatedUpstream {
  registry: string;
  path: string;
  priority?: number;
  discardAlternative?: boolean;
  imageFilter?: ImageFilterDefinition;
  credentialSecret?: CredentialSecret;
}

export interface MirrorStatusEntry {
  image: string;
  mirroredAt?: string;
  lastError?: string;
  /** Beyond kuik: per-platform result of the last copy, `os/arch[/variant]` strings. */
  platforms?: { mirrored?: string[]; missing?: string[] };
  /** Beyond kuik: digest of what was pushed to the mirror. */
  digest?: string;
  /**
   * Beyond kuik: with `monitoring.tagDrift.action: pin`, the digest the running pods use: copies of
   * this mirror copy that digest under the tag (docs/tag-drift.md).
   */
  pinnedDigest?: string;
  /** Beyond kuik: the source manifest the mirror was copied from (its digest differs when filtered to platforms). */
  sourceDigest?: string;
  /**
   * Beyond kuik: blob uploads of a copy in progress, so that a copy restarted in a new process
   * (a Job retry) resumes them instead of sending every byte again. Cleared on success.
   */
  uploads?: UploadSession[];
  /** Beyond kuik: how far the copy in progress is (written at a bounded rate while it runs). */
  progress?: CopyProgressStatus;
}

/** Bytes of the image's blobs at the mirror, of the total its manifests list. */
export interface CopyProgressStatus {
  bytesDone: number;
  bytesTotal: number;
  /** floor(100 × bytesDone / bytesTotal). */
  percent: number;
  /** When this was written (RFC 3339). */
  updatedAt: string;
}

/** One resumable blob upload: the registry's session URL and how many bytes it held. */
export interface UploadSession {
  digest: string;
  location: string;
  offset: number;
}

export interface MatchingImage {
  image: string;
  unusedSince?: string;
  mirrors?: MirrorStatusEntry[];
}

export interface ImageSetMirrorStatus {
  matchingImages?: MatchingImage[];
  /** Beyond kuik: counts for the printer columns (shared/crd/summary.ts). */
  imageCount?: number;
  mirroredCount?: number;
  pendingCount?: number;
  failingCount?: number;
  /** Beyond kuik: the Ready condition. */
  conditions?: Condition[];
}

export interface ImageSetMirrorSpec {
  priority?: number;
  imageFilter?: ImageFilterDefinition;
  filter?: Filter;
  cleanup?: Cleanup;
  mirrors?: Mirror[];
}

export interface ClusterImageSetMirrorSpec extends Omit<ImageSetMirrorSpec, 'filter'> {
  filter?: ClusterFilter;
}

export interface ReplicatedImageSetSpec {
  priority?: number;
  upstreams?: ReplicatedUpstream[];
  filter?: Filter;
}

export interface ClusterReplicatedImageSetSpec extends Omit<ReplicatedImageSetSpec, 'filter'> {
  filter?: ClusterFilter;
}

export const MONITOR_STATUSES = [
  'Scheduled',
  'Available',
  'NotFound',
  'Unreachable',
  'InvalidAuth',
  'UnavailableSecret',
  'QuotaExceeded',
] as const;
export type MonitorStatus = (typeof MONITOR_STATUSES)[number];

export const DRIFT_ACTIONS = ['Reported', 'Remirrored', 'Pinned', 'PinImpossible'] as const;
export type DriftAction = (typeof DRIFT_ACTIONS)[number];

/** Beyond kuik: a tag that names other bytes than the running containers, or the mirror, use. */
export interface TagDrift {
  /** What the tag names upstream now. */
  upstream: string;
  /** What each mirror of the tag holds (its mirror set's status). */
  mirrors?: { image: string; digest: string }[];
  /** What the running containers of the image report, and how many run each. */
  running?: { digest: string; containers: number }[];
  /** When these digests were first seen disagreeing. */
  detectedAt: string;
  action?: DriftAction;
}

export interface MonitoredImage {
  image: string;
  status: MonitorStatus;
  unusedSince?: string;
  lastError?: string;
  lastMonitor?: string;
  original?: boolean;
  /** Beyond kuik: set while the tag drifts (docs/tag-drift.md). */
  drift?: TagDrift;
}

export interface ClusterImageSetAvailabilitySpec {
  /** Go duration; 0 (the default) means never removed. */
  unusedImageExpiry?: string;
  imageFilter?: ImageFilterDefinition;
  filter?: ClusterFilter;
}

/** Beyond kuik: when the next probe of one registry may start, cluster-wide (docs/monitoring.md). */
export interface RegistryPacing {
  /** Registry host as in normalized references: `docker.io`, `quay.io`, `host:5000`. */
  registry: string;
  /** RFC 3339 with milliseconds: no probe of this registry starts before it. */
  nextProbeAt: string;
}

/** Beyond kuik: the monitor tick allowed to probe until `until` (one at a time, cluster-wide). */
export interface MonitorLease {
  holder: string;
  until: string;
}

export const TICK_OUTCOMES = ['Complete', 'BudgetExceeded'] as const;
export type TickOutcome = (typeof TICK_OUTCOMES)[number];

/** Beyond kuik: what the last probing tick did, and where the next one resumes. */
export interface MonitorTickRecord {
  startedAt: string;
  finishedAt: string;
  /** BudgetExceeded: the tick ran out of time with probes it was allowed to make still to do. */
  outcome: TickOutcome;
  /** Probes started. */
  probed: number;
  /** Probes the pacing allowed but the tick had no time left for; the next tick starts with them. */
  pending: number;
  /** The first ClusterImageSetAvailability whose status the tick had no time to write. */
  writeCursor?: string;
}

/**
 * Beyond kuik: the probe ledger. Kept on a single ClusterImageSetAvailability, the oldest, because
 * pacing is per registry across all of them; written with a resourceVersion precondition before
 * any probe starts, so concurrent ticks cannot spend the same budget.
 */
export interface MonitoringLedger {
  lease?: MonitorLease;
  registries?: RegistryPacing[];
  lastTick?: MonitorTickRecord;
}

export interface ClusterImageSetAvailabilityStatus {
  imageCount?: number;
  images?: MonitoredImage[];
  /** Beyond kuik: present on the ledger CISA only. */
  monitoring?: MonitoringLedger;
  /** Beyond kuik: counts for the printer columns and the Ready condition. */
  availableCount?: number;
  unavailableCount?: number;
  conditions?: Condition[];
}

/** Beyond kuik (kuik's RIS/CRIS status is empty): the upstream count and the Ready condition. */
export interface ReplicatedImageSetStatus {
  upstreamCount?: number;
  conditions?: Condition[];
}

interface Resource<K extends string, S, St> {
  apiVersion: typeof API_VERSION;
  kind: K;
  metadata: ObjectMeta;
  spec: S;
  status?: St;
}

export type ImageSetMirror = Resource<'ImageSetMirror', ImageSetMirrorSpec, ImageSetMirrorStatus>;
export type ClusterImageSetMirror = Resource<
  'ClusterImageSetMirror',
  ClusterImageSetMirrorSpec,
  ImageSetMirrorStatus
>;
export type ReplicatedImageSet = Resource<
  'ReplicatedImageSet',
  ReplicatedImageSetSpec,
  ReplicatedImageSetStatus
>;
export type ClusterReplicatedImageSet = Resource<
  'ClusterReplicatedImageSet',
  ClusterReplicatedImageSetSpec,
  ReplicatedImageSetStatus
>;
export type ClusterImageSetAvailability = Resource<
  'ClusterImageSetAvailability',
  ClusterImageSetAvailabilitySpec,
  ClusterImageSetAvailabilityStatus
>;

export type KuikObject =
  | ImageSetMirror
  | ClusterImageSetMirror
  | ReplicatedImageSet
  | ClusterReplicatedImageSet
  | ClusterImageSetAvailability;

export type KuikKind = KuikObject['kind'];

export interface KindInfo {
  kind: KuikKind;
  plural: string;
  shortName: string;
  namespaced: boolean;
}

export const KINDS: readonly KindInfo[] = [
  { kind: 'ImageSetMirror', plural: 'imagesetmirrors', shortName: 'ism', namespaced: true },
  { kind: 'ClusterImageSetMirror', plural: 'clusterimagesetmirrors', shortName: 'cism', namespaced: false },
  { kind: 'ReplicatedImageSet', plural: 'replicatedimagesets', shortName: 'ris', namespaced: true },
  {
    kind: 'ClusterReplicatedImageSet',
    plural: 'clusterreplicatedimagesets',
    shortName: 'cris',
    namespaced: false,
  },
  {
    kind: 'ClusterImageSetAvailability',
    plural: 'clusterimagesetavailabilities',
    shortName: 'cisa',
    namespaced: false,
  },
];

/** Labels, annotations and finalizers kuik v2 uses (§1.10); kept identical for compatibility. */
export const ORIGINAL_IMAGES_ANNOTATION = 'kuik.enix.io/original-images';
export const STATIC_POD_ANNOTATION = 'kubernetes.io/config.mirror';
export const MIRROR_FINALIZER = 'kuik.enix.io/mirror-cleanup';
export const SECRET_FINALIZER = 'kuik.enix.io/secret-cleanup';
export const OWNER_LABELS = {
  version: 'kuik.enix.io/owner-version',
  group: 'kuik.enix.io/owner-group',
  kind: 'kuik.enix.io/owner-kind',
  uid: 'kuik.enix.io/owner-uid',
  name: 'kuik.enix.io/owner-name',
} as const;
/** The marker kuik writes in `unusedSince` for an entry that no longer matches its filter. */
export const INSTANT_EXPIRY = '0001-01-01T01:00:00Z';
