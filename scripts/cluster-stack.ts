// `npm start -- --cluster`: a real single-node cluster (kubelet, containerd, Knative Serving and
// Eventing, Traefik) with kuik-functions installed from its own manifests (`kubectl apply -k`),
// plus an upstream and a mirror registry, until Ctrl-C. Everything lives in a network namespace the
// run creates; stop() (or the watchdog, if this process dies) removes it and restores the host.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NET } from '../tests/cluster/host.ts';
import { installWithKustomize } from '../tests/cluster/kuik.ts';
import type { NsRegistry } from '../tests/cluster/registries.ts';
import { MIRROR_PORT, pullSecret, pushRunnable, UPSTREAM_PORT } from '../tests/cluster/scenario.ts';
import { type Cluster, startCluster } from '../tests/cluster/start.ts';
import { versions } from '../tests/cluster/tools.ts';

export const CLUSTER_WALKTHROUGH_BEGIN = '# --- walk-through (real cluster) ---';
export const CLUSTER_WALKTHROUGH_END = '# --- end of walk-through ---';

/** The walk-through printed for the real cluster: bash to paste after sourcing the env file. */
export function clusterWalkthrough(env: string, upstream: string, mirror: string): string {
  const re = upstream.replace(/\./g, '\\.');
  return [
    CLUSTER_WALKTHROUGH_BEGIN,
    `. ${env}`,
    '# 1. Mirror what pods use: an ImageSetMirror, then a Deployment of an upstream image.',
    "kubectl apply -f - <<'YAML'",
    'apiVersion: kuik.enix.io/v1alpha1',
    'kind: ImageSetMirror',
    'metadata: {name: demo, namespace: demo}',
    'spec:',
    `  filter: {include: [{image: '${re}/.*'}]}`,
    `  mirrors: [{registry: '${mirror}', path: mirror, credentialSecret: {name: mirror-cred}}]`,
    'YAML',
    "kubectl apply -f - <<'YAML'",
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata: {name: app, namespace: demo}',
    'spec:',
    '  selector: {matchLabels: {app: app}}',
    '  template:',
    '    metadata: {labels: {app: app}}',
    '    spec:',
    '      imagePullSecrets: [{name: upstream-pull}]',
    `      containers: [{name: app, image: '${upstream}/demo/app:v1'}]`,
    'YAML',
    'kubectl -n demo rollout status deployment app --timeout=300s',
    "kubectl -n demo wait ism/demo --for=jsonpath='{.status.matchingImages[0].mirrors[0].mirroredAt}' --timeout=300s",
    'kubectl -n kuik-system get jobs    # the copy Job the JobSink ran',
    '# 2. The upstream stops answering; a new rollout runs from the mirror.',
    'kill -STOP "$UPSTREAM_PID"',
    'kubectl -n demo rollout restart deployment app && kubectl -n demo rollout status deployment app --timeout=300s',
    `kubectl -n demo get pods -o jsonpath='{range .items[*]}{.spec.containers[0].image}{" "}{.status.phase}{"\\n"}{end}'`,
    'kill -CONT "$UPSTREAM_PID"',
    CLUSTER_WALKTHROUGH_END,
  ].join('\n');
}

export interface ClusterStack {
  cluster: Cluster;
  upstream: NsRegistry;
  mirror: NsRegistry;
  /** What `npm start -- --cluster` prints. */
  guide: string;
  /** The walk-through in it, markers included (tests run it as printed). */
  walkthrough: string;
  /** The file the walk-through sources. */
  env: string;
  stop(): Promise<void>;
}

export async function startClusterStack(): Promise<ClusterStack> {
  const c = await startCluster();
  try {
    const upstream = await c.addRegistry('upstream', UPSTREAM_PORT);
    const mirror = await c.addRegistry('mirror', MIRROR_PORT);
    await pushRunnable(c, upstream, 'demo/app', 'v1');
    await installWithKustomize(c);
    await c.k('create', 'namespace', 'demo');
    await pullSecret(c, 'demo', 'upstream-pull', upstream);
    await pullSecret(c, 'demo', 'mirror-cred', mirror);
    const env = join(c.runDir, 'cluster.env.sh');
    await writeFile(
      env,
      `export KUBECONFIG=${c.kubeconfig}\nexport PATH=${join(c.kubectl, '..')}:$PATH\n` +
        `export UPSTREAM=${upstream.host} MIRROR=${mirror.host}\n` +
        `# The upstream registry's process: kill -STOP makes it stop answering, kill -CONT brings it back.\n` +
        `export UPSTREAM_PID=${upstream.proc.child.pid}\n`,
    );
    const walkthrough = clusterWalkthrough(env, upstream.host, mirror.host);
    const guide = `
kuik-functions on a real single-node cluster: kubelet ${versions()['K8S_VERSION']}, containerd,
Knative Serving and Eventing, Traefik, CoreDNS; installed with kubectl apply -k manifests/
(image overridden). Startup: ${Object.entries(c.timings)
      .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}s`)
      .join(', ')}.

  kubeconfig: ${c.kubeconfig}
  . ${env}     # KUBECONFIG, kubectl on PATH, UPSTREAM, MIRROR
  kubectl get pods -A
  kubectl -n kuik-system get ksvc,jobsink,apiserversource,pingsource

Registries (inside the cluster's network namespace; TLS with the cluster's CA; user tester/s3cret):
  upstream ${upstream.host} (holds demo/app:v1, a runnable image)   mirror ${mirror.host}
Network: node ${NET.nodeIp}, pods ${NET.podCidr}, Services ${NET.serviceCidr}; logs in ${join(c.runDir, 'logs')}.

Walk-through (paste into bash):

${walkthrough}

Ctrl-C removes everything (network namespace, mounts, cgroups, host settings restored).`;
    return { cluster: c, upstream, mirror, guide, walkthrough, env, stop: () => c.stop() };
  } catch (err) {
    await c.stop().catch(() => {});
    throw err;
  }
}
