// Starts the real single-node cluster: a network namespace of the run's own, etcd, the control
// plane, containerd, kubelet and kube-proxy, CoreDNS, the infrastructure registry holding the
// images packed here, and (unless told not to) Knative Eventing and Serving with Traefik as the
// networking layer. Parts start in parallel where they can; readiness is polled; stop() and the
// watchdog undo everything, and the next run reaps what a crashed one left.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makePki, type Pki } from '../harness/pki.ts';
import { type Proc, run, stopProc, waitFor } from '../harness/proc.ts';
import { reapLeftovers, superviseRun } from '../harness/start.ts';
import { repoRoot } from '../harness/tools.ts';
import { corednsManifest } from './addons.ts';
import { NET, prepareHost } from './host.ts';
import { pushBinaryImages } from './images.ts';
import { deployKnative } from './knative.ts';
import {
  APISERVER_PORT,
  INFRA_REGISTRY,
  NODE_NAME,
  startApiserver,
  startContainerd,
  startControllerManager,
  startEtcd,
  startInNs,
  startKubelet,
  startKubeProxy,
  startScheduler,
  writeRegistryHosts,
} from './node.ts';
import { forward, type NsRegistry, startNsRegistry } from './registries.ts';
import { type ClusterTools, clusterTools } from './tools.ts';

export const CLUSTER_PREFIX = 'kuik-cluster-';

export interface Cluster {
  runDir: string;
  /** Admin kubeconfig for this machine (through a loopback forward to the apiserver). */
  kubeconfig: string;
  kubectl: string;
  pki: Pki;
  tools: ClusterTools;
  /** The pods' cgroup subtree (kubelet's cgroupRoot), under every hierarchy. */
  cgroupRoot: string;
  /** Runs `cmd args` inside the cluster's network namespace. */
  ns(cmd: string, args: readonly string[]): [string, string[]];
  infraRegistry: NsRegistry;
  /** `kubectl --kubeconfig … ARGS`. */
  k(...args: string[]): Promise<string>;
  timings: Record<string, number>;
  /** Starts one more registry inside the namespace (TLS + htpasswd), for upstream/mirror roles. */
  addRegistry(name: string, port: number): Promise<NsRegistry>;
  /** Starts `cmd args` inside the namespace as one of the cluster's parts (stopped with it). */
  startInNs(name: string, cmd: string, args: string[]): Proc;
  /** A loopback forward from this machine to `target` inside the namespace: its 127.0.0.1:PORT. */
  forward(name: string, target: string): Promise<string>;
  stop(): Promise<void>;
}

async function kubeconfigFile(file: string, server: string, pki: Pki, cert: string, key: string) {
  const b64 = async (f: string) => (await readFile(f)).toString('base64');
  await writeFile(
    file,
    `apiVersion: v1
kind: Config
clusters: [{name: kuik-cluster, cluster: {server: "${server}", certificate-authority-data: ${await b64(pki.caCert)}}}]
users: [{name: u, user: {client-certificate-data: ${await b64(cert)}, client-key-data: ${await b64(key)}}}]
contexts: [{name: kuik-cluster, context: {cluster: kuik-cluster, user: u}}]
current-context: kuik-cluster
`,
    { mode: 0o600 },
  );
}

/**
 * tests/cluster/build.sh: what the cluster runs, built from Go modules the first time (about an
 * hour of CPU on a fresh machine; its output shown), a second once cached. It takes a lock, so a
 * test run building it in the background (tests/run.ts) is waited for, not raced.
 */
async function buildClusterParts(): Promise<void> {
  const child = spawn('bash', [join(repoRoot, 'tests/cluster/build.sh')], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const code = await new Promise<number>((resolve) => {
    child.on('error', () => resolve(1));
    child.on('exit', (c) => resolve(c ?? 1));
  });
  if (code !== 0)
    throw new Error(`tests/cluster/build.sh failed (exit ${code}): the cluster's parts are not built`);
}

export async function startCluster(opts: { knative?: boolean } = {}): Promise<Cluster> {
  const withKnative = opts.knative ?? true;
  const t0 = performance.now();
  const timings: Record<string, number> = {};
  const mark = (k: string) => {
    timings[k] = Math.round(performance.now() - t0);
  };
  if (process.getuid?.() !== 0)
    throw new Error('the real cluster needs root (network namespace, mounts, cgroups)');
  await buildClusterParts();
  reapLeftovers(CLUSTER_PREFIX);
  const tools = clusterTools(withKnative);
  const runDir = await mkdtemp(join(tmpdir(), CLUSTER_PREFIX));
  await writeFile(join(runDir, 'owner'), String(process.pid));
  await mkdir(join(runDir, 'logs'));
  await writeFile(join(runDir, 'pids'), '');
  const keep = process.env['KUIK_KEEP_HARNESS'] === '1';
  const watchdog = superviseRun(join(runDir, 'pids'), keep ? [] : [runDir], [runDir]);
  const id = runDir.slice(-6).replace(/[^A-Za-z0-9]/g, 'x');
  const procs: Proc[] = [];
  const registries: NsRegistry[] = [];
  let host: Awaited<ReturnType<typeof prepareHost>> | undefined;
  const stop = async () => {
    // The node first (so nothing restarts pods), then the control plane, then the host's state.
    for (const p of [...procs].reverse()) await stopProc(p, 3000);
    for (const r of registries) await stopProc(r.proc, 2000);
    await host?.undo();
    if (!keep) await rm(runDir, { recursive: true, force: true });
    watchdog.stdin?.end();
  };
  try {
    host = await prepareHost(runDir, id);
    const h = host;
    mark('netns');
    const pki = await makePki(
      join(runDir, 'pki'),
      [
        `IP:${NET.nodeIp}`,
        `IP:${NET.apiserverServiceIp}`,
        'DNS:kubernetes',
        'DNS:kubernetes.default',
        'DNS:kubernetes.default.svc',
        'DNS:kubernetes.default.svc.cluster.local',
      ],
      { node: { subject: `/O=system:nodes/CN=system:node:${NODE_NAME}`, server: false } },
    );
    mark('pki');
    const inner = `https://127.0.0.1:${APISERVER_PORT}`;
    const adminInner = join(runDir, 'admin-inner.kubeconfig');
    const nodeInner = join(runDir, 'node.kubeconfig');
    await kubeconfigFile(adminInner, inner, pki, pki.adminCert, pki.adminKey);
    await kubeconfigFile(nodeInner, inner, pki, join(pki.dir, 'node.crt'), join(pki.dir, 'node.key'));

    const controlPlane = (async () => {
      procs.push(await startEtcd(h, runDir, join(runDir, 'etcd')));
      mark('etcd');
      procs.push(await startApiserver(h, runDir, pki, tools.kubeApiserver));
      mark('kube-apiserver');
      procs.push(startControllerManager(h, runDir, pki, tools.kubeControllerManager, adminInner));
      procs.push(startScheduler(h, runDir, tools.kubeScheduler, adminInner));
      procs.push(await startKubeProxy(h, runDir, tools.kubeProxy, adminInner));
    })();
    const infra = (async () => {
      const reg = await startNsRegistry(h, runDir, {
        name: 'infra',
        port: 5000,
        dataDir: tools.registryStorage,
      });
      registries.push(reg);
      const wanted = Object.entries(tools.images)
        .filter(([k]) => withKnative || k === 'pause' || k === 'coredns')
        .map(([, i]) => i);
      const pushed = await pushBinaryImages(wanted, reg.local, tools.registryStorage);
      if (pushed.length > 0) console.log(`cluster: packed and pushed ${pushed.join(', ')}`);
      mark('images');
      return reg;
    })();
    const pauseImage = `${INFRA_REGISTRY}/${tools.images['pause']!.name}:${tools.images['pause']!.tag}`;
    const runtime = startContainerd(
      h,
      runDir,
      tools.containerd,
      pauseImage,
      [{ host: INFRA_REGISTRY, scheme: 'http' }],
      pki.caCert,
    ).then((c) => {
      procs.push(c.proc);
      mark('containerd');
      return c;
    });
    const [, infraRegistry, containerd] = await Promise.all([controlPlane, infra, runtime]);

    const apiFwd = await forward(h, runDir, 'apiserver', `127.0.0.1:${APISERVER_PORT}`);
    const kubeconfig = join(runDir, 'kubeconfig');
    await kubeconfigFile(kubeconfig, `https://${apiFwd.local}`, pki, pki.adminCert, pki.adminKey);
    const k = (...args: string[]) => run(tools.kubectl, ['--kubeconfig', kubeconfig, ...args]);

    const kubelet = await startKubelet(h, runDir, pki, tools.kubelet, nodeInner, containerd.socket);
    procs.push(kubelet);
    await waitFor(
      'node Ready',
      async () =>
        (await k(
          'get',
          'node',
          NODE_NAME,
          '-o',
          'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
        )) === 'True',
      { proc: kubelet, timeoutMs: 180_000, intervalMs: 500 },
    );
    mark('node-ready');

    const dns = join(runDir, 'coredns.yaml');
    const dnsImage = tools.images['coredns']!;
    await writeFile(dns, corednsManifest(`${INFRA_REGISTRY}/${dnsImage.name}:${dnsImage.tag}`));
    await k('apply', '-f', dns);
    await k('-n', 'kube-system', 'rollout', 'status', 'deployment/coredns', '--timeout=180s');
    mark('coredns');

    const cluster: Cluster = {
      runDir,
      kubeconfig,
      kubectl: tools.kubectl,
      pki,
      tools,
      cgroupRoot: h.cgroupRoot,
      ns: h.ns,
      infraRegistry,
      k,
      timings,
      startInNs(name, cmd, args) {
        const p = startInNs(h, runDir, name, cmd, args);
        procs.push(p);
        return p;
      },
      async forward(name, target) {
        const f = await forward(h, runDir, name, target);
        procs.push(...f.procs);
        return f.local;
      },
      async addRegistry(name, port) {
        const reg = await startNsRegistry(h, runDir, {
          name,
          port,
          dataDir: join(runDir, 'registries', name, 'data'),
          tls: { cert: pki.servingCert, key: pki.servingKey, caCert: pki.caCert },
        });
        registries.push(reg);
        await writeRegistryHosts(join(runDir, 'containerd'), reg, pki.caCert);
        return reg;
      },
      stop,
    };
    if (withKnative) {
      await deployKnative(cluster);
      mark('knative');
    }
    return cluster;
  } catch (err) {
    if (keep) console.error(`cluster: start failed; run directory kept: ${runDir}`);
    await stop().catch(() => {});
    throw err;
  }
}
