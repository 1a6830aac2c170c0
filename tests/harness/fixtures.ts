// Helpers for test files running under the harness: seed images, make namespaces, run kubectl.
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Kube } from '#shared/kube/client.ts';
import { waitEstablished } from './controlplane.ts';
import { harness, kubeConfig, type RegistryInfo } from './env.ts';
import { type FaultProxy, startFaultProxy } from './fault-proxy.ts';
import { run } from './proc.ts';
import {
  type RunningRegistry,
  type Seeded,
  type SeedOptions,
  seedArtifact as seedArtifactWith,
  seedImage,
  startRegistry,
} from './registry.ts';

/** A short random suffix for names that must not collide between tests or runs. */
export function uniq(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Pushes a synthetic multi-arch image (oci-image.ts + skopeo) and returns its reference and digest. */
export async function seed(
  reg: RegistryInfo,
  repo: string,
  tag: string,
  opts: SeedOptions = {},
): Promise<Seeded> {
  const h = harness();
  const layoutDir = join(h.runDir, 'layouts');
  await mkdir(layoutDir, { recursive: true });
  return await seedImage(reg, repo, tag, { ...opts, layoutDir });
}

/** Pushes a non-image OCI artifact (artifactType, empty config, no platform) and returns its digest. */
export async function seedArtifact(
  reg: RegistryInfo,
  repo: string,
  tag: string,
  opts: { files?: Record<string, string>; artifactType?: string } = {},
): Promise<Seeded & { artifactType: string }> {
  const layoutDir = join(harness().runDir, 'layouts');
  await mkdir(layoutDir, { recursive: true });
  return await seedArtifactWith(reg, repo, tag, { ...opts, layoutDir });
}

/**
 * A registry of the test's own beside the harness's two (TLS with the harness's serving
 * certificate, htpasswd with the harness's user): an origin to stop, or one only this file
 * pushes to. The caller stops it.
 */
export async function startOwnRegistry(
  prefix: string,
  opts: { registryBin?: string } = {},
): Promise<RunningRegistry> {
  const { runDir, pki } = harness();
  return await startRegistry({
    runDir,
    name: uniq(prefix),
    auth: 'htpasswd',
    // The token pair is unused with htpasswd; the serving pair stands in.
    certs: {
      caCert: pki.caCert,
      servingCert: pki.webhookCert,
      servingKey: pki.webhookKey,
      tokenCert: pki.webhookCert,
      tokenKey: pki.webhookKey,
    },
    ...opts,
  });
}

/**
 * A fault proxy in front of the harness registry `reg`, serving TLS with the harness's certificate
 * (so clients trust it as they trust the registry). The caller closes it.
 */
export async function proxyInFrontOf(reg: RegistryInfo): Promise<FaultProxy> {
  const { pki } = harness();
  return await startFaultProxy({
    upstream: reg.host,
    caFile: reg.caFile,
    tls: { certFile: pki.webhookCert, keyFile: pki.webhookKey },
  });
}

/** Applies the CRDs in `dir` (server-side, as `fieldManager`) and waits until `crds` are established. */
export async function installCrds(dir: string, fieldManager: string, crds: readonly string[]): Promise<void> {
  const h = harness();
  const k = ['--kubeconfig', h.kubeconfig];
  await run(h.bins.kubectl, [...k, 'apply', '--server-side', `--field-manager=${fieldManager}`, '-f', dir]);
  await waitEstablished(h.bins.kubectl, k, crds);
}

/** kubectl of the harness's version, as cluster admin. */
export async function kubectl(args: string[], input?: string): Promise<string> {
  const h = harness();
  return await run(
    h.bins.kubectl,
    ['--kubeconfig', h.kubeconfig, ...args],
    input === undefined ? {} : { input },
  );
}

/** `kubectl apply` of objects (one, or several as a List), as cluster admin. */
export async function apply(...objects: object[]): Promise<string> {
  const doc = objects.length === 1 ? objects[0] : { apiVersion: 'v1', kind: 'List', items: objects };
  return await kubectl(['apply', '-f', '-'], JSON.stringify(doc));
}

/** Applies an ImageSetMirror `name` in `namespace` with `spec`, as a user writes one. */
export async function imageSetMirror(namespace: string, name: string, spec: object): Promise<string> {
  return await apply({
    apiVersion: 'kuik.enix.io/v1alpha1',
    kind: 'ImageSetMirror',
    metadata: { name, namespace },
    spec,
  });
}

/**
 * A merge patch of an object's status subresource, as a controller would write it (`body` holds
 * `status`): for the statuses tests give CRs and Knative sources nobody reconciles here.
 */
export async function patchStatus(
  resource: string,
  name: string,
  body: object,
  namespace?: string,
): Promise<string> {
  return await kubectl([
    'patch',
    resource,
    name,
    ...(namespace ? ['-n', namespace] : []),
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify(body),
  ]);
}

/** Creates a namespace with a unique name and returns it (namespaces never finish deleting here). */
export async function namespace(prefix = 'test'): Promise<string> {
  const name = uniq(prefix);
  await kubectl(['create', 'namespace', name]);
  return name;
}

/** Polls `f` until it returns something other than undefined (errors count as "not yet"). */
export async function eventually<T>(
  what: string,
  f: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * The arguments of `kubectl create secret docker-registry`: a Secret `name` in `namespace` with
 * `reg`'s credentials for `server` (a proxy in front of it, say), for any cluster's kubectl.
 */
export function registrySecretArgs(
  namespace: string,
  name: string,
  reg: Pick<RegistryInfo, 'host' | 'username' | 'password'>,
  server = reg.host,
): string[] {
  return [
    '-n',
    namespace,
    'create',
    'secret',
    'docker-registry',
    name,
    `--docker-server=${server}`,
    `--docker-username=${reg.username}`,
    `--docker-password=${reg.password}`,
  ];
}

/** A docker-registry Secret with `reg`'s credentials, for `server`, in the harness's cluster. */
export async function registrySecret(
  namespace: string,
  name: string,
  reg: Pick<RegistryInfo, 'host' | 'username' | 'password'>,
  server = reg.host,
): Promise<void> {
  await kubectl(registrySecretArgs(namespace, name, reg, server));
}

/**
 * Knative's ApiServerSource adapter sends no initial list and drops what changes while its watches
 * start: before a test relies on events, wait until a sentinel ImageSetMirror in `namespace` has
 * demonstrably been reconciled (it got its finalizer), touching it until it has.
 */
export async function waitUntilReconcileReceives(namespace: string): Promise<void> {
  const kube = new Kube(kubeConfig());
  await imageSetMirror(namespace, 'sentinel', {});
  await eventually('the ApiServerSource adapter delivering to reconcile', async () => {
    await kubectl(['annotate', 'ism', 'sentinel', '-n', namespace, '--overwrite', `touch=${Date.now()}`]);
    const o = await kube.getKuik<{ metadata: { finalizers?: string[] } }>({
      kind: 'ImageSetMirror',
      name: 'sentinel',
      namespace,
    });
    return o.metadata.finalizers?.length ? true : undefined;
  });
}

/**
 * A ReplicaSet `name` with no replicas in `ns` (no controller runs here), for pods to name as their
 * owner the way a Deployment's pods do; returns that owner reference.
 */
export async function ownerReplicaSet(ns: string, name = 'shop-7d9f8') {
  await apply({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: ns },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: 'shop' } },
      template: {
        metadata: { labels: { app: 'shop' } },
        spec: { containers: [{ name: 'app', image: 'x' }] },
      },
    },
  });
  const uid: string = JSON.parse(await kubectl(['get', 'replicaset', '-n', ns, name, '-o', 'json'])).metadata
    .uid;
  return { apiVersion: 'apps/v1', kind: 'ReplicaSet', name, uid, controller: true };
}

/** A pod (never scheduled: the harness runs no kubelet) using `images`; its generated name. */
export async function pod(
  ns: string,
  images: string[],
  pullSecrets: string[] = [],
  annotations: Record<string, string> = {},
) {
  const name = uniq('pod');
  await apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, annotations },
    spec: {
      containers: images.map((image, i) => ({ name: `c${i}`, image })),
      imagePullSecrets: pullSecrets.map((n) => ({ name: n })),
    },
  });
  return name;
}

/** Samples of one metric family from Prometheus text: labels and value. */
export function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[k as string] = v as string;
    out.push({ labels, value: Number(m[2]) });
  }
  return out;
}
