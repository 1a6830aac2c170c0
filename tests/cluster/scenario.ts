// What the real-cluster scenarios share: the upstream and mirror registries inside the cluster's
// namespace, a runnable image pushed upstream (the pause binary, so pods really run), and small
// kubectl helpers that poll for state instead of racing it.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { registrySecretArgs } from '../harness/fixtures.ts';
import { writeOciImage } from '../harness/oci-image.ts';
import { run, waitFor } from '../harness/proc.ts';
import { NET } from './host.ts';
import { packBinaryImage } from './images.ts';
import type { NsRegistry } from './registries.ts';
import type { Cluster } from './start.ts';

export const UPSTREAM_PORT = 5443;
export const MIRROR_PORT = 5444;

/** skopeo's view of a TLS registry of the cluster, through its loopback forward. */
export async function skopeoArgs(c: Cluster, r: NsRegistry, dir: 'src' | 'dest'): Promise<string[]> {
  const certs = join(c.runDir, 'skopeo-certs');
  await mkdir(certs, { recursive: true });
  await run('cp', [c.pki.caCert, join(certs, 'ca.crt')]);
  return [`--${dir}-creds`, `${r.username}:${r.password}`, `--${dir}-cert-dir`, certs];
}

/**
 * Pushes an OCI layout as REPO:TAG: `make` writes it in a scratch directory (removed after) and
 * returns its path; `all` copies every platform of an index rather than the host's one.
 */
async function pushLayout(
  c: Cluster,
  r: NsRegistry,
  repo: string,
  tag: string,
  make: (scratch: string) => Promise<string>,
  all = false,
): Promise<void> {
  const dir = await mkdtemp(join(c.runDir, 'img-'));
  try {
    const layout = await make(dir);
    await run('skopeo', [
      'copy',
      ...(all ? ['--all'] : []),
      '--quiet',
      ...(await skopeoArgs(c, r, 'dest')),
      `oci:${layout}:${tag}`,
      `docker://${r.local}/${repo}:${tag}`,
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Pushes a runnable image (the pause binary: it starts and waits) as REPO:TAG. */
export async function pushRunnable(c: Cluster, r: NsRegistry, repo: string, tag: string): Promise<void> {
  await pushLayout(c, r, repo, tag, async (dir) => {
    await packBinaryImage({ ...c.tools.images['pause']!, name: repo, tag }, dir);
    return dir;
  });
}

/**
 * Pushes an image whose one layer holds `content` at `path` (and the packing's /etc and /tmp): a
 * volume to mount, whose file a container reads.
 */
export async function pushFileImage(
  c: Cluster,
  r: NsRegistry,
  repo: string,
  tag: string,
  path: string,
  content: string,
): Promise<void> {
  await pushLayout(c, r, repo, tag, async (dir) => {
    const file = join(dir, 'content');
    await writeFile(file, content);
    const layout = join(dir, 'layout');
    await mkdir(layout);
    await packBinaryImage({ name: repo, tag, binary: file, path }, layout);
    return layout;
  });
}

/** Pushes a synthetic single-layer image of `bytes` (to copy, not to run). */
export async function pushSynthetic(
  c: Cluster,
  r: NsRegistry,
  repo: string,
  tag: string,
  bytes: number,
): Promise<void> {
  await pushLayout(
    c,
    r,
    repo,
    tag,
    async (dir) => {
      await writeOciImage(dir, {
        tag,
        layerBytes: bytes,
        layers: 1,
        platforms: ['linux/amd64'],
        seed: `${repo}:${tag}`,
      });
      return dir;
    },
    true,
  );
}

/** The digest the registry serves for REPO:TAG (its manifest's, as `skopeo inspect` reports). */
export async function digestOf(c: Cluster, r: NsRegistry, repo: string, tag: string): Promise<string> {
  const out = await run('skopeo', [
    'inspect',
    '--raw',
    ...(await skopeoArgs(c, r, 'src')).map((a) => a.replace('--src-', '--')),
    `docker://${r.local}/${repo}:${tag}`,
  ]);
  return `sha256:${createHash('sha256').update(out).digest('hex')}`;
}

/** A docker-registry pull secret for one of the cluster's registries. */
export async function pullSecret(c: Cluster, ns: string, name: string, r: NsRegistry): Promise<void> {
  const { host, username, password } = r;
  // addRegistry's registries all have TLS and credentials; a plain one has nothing to put here.
  if (!username || !password) throw new Error(`registry ${r.name} has no credentials for a pull secret`);
  await c.k(...registrySecretArgs(ns, name, { host, username, password }));
}

export async function applyYaml(c: Cluster, yaml: string): Promise<void> {
  const f = join(await mkdtemp(join(c.runDir, 'apply-')), 'obj.yaml');
  await writeFile(f, yaml);
  await c.k('apply', '-f', f);
}

export async function jsonpath(c: Cluster, args: string[], path: string): Promise<string> {
  return await c.k(...args, '-o', `jsonpath=${path}`);
}

/**
 * Waits until the ImageSetMirror NS/NAME has mirrored `image` (its first entry when none is
 * named): the entry's mirror has a mirroredAt.
 */
export async function waitMirrored(
  c: Cluster,
  ns: string,
  name: string,
  image?: string,
  what = `ism/${name} mirrored`,
): Promise<void> {
  const entry = image === undefined ? '[0]' : `[?(@.image=="${image}")]`;
  const path = `{.status.matchingImages${entry}.mirrors[0].mirroredAt}`;
  await eventually(what, async () => (await jsonpath(c, ['-n', ns, 'get', 'ism', name], path)) !== '');
}

/** `kubectl run NAME --image=IMAGE` in NS, pulling with the Secret `pullSecret`. */
export async function runPod(
  c: Cluster,
  ns: string,
  name: string,
  image: string,
  pullSecret = 'upstream-pull',
): Promise<void> {
  const overrides = JSON.stringify({ spec: { imagePullSecrets: [{ name: pullSecret }] } });
  await c.k('-n', ns, 'run', name, `--image=${image}`, `--overrides=${overrides}`);
}

/** Polls until `check` is true (or throws with what it last saw). Generous: the node is shared. */
export async function eventually(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 600_000,
): Promise<void> {
  await waitFor(what, check, { timeoutMs, intervalMs: 1000 });
}

/**
 * Pods of `selector` that are not being deleted. A pod scaled away is gone for the workload the
 * moment it is deleted; on this node containerd 1.6 was seen taking minutes to stop a
 * container of a Knative revision pod (`StopContainer … context deadline exceeded` in kubelet's
 * log while Knative's drain hook runs), so such a pod can linger as Terminating.
 */
export async function podsOf(c: Cluster, ns: string, selector: string): Promise<number> {
  const out = await c.k('-n', ns, 'get', 'pods', '-l', selector, '-o', 'json');
  const pods = JSON.parse(out) as { items: { metadata: { deletionTimestamp?: string } }[] };
  return pods.items.filter((p) => p.metadata.deletionTimestamp === undefined).length;
}

/**
 * A pod whose container (`pause`, of an image no ImageSetMirror selects) prints FILE of the image
 * volume `data` mounted at /vol, then waits: the pod's log is the file.
 */
export function imageVolumePodYaml(
  ns: string,
  name: string,
  pause: string,
  reference: string,
  file: string,
): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}}
spec:
  imagePullSecrets: [{name: upstream-pull}]
  terminationGracePeriodSeconds: 1
  containers:
    - name: app
      image: "${pause}"
      command: [/pause, "/vol${file}"]
      volumeMounts: [{name: data, mountPath: /vol}]
  volumes:
    - name: data
      image: {reference: "${reference}", pullPolicy: IfNotPresent}
`;
}

/** A 2-replica Deployment of `image` pulled with the `upstream-pull` secret (pods stop at once). */
export function deploymentYaml(ns: string, name: string, image: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${ns}}
spec:
  replicas: 2
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      imagePullSecrets: [{name: upstream-pull}]
      terminationGracePeriodSeconds: 1
      containers: [{name: app, image: "${image}"}]
`;
}

/** An ImageSetMirror of every image of the upstream registry into the mirror under `path`. */
export function imageSetMirrorYaml(ns: string, name: string, path: string): string {
  const upstream = `${NET.nodeIp}:${UPSTREAM_PORT}`.replace(/\./g, '\\.');
  return `apiVersion: kuik.enix.io/v1alpha1
kind: ImageSetMirror
metadata: {name: ${name}, namespace: ${ns}}
spec:
  filter: {include: [{image: '${upstream}/.*'}]}
  mirrors: [{registry: '${NET.nodeIp}:${MIRROR_PORT}', path: ${path}, credentialSecret: {name: mirror-cred}}]
`;
}
