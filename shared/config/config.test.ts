import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type Config,
  type ConfigResult,
  DEFAULTS,
  deepMerge,
  defaultConfig,
  formatKey,
  loadConfig,
  parseConfig,
  resolveConfig,
  resolveRegistryMonitoring,
} from './config.ts';

function ok(r: ConfigResult): Config {
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  return r.value.config;
}

function invalid(r: ConfigResult): { key?: string; message: string; problems: readonly string[] } {
  assert.ok(!r.ok, 'expected the configuration to be rejected');
  assert.equal(r.error.code, 'invalid');
  return r.error;
}

const yaml = (text: string) => parseConfig(text);

describe('§10.5 configuration scenarios', () => {
  test('#63 the defaults are valid', () => {
    const c = defaultConfig();
    assert.equal(c.routing.activeCheck.timeout, 1000);
    assert.equal(c.routing.activeCheck.resolveDigest, false);
    assert.equal(c.routing.activeCheck.staleMirrorCleanup.maxConcurrent, 10);
    assert.equal(c.routing.activeCheck.staleMirrorCleanup.timeout, 5000);
    assert.equal(c.routing.rewriteOnNeverImagePullPolicy, false);
    assert.equal(c.routing.honorPrioritiesOnAlwaysImagePullPolicy, false);
    assert.deepEqual(c.mirroring.platforms, [{ os: '', architecture: 'amd64', variant: '' }]);
    assert.deepEqual(c.monitoring.registries.default, {
      method: 'HEAD',
      interval: 3 * 3_600_000,
      maxPerInterval: 25,
      timeout: 0,
      resolveDigest: null,
      fallbackCredentialSecret: null,
    });
    assert.equal(c.monitoring.registries.items['docker.io']?.interval, 3_600_000);
    assert.equal(c.monitoring.registries.items['docker.io']?.maxPerInterval, 6);
    assert.deepEqual(c.skipLabels, []);
    assert.deepEqual(c.skipAnnotations, []);
  });

  test('#64 two valid platforms (linux/amd64, linux/arm64/v8) are valid', () => {
    const c = ok(
      yaml(`
mirroring:
  platforms:
    - {os: linux, architecture: amd64}
    - {os: linux, architecture: arm64, variant: v8}
`),
    );
    assert.deepEqual(c.mirroring.platforms, [
      { os: 'linux', architecture: 'amd64', variant: '' },
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
    ]);
  });

  test('#65 an empty platform list is invalid and the error names mirroring.platforms', () => {
    const e = invalid(yaml('mirroring: {platforms: []}'));
    assert.equal(e.key, 'mirroring.platforms');
    assert.equal(e.message, 'mirroring.platforms: must list at least one platform');
  });

  test('#66 a platform {os: linux} without architecture is invalid and the error names its architecture', () => {
    const e = invalid(yaml('mirroring: {platforms: [{os: linux}]}'));
    assert.equal(e.message, 'mirroring.platforms[0].architecture: is required');
  });

  test('#67 a second platform without architecture is invalid and the error names that platform', () => {
    const e = invalid(yaml('mirroring: {platforms: [{architecture: amd64}, {os: linux, variant: v8}]}'));
    assert.equal(e.key, 'mirroring.platforms[1].architecture');
  });

  describe('#68 resolveDigest merge (three-state) never clobbers method and maxPerInterval', () => {
    const cases: [string, boolean | null, Record<string, unknown> | undefined, boolean][] = [
      ['no override and unset default → off', null, undefined, false],
      ['no override and default true → on', true, undefined, true],
      ['empty override and default true → on', true, {}, true],
      ['override false and default true → off', true, { resolveDigest: false }, false],
      ['override true and unset default → on', null, { resolveDigest: true }, true],
      ['override true and default false → on', false, { resolveDigest: true }, true],
    ];
    for (const [name, defaultFlag, override, want] of cases) {
      test(name, () => {
        const items: Record<string, unknown> = {};
        if (override !== undefined) items['registry.example.com'] = override;
        const c = ok(
          resolveConfig({ monitoring: { registries: { default: { resolveDigest: defaultFlag }, items } } }),
        );
        const r = resolveRegistryMonitoring(c, 'registry.example.com');
        assert.equal(r.resolveDigest, want);
        assert.equal(r.method, 'HEAD');
        assert.equal(r.maxPerInterval, 25);
      });
    }
  });
});

describe('merge semantics (§8.1)', () => {
  test('an empty file gives the defaults', () => {
    assert.deepEqual(ok(yaml('')), defaultConfig());
    assert.deepEqual(ok(yaml('# only a comment\n')), defaultConfig());
  });

  test('maps merge: a file item for docker.io keeps the built-in interval it does not set', () => {
    const c = ok(yaml('monitoring: {registries: {items: {docker.io: {maxPerInterval: 10}}}}'));
    assert.equal(c.monitoring.registries.items['docker.io']?.maxPerInterval, 10);
    assert.equal(c.monitoring.registries.items['docker.io']?.interval, 3_600_000);
  });

  test('maps merge: adding a registry keeps the built-in docker.io entry', () => {
    const c = ok(yaml('monitoring: {registries: {items: {quay.io: {maxPerInterval: 3}}}}'));
    assert.deepEqual(Object.keys(c.monitoring.registries.items).sort(), ['docker.io', 'quay.io']);
  });

  test('setting one default field keeps the others', () => {
    const c = ok(yaml('monitoring: {registries: {default: {timeout: 10s}}}'));
    assert.equal(c.monitoring.registries.default.timeout, 10_000);
    assert.equal(c.monitoring.registries.default.maxPerInterval, 25);
    assert.equal(c.monitoring.registries.default.method, 'HEAD');
  });

  test('lists replace: platforms, skipLabels and legacy.custom are not appended to', () => {
    const c = ok(
      yaml(`
mirroring: {platforms: [{architecture: arm64}]}
skipLabels: [a=b]
metrics: {imageLastMonitorAgeMinutes: {legacy: {bucketType: custom, custom: [2, 4]}}}
`),
    );
    assert.deepEqual(c.mirroring.platforms, [{ os: '', architecture: 'arm64', variant: '' }]);
    assert.deepEqual(c.skipLabels, ['a=b']);
    assert.deepEqual(c.metrics.imageLastMonitorAgeMinutes.legacy.custom, [2, 4]);
  });

  test('null resets a key to its zero value: a null docker.io item inherits everything', () => {
    const c = ok(yaml('monitoring: {registries: {items: {docker.io: null}}}'));
    const r = resolveRegistryMonitoring(c, 'docker.io');
    assert.equal(r.interval, 3 * 3_600_000);
    assert.equal(r.maxPerInterval, 25);
  });

  test('null on a duration is zero (no timeout), as in kuik', () => {
    assert.equal(ok(yaml('routing: {activeCheck: {timeout: null}}')).routing.activeCheck.timeout, 0);
  });

  test('deepMerge does not mutate its inputs', () => {
    const base = { a: { b: 1 }, l: [1] };
    const over = { a: { c: 2 }, l: [2] };
    assert.deepEqual(deepMerge(base, over), { a: { b: 1, c: 2 }, l: [2] });
    assert.deepEqual(base, { a: { b: 1 }, l: [1] });
  });

  test('the built-in defaults object is not modified by loading', () => {
    ok(yaml('monitoring: {registries: {items: {docker.io: {maxPerInterval: 1}}}}'));
    assert.equal(DEFAULTS.monitoring.registries.items['docker.io'].maxPerInterval, 6);
  });

  test('YAML merge keys (<<) work, as in Go yaml.v3', () => {
    const c = ok(
      yaml(`
x-common: &common {interval: 2h, maxPerInterval: 4}
monitoring:
  registries:
    items:
      quay.io: {<<: *common}
`),
    );
    assert.equal(c.monitoring.registries.items['quay.io']?.interval, 7_200_000);
  });
});

describe('durations', () => {
  test('Go duration strings become milliseconds', () => {
    const c = ok(yaml('routing: {activeCheck: {timeout: 1500ms, staleMirrorCleanup: {timeout: 1m30s}}}'));
    assert.equal(c.routing.activeCheck.timeout, 1500);
    assert.equal(c.routing.activeCheck.staleMirrorCleanup.timeout, 90_000);
  });

  test('a bare integer counts nanoseconds', () => {
    assert.equal(ok(yaml('routing: {activeCheck: {timeout: 2000000000}}')).routing.activeCheck.timeout, 2000);
  });

  test('an invalid duration names the key and quotes Go', () => {
    const e = invalid(yaml('monitoring: {registries: {items: {quay.io: {interval: 5x}}}}'));
    assert.equal(e.key, 'monitoring.registries.items["quay.io"].interval');
    assert.match(e.message, /time: unknown unit "x" in duration "5x"/);
  });

  test('a negative timeout is rejected', () => {
    assert.equal(invalid(yaml('routing: {activeCheck: {timeout: -1s}}')).key, 'routing.activeCheck.timeout');
  });

  test('a fractional number of nanoseconds is rejected', () => {
    assert.equal(invalid(yaml('routing: {activeCheck: {timeout: 1.5}}')).key, 'routing.activeCheck.timeout');
  });

  test('a duration of the wrong type is rejected', () => {
    assert.equal(invalid(yaml('routing: {activeCheck: {timeout: [1s]}}')).key, 'routing.activeCheck.timeout');
  });
});

describe('validation beyond kuik', () => {
  test('default method must be HEAD or GET', () => {
    const e = invalid(yaml('monitoring: {registries: {default: {method: PUT}}}'));
    assert.equal(e.message, 'monitoring.registries.default.method: must be HEAD or GET');
  });

  test('method is case-sensitive, as kuik compares it exactly', () => {
    assert.equal(
      invalid(yaml('monitoring: {registries: {default: {method: head}}}')).key,
      'monitoring.registries.default.method',
    );
  });

  test('an item method may be empty (inherit) but not anything else', () => {
    ok(yaml('monitoring: {registries: {items: {quay.io: {method: ""}}}}'));
    assert.equal(
      invalid(yaml('monitoring: {registries: {items: {quay.io: {method: POST}}}}')).key,
      'monitoring.registries.items["quay.io"].method',
    );
  });

  test('default maxPerInterval must be > 0 (kuik divides by it)', () => {
    assert.match(
      invalid(yaml('monitoring: {registries: {default: {maxPerInterval: 0}}}')).message,
      /^monitoring\.registries\.default\.maxPerInterval: must be greater than 0/,
    );
  });

  test('an item maxPerInterval of 0 inherits, a negative one is rejected', () => {
    const c = ok(yaml('monitoring: {registries: {items: {quay.io: {maxPerInterval: 0}}}}'));
    assert.equal(resolveRegistryMonitoring(c, 'quay.io').maxPerInterval, 25);
    assert.equal(
      invalid(yaml('monitoring: {registries: {items: {quay.io: {maxPerInterval: -1}}}}')).key,
      'monitoring.registries.items["quay.io"].maxPerInterval',
    );
  });

  test('default interval must be positive', () => {
    assert.equal(
      invalid(yaml('monitoring: {registries: {default: {interval: 0s}}}')).key,
      'monitoring.registries.default.interval',
    );
  });

  test('maxPerInterval must be an integer', () => {
    assert.equal(
      invalid(yaml('monitoring: {registries: {default: {maxPerInterval: 2.5}}}')).key,
      'monitoring.registries.default.maxPerInterval',
    );
    assert.equal(
      invalid(yaml('monitoring: {registries: {default: {maxPerInterval: "25"}}}')).key,
      'monitoring.registries.default.maxPerInterval',
    );
  });

  test('staleMirrorCleanup.maxConcurrent must be ≥ 0 (0 disables clearing)', () => {
    assert.equal(
      ok(yaml('routing: {activeCheck: {staleMirrorCleanup: {maxConcurrent: 0}}}')).routing.activeCheck
        .staleMirrorCleanup.maxConcurrent,
      0,
    );
    assert.equal(
      invalid(yaml('routing: {activeCheck: {staleMirrorCleanup: {maxConcurrent: -1}}}')).key,
      'routing.activeCheck.staleMirrorCleanup.maxConcurrent',
    );
  });

  test('booleans must be true or false (yes/no are strings in YAML 1.2 and in kuik)', () => {
    assert.equal(
      invalid(yaml('routing: {rewriteOnNeverImagePullPolicy: yes}')).key,
      'routing.rewriteOnNeverImagePullPolicy',
    );
  });

  test('fallbackCredentialSecret needs a name and a namespace', () => {
    const c = ok(
      yaml(
        'monitoring: {registries: {default: {fallbackCredentialSecret: {name: s, namespace: kuik-system}}}}',
      ),
    );
    assert.deepEqual(c.monitoring.registries.default.fallbackCredentialSecret, {
      name: 's',
      namespace: 'kuik-system',
    });
    assert.equal(
      invalid(yaml('monitoring: {registries: {items: {quay.io: {fallbackCredentialSecret: {name: s}}}}}'))
        .key,
      'monitoring.registries.items["quay.io"].fallbackCredentialSecret.namespace',
    );
  });

  test('maxBucketNumber is a uint32', () => {
    assert.equal(
      invalid(yaml('metrics: {imageLastMonitorAgeMinutes: {maxBucketNumber: 4294967296}}')).key,
      'metrics.imageLastMonitorAgeMinutes.maxBucketNumber',
    );
  });

  test('an empty skip selector is rejected: it would skip every pod', () => {
    assert.equal(
      invalid(yaml('skipLabels: [""]')).message,
      'skipLabels[0]: an empty selector would skip every pod',
    );
  });

  test('a section that is not a mapping is rejected', () => {
    assert.equal(invalid(yaml('routing: 5')).key, 'routing');
  });

  test('every problem is listed, the first one in the message', () => {
    const e = invalid(yaml('monitoring: {registries: {default: {maxPerInterval: 0, interval: 0}}}'));
    assert.equal(e.problems.length, 2);
  });
});

describe('kuik validations kept', () => {
  test('skipLabels must parse as selectors', () => {
    const e = invalid(yaml('skipLabels: ["==="]'));
    assert.equal(e.key, 'skipLabels[0]');
  });

  test('skipAnnotations must parse as selectors', () => {
    assert.equal(invalid(yaml('skipAnnotations: [ok, "BAD KEY=value"]')).key, 'skipAnnotations[1]');
  });

  const legacy = (body: string) => yaml(`metrics: {imageLastMonitorAgeMinutes: {legacy: ${body}}}`);
  const L = 'metrics.imageLastMonitorAgeMinutes.legacy';

  test('legacy bucketType must be one of the four (or empty)', () => {
    assert.equal(invalid(legacy('{bucketType: linear}')).key, `${L}.bucketType`);
  });

  test('exponential: start > 0, factor > 1, count ≥ 1', () => {
    assert.equal(invalid(legacy('{bucketType: exponential, start: 0}')).key, `${L}.start`);
    assert.equal(invalid(legacy('{factor: 1}')).key, `${L}.factor`);
    assert.equal(invalid(legacy('{count: 0}')).key, `${L}.count`);
  });

  test('exponentialRange: min > 0, max > min, count ≥ 1', () => {
    assert.equal(invalid(legacy('{bucketType: exponentialRange, min: 0}')).key, `${L}.min`);
    assert.equal(invalid(legacy('{bucketType: exponentialRange, min: 5, max: 5}')).key, `${L}.max`);
    assert.equal(invalid(legacy('{bucketType: exponentialRange, count: -1}')).key, `${L}.count`);
  });

  test('custom: non-empty and strictly ascending', () => {
    assert.equal(invalid(legacy('{bucketType: custom, custom: []}')).key, `${L}.custom`);
    assert.equal(invalid(legacy('{bucketType: custom, custom: [1, 5, 5]}')).key, `${L}.custom[2]`);
  });

  test('disabled ignores the other legacy fields', () => {
    ok(legacy('{bucketType: disabled, start: -1, factor: 0, count: 0}'));
  });
});

describe('warnings', () => {
  test('unknown keys are warnings naming the key, not errors', () => {
    const r = yaml(
      'routing: {activeChek: {timeout: 2s}}\nmonitoring: {registries: {items: {quay.io: {intervall: 1h}}}}',
    );
    assert.ok(r.ok);
    assert.deepEqual(r.value.warnings, [
      'routing.activeChek: unknown key, ignored',
      'monitoring.registries.items["quay.io"].intervall: unknown key, ignored',
    ]);
  });

  test('an index.docker.io item is flagged as never used', () => {
    const r = yaml('monitoring: {registries: {items: {index.docker.io: {maxPerInterval: 1}}}}');
    assert.ok(r.ok);
    assert.match(r.value.warnings.join('\n'), /never used: Docker Hub images are grouped under "docker.io"/);
  });

  test('an unknown key inside a platform is a warning', () => {
    const r = yaml('mirroring: {platforms: [{architecture: amd64, arch: arm64}]}');
    assert.ok(r.ok);
    assert.deepEqual(r.value.warnings, ['mirroring.platforms[0].arch: unknown key, ignored']);
  });
});

describe('beyond-kuik keys', () => {
  test('routing.activeCheck.cacheTTL defaults to 1s and accepts a duration', () => {
    assert.equal(defaultConfig().routing.activeCheck.cacheTTL, 1000);
    assert.equal(ok(yaml('routing: {activeCheck: {cacheTTL: 10s}}')).routing.activeCheck.cacheTTL, 10_000);
  });

  test('monitoring.minTickInterval defaults to 20s; 0s coalesces only while a tick runs', () => {
    assert.equal(defaultConfig().monitoring.minTickInterval, 20_000);
    assert.equal(ok(yaml('monitoring: {minTickInterval: 0s}')).monitoring.minTickInterval, 0);
    assert.match(
      invalid(yaml('monitoring: {minTickInterval: -1s}')).message,
      /monitoring\.minTickInterval: must not be negative/,
    );
  });

  test('server: timeouts, body limits per function (bytes or Ki/Mi/Gi), TLS policy, with defaults', () => {
    assert.deepEqual(defaultConfig().server, {
      headersTimeout: 3000,
      requestTimeout: 5000,
      bodyLimit: {
        router: 7 * 1024 * 1024,
        reconcile: 4 * 1024 * 1024,
        monitor: 64 * 1024,
        copy: 1024 * 1024,
      },
      tls: { minVersion: 'VersionTLS12', cipherSuites: [] },
    });
    const c = ok(
      yaml(`
server:
  requestTimeout: 10s
  bodyLimit: {router: 8Mi, monitor: 4096}
  tls:
    minVersion: VersionTLS13
    cipherSuites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256]
`),
    );
    assert.equal(c.server.requestTimeout, 10_000);
    assert.equal(c.server.headersTimeout, 3000);
    assert.equal(c.server.bodyLimit.router, 8 * 1024 * 1024);
    assert.equal(c.server.bodyLimit.monitor, 4096);
    assert.equal(c.server.bodyLimit.copy, 1024 * 1024);
    assert.equal(c.server.tls.minVersion, 'VersionTLS13');
  });

  test('server: invalid values are refused naming the key', () => {
    const cases: [string, RegExp][] = [
      ['server: {bodyLimit: {router: 2Mi}}', /server\.bodyLimit\.router: must be at least 3Mi/],
      ['server: {bodyLimit: {copy: 7MB}}', /server\.bodyLimit\.copy: must be a size such as/],
      ['server: {bodyLimit: {monitor: 0}}', /server\.bodyLimit\.monitor: must be greater than 0/],
      [
        'server: {headersTimeout: 10s}',
        /server\.headersTimeout: must not be longer than server\.requestTimeout/,
      ],
      ['server: {requestTimeout: 0s}', /server\.requestTimeout: must be a positive duration/],
      [
        'server: {tls: {minVersion: VersionTLS11}}',
        /server\.tls\.minVersion: must be VersionTLS12 or VersionTLS13/,
      ],
      [
        'server: {tls: {cipherSuites: [TLS_RSA_WITH_RC4_128_SHA]}}',
        /server\.tls\.cipherSuites: unknown or unsupported cipher suite "TLS_RSA_WITH_RC4_128_SHA"/,
      ],
      [
        'server: {tls: {cipherSuites: [TLS_AES_128_GCM_SHA256]}}',
        /server\.tls\.cipherSuites: names no TLS 1\.2 suite/,
      ],
    ];
    for (const [text, message] of cases) assert.match(invalid(yaml(text)).message, message, text);
  });
});

describe('resolveRegistryMonitoring', () => {
  test('docker.io inherits method and timeout and takes its own interval and budget', () => {
    const r = resolveRegistryMonitoring(defaultConfig(), 'docker.io');
    assert.deepEqual(r, {
      method: 'HEAD',
      interval: 3_600_000,
      maxPerInterval: 6,
      timeout: 0,
      resolveDigest: false,
      fallbackCredentialSecret: null,
    });
  });

  test('a registry without an item gets the default', () => {
    assert.equal(resolveRegistryMonitoring(defaultConfig(), 'quay.io').interval, 3 * 3_600_000);
  });

  test('item fields override, zero fields inherit', () => {
    const c = ok(
      yaml(`
monitoring:
  registries:
    default: {method: GET, timeout: 5s, fallbackCredentialSecret: {name: d, namespace: ns}}
    items:
      reg.local:5000: {method: HEAD, timeout: 0s, fallbackCredentialSecret: {name: i, namespace: ns}}
`),
    );
    const r = resolveRegistryMonitoring(c, 'reg.local:5000');
    assert.equal(r.method, 'HEAD');
    assert.equal(r.timeout, 5000);
    assert.deepEqual(r.fallbackCredentialSecret, { name: 'i', namespace: 'ns' });
    assert.equal(resolveRegistryMonitoring(c, 'other').method, 'GET');
  });

  test('the lookup key is the exact registry host; prototype names are not items', () => {
    assert.equal(resolveRegistryMonitoring(defaultConfig(), 'constructor').maxPerInterval, 25);
  });
});

describe('formatKey', () => {
  test('identifiers join with dots, indices and odd keys use brackets', () => {
    assert.equal(
      formatKey(['monitoring', 'registries', 'items', 'quay.io', 'interval']),
      'monitoring.registries.items["quay.io"].interval',
    );
    assert.equal(
      formatKey(['mirroring', 'platforms', 1, 'architecture']),
      'mirroring.platforms[1].architecture',
    );
  });
});

describe('loadConfig', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kuik-config-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a missing file means the defaults', async () => {
    const r = await loadConfig(join(dir, 'absent.yaml'));
    assert.ok(r.ok);
    assert.equal(r.value.source, 'defaults');
    assert.deepEqual(r.value.config, defaultConfig());
  });

  test('a file is read, merged and validated', async () => {
    const file = join(dir, 'config.yaml');
    await writeFile(file, 'routing:\n  activeCheck:\n    timeout: 3s\n');
    const r = await loadConfig(file);
    assert.ok(r.ok);
    assert.equal(r.value.source, file);
    assert.equal(r.value.config.routing.activeCheck.timeout, 3000);
  });

  test('invalid YAML is an error naming the file and the position', async () => {
    const file = join(dir, 'broken.yaml');
    await writeFile(file, 'routing: [\n');
    const r = await loadConfig(file);
    assert.ok(!r.ok);
    assert.equal(r.error.code, 'yaml');
    assert.equal(r.error.file, file);
    assert.match(r.error.message, /is not valid YAML: .*line \d+, column \d+/);
  });

  test('duplicate keys are invalid YAML, as in Go yaml.v3', async () => {
    const r = parseConfig('routing: {}\nrouting: {}\n');
    assert.ok(!r.ok);
    assert.equal(r.error.code, 'yaml');
  });

  test('an invalid value is an error naming the key', async () => {
    const file = join(dir, 'invalid.yaml');
    await writeFile(file, 'monitoring:\n  registries:\n    default:\n      method: PATCH\n');
    const r = await loadConfig(file);
    assert.ok(!r.ok);
    assert.equal(r.error.message, 'monitoring.registries.default.method: must be HEAD or GET');
    assert.equal(r.error.file, file);
  });

  test('a directory instead of a file is a read error', async () => {
    const r = await loadConfig(dir);
    assert.ok(!r.ok);
    assert.equal(r.error.code, 'read');
    assert.match(r.error.message, /EISDIR/);
  });

  test('a document that is not a mapping is rejected', () => {
    assert.equal(invalid(parseConfig('- a\n- b\n')).message, 'the configuration must be a YAML mapping');
  });
});

describe('imageVolumes (beyond kuik)', () => {
  test('on by default; false turns it off; null is the zero value (off); a non-bool names the key', () => {
    assert.equal(defaultConfig().imageVolumes, true);
    assert.equal(ok(yaml('imageVolumes: false')).imageVolumes, false);
    assert.equal(ok(yaml('imageVolumes: null')).imageVolumes, false);
    assert.equal(ok(yaml('imageVolumes: true')).imageVolumes, true);
    assert.equal(invalid(yaml('imageVolumes: "no"')).key, 'imageVolumes');
    const r = yaml('imageVolumes: false');
    assert.ok(r.ok);
    assert.deepEqual(r.value.warnings, [], 'a known key');
  });
});
