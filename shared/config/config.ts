// The operator configuration (docs/behaviour.md §8): kuik v2's keys and defaults, read from the same YAML file,
// merged the same way, validated at start with messages that name the key.
//
// Loading, as kuik does it (koanf + mapstructure):
// - a missing file means the built-in defaults; an unreadable file or invalid YAML is an error;
// - the file is deep-merged over the defaults: maps merge key by key (so the built-in
//   `monitoring.registries.items.docker.io` entry stays unless overridden field by field), lists
//   replace (`mirroring.platforms`, `skipLabels`, `skipAnnotations`, `legacy.custom`);
// - `null` resets a key to its zero value (`items: {docker.io: null}` drops the built-in override);
// - durations are Go duration strings, or bare integers counting nanoseconds.
// Validation goes beyond kuik's (which checked platforms, selectors and the legacy histogram only):
// every key is type-checked and ranged, see docs/configuration.md. Unknown keys are reported as
// warnings, not errors, so a typo is visible in the log without taking the operator down.

import { readFile } from 'node:fs/promises';
import * as v from 'valibot';
import { parseDocument } from 'yaml';
import { parseDurationValue } from '../duration.ts';
import { errorMessage } from '../errors.ts';
import { compileGlobalSkip } from '../filter/filter.ts';
import { TLS_MIN_VERSIONS, type TlsMinVersion, tlsPolicyProblems } from '../http/tls-policy.ts';
import type { Result } from '../result.ts';
import { parseSize } from '../size.ts';

/** Where kuik's Helm chart mounts the ConfigMap; ours does the same. */
export const DEFAULT_CONFIG_PATH = '/etc/kube-image-keeper/config.yaml';

/** Milliseconds. Every duration in Config is converted to this unit. */
export type Millis = number;

export interface Platform {
  os: string;
  architecture: string;
  variant: string;
}

export interface SecretReference {
  name: string;
  namespace: string;
}

export type ProbeMethod = 'HEAD' | 'GET';

/** One `monitoring.registries` entry as written. In `items`, zero values mean "inherit the default". */
export interface RegistryMonitoring {
  /** `''` only in items (inherit). */
  method: ProbeMethod | '';
  interval: Millis;
  maxPerInterval: number;
  timeout: Millis;
  /** Three-state: null = inherit (off when the default is unset too). */
  resolveDigest: boolean | null;
  fallbackCredentialSecret: SecretReference | null;
}

/** The settings that apply to one registry after merging its item over the default (§8.2). */
export interface ResolvedRegistryMonitoring {
  method: ProbeMethod;
  interval: Millis;
  maxPerInterval: number;
  timeout: Millis;
  resolveDigest: boolean;
  fallbackCredentialSecret: SecretReference | null;
}

export const TAG_DRIFT_ACTIONS = ['report', 'remirror', 'pin'] as const;
export type TagDriftAction = (typeof TAG_DRIFT_ACTIONS)[number];

export type LegacyBucketType = '' | 'exponential' | 'exponentialRange' | 'custom' | 'disabled';

export interface Config {
  skipLabels: string[];
  skipAnnotations: string[];
  /**
   * Beyond kuik: image volumes (`spec.volumes[].image.reference`) are routed, mirrored and
   * monitored like container images (docs/image-volumes.md).
   */
  imageVolumes: boolean;
  routing: {
    activeCheck: {
      timeout: Millis;
      resolveDigest: boolean;
      /** Beyond kuik: how long a probe result is reused by the router (kuik's check cache). */
      cacheTTL: Millis;
      staleMirrorCleanup: { maxConcurrent: number; timeout: Millis };
    };
    rewriteOnNeverImagePullPolicy: boolean;
    honorPrioritiesOnAlwaysImagePullPolicy: boolean;
  };
  mirroring: { platforms: Platform[] };
  monitoring: {
    registries: { default: RegistryMonitoring; items: Record<string, RegistryMonitoring> };
    /** Beyond kuik: how long one monitor tick may run before it stops and records where it got. */
    tickBudget: Millis;
    /** Beyond kuik: probes of one registry in flight at once (pacing still spaces their starts). */
    probeConcurrency: number;
    /** Beyond kuik: ticks start at most this often; others are coalesced (0: only while one runs). */
    minTickInterval: Millis;
    /**
     * Beyond kuik: rate limits shared with other clusters through records in a registry they all
     * write to (docs/shared-quota.md). `registry` empty: off.
     */
    sharedQuota: { registry: string; repository: string; credentialSecret: SecretReference | null };
    /** Beyond kuik: what to do when a running container's digest differs from its tag's now (docs/tag-drift.md). */
    tagDrift: { action: TagDriftAction };
  };
  /** Beyond kuik: every function's HTTP servers (docs/reliability.md). */
  server: ServerConfig;
  metrics: {
    imageLastMonitorAgeMinutes: {
      bucketFactor: number;
      zeroThreshold: number;
      maxBucketNumber: number;
      legacy: {
        bucketType: LegacyBucketType;
        start: number;
        factor: number;
        count: number;
        min: number;
        max: number;
        custom: number[];
      };
    };
  };
}

export type FunctionName = 'router' | 'reconcile' | 'monitor' | 'copy';

export interface ServerConfig {
  headersTimeout: Millis;
  requestTimeout: Millis;
  /** Largest request body each function accepts, in bytes. */
  bodyLimit: Record<FunctionName, number>;
  /** The router's webhook port (kube-apiserver's --tls-min-version, --tls-cipher-suites). */
  tls: { minVersion: TlsMinVersion; cipherSuites: string[] };
}

export interface ConfigError {
  readonly code: 'read' | 'yaml' | 'invalid';
  /** The offending key, e.g. `monitoring.registries.default.method` (absent for read/yaml errors). */
  readonly key?: string;
  /** `<key>: <what is wrong>` for invalid values; the first problem when there are several. */
  readonly message: string;
  /** Every problem found, one line each. */
  readonly problems: readonly string[];
  readonly file?: string;
}

export type ConfigResult = Result<{ config: Config; warnings: string[]; source: string }, ConfigError>;

// --- defaults (kuik's defaultConfig, in YAML shape so they merge like a file) ---

/**
 * The built-in configuration, written as a user would write it. Keys beyond kuik are marked;
 * add new ones here with their default, in the schema below, and in docs/configuration.md.
 */
export const DEFAULTS = {
  skipLabels: [],
  skipAnnotations: [],
  // beyond kuik; on, because kuik predates image volumes and a pod that mounts one from a registry
  // that is down fails like one whose container image is (docs/image-volumes.md)
  imageVolumes: true,
  routing: {
    activeCheck: {
      timeout: '1s',
      resolveDigest: false,
      cacheTTL: '1s', // beyond kuik
      staleMirrorCleanup: { maxConcurrent: 10, timeout: '5s' },
    },
    rewriteOnNeverImagePullPolicy: false,
    honorPrioritiesOnAlwaysImagePullPolicy: false,
  },
  mirroring: { platforms: [{ architecture: 'amd64' }] },
  monitoring: {
    registries: {
      default: {
        method: 'HEAD',
        interval: '3h',
        maxPerInterval: 25,
        timeout: '0s',
        resolveDigest: null,
        fallbackCredentialSecret: null,
      },
      items: { 'docker.io': { interval: '1h', maxPerInterval: 6 } },
    },
    tickBudget: '45s', // beyond kuik
    probeConcurrency: 8, // beyond kuik
    minTickInterval: '20s', // beyond kuik
    sharedQuota: { registry: '', repository: 'kuik/quota', credentialSecret: null }, // beyond kuik
    tagDrift: { action: 'report' }, // beyond kuik
  },
  // beyond kuik, all of it (docs/reliability.md)
  server: {
    headersTimeout: '3s',
    requestTimeout: '5s',
    bodyLimit: {
      // controller-runtime's limit (kuik's webhook server): above the apiserver's 3 MiB requests,
      // with room for an UPDATE review's oldObject.
      router: '7Mi',
      // ApiServerSource events carry whole objects (at most the apiserver's 3 MiB).
      reconcile: '4Mi',
      // A tick: an empty POST or a PingSource event with the schedule's small data.
      monitor: '64Ki',
      // One copy request: two image names and a few references.
      copy: '1Mi',
    },
    tls: { minVersion: 'VersionTLS12', cipherSuites: [] },
  },
  metrics: {
    imageLastMonitorAgeMinutes: {
      bucketFactor: 1.1,
      zeroThreshold: 1.0,
      maxBucketNumber: 20,
      legacy: {
        bucketType: '',
        start: 1,
        factor: 1.94,
        count: 12,
        min: 1,
        max: 1440,
        custom: [1, 5, 10, 30, 60, 120, 180, 360, 720, 1440],
      },
    },
  },
} as const;

// --- merge ---

type Plain = Record<string, unknown>;

const isPlainObject = (x: unknown): x is Plain =>
  typeof x === 'object' && x !== null && !Array.isArray(x) && Object.getPrototypeOf(x) === Object.prototype;

/** koanf's merge: maps merge recursively, anything else (lists, scalars, null) replaces. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return structuredClone(over);
  const out: Plain = structuredClone(base);
  for (const [k, value] of Object.entries(over))
    out[k] = k in out ? deepMerge(out[k], value) : structuredClone(value);
  return out;
}

// --- schema ---

const DURATION_HINT = 'must be a duration such as "500ms", "1s" or "1h30m", or a whole number of nanoseconds';

/** A Go duration (string, or integer nanoseconds) to milliseconds; null is the zero value. */
function duration(rule: 'nonNegative' | 'positive') {
  // optional(…, null): a missing key runs the transform on null, i.e. takes the zero value.
  return v.optional(duration_(rule), null);
}

function duration_(rule: 'nonNegative' | 'positive') {
  return v.pipe(
    v.unknown(),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const x = dataset.value;
      if (x === null || x === undefined) {
        if (rule === 'positive') {
          addIssue({ message: 'must be a positive duration' });
          return NEVER;
        }
        return 0;
      }
      if (typeof x !== 'string' && typeof x !== 'number') {
        addIssue({ message: DURATION_HINT });
        return NEVER;
      }
      const r = parseDurationValue(x);
      if (!r.ok) {
        addIssue({ message: `${DURATION_HINT} (${r.error.message})` });
        return NEVER;
      }
      if (rule === 'positive' && r.value.ms <= 0) {
        addIssue({ message: 'must be a positive duration' });
        return NEVER;
      }
      if (r.value.ms < 0) {
        addIssue({ message: 'must not be negative' });
        return NEVER;
      }
      return r.value.ms;
    }),
  );
}

const bool = (fallback: boolean) => v.nullish(v.boolean('must be true or false'), fallback);
const str = () => v.nullish(v.string('must be a string'), '');
const num = (fallback: number) => v.nullish(v.number('must be a number'), fallback);
const int = (min: number, minMessage: string, max = Number.MAX_SAFE_INTEGER) =>
  v.nullish(
    v.pipe(
      v.number('must be an integer'),
      v.integer('must be an integer'),
      v.minValue(min, minMessage),
      v.maxValue(max, `must be at most ${max}`),
    ),
    0,
  );

/** A byte size (`parseSize`): a whole number of bytes or `64Ki`, `7Mi`, `1Gi`. */
function size(min: number, minMessage: string) {
  return v.pipe(
    v.unknown(),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const r = parseSize(dataset.value);
      if (!r.ok) {
        addIssue({ message: r.error });
        return NEVER;
      }
      if (r.value < min) {
        addIssue({ message: minMessage });
        return NEVER;
      }
      return r.value;
    }),
  );
}

const selectorList = v.nullish(
  v.array(v.string('must be a selector string'), 'must be a list of selector strings'),
  [],
);

const secretReference = v.nullish(
  v.object(
    {
      name: v.pipe(str(), v.minLength(1, 'is required')),
      namespace: v.pipe(str(), v.minLength(1, 'is required (the Secret is looked up cluster-wide)')),
    },
    'must be an object {name, namespace}',
  ),
  null,
);

/** `default` and each `items` entry; `isDefault` makes zero values invalid instead of "inherit". */
function registryMonitoring(isDefault: boolean) {
  return v.nullish(
    v.object(
      {
        method: isDefault
          ? v.picklist(['HEAD', 'GET'], 'must be HEAD or GET')
          : v.nullish(v.picklist(['', 'HEAD', 'GET'], 'must be HEAD or GET (or empty to inherit)'), ''),
        interval: duration(isDefault ? 'positive' : 'nonNegative'),
        maxPerInterval: isDefault
          ? v.pipe(
              int(0, 'must be greater than 0'),
              v.minValue(1, 'must be greater than 0 (it divides the interval)'),
            )
          : int(0, 'must not be negative (0 inherits the default)'),
        timeout: duration('nonNegative'),
        resolveDigest: v.nullish(v.boolean('must be true, false or null'), null),
        fallbackCredentialSecret: secretReference,
      },
      'must be an object',
    ),
    // null item: every field inherits (kuik decodes a null item as zero values).
    {
      method: '',
      interval: 0,
      maxPerInterval: 0,
      timeout: 0,
      resolveDigest: null,
      fallbackCredentialSecret: null,
    },
  );
}

const platform = v.object(
  {
    os: str(),
    architecture: v.pipe(str(), v.minLength(1, 'is required')),
    variant: str(),
  },
  'must be an object {os, architecture, variant}',
);

const ConfigSchema = v.object(
  {
    skipLabels: selectorList,
    skipAnnotations: selectorList,
    imageVolumes: bool(false),
    routing: v.object(
      {
        activeCheck: v.object(
          {
            timeout: duration('nonNegative'),
            resolveDigest: bool(false),
            cacheTTL: duration('nonNegative'),
            staleMirrorCleanup: v.object(
              {
                maxConcurrent: int(0, 'must not be negative (0 disables stale-mirror clearing)'),
                timeout: duration('nonNegative'),
              },
              'must be an object',
            ),
          },
          'must be an object',
        ),
        rewriteOnNeverImagePullPolicy: bool(false),
        honorPrioritiesOnAlwaysImagePullPolicy: bool(false),
      },
      'must be an object',
    ),
    mirroring: v.object(
      {
        platforms: v.pipe(
          v.nullish(v.array(platform, 'must be a list of platforms'), []),
          v.minLength(1, 'must list at least one platform'),
        ),
      },
      'must be an object',
    ),
    monitoring: v.object(
      {
        registries: v.object(
          {
            default: registryMonitoring(true),
            items: v.nullish(
              v.record(
                v.pipe(v.string(), v.minLength(1, 'registry host must not be empty')),
                registryMonitoring(false),
              ),
              {},
            ),
          },
          'must be an object',
        ),
        tickBudget: duration('positive'),
        probeConcurrency: v.pipe(
          int(0, 'must be at least 1'),
          v.minValue(1, 'must be at least 1 (probes of one registry in flight at once)'),
        ),
        minTickInterval: duration('nonNegative'),
        sharedQuota: v.object(
          {
            // A host, as in image references: `mirror.example.com` or `10.0.0.5:5000`.
            registry: v.pipe(
              str(),
              v.regex(
                /^$|^[A-Za-z0-9.-]+(:\d+)?$/,
                'must be a registry host such as mirror.example.com:5000',
              ),
            ),
            repository: v.pipe(
              str(),
              v.regex(
                /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/,
                'must be a repository path',
              ),
            ),
            credentialSecret: secretReference,
          },
          'must be an object',
        ),
        tagDrift: v.object(
          {
            action: v.picklist(TAG_DRIFT_ACTIONS, `must be one of ${TAG_DRIFT_ACTIONS.join(', ')}`),
          },
          'must be an object',
        ),
      },
      'must be an object',
    ),
    server: v.object(
      {
        headersTimeout: duration('positive'),
        requestTimeout: duration('positive'),
        bodyLimit: v.object(
          {
            // Below 3 MiB the router would refuse reviews of objects the apiserver accepted.
            router: size(3 * 1024 * 1024, 'must be at least 3Mi (the API server takes 3 MiB requests)'),
            reconcile: size(1, 'must be greater than 0'),
            monitor: size(1, 'must be greater than 0'),
            copy: size(1, 'must be greater than 0'),
          },
          'must be an object',
        ),
        tls: v.object(
          {
            minVersion: v.picklist(
              TLS_MIN_VERSIONS,
              `must be ${TLS_MIN_VERSIONS.join(' or ')} (TLS 1.0 and 1.1 are not served)`,
            ),
            cipherSuites: v.nullish(
              v.array(v.string('must be a suite name'), 'must be a list of suite names'),
              [],
            ),
          },
          'must be an object',
        ),
      },
      'must be an object',
    ),
    metrics: v.object(
      {
        imageLastMonitorAgeMinutes: v.object(
          {
            bucketFactor: num(0),
            zeroThreshold: num(0),
            maxBucketNumber: int(0, 'must not be negative', 0xffffffff),
            legacy: v.object(
              {
                bucketType: v.nullish(
                  v.picklist(
                    ['', 'exponential', 'exponentialRange', 'custom', 'disabled'],
                    'must be "exponential", "exponentialRange", "custom" or "disabled"',
                  ),
                  '',
                ),
                start: num(0),
                factor: num(0),
                count: int(Number.MIN_SAFE_INTEGER, ''),
                min: num(0),
                max: num(0),
                custom: v.nullish(v.array(v.number('must be a number'), 'must be a list of numbers'), []),
              },
              'must be an object',
            ),
          },
          'must be an object',
        ),
      },
      'must be an object',
    ),
  },
  'must be a mapping',
);

// --- error paths ---

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `monitoring.registries.items["quay.io"].interval`, `mirroring.platforms[1].architecture`. */
export function formatKey(path: readonly (string | number)[]): string {
  let out = '';
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    else if (IDENT.test(k)) out += out === '' ? k : `.${k}`;
    else out += `[${JSON.stringify(k)}]`;
  }
  return out;
}

function issueKey(issue: v.BaseIssue<unknown>): string {
  return formatKey((issue.path ?? []).map((p) => p.key as string | number));
}

// --- cross-field checks kuik also makes (legacy histogram, selectors) ---

/** Beyond kuik: the server section's checks that span fields. */
function serverProblems(c: Config): Problem[] {
  const out: Problem[] = [];
  if (c.server.headersTimeout > c.server.requestTimeout)
    out.push({ key: 'server.headersTimeout', message: 'must not be longer than server.requestTimeout' });
  for (const message of tlsPolicyProblems(c.server.tls))
    out.push({ key: 'server.tls.cipherSuites', message });
  return out;
}

interface Problem {
  key: string;
  message: string;
}

function legacyHistogramProblems(c: Config): Problem[] {
  const l = c.metrics.imageLastMonitorAgeMinutes.legacy;
  const base = 'metrics.imageLastMonitorAgeMinutes.legacy';
  const out: Problem[] = [];
  const countOk = () => {
    if (l.count < 1) out.push({ key: `${base}.count`, message: `must be at least 1, got ${l.count}` });
  };
  switch (l.bucketType) {
    case 'disabled':
      break;
    case '':
    case 'exponential':
      if (l.start <= 0) out.push({ key: `${base}.start`, message: `must be positive, got ${l.start}` });
      if (l.factor <= 1)
        out.push({ key: `${base}.factor`, message: `must be greater than 1, got ${l.factor}` });
      countOk();
      break;
    case 'exponentialRange':
      if (l.min <= 0) out.push({ key: `${base}.min`, message: `must be positive, got ${l.min}` });
      if (l.max <= l.min) {
        out.push({
          key: `${base}.max`,
          message: `must be greater than legacy.min, got max=${l.max} min=${l.min}`,
        });
      }
      countOk();
      break;
    case 'custom':
      if (l.custom.length === 0) {
        out.push({ key: `${base}.custom`, message: 'must contain at least one bucket boundary' });
      }
      for (let i = 1; i < l.custom.length; i++) {
        const cur = l.custom[i] as number;
        const prev = l.custom[i - 1] as number;
        if (cur <= prev) {
          out.push({
            key: `${base}.custom[${i}]`,
            message: `must be sorted in ascending order, got ${cur} after ${prev}`,
          });
        }
      }
      break;
  }
  return out;
}

function selectorProblems(c: Config): Problem[] {
  const out: Problem[] = [];
  for (const [name, list] of [
    ['skipLabels', c.skipLabels],
    ['skipAnnotations', c.skipAnnotations],
  ] as const) {
    list.forEach((s, i) => {
      // labels.Parse("") selects everything: one empty entry would silently skip every pod.
      if (s.trim() === '')
        out.push({ key: `${name}[${i}]`, message: 'an empty selector would skip every pod' });
    });
  }
  const skip = compileGlobalSkip(c.skipLabels, c.skipAnnotations);
  if (!skip.ok)
    out.push({ key: skip.error.field, message: skip.error.message.slice(skip.error.field.length + 2) });
  return out;
}

// --- unknown keys (warnings) ---

type KeyTree = { [key: string]: KeyTree | true };

const REGISTRY_KEYS: KeyTree = {
  method: true,
  interval: true,
  maxPerInterval: true,
  timeout: true,
  resolveDigest: true,
  fallbackCredentialSecret: { name: true, namespace: true },
};

const KNOWN_KEYS: KeyTree = {
  skipLabels: true,
  skipAnnotations: true,
  imageVolumes: true,
  routing: {
    activeCheck: {
      timeout: true,
      resolveDigest: true,
      cacheTTL: true,
      staleMirrorCleanup: { maxConcurrent: true, timeout: true },
    },
    rewriteOnNeverImagePullPolicy: true,
    honorPrioritiesOnAlwaysImagePullPolicy: true,
  },
  mirroring: { platforms: { '[]': { os: true, architecture: true, variant: true } } },
  monitoring: {
    registries: { default: REGISTRY_KEYS, items: { '*': REGISTRY_KEYS } },
    tickBudget: true,
    probeConcurrency: true,
    minTickInterval: true,
    sharedQuota: { registry: true, repository: true, credentialSecret: { name: true, namespace: true } },
    tagDrift: { action: true },
  },
  server: {
    headersTimeout: true,
    requestTimeout: true,
    bodyLimit: { router: true, reconcile: true, monitor: true, copy: true },
    tls: { minVersion: true, cipherSuites: true },
  },
  metrics: {
    imageLastMonitorAgeMinutes: {
      bucketFactor: true,
      zeroThreshold: true,
      maxBucketNumber: true,
      legacy: {
        bucketType: true,
        start: true,
        factor: true,
        count: true,
        min: true,
        max: true,
        custom: true,
      },
    },
  },
};

function unknownKeys(raw: unknown, tree: KeyTree, path: (string | number)[], out: string[]): void {
  const arrayItem = tree['[]'];
  if (Array.isArray(raw) && arrayItem !== undefined && arrayItem !== true) {
    raw.forEach((item, i) => {
      unknownKeys(item, arrayItem, [...path, i], out);
    });
    return;
  }
  if (!isPlainObject(raw)) return;
  for (const [k, value] of Object.entries(raw)) {
    const sub = tree[k] ?? tree['*'];
    if (sub === undefined) out.push(`${formatKey([...path, k])}: unknown key, ignored`);
    else if (sub !== true) unknownKeys(value, sub, [...path, k], out);
  }
}

function itemWarnings(c: Config): string[] {
  const out: string[] = [];
  for (const host of Object.keys(c.monitoring.registries.items)) {
    const key = formatKey(['monitoring', 'registries', 'items', host]);
    if (host === 'index.docker.io') {
      out.push(`${key}: never used: Docker Hub images are grouped under "docker.io"`);
    } else if (host.includes('/') || host !== host.trim()) {
      out.push(
        `${key}: never used: items are keyed by registry host[:port] only, e.g. "quay.io" or "registry.local:5000"`,
      );
    }
  }
  return out;
}

// --- entry points ---

function invalid(problems: Problem[], file?: string): ConfigResult {
  const lines = problems.map((p) => (p.key === '' ? p.message : `${p.key}: ${p.message}`));
  const first = problems[0] as Problem;
  return {
    ok: false,
    error: { code: 'invalid', key: first.key, message: lines[0] as string, problems: lines, file },
  };
}

/**
 * Validate a configuration object as read from YAML (any shape): merge it over DEFAULTS, check
 * every key, convert durations to milliseconds. Pure.
 */
export function resolveConfig(raw: unknown, source = 'inline', file?: string): ConfigResult {
  if (raw !== null && raw !== undefined && !isPlainObject(raw)) {
    return invalid([{ key: '', message: 'the configuration must be a YAML mapping' }], file);
  }
  const warnings: string[] = [];
  unknownKeys(raw ?? {}, KNOWN_KEYS, [], warnings);
  const merged = deepMerge(DEFAULTS, raw ?? {});
  const parsed = v.safeParse(ConfigSchema, merged);
  if (!parsed.success) {
    return invalid(
      parsed.issues.map((i) => ({ key: issueKey(i), message: i.message })),
      file,
    );
  }
  const config = parsed.output as Config;
  const problems = [
    ...selectorProblems(config),
    ...legacyHistogramProblems(config),
    ...serverProblems(config),
  ];
  if (problems.length > 0) return invalid(problems, file);
  warnings.push(...itemWarnings(config));
  return { ok: true, value: { config, warnings, source } };
}

/** Parse YAML text and resolve it (an empty document is an empty mapping). Pure. */
export function parseConfig(text: string, file?: string): ConfigResult {
  const doc = parseDocument(text, { merge: true, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    // First line only: prettyErrors appends a code excerpt after it.
    const problems = doc.errors.map((e) => (e.message.split('\n')[0] as string).replace(/:$/, ''));
    const where = file === undefined ? 'configuration' : file;
    return {
      ok: false,
      error: {
        code: 'yaml',
        message: `${where} is not valid YAML: ${problems[0]}`,
        problems,
        file,
      },
    };
  }
  return resolveConfig(doc.toJS(), file ?? 'inline', file);
}

/** The built-in configuration (what a missing file gives). */
export function defaultConfig(): Config {
  const r = resolveConfig({}, 'defaults');
  if (!r.ok) throw new Error(`built-in configuration is invalid: ${r.error.message}`);
  return r.value.config;
}

/**
 * Read the operator configuration from `path` (default: kuik's path). A missing file gives the
 * defaults; any other read error, invalid YAML or an invalid value is an error naming the key.
 */
export async function loadConfig(path: string = DEFAULT_CONFIG_PATH): Promise<ConfigResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      return { ok: true, value: { config: defaultConfig(), warnings: [], source: 'defaults' } };
    const message = `cannot read ${path}: ${code ?? errorMessage(e)}`;
    return { ok: false, error: { code: 'read', message, problems: [message], file: path } };
  }
  return parseConfig(text, path);
}

/**
 * The monitoring settings of one registry (§8.2): the `items` entry for that host (exactly as it
 * appears in normalized references: `docker.io`, `quay.io`, `host:5000`) merged over `default`.
 * Zero or empty item fields inherit; `resolveDigest` is three-state (unset inherits, false turns
 * it off even when the default is on); an unset default means off.
 */
export function resolveRegistryMonitoring(config: Config, registry: string): ResolvedRegistryMonitoring {
  const d = config.monitoring.registries.default;
  const item = Object.hasOwn(config.monitoring.registries.items, registry)
    ? config.monitoring.registries.items[registry]
    : undefined;
  const method = item?.method || d.method || 'HEAD';
  return {
    method,
    interval: item?.interval || d.interval,
    maxPerInterval: item?.maxPerInterval || d.maxPerInterval,
    timeout: item?.timeout || d.timeout,
    resolveDigest: (item?.resolveDigest ?? d.resolveDigest) === true,
    fallbackCredentialSecret: item?.fallbackCredentialSecret ?? d.fallbackCredentialSecret,
  };
}
