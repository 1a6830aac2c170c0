// §4.5: the ordered list of places one container's image can be pulled from. Pure: the CRs that
// apply to the pod (already selected by their pod matchers) and the container in, the sorted,
// de-duplicated alternatives out, each carrying where it came from, so the decision can be
// explained and the right credential found.
import type {
  ClusterImageSetMirror,
  ClusterReplicatedImageSet,
  CredentialSecret,
  ImageSetMirror,
  ReplicatedImageSet,
} from '#shared/crd/types.ts';
import { imageFilterFor } from '#shared/filter/filter.ts';
import { identityKey } from '#shared/identity.ts';
import { mapReplicatedUpstreams, mirrorReference } from '#shared/image/mapping.ts';
import { type ImageReference, parseReference } from '#shared/image/reference.ts';
import { LruCache } from '#shared/lru.ts';

export type RoutingKind =
  | 'ClusterImageSetMirror'
  | 'ImageSetMirror'
  | 'ClusterReplicatedImageSet'
  | 'ReplicatedImageSet';

/** The CRs whose pod matcher accepted the pod, by kind. */
export interface RoutingSet {
  cisms: readonly ClusterImageSetMirror[];
  isms: readonly ImageSetMirror[];
  crises: readonly ClusterReplicatedImageSet[];
  riss: readonly ReplicatedImageSet[];
}

export interface CrRef {
  kind: RoutingKind;
  name: string;
  /** Set for the namespaced kinds. */
  namespace?: string;
  uid: string;
}

export type AlternativeSource =
  | { type: 'original' }
  | {
      type: 'mirror' | 'upstream';
      cr: CrRef;
      /** Index of the mirror / upstream in the CR's spec. */
      index: number;
      /** The credential for this location, namespace resolved (§4.3 step 9). */
      credentialSecret?: { name: string; namespace: string };
      /** Beyond kuik: a pull-only credential to hand to pods instead of `credentialSecret`. */
      pullSecret?: { name: string; namespace: string };
    };

export interface Alternative {
  /** Normalized reference (`harbor.example.com/mirror/library/nginx:1.29`). */
  image: string;
  ref: ImageReference;
  source: AlternativeSource;
}

export interface BuildResult {
  alternatives: Alternative[];
  /** A matching upstream had `discardAlternative`: the original was removed from the list. */
  originalDiscarded: boolean;
  /** Things an operator should know (invalid filters, unusable references), for the decision log. */
  notes: string[];
}

export interface BuildOptions {
  imagePullPolicy?: string | undefined;
  honorPrioritiesOnAlwaysImagePullPolicy: boolean;
}

const TYPE_ORDER: Record<RoutingKind | 'Original', number> = {
  Original: 0,
  ClusterImageSetMirror: 1,
  ImageSetMirror: 2,
  ClusterReplicatedImageSet: 3,
  ReplicatedImageSet: 4,
};

interface Candidate extends Alternative {
  key: [crPriority: number, typeOrder: number, intraPriority: number, declIndex: number];
  /** Deterministic tie-break between CRs of equal key (kuik used informer order: random). */
  tie: string;
}

function resolveSecret(
  secret: CredentialSecret | undefined,
  cr: CrRef,
): { name: string; namespace: string } | undefined {
  if (!secret?.name) return undefined;
  // Namespaced kinds always use their own namespace (§1.2); cluster kinds must name one (CRD rule).
  const namespace = cr.namespace ?? secret.namespace ?? '';
  return { name: secret.name, namespace };
}

function crRef(
  kind: RoutingKind,
  obj: { metadata: { name?: string; namespace?: string; uid?: string } },
): CrRef {
  const ref: CrRef = { kind, name: obj.metadata.name ?? '', uid: obj.metadata.uid ?? '' };
  if (kind === 'ImageSetMirror' || kind === 'ReplicatedImageSet')
    ref.namespace = obj.metadata.namespace ?? '';
  return ref;
}

function compareCandidates(a: Candidate, b: Candidate): number {
  for (let i = 0; i < 4; i++) {
    if (a.key[i]! < b.key[i]!) return -1;
    if (a.key[i]! > b.key[i]!) return 1;
  }
  return a.tie < b.tie ? -1 : a.tie > b.tie ? 1 : 0;
}

function byName<T extends { metadata: { name?: string; namespace?: string } }>(list: readonly T[]): T[] {
  const k = (o: T) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
  return [...list].sort((a, b) => (k(a) < k(b) ? -1 : k(a) > k(b) ? 1 : 0));
}

export function buildAlternatives(
  original: ImageReference,
  crs: RoutingSet,
  opts: BuildOptions,
): BuildResult {
  const notes: string[] = [];
  const candidates: Candidate[] = [];
  let originalDiscarded = false;

  const push = (image: string, source: AlternativeSource, key: Candidate['key'], tie: string) => {
    const parsed = parseReference(image);
    if (!parsed.ok) {
      // kuik denied the pod here (§4.11); an unusable alternative is only skipped.
      notes.push(`skipped alternative ${image}: ${parsed.error.message}`);
      return;
    }
    candidates.push({ image: parsed.value.string, ref: parsed.value, source, key, tie });
  };

  // 1. Replicated sets: CRIS then RIS, each CR in name order so equal keys tie deterministically.
  const replicated: [RoutingKind, readonly (ClusterReplicatedImageSet | ReplicatedImageSet)[]][] = [
    ['ClusterReplicatedImageSet', byName(crs.crises)],
    ['ReplicatedImageSet', byName(crs.riss)],
  ];
  for (const [kind, list] of replicated) {
    for (const cr of list) {
      const ref = crRef(kind, cr);
      const mapping = mapReplicatedUpstreams(original.string, cr.spec.upstreams);
      for (const inv of mapping.invalid) notes.push(`${kind}/${ref.name}: ${inv.error.message}`);
      if (!mapping.matched) continue;
      if (mapping.discardOriginal) originalDiscarded = true;
      for (const alt of mapping.alternatives) {
        const credentialSecret = resolveSecret(alt.upstream.credentialSecret, ref);
        push(
          alt.reference,
          { type: 'upstream', cr: ref, index: alt.index, ...(credentialSecret ? { credentialSecret } : {}) },
          [cr.spec.priority ?? 0, TYPE_ORDER[kind], alt.upstream.priority ?? 0, alt.index],
          `${ref.namespace ?? ''}/${ref.name}`,
        );
      }
    }
  }

  // 2. The original, unless a matching upstream discarded it.
  if (!originalDiscarded) {
    const always = opts.imagePullPolicy === 'Always' && !opts.honorPrioritiesOnAlwaysImagePullPolicy;
    candidates.push({
      image: original.string,
      ref: original,
      source: { type: 'original' },
      key: [always ? Number.NEGATIVE_INFINITY : 0, TYPE_ORDER.Original, 0, 0],
      tie: '',
    });
  }

  // 3. Mirror sets: CISM then ISM. Mirrors are proposed for the original and the upstream
  // alternatives only, never for another set's mirrors: kuik's mirror-of-a-mirror
  // (`reg2/m2/m1/library/nginx`) is a location nothing ever copies to (docs/quirks.md).
  const sources = candidates.filter((c) => c.source.type !== 'mirror');
  const mirrorSets: [RoutingKind, readonly (ClusterImageSetMirror | ImageSetMirror)[]][] = [
    ['ClusterImageSetMirror', byName(crs.cisms)],
    ['ImageSetMirror', byName(crs.isms)],
  ];
  for (const [kind, list] of mirrorSets) {
    for (const cr of list) {
      const ref = crRef(kind, cr);
      const filter = imageFilterFor(cr);
      if (!filter.ok) {
        notes.push(`${kind}/${ref.name} skipped: ${filter.error.message}`);
        continue;
      }
      for (const c of sources) {
        if (!filter.value(c.image)) continue;
        (cr.spec.mirrors ?? []).forEach((mirror, index) => {
          const credentialSecret = resolveSecret(mirror.credentialSecret, ref);
          const pullSecret = resolveSecret(mirror.pullSecret, ref);
          push(
            mirrorReference(c.ref, mirror),
            {
              type: 'mirror',
              cr: ref,
              index,
              ...(credentialSecret ? { credentialSecret } : {}),
              ...(pullSecret ? { pullSecret } : {}),
            },
            [cr.spec.priority ?? 0, TYPE_ORDER[kind], mirror.priority ?? 0, index],
            `${ref.namespace ?? ''}/${ref.name}`,
          );
        });
      }
    }
  }

  // 4. Sort (Array.prototype.sort is stable) and keep the first occurrence of each reference.
  candidates.sort(compareCandidates);
  const seen = new Set<string>();
  const alternatives: Alternative[] = [];
  for (const c of candidates) {
    if (seen.has(c.image)) continue;
    seen.add(c.image);
    alternatives.push({ image: c.image, ref: c.ref, source: c.source });
  }
  return { alternatives, originalDiscarded, notes };
}

// --- memoized ---

const memo = new LruCache<string, BuildResult>(4096);

/**
 * buildAlternatives, remembered: its inputs (the CR objects of the watch cache, which are replaced,
 * never mutated, when a CR changes; the image; the pull policy) repeat on every admission of the
 * same workload. The result is shared: callers must not mutate it.
 */
export function buildAlternativesCached(
  original: ImageReference,
  crs: RoutingSet,
  opts: BuildOptions,
): BuildResult {
  const ids = (l: readonly object[]) => identityKey(l, '.');
  const key = `${ids(crs.cisms)}|${ids(crs.isms)}|${ids(crs.crises)}|${ids(crs.riss)}|${original.string}|${opts.imagePullPolicy ?? ''}|${opts.honorPrioritiesOnAlwaysImagePullPolicy}`;
  let r = memo.get(key);
  if (r === undefined) {
    r = buildAlternatives(original, crs, opts);
    memo.set(key, r);
  }
  return r;
}

/** `Kind/name` (kuik v3's `rewritten-by` form), or `original`. */
export function describeSource(source: AlternativeSource): string {
  return source.type === 'original' ? 'original' : `${source.cr.kind}/${source.cr.name}`;
}
