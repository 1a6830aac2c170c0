// The two deployment targets agree: for each function that both host (reconcile, monitor, copy),
// stack.yaml (OpenFaaS) and manifests/ (Knative) give the same image, environment, configuration,
// secrets, ServiceAccount, resources and limits, and the monitor and reconcile's resync the same
// schedules. Only the
// wiring that names the platform may differ, and it must be present on both sides.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { DEFAULT_CONFIG_PATH } from '#shared/config/config.ts';
import { createApp } from '#shared/http/app.ts';
import { createRegistry } from '#shared/metrics.ts';
import { repoRoot } from './harness/tools.ts';

interface StackFunction {
  lang: string;
  image: string;
  skip_build?: boolean;
  readonly_root_filesystem?: boolean;
  environment?: Record<string, string>;
  secrets?: string[];
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}
interface Stack {
  version: number | string;
  provider: { name: string };
  functions: Record<string, StackFunction>;
}
// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML.
type Obj = { kind: string; apiVersion: string; metadata: { name: string }; spec: any };

const stackText = readFileSync(join(repoRoot, 'stack.yaml'), 'utf8');
const stack = parse(stackText) as Stack;

/** The files manifests/kustomization.yaml lists (it has no transformers: files = output). */
function manifests(): Obj[] {
  const k = parse(readFileSync(join(repoRoot, 'manifests/kustomization.yaml'), 'utf8')) as {
    resources: string[];
  };
  return k.resources
    .filter((r) => r.endsWith('.yaml'))
    .flatMap((r) =>
      parseAllDocuments(readFileSync(join(repoRoot, 'manifests', r), 'utf8')).map((d) => d.toJSON() as Obj),
    );
}

const objs = manifests();
const ksvc = (fn: string) =>
  objs.find((o) => o.apiVersion === 'serving.knative.dev/v1' && o.metadata.name === `kuik-${fn}`)!;

/** Environment variables naming the other functions' endpoints: each platform has its own. */
const PLATFORM_WIRING = ['COPY_SINK'];
/**
 * Knative Eventing's sender identity (docs/security.md): its sources mint an OIDC token per sink.
 * OpenFaaS's gateway and cron-connector send none, so there the functions cannot check senders.
 */
const KNATIVE_ONLY = ['KUIK_SENDER_AUDIENCE', 'KUIK_SENDER_IDENTITIES', 'COPY_SINK_TOKEN_FILE'];
const FUNCTIONS = ['reconcile', 'monitor', 'copy'] as const;

/**
 * What a function sees of its platform: environment (config path resolved), where its
 * configuration comes from, which Secrets it gets, its identity, resources and scaling cap.
 */
interface View {
  image: string;
  env: Record<string, string>;
  configPath: string;
  configSource: string;
  secrets: string[];
  serviceAccount: string;
  requests: Record<string, string>;
  limits: Record<string, string>;
  maxScale: string;
  readOnlyRoot: boolean;
}

function knative(fn: string): View {
  const spec = ksvc(fn).spec.template;
  const c = spec.spec.containers[0];
  const env: Record<string, string> = Object.fromEntries(
    (c.env as { name: string; value: string }[]).map((e) => [e.name, e.value]),
  );
  const configPath = env['KUIK_CONFIG'] ?? DEFAULT_CONFIG_PATH;
  const volumes = spec.spec.volumes as {
    name: string;
    configMap?: { name: string };
    secret?: { secretName: string };
  }[];
  const mounts = c.volumeMounts as { name: string; mountPath: string }[];
  const configMount = mounts.find((m) => configPath.startsWith(`${m.mountPath}/`));
  assert.ok(configMount, `${fn}: nothing is mounted at ${configPath}`);
  const configVolume = volumes.find((v) => v.name === configMount.name)!;
  return {
    image: c.image,
    env: { ...env, KUIK_CONFIG: configPath },
    configPath,
    configSource: configVolume.configMap?.name ?? configVolume.secret?.secretName ?? '',
    secrets: [
      // The configuration counts as what it is on the other side: a Secret on OpenFaaS.
      configVolume.configMap?.name ?? '',
      ...volumes.flatMap((v) => (v.secret ? [v.secret.secretName] : [])),
    ]
      .filter(Boolean)
      .sort(),
    serviceAccount: spec.spec.serviceAccountName,
    requests: c.resources.requests,
    limits: c.resources.limits,
    maxScale: spec.metadata.annotations['autoscaling.knative.dev/max-scale'],
    readOnlyRoot: c.securityContext.readOnlyRootFilesystem,
  };
}

function openfaas(fn: string): View {
  const f = stack.functions[`kuik-${fn}`];
  assert.ok(f, `stack.yaml has no kuik-${fn}`);
  const env = f.environment ?? {};
  const configPath = env['KUIK_CONFIG'] ?? DEFAULT_CONFIG_PATH;
  // faas-netes mounts every listed secret as /var/openfaas/secrets/<name>.
  const source = (f.secrets ?? []).find((s) => configPath === `/var/openfaas/secrets/${s}`);
  assert.ok(source, `${fn}: no secret is mounted at ${configPath}`);
  return {
    image: f.image,
    env: { ...env, KUIK_CONFIG: configPath },
    configPath,
    configSource: source,
    secrets: [...(f.secrets ?? [])].sort(),
    serviceAccount: f.annotations?.['com.openfaas.serviceaccount'] ?? '',
    requests: f.requests ?? {},
    limits: f.limits ?? {},
    maxScale: f.labels?.['com.openfaas.scale.max'] ?? '',
    readOnlyRoot: f.readonly_root_filesystem === true,
  };
}

test('stack.yaml is a faas-cli stack of the three scale-to-zero functions, built elsewhere', () => {
  // faas-cli reads it as the string "1.0" (the only version it accepts); YAML 1.2 says number.
  assert.match(stackText, /^version: 1\.0$/m);
  assert.equal(stack.version, 1);
  assert.equal(stack.provider.name, 'openfaas');
  assert.deepEqual(Object.keys(stack.functions).sort(), ['kuik-copy', 'kuik-monitor', 'kuik-reconcile']);
  for (const f of Object.values(stack.functions)) {
    assert.equal(f.lang, 'dockerfile');
    assert.equal(f.skip_build, true);
    assert.equal(f.labels?.['com.openfaas.scale.zero'], 'true');
  }
});

for (const fn of FUNCTIONS) {
  test(`${fn}: both targets run the same image with the same environment, config and secrets`, () => {
    const k = knative(fn);
    const o = openfaas(fn);
    assert.equal(o.image, k.image);
    assert.equal(o.env['KUIK_FUNCTION'], fn);
    const shared = Object.keys(k.env).filter((n) => !KNATIVE_ONLY.includes(n));
    assert.deepEqual(Object.keys(o.env).sort(), shared.sort(), 'the same variables');
    // Senders are checked on Knative: the function's own audience.
    assert.equal(k.env['KUIK_SENDER_AUDIENCE'], `kuik-${fn}`, 'sender audience on Knative');
    for (const name of shared) {
      if (name === 'KUIK_CONFIG' || PLATFORM_WIRING.includes(name)) continue;
      assert.equal(o.env[name], k.env[name], name);
    }
    for (const name of PLATFORM_WIRING.filter((n) => n in k.env)) {
      assert.match(o.env[name] ?? '', /^http:\/\//, `${name} on OpenFaaS`);
      assert.match(k.env[name] ?? '', /^http:\/\//, `${name} on Knative`);
    }
    // One configuration source with one name: a ConfigMap on Knative, a Secret on OpenFaaS.
    assert.equal(o.configSource, k.configSource);
    assert.equal(k.configPath, DEFAULT_CONFIG_PATH);
    assert.deepEqual(o.secrets, k.secrets);
    assert.equal(o.serviceAccount, k.serviceAccount);
    assert.deepEqual(o.requests, k.requests);
    assert.deepEqual(o.limits, k.limits);
    assert.equal(o.maxScale, k.maxScale);
    assert.equal(o.readOnlyRoot, true);
    assert.equal(k.readOnlyRoot, true);
  });
}

test("copy requests go to each platform's own copy function", () => {
  assert.equal(
    openfaas('reconcile').env['COPY_SINK'],
    'http://gateway.openfaas:8080/async-function/kuik-copy',
  );
  assert.equal(
    knative('reconcile').env['COPY_SINK'],
    'http://job-sink.knative-eventing.svc.cluster.local/kuik-system/kuik-copy',
  );
  // The monitor asks for no copy: the resync that does is reconcile's.
  assert.equal(openfaas('monitor').env['COPY_SINK'], undefined);
  assert.equal(knative('monitor').env['COPY_SINK'], undefined);
  const sink = objs.find((o) => o.kind === 'JobSink')!;
  assert.equal(sink.metadata.name, 'kuik-copy');
});

for (const [fn, source] of [
  ['monitor', 'kuik-monitor'],
  ['reconcile', 'kuik-reconcile-resync'],
] as const) {
  test(`the ${fn}'s cron-connector schedule is its PingSource's (${source})`, () => {
    const ping = objs.find((o) => o.kind === 'PingSource' && o.metadata.name === source)!;
    assert.ok(ping, `no PingSource ${source} in manifests/`);
    const m = stack.functions[`kuik-${fn}`]!;
    assert.equal(m.annotations?.['topic'], 'cron-function');
    assert.equal(m.annotations?.['schedule'], ping.spec.schedule);
    assert.equal(ping.spec.sink.ref.name, `kuik-${fn}`);
  });
}

test("every function answers OpenFaaS's /_/health and /_/ready, as Knative's /readyz", async () => {
  let ready = false;
  const app = createApp({ registry: createRegistry('test'), ready: () => ready });
  assert.equal((await app.request('/_/health')).status, 200);
  assert.equal((await app.request('/_/ready')).status, 503);
  ready = true;
  assert.equal((await app.request('/_/ready')).status, 200);
  for (const fn of FUNCTIONS)
    assert.equal(ksvc(fn).spec.template.spec.containers[0].readinessProbe.httpGet.path, '/readyz');
});
