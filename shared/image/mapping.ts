// Where an image lives elsewhere: mirror references (§2.4), replicated upstreams (§2.5), mirror
// loop protection (§2.6) and the mirror whose credential pushes a reference (§2.7). Pure string
// work on normalized references; digests ride along (`name@sha256:…`, `name:tag@sha256:…`), which
// is what lets the router route digest-pinned images, something kuik refused to do.

import type { Mirror, ReplicatedUpstream } from '../crd/types.ts';
import { compileUpstreamFilter, type FilterError } from '../filter/filter.ts';
import { cleanJoin, hasLocationPrefix } from './path.ts';
import { type ImageReference, splitRegistryPath } from './reference.ts';

/** A mirror location: `registry` host[:port] and an optional path prefix. */
export type MirrorLocation = Pick<Mirror, 'registry' | 'path'>;

/** `cleanJoin(registry, path)`: the prefix every image of this mirror starts with. */
export function mirrorPrefix(mirror: MirrorLocation): string {
  return cleanJoin(mirror.registry, mirror.path);
}

/**
 * The reference of `source` in `mirror` (§2.4): `cleanJoin(registry, path, <source without its
 * registry>)`. The source registry host is dropped, as in kuik, so `docker.io/bitnami/redis:7` and
 * `ghcr.io/bitnami/redis:7` share one mirror location (QUIRK kept for compatibility with existing
 * mirrors, docs/quirks.md). Tag and digest are kept.
 *
 * The result is a plain string like kuik's; parse it (parseReference) before probing, since a
 * mirror registry with a scheme or without a dot yields something else.
 */
export function mirrorReference(source: ImageReference, mirror: MirrorLocation): string {
  return cleanJoin(mirror.registry, mirror.path, splitRegistryPath(source).path);
}

// --- replicated upstreams (§2.5) ---

export interface UpstreamAlternative {
  /** `cleanJoin(upstream.registry, upstream.path) + suffix`. */
  readonly reference: string;
  /** Index of the upstream in `spec.upstreams` (declaration order). */
  readonly index: number;
  readonly upstream: ReplicatedUpstream;
}

export interface InvalidUpstream {
  readonly index: number;
  readonly error: FilterError;
}

export type UpstreamMapping =
  | {
      readonly matched: false;
      /** Why this CR contributes nothing: no upstream filter matched, or the image lies outside the matching upstream's path. */
      readonly reason: 'no-match' | 'outside-upstream-path';
      readonly invalid: readonly InvalidUpstream[];
    }
  | {
      readonly matched: true;
      /** The first upstream (declaration order) whose prefixed filter matches the image. */
      readonly matchIndex: number;
      /** The matching upstream has `discardAlternative`: the original must not be a candidate. */
      readonly discardOriginal: boolean;
      /** One per valid, non-discarded upstream, in declaration order (the matching one included). */
      readonly alternatives: readonly UpstreamAlternative[];
      /** Upstreams skipped because their imageFilter does not compile (log them). */
      readonly invalid: readonly InvalidUpstream[];
    };

/**
 * Alternatives for a normalized image from one RIS/CRIS (§2.5).
 *
 * 1. The matching upstream is the first whose prefixed filter matches `image` (upstreams whose
 *    filter does not compile are skipped entirely, as match and as target).
 * 2. suffix = `image` minus `cleanJoin(match.registry, match.path)`.
 * 3. One alternative per valid upstream without `discardAlternative`: its own prefix + suffix.
 *
 * Two kuik quirks are fixed (docs/quirks.md): prefixes must end at a boundary (`/`, or `:`/`@`
 * after a path), and an image the filter matched but that does not lie under the matching
 * upstream's path yields no alternatives (`outside-upstream-path`) instead of kuik's garbage
 * `quay.io/thanos/thanosdocker.io/…` references.
 */
export function mapReplicatedUpstreams(
  image: string,
  upstreams: readonly ReplicatedUpstream[] | undefined,
): UpstreamMapping {
  const list = upstreams ?? [];
  const invalid: InvalidUpstream[] = [];
  const valid: boolean[] = [];
  let matchIndex = -1;
  list.forEach((u, index) => {
    const f = compileUpstreamFilter(u, `spec.upstreams[${index}].imageFilter`);
    if (!f.ok) {
      invalid.push({ index, error: f.error });
      valid.push(false);
      return;
    }
    valid.push(true);
    if (matchIndex === -1 && f.value(image)) matchIndex = index;
  });
  const match = list[matchIndex];
  if (match === undefined) return { matched: false, reason: 'no-match', invalid };
  const prefix = mirrorPrefix(match);
  if (!hasLocationPrefix(image, prefix)) return { matched: false, reason: 'outside-upstream-path', invalid };
  const suffix = image.slice(prefix.length);
  const alternatives: UpstreamAlternative[] = [];
  list.forEach((upstream, index) => {
    if (!valid[index] || upstream.discardAlternative === true) return;
    alternatives.push({ reference: mirrorPrefix(upstream) + suffix, index, upstream });
  });
  return {
    matched: true,
    matchIndex,
    discardOriginal: match.discardAlternative === true,
    alternatives,
    invalid,
  };
}

// --- mirror-loop protection (§2.6) ---

export interface MirrorPrefixes {
  /** Prefixes that apply to pods of every namespace (all CISM mirrors, plus ISMs when reconciling a CISM). */
  readonly cluster: readonly string[];
  /** Prefixes that apply only to pods of one namespace (ISM mirrors, when reconciling an ISM). */
  readonly byNamespace: ReadonlyMap<string, readonly string[]>;
}

interface MirrorOwner {
  metadata: { namespace?: string };
  spec: { mirrors?: readonly MirrorLocation[] };
}

/**
 * Gather mirror prefixes (kuik's getAllMirrorPrefixes). Reconciling a CISM (`forCluster`), ISM
 * mirrors of every namespace count for every pod; reconciling an ISM, an ISM's mirrors count for
 * pods of its namespace only. CISM mirrors always count. Empty prefixes (a mirror with neither
 * registry nor path) are dropped: kuik's empty prefix matched every image and stopped all mirroring.
 */
export function collectMirrorPrefixes(
  cisms: readonly MirrorOwner[],
  isms: readonly MirrorOwner[],
  options: { forCluster: boolean },
): MirrorPrefixes {
  const cluster: string[] = [];
  const byNamespace = new Map<string, string[]>();
  const add = (list: string[], mirrors: readonly MirrorLocation[] | undefined) => {
    for (const m of mirrors ?? []) {
      const p = mirrorPrefix(m);
      if (p !== '') list.push(p);
    }
  };
  for (const c of cisms) add(cluster, c.spec.mirrors);
  for (const i of isms) {
    if (options.forCluster) {
      add(cluster, i.spec.mirrors);
      continue;
    }
    const ns = i.metadata.namespace ?? '';
    let list = byNamespace.get(ns);
    if (list === undefined) {
      list = [];
      byNamespace.set(ns, list);
    }
    add(list, i.spec.mirrors);
  }
  return { cluster, byNamespace };
}

/**
 * Whether a pod's current image is itself a mirror copy and must not be recorded as a matching
 * image (§2.6). Prefixes are compared at a boundary: kuik's plain prefix made mirror `reg/mirror`
 * swallow images of `reg/mirror2/…` (QUIRK fixed).
 */
export function isMirroredImage(
  image: string,
  podNamespace: string | undefined,
  prefixes: MirrorPrefixes,
): boolean {
  if (prefixes.cluster.some((p) => hasLocationPrefix(image, p))) return true;
  const ns = prefixes.byNamespace.get(podNamespace ?? '');
  return ns?.some((p) => hasLocationPrefix(image, p)) ?? false;
}

// --- destination credential (§2.7) ---

/**
 * The mirror that owns `reference`: the one whose prefix is the longest boundary prefix of it;
 * on a tie, the first declared. Its `credentialSecret` pushes (and deletes) the reference.
 */
export function mirrorForReference<M extends MirrorLocation>(
  mirrors: readonly M[] | undefined,
  reference: string,
): M | undefined {
  let best: M | undefined;
  let bestLen = 0;
  for (const m of mirrors ?? []) {
    const p = mirrorPrefix(m);
    if (p.length > bestLen && hasLocationPrefix(reference, p)) {
      best = m;
      bestLen = p.length;
    }
  }
  return best;
}
