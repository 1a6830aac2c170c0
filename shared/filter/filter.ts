// Which pods and which images a kuik CR applies to (docs/behaviour.md §3). Everything here compiles a CR's
// filter once into two plain predicates:
//
//   podMatcher(pod)            label, annotation and (cluster kinds) namespace dimensions
//   imageFilter(normalized)    the image dimension, or the deprecated imageFilter (§1.9)
//
// and reports the first invalid pattern or selector as a typed error naming the field, so a caller
// can skip the CR, or emit kuik's `InvalidFilter` event with `filter is invalid: <message>`.
//
// Semantics, in one breath: legacy ImageFilterDefinition = include (default `.*` when only
// excludes are given) minus exclude, and both empty matches NOTHING (§3.2). Unified filter: items
// grouped by dimension, OR within a dimension, AND across dimensions, an empty dimension matches
// everything, any exclude drops (§3.3). An empty unified filter means: every pod, and the legacy
// imageFilter for images.

import type {
  ClusterFilter,
  ClusterFilterItem,
  Filter,
  FilterItem,
  ImageFilterDefinition,
  KuikObject,
  ReplicatedUpstream,
} from '../crd/types.ts';
import { hasLocationPrefix } from '../image/path.ts';
import type { Result } from '../result.ts';
import { compileFullMatch } from './regex.ts';
import { parseSelector, type Selector } from './selector.ts';

/** The part of a Pod the filters read; `V1Pod` from @kubernetes/client-node fits. */
export interface PodLike {
  metadata?: {
    namespace?: string;
    labels?: Readonly<Record<string, string>> | null;
    annotations?: Readonly<Record<string, string>> | null;
  };
}

export type PodMatcher = (pod: PodLike) => boolean;
/** Tests a normalized image reference (`docker.io/library/nginx:1.27`). */
export type ImageMatcher = (normalizedImage: string) => boolean;

export type FilterDimension = 'image' | 'label' | 'annotation' | 'namespace';

export interface FilterError {
  readonly code: 'invalid-regex' | 'invalid-selector';
  /** Which predicate the error breaks: kuik treats them differently (§3.9, CISA). */
  readonly part: 'pod' | 'image';
  /** Path of the offending item, e.g. `spec.filter.include[2].label`. */
  readonly field: string;
  /** The pattern or selector as written. */
  readonly value: string;
  /** `<field>: <reason>`, ready for a log line or the InvalidFilter event note. */
  readonly message: string;
}

export type FilterResult<T> = Result<T, FilterError>;

export const matchAllPods: PodMatcher = () => true;
export const matchAllImages: ImageMatcher = () => true;
export const matchNoImages: ImageMatcher = () => false;

/** The note of kuik's `InvalidFilter` Warning event (§1.10). */
export function invalidFilterNote(error: FilterError): string {
  return `filter is invalid: ${error.message}`;
}

// --- building blocks ---

interface Pattern {
  value: string;
  field: string;
}

function compilePatterns(
  patterns: readonly Pattern[],
  part: FilterError['part'],
): FilterResult<((s: string) => boolean)[]> {
  const out: ((s: string) => boolean)[] = [];
  for (const p of patterns) {
    const r = compileFullMatch(p.value);
    if (!r.ok) {
      return {
        ok: false,
        error: {
          code: 'invalid-regex',
          part,
          field: p.field,
          value: p.value,
          message: `${p.field}: ${r.error.message}`,
        },
      };
    }
    out.push(r.value.matches);
  }
  return { ok: true, value: out };
}

/**
 * kuik's CompileIncludeExcludeFilter (§3.1): a string passes iff it fully matches ≥ 1 include
 * pattern and no exclude pattern. An empty include list lets nothing through.
 */
function compileIncludeExcludePatterns(
  include: readonly Pattern[],
  exclude: readonly Pattern[],
  part: FilterError['part'],
): FilterResult<(s: string) => boolean> {
  const inc = compilePatterns(include, part);
  if (!inc.ok) return inc;
  const exc = compilePatterns(exclude, part);
  if (!exc.ok) return exc;
  const includes = inc.value;
  const excludes = exc.value;
  return {
    ok: true,
    value: (s) => includes.some((m) => m(s)) && !excludes.some((m) => m(s)),
  };
}

const listPatterns = (values: readonly string[] | undefined, field: string): Pattern[] =>
  (values ?? []).map((value, i) => ({ value, field: `${field}[${i}]` }));

/**
 * Plain include/exclude regex matcher (§3.1): full-string RE2 matches, ≥ 1 include and no exclude;
 * empty include matches nothing. `field` names the lists in errors (`<field>.include[0]`).
 */
export function compileIncludeExclude(
  include: readonly string[],
  exclude: readonly string[],
  field = 'filter',
): FilterResult<(s: string) => boolean> {
  return compileIncludeExcludePatterns(
    listPatterns(include, `${field}.include`),
    listPatterns(exclude, `${field}.exclude`),
    'image',
  );
}

/**
 * Legacy `ImageFilterDefinition` (§3.2): only excludes → include everything else; both lists
 * empty (or no definition) → matches nothing.
 */
export function compileLegacyImageFilter(
  def: ImageFilterDefinition | undefined,
  field = 'spec.imageFilter',
): FilterResult<ImageMatcher> {
  const include = listPatterns(def?.include, `${field}.include`);
  const exclude = listPatterns(def?.exclude, `${field}.exclude`);
  if (include.length === 0 && exclude.length === 0) return { ok: true, value: matchNoImages };
  const effectiveInclude = include.length === 0 ? [{ value: '.*', field: `${field}.include` }] : include;
  return compileIncludeExcludePatterns(effectiveInclude, exclude, 'image');
}

/**
 * The per-upstream filter of a RIS/CRIS (§2.5): the image must lie under `upstream.registry` and
 * the legacy filter must match the rest, which therefore starts with `/`
 * (`/library/nginx:1.27`). kuik's prefix test had no boundary (`docker.io` matched
 * `docker.io2/…`); here the registry must be followed by `/` (QUIRK fixed, docs/quirks.md).
 * An upstream without imageFilter never matches.
 */
export function compileUpstreamFilter(
  upstream: Pick<ReplicatedUpstream, 'registry' | 'imageFilter'>,
  field = 'spec.upstreams[0].imageFilter',
): FilterResult<ImageMatcher> {
  const inner = compileLegacyImageFilter(upstream.imageFilter, field);
  if (!inner.ok) return inner;
  const prefix = upstream.registry ?? '';
  const match = inner.value;
  return {
    ok: true,
    value: (image) => hasLocationPrefix(image, prefix) && match(image.slice(prefix.length)),
  };
}

// --- unified filter ---

type AnyFilter = Filter | ClusterFilter;
type AnyItem = FilterItem & Partial<Pick<ClusterFilterItem, 'namespace'>>;

/** kuik's IsEmpty: no include and no exclude items at all (items with empty fields still count). */
export function isFilterEmpty(filter: AnyFilter | undefined): boolean {
  return (filter?.include?.length ?? 0) + (filter?.exclude?.length ?? 0) === 0;
}

/**
 * Drop the namespace dimension of a ClusterFilter (kuik's ToFilter, §3.3 / #43): each item keeps
 * its image, label and annotation; an item that only had a namespace becomes an empty item `{}`,
 * which still counts for isFilterEmpty but selects nothing.
 */
export function projectClusterFilter(filter: ClusterFilter | undefined): Filter {
  const strip = (item: ClusterFilterItem): FilterItem => {
    const out: FilterItem = {};
    if (item.image !== undefined) out.image = item.image;
    if (item.label !== undefined) out.label = item.label;
    if (item.annotation !== undefined) out.annotation = item.annotation;
    return out;
  };
  return {
    include: (filter?.include ?? []).map(strip),
    exclude: (filter?.exclude ?? []).map(strip),
  };
}

/** The non-empty values of one dimension, in declaration order, with their field paths. */
function collect(
  items: readonly AnyItem[] | undefined,
  dimension: FilterDimension,
  field: string,
): Pattern[] {
  const out: Pattern[] = [];
  (items ?? []).forEach((item, i) => {
    const value = item[dimension];
    if (typeof value === 'string' && value !== '') out.push({ value, field: `${field}[${i}].${dimension}` });
  });
  return out;
}

const MATCH_ALL: Pattern[] = [{ value: '.*', field: '' }];

/** Image dimension of a unified filter: an empty include list matches every image. */
function compileImageDimension(filter: AnyFilter, field: string): FilterResult<ImageMatcher> {
  const include = collect(filter.include, 'image', `${field}.include`);
  const exclude = collect(filter.exclude, 'image', `${field}.exclude`);
  return compileIncludeExcludePatterns(include.length === 0 ? MATCH_ALL : include, exclude, 'image');
}

function compileSelectors(patterns: readonly Pattern[]): FilterResult<Selector[]> {
  const out: Selector[] = [];
  for (const p of patterns) {
    const r = parseSelector(p.value);
    if (!r.ok) {
      return {
        ok: false,
        error: {
          code: 'invalid-selector',
          part: 'pod',
          field: p.field,
          value: p.value,
          message: `${p.field}: ${r.error.message}`,
        },
      };
    }
    out.push(r.value);
  }
  return { ok: true, value: out };
}

/** One selector dimension: ≥ 1 include selector (or none given) and no exclude selector. */
function selectorDimension(
  include: Selector[],
  exclude: Selector[],
): (set: Readonly<Record<string, string>> | null | undefined) => boolean {
  return (set) =>
    (include.length === 0 || include.some((s) => s.matches(set))) && !exclude.some((s) => s.matches(set));
}

/**
 * Pod dimensions of a unified filter: labels, then annotations, then (when `withNamespace`) the
 * namespace regexes. Each empty dimension matches every pod. Compile order follows kuik so the
 * first error reported is the same.
 */
function compilePodDimensions(
  filter: AnyFilter,
  field: string,
  withNamespace: boolean,
): FilterResult<PodMatcher> {
  const lists = [
    collect(filter.include, 'label', `${field}.include`),
    collect(filter.exclude, 'label', `${field}.exclude`),
    collect(filter.include, 'annotation', `${field}.include`),
    collect(filter.exclude, 'annotation', `${field}.exclude`),
  ];
  const compiled: Selector[][] = [];
  for (const list of lists) {
    const r = compileSelectors(list);
    if (!r.ok) return r;
    compiled.push(r.value);
  }
  const [incLabels = [], excLabels = [], incAnnotations = [], excAnnotations = []] = compiled;
  const labels = selectorDimension(incLabels, excLabels);
  const annotations = selectorDimension(incAnnotations, excAnnotations);
  if (!withNamespace) {
    return {
      ok: true,
      value: (pod) => labels(pod.metadata?.labels) && annotations(pod.metadata?.annotations),
    };
  }
  const nsInclude = collect(filter.include, 'namespace', `${field}.include`);
  const nsExclude = collect(filter.exclude, 'namespace', `${field}.exclude`);
  const ns = compileIncludeExcludePatterns(nsInclude.length === 0 ? MATCH_ALL : nsInclude, nsExclude, 'pod');
  if (!ns.ok) return ns;
  const namespace = ns.value;
  return {
    ok: true,
    value: (pod) =>
      labels(pod.metadata?.labels) &&
      annotations(pod.metadata?.annotations) &&
      namespace(pod.metadata?.namespace ?? ''),
  };
}

export interface CompiledFilter {
  readonly podMatcher: PodMatcher;
  readonly imageFilter: ImageMatcher;
}

/**
 * Compile a unified Filter (namespaced: `cluster` false, namespace items ignored) or ClusterFilter
 * (`cluster` true) as it stands, without the empty-filter fallback of the accessors below.
 */
export function compileFilter(
  filter: AnyFilter | undefined,
  options: { cluster: boolean; field?: string },
): FilterResult<CompiledFilter> {
  const field = options.field ?? 'spec.filter';
  const f = filter ?? {};
  const pod = compilePodDimensions(f, field, options.cluster);
  if (!pod.ok) return pod;
  const image = compileImageDimension(f, field);
  if (!image.ok) return image;
  return { ok: true, value: { podMatcher: pod.value, imageFilter: image.value } };
}

// --- per-kind accessors (kuik's PodMatcher() / ImageFilter()) ---

const CLUSTER_KINDS: ReadonlySet<KuikObject['kind']> = new Set([
  'ClusterImageSetMirror',
  'ClusterReplicatedImageSet',
  'ClusterImageSetAvailability',
]);

/**
 * The pod matcher of any kuik CR: every pod when `spec.filter` is empty; otherwise its label,
 * annotation and (cluster kinds) namespace dimensions. Image items never affect it.
 */
export function podMatcherFor(obj: KuikObject): FilterResult<PodMatcher> {
  const filter = obj.spec.filter;
  if (isFilterEmpty(filter)) return { ok: true, value: matchAllPods };
  return compilePodDimensions(filter ?? {}, 'spec.filter', CLUSTER_KINDS.has(obj.kind));
}

export interface UpstreamFilter {
  readonly index: number;
  readonly result: FilterResult<ImageMatcher>;
}

/** Each upstream's prefixed filter of a RIS/CRIS, in declaration order; invalid ones carry their error. */
export function upstreamFiltersFor(upstreams: readonly ReplicatedUpstream[] | undefined): UpstreamFilter[] {
  return (upstreams ?? []).map((u, index) => ({
    index,
    result: compileUpstreamFilter(u, `spec.upstreams[${index}].imageFilter`),
  }));
}

/**
 * The image filter of any kuik CR.
 * - ISM, CISM, CISA: the unified filter's image dimension when `spec.filter` has any item
 *   (the deprecated `spec.imageFilter` is then ignored, §1.9); otherwise the legacy imageFilter.
 * - RIS, CRIS: image items of `spec.filter` are ignored (§3.5); an image passes when some upstream
 *   whose imageFilter compiles matches it (§2.5). Upstreams that do not compile are skipped, as
 *   the webhook does, so this never fails for RIS/CRIS.
 */
export function imageFilterFor(obj: KuikObject): FilterResult<ImageMatcher> {
  if (obj.kind === 'ReplicatedImageSet' || obj.kind === 'ClusterReplicatedImageSet') {
    const valid = upstreamFiltersFor(obj.spec.upstreams).flatMap((u) =>
      u.result.ok ? [u.result.value] : [],
    );
    return { ok: true, value: (image) => valid.some((m) => m(image)) };
  }
  const filter = obj.spec.filter;
  if (isFilterEmpty(filter)) return compileLegacyImageFilter(obj.spec.imageFilter);
  return compileImageDimension(filter ?? {}, 'spec.filter');
}

/** Both predicates of a CR, or the first error (pod dimensions are compiled first, as in kuik). */
export function compileSelection(obj: KuikObject): FilterResult<CompiledFilter> {
  const pod = podMatcherFor(obj);
  if (!pod.ok) return pod;
  const image = imageFilterFor(obj);
  if (!image.ok) return image;
  return { ok: true, value: { podMatcher: pod.value, imageFilter: image.value } };
}

// --- global skip (§3.7) ---

/**
 * The operator's global opt-out: a pod matching ANY `skipLabels` selector (on its labels) or ANY
 * `skipAnnotations` selector (on its annotations) is left alone by every function. Invalid
 * selectors are an error (kuik refuses to start).
 */
export function compileGlobalSkip(
  skipLabels: readonly string[] = [],
  skipAnnotations: readonly string[] = [],
): FilterResult<(pod: PodLike) => boolean> {
  const labels = compileSelectors(listPatterns(skipLabels, 'skipLabels'));
  if (!labels.ok) return labels;
  const annotations = compileSelectors(listPatterns(skipAnnotations, 'skipAnnotations'));
  if (!annotations.ok) return annotations;
  const l = labels.value;
  const a = annotations.value;
  if (l.length === 0 && a.length === 0) return { ok: true, value: () => false };
  return {
    ok: true,
    value: (pod) =>
      l.some((s) => s.matches(pod.metadata?.labels)) || a.some((s) => s.matches(pod.metadata?.annotations)),
  };
}
