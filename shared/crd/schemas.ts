// Valibot schemas of kuik's five kinds: the one place where JSON from outside (the API server, a
// CloudEvent, a test fixture) becomes the types of types.ts.
//
// They mirror crds/*.yaml field by field: same keys, types, defaults, bounds and the same rules
// with the same messages (schemas.test.ts walks both trees and fails when they drift; the
// integration test checks the messages against a real kube-apiserver). Messages for the OpenAPI
// bounds use the API server's own wording, so a test can expect one text from either side.
//
// Two modes, one schema:
// - "admission": every rule is enforced, as the API server does on create and update.
// - "stored" (default): only the shape is enforced (types, required keys, enums). An object the
//   API server already holds can break a rule added later (validation ratcheting lets it stay),
//   and kuik still processes such objects: an invalid filter must become an InvalidFilter event
//   and deletion must still work (docs/behaviour.md §3.9), not a parse failure that stops everything. Rule
//   violations are returned as warnings instead.
// Valibot makes this cheap: a failed validation action (kind "validation") leaves the value typed,
// a type mismatch (kind "schema") does not.
import * as v from 'valibot';
import { parseGoDuration } from '../duration.ts';
import { compileFullMatch } from '../filter/regex.ts';
import type { Result } from '../result.ts';
import {
  API_VERSION,
  type ClusterFilter,
  type ClusterImageSetAvailability,
  type ClusterImageSetMirror,
  type ClusterReplicatedImageSet,
  DRIFT_ACTIONS,
  type Filter,
  type ImageFilterDefinition,
  type ImageSetMirror,
  type KuikKind,
  MONITOR_STATUSES,
  type ReplicatedImageSet,
  TICK_OUTCOMES,
} from './types.ts';

/** The messages of the CRDs' CEL rules, word for word. */
export const MESSAGES = {
  filterExactlyOne: 'each filter item must set exactly one of image, label or annotation',
  clusterFilterExactlyOne: 'each filter item must set exactly one of image, label, annotation or namespace',
  includeRegex: 'include contains an invalid regular expression',
  excludeRegex: 'exclude contains an invalid regular expression',
  filterMutex:
    'spec.filter and the deprecated spec.imageFilter are mutually exclusive; fold imageFilter patterns into spec.filter image items',
  risImageItems:
    'spec.filter image items are not supported on ReplicatedImageSet; image selection is per-upstream via spec.upstreams[].imageFilter',
  crisImageItems:
    'spec.filter image items are not supported on ClusterReplicatedImageSet; image selection is per-upstream via spec.upstreams[].imageFilter',
  // Beyond kuik (docs/crds.md, "Validation holes closed").
  filterImageRegex: 'each filter image item must be a valid regular expression',
  filterNamespaceRegex: 'each filter namespace item must be a valid regular expression',
  retention: 'retention must be a non-negative Go duration such as 90m, 1h30m or 720h',
  unusedImageExpiry: 'unusedImageExpiry must be a non-negative Go duration such as 90m, 1h30m or 720h',
  secretNamespace:
    'namespace is required when name is set, because a cluster-scoped resource has no namespace of its own',
} as const;

/** The API server's wording for OpenAPI bounds (k8s.io/apiextensions-apiserver, kube-openapi). */
export const BOUND_MESSAGES = {
  maxLength: (n: number) => `may not be more than ${n} bytes`,
  maxItems: (n: number) => `must have at most ${n} items`,
  minimum: (n: number) => `should be greater than or equal to ${n}`,
  pattern: (p: string) => `should match '${p}'`,
  enum: (values: readonly string[]) => `supported values: ${values.map((x) => JSON.stringify(x)).join(', ')}`,
} as const;

/**
 * The filters' own compiler (RE2 syntax, as Go's regexp and the API server's CEL): it also rejects a
 * pattern that only compiles once wrapped, as CEL's `''.matches(p)` does.
 */
const isRegex = (pattern: string) => compileFullMatch(pattern).ok;

/**
 * A non-negative Go duration, as the CRDs admit it: this pattern (a Go duration without a minus
 * sign; a negative retention or expiry means nothing), then CEL's duration(), i.e. Go's
 * time.ParseDuration, which rejects values beyond int64 nanoseconds (about 292 years).
 */
export const GO_DURATION_PATTERN = '^[+]?(0|(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$';
const GO_DURATION_RE = new RegExp(GO_DURATION_PATTERN);
export const isCrdDuration = (text: string) => GO_DURATION_RE.test(text) && parseGoDuration(text).ok;

// Loose RFC 3339, as the API server's `format: date-time` check accepts it.
const DATE_TIME_RE = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
/** The OCI digest grammar (algorithm ":" encoded), for the digest we add to mirror status. */
export const DIGEST_PATTERN = '^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$';

// ---- leaves --------------------------------------------------------------------------------------

const text = () => v.string('must be of type string');
const obj = <const E extends v.ObjectEntries>(entries: E) => v.object(entries, 'must be of type object');
const bounded = (max: number) => v.pipe(text(), v.maxLength(max, BOUND_MESSAGES.maxLength(max)));
const flag = () => v.boolean('must be of type boolean');
const integer = () => v.pipe(v.number('must be of type integer'), v.integer('must be of type integer'));
const nonNegative = () =>
  v.pipe(
    v.number('must be of type integer'),
    v.integer('must be of type integer'),
    v.minValue(0, BOUND_MESSAGES.minimum(0)),
  );
// v.metadata records the CRD's `format` so that the drift test can compare it.
const timestamp = () =>
  v.pipe(
    text(),
    v.metadata({ format: 'date-time' }),
    v.check((s) => DATE_TIME_RE.test(s), 'must be an RFC 3339 date-time'),
  );
const stringList = () => v.array(text(), 'must be of type array');
const goDuration = (message: string) =>
  v.pipe(text(), v.maxLength(64, BOUND_MESSAGES.maxLength(64)), v.check(isCrdDuration, message));

// ---- shared sub-types (docs/behaviour.md §1.2) ----------------------------------------------------------------

const regexList = (message: string) =>
  v.pipe(
    v.array(bounded(128), 'must be of type array'),
    v.maxLength(16, BOUND_MESSAGES.maxItems(16)),
    v.check((patterns) => patterns.every(isRegex), message),
  );

const ImageFilterDefinitionSchema = obj({
  include: v.optional(regexList(MESSAGES.includeRegex)),
  exclude: v.optional(regexList(MESSAGES.excludeRegex)),
});

const FilterItemSchema = obj({
  image: v.optional(bounded(128)),
  label: v.optional(bounded(512)),
  annotation: v.optional(bounded(512)),
});

const ClusterFilterItemSchema = obj({
  ...FilterItemSchema.entries,
  namespace: v.optional(bounded(128)),
});

/** How many of the given keys an item sets (CEL `has()`: present, even when empty). */
const keysSet = (item: Record<string, unknown>, keys: readonly string[]) =>
  keys.filter((k) => item[k] !== undefined).length;

const filterList = () =>
  v.pipe(
    v.array(FilterItemSchema, 'must be of type array'),
    v.maxLength(16, BOUND_MESSAGES.maxItems(16)),
    v.check(
      (items) => items.every((i) => keysSet(i, ['image', 'label', 'annotation']) === 1),
      MESSAGES.filterExactlyOne,
    ),
    v.check(
      (items) => items.every((i) => i.image === undefined || isRegex(i.image)),
      MESSAGES.filterImageRegex,
    ),
  );

const clusterFilterList = () =>
  v.pipe(
    v.array(ClusterFilterItemSchema, 'must be of type array'),
    v.maxLength(16, BOUND_MESSAGES.maxItems(16)),
    v.check(
      (items) => items.every((i) => keysSet(i, ['image', 'label', 'annotation', 'namespace']) === 1),
      MESSAGES.clusterFilterExactlyOne,
    ),
    v.check(
      (items) => items.every((i) => i.image === undefined || isRegex(i.image)),
      MESSAGES.filterImageRegex,
    ),
    v.check(
      (items) => items.every((i) => i.namespace === undefined || isRegex(i.namespace)),
      MESSAGES.filterNamespaceRegex,
    ),
  );

const FilterSchema = obj({ include: v.optional(filterList()), exclude: v.optional(filterList()) });
const ClusterFilterSchema = obj({
  include: v.optional(clusterFilterList()),
  exclude: v.optional(clusterFilterList()),
});

const credentialSecretEntries = {
  name: v.optional(bounded(253)),
  namespace: v.optional(bounded(63)),
};
const CredentialSecretSchema = obj(credentialSecretEntries);
/** On cluster kinds the Secret's namespace cannot default to the resource's own. */
const ClusterCredentialSecretSchema = v.pipe(
  obj(credentialSecretEntries),
  v.check((s) => !s.name || !!s.namespace, MESSAGES.secretNamespace),
);

const CleanupSchema = obj({
  enabled: v.optional(flag(), false),
  retention: v.optional(goDuration(MESSAGES.retention), '0s'),
});

/**
 * Mirror.cleanup: declared by kuik, never read. Kept as kuik has it, with no defaults and no rule: a
 * duration rule there would run once per mirror, and `mirrors` has no maxItems (kuik's), which puts
 * it over the API server's CEL cost budget.
 */
const LegacyMirrorCleanupSchema = obj({ enabled: v.optional(flag()), retention: v.optional(text()) });

const mirrorSchema = (secret: typeof CredentialSecretSchema | typeof ClusterCredentialSecretSchema) =>
  obj({
    registry: v.optional(text()),
    path: v.optional(text()),
    priority: v.optional(nonNegative(), 0),
    credentialSecret: v.optional(secret),
    pullSecret: v.optional(secret),
    cleanup: v.optional(LegacyMirrorCleanupSchema),
  });

const upstreamSchema = (secret: typeof CredentialSecretSchema | typeof ClusterCredentialSecretSchema) =>
  obj({
    registry: text(),
    path: text(),
    priority: v.optional(nonNegative(), 0),
    discardAlternative: v.optional(flag(), false),
    imageFilter: v.optional(ImageFilterDefinitionSchema),
    credentialSecret: v.optional(secret),
  });

// ---- spec-level rules ----------------------------------------------------------------------------

const hasItems = (f: { include?: unknown; exclude?: unknown } | undefined) =>
  f !== undefined && (f.include !== undefined || f.exclude !== undefined);

/** kuik's CEL rule uses has(): an empty `include: []` still counts as "set". */
const filterMutex = (spec: { imageFilter?: ImageFilterDefinition; filter?: Filter | ClusterFilter }) =>
  !(hasItems(spec.imageFilter) && hasItems(spec.filter));

const noImageItems = (spec: { filter?: Filter | ClusterFilter }) =>
  [...(spec.filter?.include ?? []), ...(spec.filter?.exclude ?? [])].every((i) => i.image === undefined);

// ---- status --------------------------------------------------------------------------------------

/** `x-kubernetes-list-type: map` keyed by image: the API server rejects a duplicate key. */
const uniqueImages = <T extends { image: string }>(items: T[]) =>
  new Set(items.map((i) => i.image)).size === items.length;

// Beyond kuik: how far a copy in progress is.
const CopyProgressSchema = obj({
  bytesDone: nonNegative(),
  bytesTotal: nonNegative(),
  percent: nonNegative(),
  updatedAt: timestamp(),
});

// Beyond kuik: metav1.Condition, keyed by type (shared/crd/conditions.ts).
const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;
const ConditionSchema = obj({
  type: bounded(316),
  status: v.picklist(CONDITION_STATUSES, BOUND_MESSAGES.enum(CONDITION_STATUSES)),
  observedGeneration: v.optional(nonNegative()),
  lastTransitionTime: timestamp(),
  reason: bounded(1024),
  message: bounded(32768),
});
const ConditionsSchema = v.pipe(
  v.array(ConditionSchema, 'must be of type array'),
  v.check((items) => new Set(items.map((i) => i.type)).size === items.length, 'Duplicate value'),
);

const MirrorStatusSchema = obj({
  image: text(),
  mirroredAt: v.optional(timestamp()),
  lastError: v.optional(text()),
  platforms: v.optional(obj({ mirrored: v.optional(stringList()), missing: v.optional(stringList()) })),
  digest: v.optional(
    v.pipe(text(), v.regex(new RegExp(DIGEST_PATTERN), BOUND_MESSAGES.pattern(DIGEST_PATTERN))),
  ),
  pinnedDigest: v.optional(
    v.pipe(text(), v.regex(new RegExp(DIGEST_PATTERN), BOUND_MESSAGES.pattern(DIGEST_PATTERN))),
  ),
  sourceDigest: v.optional(
    v.pipe(text(), v.regex(new RegExp(DIGEST_PATTERN), BOUND_MESSAGES.pattern(DIGEST_PATTERN))),
  ),
  uploads: v.optional(
    v.pipe(
      v.array(
        obj({
          digest: v.pipe(text(), v.regex(new RegExp(DIGEST_PATTERN), BOUND_MESSAGES.pattern(DIGEST_PATTERN))),
          location: bounded(4096),
          offset: nonNegative(),
        }),
        'must be of type array',
      ),
      v.maxLength(16, BOUND_MESSAGES.maxItems(16)),
    ),
  ),
  progress: v.optional(CopyProgressSchema),
});

const MatchingImageSchema = obj({
  image: text(),
  unusedSince: v.optional(timestamp()),
  mirrors: v.optional(
    v.pipe(
      v.array(MirrorStatusSchema, 'must be of type array'),
      v.check((items) => uniqueImages(items), 'Duplicate value'),
    ),
  ),
});

const ImageSetMirrorStatusSchema = obj({
  matchingImages: v.optional(
    v.pipe(
      v.array(MatchingImageSchema, 'must be of type array'),
      v.check((items) => uniqueImages(items), 'Duplicate value'),
    ),
  ),
  imageCount: v.optional(nonNegative()),
  mirroredCount: v.optional(nonNegative()),
  pendingCount: v.optional(nonNegative()),
  failingCount: v.optional(nonNegative()),
  conditions: v.optional(ConditionsSchema),
});

const MonitoredImageSchema = obj({
  image: text(),
  status: v.optional(v.picklist(MONITOR_STATUSES, BOUND_MESSAGES.enum(MONITOR_STATUSES)), 'Scheduled'),
  unusedSince: v.optional(timestamp()),
  lastError: v.optional(text()),
  lastMonitor: v.optional(timestamp()),
  original: v.optional(flag()),
  drift: v.optional(
    obj({
      upstream: text(),
      mirrors: v.optional(
        v.pipe(
          v.array(obj({ image: text(), digest: text() }), 'must be of type array'),
          v.maxLength(32, BOUND_MESSAGES.maxItems(32)),
        ),
      ),
      running: v.optional(
        v.pipe(
          v.array(obj({ digest: text(), containers: integer() }), 'must be of type array'),
          v.maxLength(32, BOUND_MESSAGES.maxItems(32)),
        ),
      ),
      detectedAt: timestamp(),
      action: v.optional(v.picklist(DRIFT_ACTIONS, BOUND_MESSAGES.enum(DRIFT_ACTIONS))),
    }),
  ),
});

// Beyond kuik: the monitor's probe ledger (docs/monitoring.md), on one CISA only.
const MonitoringLedgerSchema = obj({
  lease: v.optional(obj({ holder: text(), until: timestamp() })),
  registries: v.optional(
    v.pipe(
      v.array(obj({ registry: text(), nextProbeAt: timestamp() }), 'must be of type array'),
      v.check((items) => new Set(items.map((i) => i.registry)).size === items.length, 'Duplicate value'),
    ),
  ),
  lastTick: v.optional(
    obj({
      startedAt: timestamp(),
      finishedAt: timestamp(),
      outcome: v.picklist(TICK_OUTCOMES, BOUND_MESSAGES.enum(TICK_OUTCOMES)),
      probed: nonNegative(),
      pending: nonNegative(),
      writeCursor: v.optional(text()),
    }),
  ),
});

const AvailabilityStatusSchema = obj({
  imageCount: v.optional(integer()),
  images: v.optional(
    v.pipe(
      v.array(MonitoredImageSchema, 'must be of type array'),
      v.check((items) => uniqueImages(items), 'Duplicate value'),
    ),
  ),
  monitoring: v.optional(MonitoringLedgerSchema),
  availableCount: v.optional(nonNegative()),
  unavailableCount: v.optional(nonNegative()),
  conditions: v.optional(ConditionsSchema),
});

/** kuik's RIS/CRIS status is empty; ours has the upstream count and the Ready condition. */
const ReplicatedStatusSchema = obj({
  upstreamCount: v.optional(nonNegative()),
  conditions: v.optional(ConditionsSchema),
});

// ---- the five kinds ------------------------------------------------------------------------------

// Only the metadata fields kuik uses are kept (the rest is stripped): never PUT a parsed object back.
const ObjectMetaSchema = obj({
  name: v.optional(text()),
  namespace: v.optional(text()),
  uid: v.optional(text()),
  resourceVersion: v.optional(text()),
  generation: v.optional(integer()),
  creationTimestamp: v.optional(text()),
  deletionTimestamp: v.optional(text()),
  finalizers: v.optional(stringList()),
  labels: v.optional(v.record(v.string(), text())),
  annotations: v.optional(v.record(v.string(), text())),
});

const header = <K extends KuikKind>(kind: K) => ({
  apiVersion: v.literal(API_VERSION, `must be ${API_VERSION}`),
  kind: v.literal(kind, `must be ${kind}`),
  metadata: ObjectMetaSchema,
});

// Each namespaced kind and its cluster-wide twin differ only in the Secret and filter schemas
// (cluster kinds must name a Secret's namespace and may select namespaces) and, for RIS/CRIS, the
// message: one builder per pair.
type SecretSchema = typeof CredentialSecretSchema | typeof ClusterCredentialSecretSchema;
type AnyFilterSchema = typeof FilterSchema | typeof ClusterFilterSchema;

const mirrorSetSpecSchema = <F extends AnyFilterSchema>(secret: SecretSchema, filter: F) =>
  v.pipe(
    obj({
      priority: v.optional(integer(), 0),
      imageFilter: v.optional(ImageFilterDefinitionSchema),
      filter: v.optional(filter),
      cleanup: v.optional(CleanupSchema),
      mirrors: v.optional(v.array(mirrorSchema(secret), 'must be of type array')),
    }),
    v.check((spec) => filterMutex(spec), MESSAGES.filterMutex),
  );

const replicatedSetSpecSchema = <F extends AnyFilterSchema>(
  secret: SecretSchema,
  filter: F,
  imageItemsMessage: string,
) =>
  v.pipe(
    obj({
      priority: v.optional(integer(), 0),
      upstreams: v.optional(
        v.pipe(
          v.array(upstreamSchema(secret), 'must be of type array'),
          v.maxLength(32, BOUND_MESSAGES.maxItems(32)),
        ),
      ),
      filter: v.optional(filter),
    }),
    v.check((spec) => noImageItems(spec), imageItemsMessage),
  );

const ImageSetMirrorSpecSchema = mirrorSetSpecSchema(CredentialSecretSchema, FilterSchema);
const ClusterImageSetMirrorSpecSchema = mirrorSetSpecSchema(
  ClusterCredentialSecretSchema,
  ClusterFilterSchema,
);
const ReplicatedImageSetSpecSchema = replicatedSetSpecSchema(
  CredentialSecretSchema,
  FilterSchema,
  MESSAGES.risImageItems,
);
const ClusterReplicatedImageSetSpecSchema = replicatedSetSpecSchema(
  ClusterCredentialSecretSchema,
  ClusterFilterSchema,
  MESSAGES.crisImageItems,
);

const ClusterImageSetAvailabilitySpecSchema = v.pipe(
  obj({
    unusedImageExpiry: v.optional(goDuration(MESSAGES.unusedImageExpiry), '0s'),
    imageFilter: v.optional(ImageFilterDefinitionSchema),
    filter: v.optional(ClusterFilterSchema),
  }),
  v.check((spec) => filterMutex(spec), MESSAGES.filterMutex),
);

// `spec` defaults to {} (as in the CRDs) so that its own defaults apply to `spec:` with no value.
export const SCHEMAS = {
  ImageSetMirror: obj({
    ...header('ImageSetMirror'),
    spec: v.optional(ImageSetMirrorSpecSchema, {}),
    status: v.optional(ImageSetMirrorStatusSchema),
  }),
  ClusterImageSetMirror: obj({
    ...header('ClusterImageSetMirror'),
    spec: v.optional(ClusterImageSetMirrorSpecSchema, {}),
    status: v.optional(ImageSetMirrorStatusSchema),
  }),
  ReplicatedImageSet: obj({
    ...header('ReplicatedImageSet'),
    spec: v.optional(ReplicatedImageSetSpecSchema, {}),
    status: v.optional(ReplicatedStatusSchema),
  }),
  ClusterReplicatedImageSet: obj({
    ...header('ClusterReplicatedImageSet'),
    spec: v.optional(ClusterReplicatedImageSetSpecSchema, {}),
    status: v.optional(ReplicatedStatusSchema),
  }),
  ClusterImageSetAvailability: obj({
    ...header('ClusterImageSetAvailability'),
    spec: v.optional(ClusterImageSetAvailabilitySpecSchema, {}),
    status: v.optional(AvailabilityStatusSchema),
  }),
} as const;

// ---- parsing -------------------------------------------------------------------------------------

export interface KindTypes {
  ImageSetMirror: ImageSetMirror;
  ClusterImageSetMirror: ClusterImageSetMirror;
  ReplicatedImageSet: ReplicatedImageSet;
  ClusterReplicatedImageSet: ClusterReplicatedImageSet;
  ClusterImageSetAvailability: ClusterImageSetAvailability;
}

export type ParseMode = 'stored' | 'admission';

/** The object, and the rule violations tolerated in "stored" mode, formatted. */
export type ParseResult<T> = Result<{ object: T; warnings: string[] }>;

/** `spec.mirrors[0].priority`: the API server's field path notation. */
export function issuePath(issue: v.BaseIssue<unknown>): string {
  let out = '';
  for (const step of issue.path ?? []) {
    if (step.type === 'array') out += `[${String(step.key)}]`;
    else out += out ? `.${String(step.key)}` : String(step.key);
  }
  return out;
}

/**
 * On create and update the API server drops a property whose value is null (none of ours is
 * nullable) before defaulting, so `spec:` with nothing after it behaves like no spec. Do the same.
 * (Server-side apply is stricter: it drops a null only where the schema has a default and rejects
 * the others; measured on kube-apiserver 1.35.)
 */
export function dropNullFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNullFields);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) if (item !== null) out[key] = dropNullFields(item);
  return out;
}

function formatIssue(issue: v.BaseIssue<unknown>): string {
  const path = issuePath(issue);
  // A missing required key is reported by its parent object with `received: "undefined"`.
  const message =
    issue.kind === 'schema' && issue.type === 'object' && issue.received === 'undefined'
      ? 'Required value'
      : issue.message;
  return path ? `${path}: ${message}` : message;
}

/**
 * Validates `input` as a kuik object of `kind`, applying the CRD defaults. The error (or each
 * warning) names the field: `spec.mirrors[0].priority: should be greater than or equal to 0`.
 */
export function parseKuikObject<K extends KuikKind>(
  kind: K,
  input: unknown,
  mode: ParseMode = 'stored',
): ParseResult<KindTypes[K]> {
  const result = v.safeParse(SCHEMAS[kind], dropNullFields(input));
  const issues = (result.issues ?? []).map(formatIssue);
  if (result.success) return { ok: true, value: { object: result.output as KindTypes[K], warnings: [] } };
  if (mode === 'stored' && result.typed) {
    return { ok: true, value: { object: result.output as KindTypes[K], warnings: issues } };
  }
  return { ok: false, error: `${kind} is invalid: ${issues.join('; ')}` };
}

// ---- compile-time drift checks -------------------------------------------------------------------
// types.ts and these schemas describe the same objects; the type checker fails when they differ.

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Every dotted key path of T, through arrays; `Record<string, never>` has none. */
type Paths<T> = T extends readonly (infer U)[]
  ? Paths<U>
  : T extends object
    ? {
        [K in keyof T & string]-?: [T[K]] extends [never] ? never : K | `${K}.${Paths<NonNullable<T[K]>>}`;
      }[keyof T & string]
    : never;
/** A parsed value is a valid T, and both name exactly the same fields. */
type Matches<S extends v.GenericSchema, T> = [
  v.InferOutput<S> extends T ? true : false,
  Equals<Paths<v.InferOutput<S>>, Paths<T>>,
];

export type SchemaDriftChecks = [
  Matches<typeof SCHEMAS.ImageSetMirror, ImageSetMirror> extends [true, true] ? true : never,
  Matches<typeof SCHEMAS.ClusterImageSetMirror, ClusterImageSetMirror> extends [true, true] ? true : never,
  Matches<typeof SCHEMAS.ReplicatedImageSet, ReplicatedImageSet> extends [true, true] ? true : never,
  Matches<typeof SCHEMAS.ClusterReplicatedImageSet, ClusterReplicatedImageSet> extends [true, true]
    ? true
    : never,
  Matches<typeof SCHEMAS.ClusterImageSetAvailability, ClusterImageSetAvailability> extends [true, true]
    ? true
    : never,
];
// Instantiating the tuple with `true` fails to compile when any entry is `never`.
export const SCHEMA_DRIFT_CHECKS: SchemaDriftChecks = [true, true, true, true, true];
