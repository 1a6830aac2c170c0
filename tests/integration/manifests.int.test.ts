// manifests/ on a real kube-apiserver: the kustomize output and the Helm chart (defaults and a set
// of non-default values) go through a server-side dry run, so every object is checked against the
// real schemas: Kubernetes' own, the kuik CRDs, Knative Serving/Eventing's CRDs and cert-manager's
// (the harness runs no cert-manager; setup.sh copies its Certificate and Issuer CRDs out of the
// pinned Go module and this file installs them). Beyond the schemas, the checks the API server
// cannot make: Helm and kustomize agree, labels, Knative's default feature flags, the JobSink's
// Job, and the webhook registration the integration tests use.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { AdmissionregistrationV1Api } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { routerEnv } from '../../functions/router/main.ts';
import { harness, kubeConfig } from '../harness/env.ts';
import { installCrds, kubectl, uniq } from '../harness/fixtures.ts';
import { run } from '../harness/proc.ts';
import { manifestTools } from '../harness/tools.ts';
import { registerRouterWebhook } from '../harness/webhook.ts';

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML; tests index into them.
  spec?: any;
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  [k: string]: any;
};

const tools = () => manifestTools();
const chart = () => join(harness().repoRoot, 'manifests/helm/kuik-functions');

function parseDocs(text: string): Obj[] {
  return parseAllDocuments(text)
    .map((d) => d.toJSON() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

const key = (o: Obj) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

async function kustomize(): Promise<Obj[]> {
  return parseDocs(await kubectl(['kustomize', join(harness().repoRoot, 'manifests')]));
}

async function helmTemplate(namespace: string, ...args: string[]): Promise<Obj[]> {
  return parseDocs(
    await run(tools().helm, [
      'template',
      'kuik',
      chart(),
      '--namespace',
      namespace,
      '--include-crds',
      '--kube-version',
      '1.35.4',
      ...args,
    ]),
  );
}

/** The chart's install notes (`helm install --dry-run=client`) for these values. */
async function installNotes(namespace: string, ...args: string[]): Promise<string> {
  return await run(tools().helm, [
    'install',
    'kuik',
    chart(),
    '--dry-run=client',
    '--kubeconfig',
    harness().kubeconfig,
    '--namespace',
    namespace,
    ...args,
  ]);
}

/** A namespace of its own for a test's release (dry runs need it to exist). */
async function chartNamespace(prefix: string): Promise<string> {
  const ns = uniq(prefix);
  await kubectl(['create', 'namespace', ns]);
  return ns;
}

/** helmTemplate's objects, once the API server has accepted every one of them in a dry run. */
async function acceptedTemplate(namespace: string, ...args: string[]): Promise<Obj[]> {
  const objs = await helmTemplate(namespace, ...args);
  assert.equal((await dryRun(objs)).length, objs.length);
  return objs;
}

/** Server-side dry-run apply: every object validated and defaulted by the API server, none stored. */
async function dryRun(objs: Obj[]): Promise<string[]> {
  const out = await kubectl(
    ['apply', '--server-side', '--dry-run=server', '--field-manager=kuik-manifests-test', '-f', '-'],
    objs.map((o) => JSON.stringify(o)).join('\n'),
  );
  return out.split('\n').filter(Boolean);
}

/** Helm's own labels and the config checksum are the only differences a default install may have. */
const HELM_ONLY_LABELS = [
  'app.kubernetes.io/instance',
  'app.kubernetes.io/managed-by',
  'app.kubernetes.io/version',
  'helm.sh/chart',
];
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'labels' || k === 'annotations') {
      const kept = Object.fromEntries(
        Object.entries(v as Record<string, string>).filter(
          ([lk]) => !HELM_ONLY_LABELS.includes(lk) && lk !== 'checksum/config',
        ),
      );
      if (Object.keys(kept).length > 0) out[k] = kept;
      continue;
    }
    out[k] = normalize(v);
  }
  return out;
}

let kustomized: Obj[];

before(async () => {
  // cert-manager's CRDs, for real: the dry runs below need their schemas (cluster-scoped, harmless
  // to other files; re-applying is a no-op).
  await installCrds(tools().certManagerCrdDir, 'kuik-manifests-test', [
    'crd/certificates.cert-manager.io',
    'crd/issuers.cert-manager.io',
  ]);
  // Namespaced dry runs need their namespace to exist (a dry-run Namespace is not stored).
  await kubectl(['create', 'namespace', 'kuik-system']).catch(() => '');
  kustomized = await kustomize();
});

test('kustomize renders the CRDs, the namespace and every function', () => {
  const names = kustomized.map(key).sort();
  for (const expected of [
    'Namespace//kuik-system',
    'CustomResourceDefinition//imagesetmirrors.kuik.enix.io',
    'CustomResourceDefinition//clusterimagesetavailabilities.kuik.enix.io',
    'Deployment/kuik-system/kuik-router',
    'PodDisruptionBudget/kuik-system/kuik-router',
    'Certificate/kuik-system/kuik-router',
    'MutatingWebhookConfiguration//kuik-router',
    'Service/kuik-system/kuik-reconcile',
    'ApiServerSource/kuik-system/kuik-reconcile',
    'PingSource/kuik-system/kuik-monitor',
    'JobSink/kuik-system/kuik-copy',
    'Service/kuik-system/kuik-copy',
    'Service/kuik-system/kuik-monitor',
  ]) {
    assert.ok(names.includes(expected), `${expected} missing from ${names.join(', ')}`);
  }
  for (const fn of ['router', 'reconcile', 'reconcile-source', 'monitor', 'copy']) {
    for (const kind of ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding']) {
      const ns = kind === 'ServiceAccount' ? 'kuik-system' : '';
      assert.ok(names.includes(`${kind}/${ns}/kuik-${fn}`), `${kind} kuik-${fn}`);
    }
  }
});

test('every object but the CRDs carries the app.kubernetes.io name, part-of and component labels', () => {
  // The CRDs are crds/*.yaml as they are (kuik v2's, byte for byte where kuik defines them).
  for (const o of kustomized.filter((o) => o.kind !== 'CustomResourceDefinition')) {
    const l = o.metadata.labels ?? {};
    assert.equal(l['app.kubernetes.io/name'], 'kuik-functions', key(o));
    assert.equal(l['app.kubernetes.io/part-of'], 'kube-image-keeper', key(o));
    assert.ok(l['app.kubernetes.io/component'], `${key(o)} has no component label`);
  }
});

test('helm lint passes', async () => {
  const out = await run(tools().helm, ['lint', chart(), '--strict', '--namespace', 'kuik-system']);
  assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
});

test('the chart with default values renders what kustomize renders (Helm labels aside, no Namespace)', async () => {
  const rendered = await helmTemplate('kuik-system');
  // helm install --create-namespace makes the namespace; everything else must be the same object.
  const expected = kustomized.filter((o) => o.kind !== 'Namespace');
  assert.deepEqual(rendered.map(key).sort(), expected.map(key).sort());
  const byKey = new Map(rendered.map((o) => [key(o), o]));
  for (const o of expected) assert.deepEqual(normalize(byKey.get(key(o))), normalize(o), key(o));
});

test('the chart refuses a decision deadline that does not fit in the webhook timeout', async () => {
  await assert.rejects(
    helmTemplate('kuik-system', '--set', 'router.webhook.timeoutSeconds=3'),
    /decisionDeadlineMs must be below/,
  );
  await assert.rejects(
    helmTemplate('kuik-system', '--set', 'copy.sink=queue'),
    /at '\/copy\/sink': value must be one of 'job', 'service'/,
  );
});

test('helm template works without --kube-version (as docs/install.md runs it)', async () => {
  const out = await run(tools().helm, ['template', 'kuik-functions', chart(), '-n', 'kuik-system']);
  assert.match(out, /kind: MutatingWebhookConfiguration/);
});

test('values.schema.json refuses a key the chart does not know, naming it', async () => {
  // Before the schema, a misplaced key (the webhook's selector one level too high) rendered with
  // exit 0 and was ignored: the webhook then covered every namespace.
  await assert.rejects(
    helmTemplate('kuik-system', '--set', 'webhook.namespaceSelector.matchLabels.a=b'),
    /additional properties 'webhook' not allowed/,
  );
  await assert.rejects(
    helmTemplate('kuik-system', '--set', 'router.webhook.namespaceSelectr.matchLabels.a=b'),
    /additional properties 'namespaceSelectr' not allowed/,
  );
  // install.md used to give `jobsink`.
  await assert.rejects(
    helmTemplate('kuik-system', '--set', 'copy.sink=jobsink'),
    /at '\/copy\/sink': value must be one of 'job', 'service'/,
  );
});

test("a kuik v2 values file keeps its configuration and the webhook's namespaceSelector", async () => {
  const file = join(harness().repoRoot, 'tests/integration/testdata/kuik-v2-values.yaml');
  const ns = await chartNamespace('kuik-v2-values');
  const objs = await acceptedTemplate(ns, '-f', file);
  const get = (kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name)!;
  const config = parseDocs(get('ConfigMap', 'kuik-config').data['config.yaml'])[0];
  assert.deepEqual(config, {
    routing: { activeCheck: { timeout: '2s' }, rewriteOnNeverImagePullPolicy: true },
    mirroring: { platforms: [{ architecture: 'amd64' }, { architecture: 'arm64' }] },
    monitoring: { registries: { items: { 'registry.internal:5000': { method: 'GET' } } } },
  });
  for (const w of get('MutatingWebhookConfiguration', 'kuik-router').webhooks) {
    assert.deepEqual(w.namespaceSelector.matchLabels, { 'kuik.enix.io/routing': 'enabled' }, w.name);
    assert.deepEqual(
      w.namespaceSelector.matchExpressions.map((e: { key: string }) => e.key),
      ['kubernetes.io/metadata.name', 'team'],
      w.name,
    );
  }
  // `config` wins over kuik's `configuration` key by key; the rest of `configuration` stays.
  const both = await helmTemplate(ns, '-f', file, '--set', 'config.routing.activeCheck.timeout=3s');
  const merged = parseDocs(both.find((o) => o.kind === 'ConfigMap')!.data['config.yaml'])[0] as Obj;
  assert.equal(merged['routing'].activeCheck.timeout, '3s');
  assert.equal(merged['routing'].rewriteOnNeverImagePullPolicy, true);
  // The selector in two places is ambiguous: refused.
  await assert.rejects(
    helmTemplate(ns, '-f', file, '--set', 'router.webhook.namespaceSelector.matchLabels.x=y'),
    /namespaceSelector is set in manager.webhook.namespaceSelector and router.webhook.namespaceSelector/,
  );
  // kuik v2.2.0 kept it at the top level.
  const v220 = await helmTemplate(ns, '--set', 'webhookConfiguration.namespaceSelector.matchLabels.old=yes');
  assert.deepEqual(
    v220.find((o) => o.kind === 'MutatingWebhookConfiguration')!.webhooks[0].namespaceSelector.matchLabels,
    { old: 'yes' },
  );
});

test('the install notes name the kuik v2 keys that were mapped', async () => {
  const file = join(harness().repoRoot, 'tests/integration/testdata/kuik-v2-values.yaml');
  const notes = async (...args: string[]) => await installNotes('kuik-system', ...args);
  const out = await notes('-f', file);
  assert.match(out, /Deprecated kuik v2 values/);
  assert.match(out, /configuration: mapped to config/);
  assert.match(out, /manager.webhook.namespaceSelector: mapped to router.webhook.namespaceSelector/);
  assert.doesNotMatch(await notes(), /Deprecated/);
});

test('kuik v2 keys that do not carry over fail, each with the key to use instead', async () => {
  const err = await helmTemplate(
    'kuik-system',
    '--set',
    'manager.replicas=3,manager.verbosity=DEBUG,unusedImageTTL=24,nameOverride=kuik',
    '--set',
    'manager.webhook.createCertificateIssuer=false,manager.image.repository=quay.io/enix/kube-image-keeper',
  ).then(
    () => assert.fail('rendered'),
    (e: Error) => e.message,
  );
  for (const line of [
    'manager.replicas: use router.replicas',
    'manager.verbosity: use logLevel',
    'manager.image: use image.repository',
    'manager.webhook.createCertificateIssuer: use router.certManager.issuerRef',
    'unusedImageTTL: use spec.cleanup.retention',
    'nameOverride: use nothing',
  ]) {
    assert.ok(err.includes(line), `${line} missing from: ${err}`);
  }
  // A key kuik v2 never had, under kuik's `manager`, is refused by the schema.
  await assert.rejects(
    helmTemplate('kuik-system', '--set', 'manager.replica=3'),
    /additional properties 'replica' not allowed/,
  );
});

test('the kustomize output passes a server-side dry run', async () => {
  const lines = await dryRun(kustomized);
  assert.equal(lines.length, kustomized.length, lines.join('\n'));
  for (const l of lines) assert.match(l, /serverside-applied \(server dry run\)$/);
  // The dry run is not vacuous: a misspelt field in a Knative Service is refused by its CRD schema.
  const ksvc = structuredClone(
    kustomized.find((o) => o.metadata.name === 'kuik-reconcile' && o.kind === 'Service')!,
  );
  ksvc.spec.template.spec.containerConcurency = 10;
  await assert.rejects(
    dryRun([ksvc]),
    /spec.template.spec.containerConcurency: field not declared in schema/,
  );
});

test('the chart passes a server-side dry run, with defaults and with every option changed', async () => {
  const ns = await chartNamespace('kuik-helm');
  await acceptedTemplate(ns); // the defaults
  const custom = await acceptedTemplate(
    ns,
    '--set',
    'image.repository=registry.example.com/kuik/functions,image.tag=1.2.3,logLevel=debug',
    '--set',
    'copy.sink=service,router.replicas=3,router.priorityClassName=system-cluster-critical',
    '--set',
    'router.webhook.operations={CREATE},router.webhook.namespaceSelector.matchLabels.routing=on',
    '--set',
    'router.certManager.issuerRef.kind=ClusterIssuer,router.certManager.issuerRef.name=corp-ca',
    '--set',
    'monitor.schedule=*/5 * * * *,reconcile.maxScale=6',
    '--set-json',
    'extraEnv=[{"name":"NODE_EXTRA_CA_CERTS","value":"/etc/ssl/corp.pem"}]',
    '--set-json',
    'router.tolerations=[{"key":"infra","operator":"Exists","effect":"NoSchedule"}]',
    '--set-json',
    'config={"routing":{"activeCheck":{"timeout":"2s"}}}',
    '--set-json',
    'reconcile.source.namespaceSelector={"matchLabels":{"kuik":"on"}}',
  );
  const get = (kind: string, name: string) =>
    custom.find((o) => o.kind === kind && o.metadata.name === name)!;
  // The values reach the objects they are about.
  assert.equal(get('Issuer', 'kuik-selfsigned'), undefined);
  assert.deepEqual(get('Certificate', 'kuik-router').spec.issuerRef, {
    kind: 'ClusterIssuer',
    name: 'corp-ca',
  });
  const reconcile = get('Service', 'kuik-reconcile').spec.template.spec.containers[0];
  assert.equal(reconcile.image, 'registry.example.com/kuik/functions:1.2.3');
  assert.deepEqual(
    reconcile.env.find((e: { name: string }) => e.name === 'COPY_SINK'),
    { name: 'COPY_SINK', value: `http://kuik-copy.${ns}.svc.cluster.local` },
  );
  assert.ok(reconcile.env.some((e: { name: string }) => e.name === 'NODE_EXTRA_CA_CERTS'));
  const webhook = get('MutatingWebhookConfiguration', 'kuik-router');
  assert.deepEqual(webhook.webhooks[0].rules[0].operations, ['CREATE']);
  assert.deepEqual(webhook.webhooks[0].namespaceSelector.matchLabels, { routing: 'on' });
  assert.equal(webhook.webhooks[0].namespaceSelector.matchExpressions[0].values[0], ns);
  assert.equal(webhook.metadata.annotations?.['cert-manager.io/inject-ca-from'], `${ns}/kuik-router`);
  assert.equal(
    get('ConfigMap', 'kuik-config').data['config.yaml'],
    'routing:\n  activeCheck:\n    timeout: 2s\n',
  );
  assert.equal(get('PingSource', 'kuik-monitor').spec.schedule, '*/5 * * * *');
});

test('NetworkPolicies (issue 14): on by default, the webhook peers and namespaces from values, off on request', async () => {
  const policies = kustomized.filter((o) => o.kind === 'NetworkPolicy');
  assert.deepEqual(policies.map((o) => o.metadata.name).sort(), ['kuik-functions', 'kuik-router']);
  const router = policies.find((o) => o.metadata.name === 'kuik-router')!;
  // The router's ports are the ones its Deployment declares.
  const ports = kustomized
    .find((o) => o.kind === 'Deployment')!
    .spec.template.spec.containers[0].ports.map((p: { containerPort: number }) => p.containerPort)
    .sort();
  assert.deepEqual(
    router.spec.ingress.map((r: { ports: { port: number }[] }) => r.ports[0]?.port).sort(),
    ports,
  );
  const ns = await chartNamespace('kuik-np');
  const custom = await acceptedTemplate(
    ns,
    '--set',
    'networkPolicy.metricsNamespace=prom',
    '--set-json',
    'networkPolicy.webhookFrom=[{"ipBlock":{"cidr":"10.0.0.0/24"}}]',
    '--set-json',
    'networkPolicy.knativeNamespaces=["knative-serving","contour-internal"]',
  );
  const r = custom.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'kuik-router')!;
  assert.deepEqual(r.spec.ingress[0].from, [{ ipBlock: { cidr: '10.0.0.0/24' } }]);
  assert.equal(
    r.spec.ingress[1].from[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name'],
    'prom',
  );
  const f = custom.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'kuik-functions')!;
  assert.deepEqual(f.spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].values, [
    'knative-serving',
    'contour-internal',
  ]);
  const off = await helmTemplate(ns, '--set', 'networkPolicy.enabled=false');
  assert.equal(off.filter((o) => o.kind === 'NetworkPolicy').length, 0);
});

test('security values (issue 14): sender and metrics authentication wire audiences, tokens and review rights', async () => {
  const ns = await chartNamespace('kuik-sec');
  const on = await acceptedTemplate(
    ns,
    '--set',
    'security.senderAuth.enabled=true,security.metricsAuth.enabled=true,copy.sink=service',
  );
  const get = (kind: string, name: string) => on.find((o) => o.kind === kind && o.metadata.name === name)!;
  const env = (name: string) =>
    Object.fromEntries(
      get('Service', name).spec.template.spec.containers[0].env.map((e: { name: string; value: string }) => [
        e.name,
        e.value,
      ]),
    );
  // Each function's audience is its own name, and its sources ask for it.
  for (const fn of ['reconcile', 'monitor', 'copy']) {
    assert.equal(env(`kuik-${fn}`)['KUIK_SENDER_AUDIENCE'], `kuik-${fn}`);
    assert.equal(env(`kuik-${fn}`)['KUIK_SENDER_IDENTITIES'], `system:serviceaccount:${ns}:*`);
    assert.equal(env(`kuik-${fn}`)['KUIK_METRICS_AUTH'], 'true');
  }
  assert.equal(get('ApiServerSource', 'kuik-reconcile').spec.sink.audience, 'kuik-reconcile');
  assert.equal(get('PingSource', 'kuik-monitor').spec.sink.audience, 'kuik-monitor');
  // reconcile presents a projected token for the copy's audience.
  const reconcile = get('Service', 'kuik-reconcile').spec.template.spec;
  const mount = reconcile.containers[0].volumeMounts.find((m: { name: string }) => m.name === 'copy-token');
  assert.equal(`${mount.mountPath}/token`, env('kuik-reconcile')['COPY_SINK_TOKEN_FILE']);
  assert.equal(
    reconcile.volumes.find((v: { name: string }) => v.name === 'copy-token').projected.sources[0]
      .serviceAccountToken.audience,
    'kuik-copy',
  );
  const role = get('ClusterRole', 'kuik-auth-reviews');
  assert.deepEqual(
    role.rules.map((r: { resources: string[] }) => r.resources[0]),
    ['tokenreviews', 'subjectaccessreviews'],
  );
  assert.deepEqual(
    get('ClusterRoleBinding', 'kuik-auth-reviews').subjects.map((s: { name: string }) => s.name),
    ['kuik-router', 'kuik-reconcile', 'kuik-monitor', 'kuik-copy'],
  );

  // Sender authentication is on by default (kustomize renders the same); with the JobSink as the
  // copy sink, reconcile asks for a token for the JobSink's audience, which Knative Eventing
  // derives from the JobSink (sinks.knative.dev/jobsink/NAMESPACE/NAME).
  const defaults = await helmTemplate(ns);
  const dget = (kind: string, name: string) =>
    defaults.find((o) => o.kind === kind && o.metadata.name === name)!;
  assert.equal(
    dget('Service', 'kuik-reconcile').spec.template.spec.volumes.find(
      (v: { name: string }) => v.name === 'copy-token',
    ).projected.sources[0].serviceAccountToken.audience,
    `sinks.knative.dev/jobsink/${ns}/kuik-copy`,
  );
  // Every source names the audience of the function it calls.
  assert.equal(dget('ApiServerSource', 'kuik-reconcile').spec.sink.audience, 'kuik-reconcile');
  assert.equal(dget('PingSource', 'kuik-reconcile-resync').spec.sink.audience, 'kuik-reconcile');
  assert.equal(dget('PingSource', 'kuik-monitor').spec.sink.audience, 'kuik-monitor');
  assert.ok(
    kustomized.some((o) => o.kind === 'ClusterRoleBinding' && o.metadata.name === 'kuik-auth-reviews'),
  );
  // The JobSink's Job reads its event from a file: nobody sends it anything to check.
  const job = dget('JobSink', 'kuik-copy').spec.job.spec.template.spec.containers[0];
  assert.ok(!job.env.some((e: { name: string }) => e.name === 'KUIK_SENDER_AUDIENCE'));
  // Off: none of it.
  const off = await helmTemplate(ns, '--set', 'security.senderAuth.enabled=false');
  assert.ok(!off.some((o) => o.metadata.name === 'kuik-auth-reviews'));
  assert.ok(!off.some((o) => o.kind === 'ApiServerSource' && o.spec.sink.audience));
  for (const fn of ['reconcile', 'monitor', 'copy']) {
    const c = off.find((o) => o.kind === 'Service' && o.metadata.name === `kuik-${fn}`)!.spec.template.spec;
    assert.ok(!c.containers[0].env.some((e: { name: string }) => e.name === 'KUIK_SENDER_AUDIENCE'), fn);
    assert.ok(!(c.volumes ?? []).some((v: { name: string }) => v.name === 'copy-token'), fn);
  }
});

test("the JobSink's Job template is a valid batch/v1 Job (the JobSink CRD does not check it)", async () => {
  const sink = kustomized.find((o) => o.kind === 'JobSink')!;
  // JobSink adds the event volume and K_EVENT_PATH when it creates the Job; nothing else changes.
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { ...sink.spec.job.metadata, name: uniq('kuik-copy'), namespace: 'kuik-system' },
    spec: sink.spec.job.spec,
  };
  const out = JSON.parse(
    await kubectl(['create', '--dry-run=server', '-o', 'json', '-f', '-'], JSON.stringify(job)),
  ) as Obj;
  assert.equal(out.spec.template.spec.serviceAccountName, 'kuik-copy');
  assert.deepEqual(out.spec.podFailurePolicy.rules[0].onExitCodes.values, [2]);
});

test('Knative Services use only what Knative accepts with its default feature flags', () => {
  const ksvcs = kustomized.filter((o) => o.apiVersion === 'serving.knative.dev/v1');
  assert.deepEqual(ksvcs.map((o) => o.metadata.name).sort(), ['kuik-copy', 'kuik-monitor', 'kuik-reconcile']);
  for (const s of ksvcs) {
    const name = s.metadata.name;
    // Knative's webhook rejects autoscaling annotations on the Service itself (knative notes §3.2).
    assert.ok(
      !Object.keys(s.metadata.annotations ?? {}).some((a) => a.startsWith('autoscaling.knative.dev/')),
      name,
    );
    const tmpl = s.spec.template;
    assert.equal(
      tmpl.metadata.annotations['autoscaling.knative.dev/min-scale'],
      '0',
      `${name} scales to zero`,
    );
    assert.equal(s.metadata.labels?.['networking.knative.dev/visibility'], 'cluster-local', name);
    const pod = tmpl.spec;
    // Feature-flagged (off by default): pod securityContext, affinity, tolerations, nodeSelector,
    // fieldRef env, emptyDir is on by default but unused.
    for (const field of ['securityContext', 'affinity', 'tolerations', 'nodeSelector', 'initContainers']) {
      assert.equal(
        pod[field],
        undefined,
        `${name}: spec.template.spec.${field} needs a Knative feature flag`,
      );
    }
    assert.ok(pod.timeoutSeconds <= 600, `${name}: above Knative's max-revision-timeout-seconds`);
    assert.equal(pod.containers.length, 1, name);
    const c = pod.containers[0];
    assert.equal(c.ports.length, 1, `${name}: Knative allows exactly one port`);
    assert.equal(c.ports[0].containerPort, 8080, `${name}: PORT, which the functions listen on`);
    for (const e of c.env) {
      assert.equal(e.valueFrom?.fieldRef, undefined, `${name}: ${e.name} uses fieldRef (feature flag)`);
      assert.ok(
        !['PORT', 'K_SERVICE', 'K_CONFIGURATION', 'K_REVISION'].includes(e.name),
        `${name}: reserved ${e.name}`,
      );
    }
    assert.deepEqual(c.securityContext, {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  }
});

test("the router's ports, certificate path and deadline are the ones its code uses", () => {
  const d = kustomized.find((o) => o.kind === 'Deployment')!;
  const c = d.spec.template.spec.containers[0];
  const env = Object.fromEntries(c.env.map((e: { name: string; value: string }) => [e.name, e.value]));
  const defaults = routerEnv(env);
  const ports = Object.fromEntries(
    c.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]),
  );
  assert.deepEqual(ports, { webhook: defaults.webhookPort, http: defaults.metricsPort });
  const tls = c.volumeMounts.find((m: { name: string }) => m.name === 'tls');
  assert.equal(`${tls.mountPath}/tls.crt`, defaults.tlsCertFile);
  const webhook = kustomized.find((o) => o.kind === 'MutatingWebhookConfiguration')!;
  for (const w of webhook.webhooks) {
    assert.ok(defaults.decisionDeadlineMs < w.timeoutSeconds * 1000, 'the router answers before the timeout');
    assert.equal(w.clientConfig.service.port, 443);
    assert.equal(
      d.spec.template.spec.containers[0].ports.find((p: { name: string }) => p.name === 'webhook')
        .containerPort,
      9443,
    );
  }
  const svc = kustomized.find((o) => o.kind === 'Service' && o.apiVersion === 'v1')!;
  assert.deepEqual(
    svc.spec.ports.map((p: { port: number; targetPort: string }) => [p.port, p.targetPort]),
    [
      [443, 'webhook'],
      [8080, 'http'],
    ],
  );
});

test("the router's V8 heap is sized for its container, with two malloc arenas, in manifests/ and the chart", async () => {
  const envOf = (objs: Obj[]) => {
    const d = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'kuik-router')!;
    const c = d.spec.template.spec.containers[0];
    return {
      env: Object.fromEntries(c.env.map((e: { name: string; value: string }) => [e.name, e.value])),
      limitMiB: Number(/^(\d+)Mi$/.exec(c.resources.limits.memory)?.[1]),
    };
  };
  const { env, limitMiB } = envOf(kustomized);
  assert.equal(env.MALLOC_ARENA_MAX, '2');
  const semi = Number(/--max-semi-space-size=(\d+)/.exec(env.NODE_OPTIONS ?? '')?.[1]);
  const old = Number(/--max-old-space-size=(\d+)/.exec(env.NODE_OPTIONS ?? '')?.[1]);
  assert.ok(semi > 0 && semi <= 16, `--max-semi-space-size in ${env.NODE_OPTIONS}`);
  assert.ok(old > 0 && old <= limitMiB / 2, `--max-old-space-size ${old} well under the ${limitMiB}Mi limit`);
  // The chart renders the same by default (the test above); its value can change or drop them.
  const custom = envOf(
    await helmTemplate('kuik-system', '--set', 'router.nodeOptions=--max-old-space-size=300'),
  );
  assert.equal(custom.env.NODE_OPTIONS, '--max-old-space-size=300');
  assert.equal(
    envOf(await helmTemplate('kuik-system', '--set', 'router.nodeOptions=')).env.NODE_OPTIONS,
    undefined,
  );

  // A Node started with that environment, as the image starts the router (node main.mjs), takes
  // them: its heap limit is the old space plus the young generation, not a share of the machine.
  const out = await run(process.execPath, ['-p', 'require("v8").getHeapStatistics().heap_size_limit'], {
    env: { ...process.env, NODE_OPTIONS: env.NODE_OPTIONS },
  });
  const limit = Number(out.trim()) / 2 ** 20;
  assert.ok(limit >= old && limit <= old + 4 * semi, `heap limit ${limit} MiB for ${env.NODE_OPTIONS}`);
});

test("a stopping router's wait for a last scrape fits in its grace period, in manifests/ and the chart", async () => {
  const of = (objs: Obj[]) => {
    const pod = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'kuik-router')!.spec.template
      .spec;
    const env = pod.containers[0].env as { name: string; value: string }[];
    return {
      graceSeconds: pod.terminationGracePeriodSeconds as number,
      waitMs: Number(env.find((e) => e.name === 'KUIK_METRICS_LAST_SCRAPE_WAIT_MS')?.value),
    };
  };
  // The default (the chart renders the same: the test above) waits for a 30 s scrape interval.
  const d = of(kustomized);
  assert.equal(d.waitMs, 30_000);
  assert.ok(d.graceSeconds * 1000 >= d.waitMs + 10_000, JSON.stringify(d));
  const set = (v: string) => helmTemplate('kuik-system', '--set', `metrics.push.lastScrapeWaitSeconds=${v}`);
  assert.deepEqual(of(await set('60')), { graceSeconds: 75, waitMs: 60_000 });
  assert.deepEqual(of(await set('0')), { graceSeconds: 15, waitMs: 0 });
  await assert.rejects(set('-1'), /lastScrapeWaitSeconds/);
});

test('the webhooks in manifests/ are registered like the ones the integration tests use', async () => {
  // tests/harness/webhook.ts registers the router by URL; everything else must match manifests/.
  const name = uniq('kuik-manifest-compare');
  const unregister = await registerRouterWebhook({
    name,
    url: 'https://127.0.0.1:1/mutate',
    // No namespace has this label: the registration is never called.
    namespaceLabel: { key: 'kuik-manifests-test', value: name },
  });
  try {
    const api = kubeConfig().makeApiClient(AdmissionregistrationV1Api);
    const stored = await api.readMutatingWebhookConfiguration({ name });
    const manifest = kustomized.find((o) => o.kind === 'MutatingWebhookConfiguration')!;
    const shape = (w: Record<string, unknown>) => ({
      name: w['name'],
      rules: w['rules'],
      failurePolicy: w['failurePolicy'],
      sideEffects: w['sideEffects'],
      timeoutSeconds: w['timeoutSeconds'],
      reinvocationPolicy: w['reinvocationPolicy'] ?? 'Never',
      admissionReviewVersions: w['admissionReviewVersions'],
      path:
        (w['clientConfig'] as { url?: string; service?: { path?: string } }).service?.path ??
        new URL((w['clientConfig'] as { url: string }).url).pathname,
    });
    assert.deepEqual(
      (stored.webhooks ?? []).map((w) => shape(JSON.parse(JSON.stringify(w)))),
      manifest.webhooks.map(shape),
    );
    // The harness excludes a subset of what the manifests exclude.
    const excluded = manifest.webhooks[0].namespaceSelector.matchExpressions[0].values as string[];
    for (const ns of ['kube-system', 'kuik-system']) assert.ok(excluded.includes(ns));
  } finally {
    await unregister();
  }
});

// Issue 13: kuik v2's chart values (pull secrets, pod annotations and labels, scheduling, security
// contexts, probes, strategy, PDB, ServiceAccounts, RBAC) for every workload the chart makes.

type Pod = Record<string, Obj['spec']>;
/** The pod spec and metadata of each workload the chart makes, by name. */
function workloads(objs: Obj[]): Record<string, { meta: Obj['metadata']; spec: Pod }> {
  const find = (kind: string, apiVersion: string, name: string) =>
    objs.find((o) => o.kind === kind && o.apiVersion === apiVersion && o.metadata.name === name)!;
  const ksvc = (name: string) => find('Service', 'serving.knative.dev/v1', name).spec.template;
  const router = find('Deployment', 'apps/v1', 'kuik-router').spec.template;
  const job = find('JobSink', 'sinks.knative.dev/v1alpha1', 'kuik-copy').spec.job.spec.template;
  return {
    router: { meta: router.metadata, spec: router.spec },
    reconcile: { meta: ksvc('kuik-reconcile').metadata, spec: ksvc('kuik-reconcile').spec },
    monitor: { meta: ksvc('kuik-monitor').metadata, spec: ksvc('kuik-monitor').spec },
    'copy (Service)': { meta: ksvc('kuik-copy').metadata, spec: ksvc('kuik-copy').spec },
    'copy (Job)': { meta: job.metadata, spec: job.spec },
  };
}

/** The JobSink's Job template as the Job it makes, through the API server (its CRD checks none of it). */
async function dryRunJobSinkJob(objs: Obj[], namespace: string): Promise<Obj> {
  const sink = objs.find((o) => o.kind === 'JobSink')!;
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { ...sink.spec.job.metadata, name: uniq('kuik-copy'), namespace },
    spec: sink.spec.job.spec,
  };
  return JSON.parse(
    await kubectl(['create', '--dry-run=server', '-o', 'json', '-f', '-'], JSON.stringify(job)),
  ) as Obj;
}

test('every workload takes pull secrets, pod annotations and labels, scheduling, security contexts and probes from values', async () => {
  const ns = await chartNamespace('kuik-pods');
  const file = join(harness().repoRoot, 'tests/integration/testdata/chart-workload-values.yaml');
  const objs = await helmTemplate(ns, '-f', file);
  const lines = await dryRun(objs);
  assert.equal(lines.length, objs.length, lines.join('\n'));
  const job = await dryRunJobSinkJob(objs, ns);
  assert.deepEqual(job.spec.template.spec.nodeSelector, { pool: 'copy' });

  const w = workloads(objs);
  for (const [name, { meta, spec }] of Object.entries(w)) {
    // The shared values reach every pod; the chart's own labels and annotations stay.
    assert.deepEqual(spec.imagePullSecrets, [{ name: 'regcred' }], name);
    assert.equal(meta.annotations!['sidecar.istio.io/inject'], 'false', name);
    assert.ok(meta.annotations!['checksum/config'], name);
    assert.equal(meta.labels!['team'], 'platform', name);
    assert.equal(meta.labels!['app.kubernetes.io/name'], 'kuik-functions', name);
    assert.ok(spec.nodeSelector, `${name}: nodeSelector`);
    assert.ok(spec.tolerations, `${name}: tolerations`);
    assert.ok(spec.priorityClassName, `${name}: priorityClassName`);
  }
  const { router, reconcile, monitor } = w;
  // The router's Deployment: strategy, PDB, its own scheduling, contexts as given, probe timing.
  const deployment = objs.find((o) => o.kind === 'Deployment')!;
  assert.deepEqual(deployment.spec.strategy, {
    type: 'RollingUpdate',
    rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
  });
  const pdb = objs.find((o) => o.kind === 'PodDisruptionBudget')!;
  assert.equal(pdb.spec.maxUnavailable, 1);
  assert.equal(pdb.spec.minAvailable, undefined, 'a PodDisruptionBudget takes one of the two');
  assert.equal(router!.meta.annotations!['example.com/owner'], 'router');
  assert.equal(router!.meta.labels!['tier'], 'admission');
  assert.equal(router!.spec.priorityClassName, 'system-cluster-critical');
  assert.equal(router!.spec.topologySpreadConstraints[0].topologyKey, 'topology.kubernetes.io/zone');
  assert.ok(router!.spec.affinity.nodeAffinity, 'router.affinity replaces the default anti-affinity');
  assert.equal(router!.spec.affinity.podAntiAffinity, undefined);
  assert.deepEqual(router!.spec.securityContext, {
    runAsNonRoot: true,
    seccompProfile: { type: 'RuntimeDefault' },
  });
  const rc = router!.spec.containers[0];
  assert.equal(rc.securityContext.runAsUser, undefined);
  assert.deepEqual(rc.readinessProbe, { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 7 });
  assert.equal(rc.livenessProbe.timeoutSeconds, 3);
  assert.equal(
    rc.livenessProbe.httpGet.path,
    '/healthz',
    "Helm merges the operator's probe into the chart's",
  );
  // The Knative Services: flagged fields only where set, the pod context only when given.
  assert.equal(
    reconcile!.meta.annotations!['autoscaling.knative.dev/initial-scale'],
    '0',
    'Knative annotations the chart does not set pass through',
  );
  assert.equal(reconcile!.meta.annotations!['autoscaling.knative.dev/min-scale'], '0');
  assert.deepEqual(reconcile!.spec.securityContext, { runAsNonRoot: true, fsGroup: 65532 });
  assert.deepEqual(reconcile!.spec.containers[0].securityContext, {
    runAsNonRoot: true,
    runAsUser: 1000,
    allowPrivilegeEscalation: false,
  });
  assert.deepEqual(reconcile!.spec.containers[0].readinessProbe, {
    httpGet: { path: '/readyz' },
    periodSeconds: 3,
  });
  assert.deepEqual(reconcile!.spec.containers[0].livenessProbe, {
    httpGet: { path: '/healthz' },
    periodSeconds: 10,
  });
  assert.equal(reconcile!.spec.serviceAccountName, 'kuik-reconciler');
  assert.equal(objs.find((o) => o.kind === 'ApiServerSource')!.spec.serviceAccountName, 'kuik-events');
  for (const field of ['affinity', 'topologySpreadConstraints', 'securityContext']) {
    assert.equal(
      monitor!.spec[field],
      undefined,
      `monitor.${field} unset: not rendered (it needs a Knative flag)`,
    );
  }
  assert.equal(monitor!.meta.labels!['tier'], 'batch');
  assert.ok(monitor!.spec.containers[0].securityContext.readOnlyRootFilesystem, 'hardened by default');
  // The copy: the same settings on its Jobs and its Knative Service; probes only on the Service.
  const copyJob = w['copy (Job)']!;
  const copySvc = w['copy (Service)']!;
  for (const p of [copyJob, copySvc]) {
    assert.equal(p.spec.priorityClassName, 'kuik-batch');
    assert.deepEqual(p.spec.securityContext, { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 });
    assert.equal(p.spec.containers[0].securityContext.runAsUser, undefined);
  }
  assert.equal(copyJob.spec.containers[0].readinessProbe, undefined);
  assert.ok(copySvc.spec.containers[0].readinessProbe);
  assert.equal(job.spec.template.spec.priorityClassName, 'kuik-batch');
  assert.deepEqual(job.spec.template.spec.imagePullSecrets, [{ name: 'regcred' }]);
  // With copy.sink: job the Service is unused: the Jobs get the scheduling, the Service no flagged
  // field (pinning the Jobs must not need Knative's flags).
  const jobSink = workloads(await helmTemplate(ns, '-f', file, '--set', 'copy.sink=job'));
  assert.equal(jobSink['copy (Job)']!.spec.priorityClassName, 'kuik-batch');
  for (const field of [
    'nodeSelector',
    'tolerations',
    'affinity',
    'topologySpreadConstraints',
    'priorityClassName',
    'securityContext',
  ]) {
    assert.equal(jobSink['copy (Service)']!.spec[field], undefined, `copy Service: ${field}`);
  }
  assert.deepEqual(jobSink['copy (Service)']!.spec.imagePullSecrets, [{ name: 'regcred' }]);
  // Cloud IAM: the shared annotation on every ServiceAccount, a function's own over it.
  const sas = objs.filter((o) => o.kind === 'ServiceAccount');
  assert.deepEqual(sas.map((o) => o.metadata.name).sort(), [
    'kuik-copy',
    'kuik-events',
    'kuik-monitor',
    'kuik-reconciler',
    'kuik-router',
  ]);
  const sa = (name: string) => sas.find((o) => o.metadata.name === name)!.metadata;
  assert.equal(
    sa('kuik-monitor').annotations!['eks.amazonaws.com/role-arn'],
    'arn:aws:iam::123456789012:role/kuik',
  );
  assert.equal(
    sa('kuik-copy').annotations!['eks.amazonaws.com/role-arn'],
    'arn:aws:iam::123456789012:role/kuik-copy',
  );
  assert.equal(
    sa('kuik-router').annotations!['iam.gke.io/gcp-service-account'],
    'kuik-router@example.iam.gserviceaccount.com',
  );
  for (const o of sas) assert.equal(o.metadata.labels!['cost-center'], 'infra', o.metadata.name);
  // The bindings name the renamed accounts.
  const binding = (name: string) =>
    objs.find((o) => o.kind === 'ClusterRoleBinding' && o.metadata.name === name)!.subjects[0].name;
  assert.equal(binding('kuik-reconcile'), 'kuik-reconciler');
  assert.equal(binding('kuik-reconcile-source'), 'kuik-events');
  // The install notes name the Knative flags these values need.
  const notes = await installNotes(ns, '-f', file);
  assert.match(
    notes,
    /kubernetes.podspec-nodeselector: enabled {2}\(for reconcile.nodeSelector, monitor.nodeSelector, copy.nodeSelector\)/,
  );
  assert.match(
    notes,
    /kubernetes.podspec-securitycontext: enabled {2}\(for reconcile.podSecurityContext, copy.podSecurityContext\)/,
  );
});

test('ServiceAccounts: one shared name made once, or none made; rbac.create=false makes no roles', async () => {
  const ns = await chartNamespace('kuik-sa');
  const shared = await acceptedTemplate(
    ns,
    '--set',
    'serviceAccount.name=kuik,security.senderAuth.enabled=true,security.metricsAuth.enabled=true',
  );
  assert.deepEqual(
    shared.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata.name),
    ['kuik'],
  );
  for (const { spec } of Object.values(workloads(shared))) assert.equal(spec.serviceAccountName, 'kuik');
  for (const b of shared.filter((o) => o.kind === 'ClusterRoleBinding')) {
    for (const s of b.subjects) assert.equal(s.name, 'kuik', b.metadata.name);
  }

  const none = await acceptedTemplate(ns, '--set', 'serviceAccount.create=false,rbac.create=false');
  const kinds = new Set(none.map((o) => o.kind));
  for (const kind of ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding'])
    assert.ok(!kinds.has(kind), kind);
  // The functions still run as the names they would have had, which the operator makes.
  assert.equal(workloads(none)['router']!.spec.serviceAccountName, 'kuik-router');
  // rbac.create=false also drops the review rights of the security options.
  const sec = await helmTemplate(ns, '--set', 'rbac.create=false,security.metricsAuth.enabled=true');
  assert.ok(!sec.some((o) => o.kind === 'ClusterRole'));
  assert.ok(sec.some((o) => o.kind === 'ServiceAccount'));

  const noPdb = await helmTemplate(ns, '--set', 'router.pdb.create=false');
  assert.ok(!noPdb.some((o) => o.kind === 'PodDisruptionBudget'));
});

test('a pod label or annotation the chart sets itself is refused, naming it', async () => {
  await assert.rejects(
    helmTemplate('kuik-system', '--set', 'podLabels.app\\.kubernetes\\.io/component=x'),
    /podLabels of router set app.kubernetes.io\/component, a label the chart sets itself/,
  );
  await assert.rejects(
    helmTemplate(
      'kuik-system',
      '--set-json',
      'monitor.podAnnotations={"autoscaling.knative.dev/max-scale":"4"}',
    ),
    /podAnnotations of monitor set autoscaling.knative.dev\/max-scale, an annotation the chart sets itself/,
  );
  await assert.rejects(
    helmTemplate('kuik-system', '--set', 'imagePullSecrets[0].nam=x'),
    /additional properties 'nam' not allowed/,
  );
});

test("a kuik v2 values file's manager pod settings carry over (router; pull secrets and annotations everywhere)", async () => {
  const file = join(harness().repoRoot, 'tests/integration/testdata/kuik-v2-manager-values.yaml');
  const ns = await chartNamespace('kuik-v2-manager');
  const objs = await acceptedTemplate(ns, '-f', file);
  const w = workloads(objs);
  for (const [name, { meta, spec }] of Object.entries(w)) {
    assert.deepEqual(spec.imagePullSecrets, [{ name: 'quay-pull' }], name);
    assert.equal(meta.annotations!['vault.hashicorp.com/agent-inject'], 'false', name);
    if (name !== 'router')
      assert.equal(spec.nodeSelector, undefined, `${name}: kuik's manager is the router`);
  }
  const router = w['router']!.spec;
  assert.deepEqual(router.nodeSelector, { 'node-role.kubernetes.io/infra': '' });
  assert.equal(router.tolerations[0].key, 'node-role.kubernetes.io/infra');
  assert.equal(router.priorityClassName, 'system-cluster-critical');
  assert.ok(router.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution);
  assert.deepEqual(router.securityContext, {
    runAsNonRoot: true,
    seccompProfile: { type: 'RuntimeDefault' },
  });
  assert.equal(router.containers[0].securityContext.readOnlyRootFilesystem, undefined);
  // kuik's probes point at its port 8081: their timing carries over, the router's handler stays.
  assert.deepEqual(router.containers[0].readinessProbe, {
    httpGet: { path: '/readyz', port: 'http' },
    periodSeconds: 20,
  });
  assert.equal(router.containers[0].livenessProbe.failureThreshold, 3);
  assert.equal(router.containers[0].livenessProbe.httpGet.port, 'http');
  assert.deepEqual(objs.find((o) => o.kind === 'Deployment')!.spec.strategy, { type: 'Recreate' });
  assert.equal(objs.find((o) => o.kind === 'PodDisruptionBudget')!.spec.minAvailable, 1);
  for (const o of objs.filter((o) => o.kind === 'ServiceAccount')) {
    assert.equal(
      o.metadata.annotations!['eks.amazonaws.com/role-arn'],
      'arn:aws:iam::123456789012:role/kuik',
    );
    assert.equal(o.metadata.labels!['team'], 'platform');
  }
  // kuik's manager.pdb.create: false (its default) means no PodDisruptionBudget.
  const noPdb = await helmTemplate(ns, '-f', file, '--set', 'manager.pdb.create=false');
  assert.ok(!noPdb.some((o) => o.kind === 'PodDisruptionBudget'));
  // The same setting in kuik's place and the chart's: refused, naming both.
  await assert.rejects(
    helmTemplate(ns, '-f', file, '--set', 'router.nodeSelector.pool=infra'),
    /router.nodeSelector and manager.nodeSelector are both set: keep only router.nodeSelector/,
  );
  await assert.rejects(
    helmTemplate(ns, '-f', file, '--set', 'imagePullSecrets[0].name=other'),
    /imagePullSecrets and manager.imagePullSecrets are both set: keep only imagePullSecrets/,
  );
  // The install notes name what was mapped.
  const notes = await installNotes(ns, '-f', file);
  assert.match(notes, /manager.imagePullSecrets: mapped to imagePullSecrets, for every workload/);
  assert.match(notes, /manager.nodeSelector: mapped to router.nodeSelector/);
  assert.match(notes, /manager.readinessProbe: its timing mapped to router.readinessProbe/);
});
