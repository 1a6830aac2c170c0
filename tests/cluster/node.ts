// The single node's processes, all inside the run's network namespace: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, containerd 2 (+ runc, CNI plugins from Debian), kubelet
// and kube-proxy. Every file they write lives under the run directory; what they cannot be told
// to keep there is recorded by host.ts and undone by teardown.sh.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pki } from '../harness/pki.ts';
import { type Proc, run, startProc, waitFor } from '../harness/proc.ts';
import type { Host } from './host.ts';
import { NET } from './host.ts';

export const NODE_NAME = 'node0';
export const APISERVER_PORT = 6443;
/** The infrastructure registry (plain HTTP, no auth) holding the cluster's own images. */
export const INFRA_REGISTRY = `${NET.nodeIp}:5000`;

export interface NodeBins {
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubelet: string;
  kubeProxy: string;
}

export interface RegistryHost {
  /** host:port as pods and containerd see it. */
  host: string;
  /** `https` with the run's CA, or plain `http`. */
  scheme: 'http' | 'https';
}

/** Starts `cmd` inside the namespace, logged and recorded like every harness process. */
export function startInNs(host: Host, runDir: string, name: string, cmd: string, args: string[]): Proc {
  const [c, a] = host.ns(cmd, args);
  return startProc(runDir, name, c, a);
}

/** Runs `curl` inside the namespace: readiness of what only the namespace can reach. */
export async function curlInNs(host: Host, args: string[]): Promise<string> {
  return await run(...host.ns('curl', ['-sS', '--max-time', '3', ...args]));
}

export async function startEtcd(host: Host, runDir: string, dataDir: string): Promise<Proc> {
  const proc = startInNs(host, runDir, 'etcd', '/usr/bin/etcd', [
    '--logger=zap',
    '--log-level=warn',
    `--data-dir=${dataDir}`,
    '--listen-client-urls=http://127.0.0.1:2379',
    '--advertise-client-urls=http://127.0.0.1:2379',
    '--listen-peer-urls=http://127.0.0.1:2380',
    '--unsafe-no-fsync',
  ]);
  await waitFor(
    'etcd',
    async () => (await curlInNs(host, ['http://127.0.0.1:2379/health'])).includes('true'),
    {
      proc,
      timeoutMs: 60_000,
      intervalMs: 250,
    },
  );
  return proc;
}

export async function startApiserver(host: Host, runDir: string, pki: Pki, bin: string): Promise<Proc> {
  const issuer = 'https://kubernetes.default.svc.cluster.local';
  const proc = startInNs(host, runDir, 'kube-apiserver', bin, [
    '--etcd-servers=http://127.0.0.1:2379',
    '--bind-address=0.0.0.0',
    `--advertise-address=${NET.nodeIp}`,
    `--secure-port=${APISERVER_PORT}`,
    `--cert-dir=${join(runDir, 'apiserver-certs')}`,
    `--tls-cert-file=${pki.apiserverCert}`,
    `--tls-private-key-file=${pki.apiserverKey}`,
    `--client-ca-file=${pki.caCert}`,
    `--service-account-issuer=${issuer}`,
    `--api-audiences=${issuer}`,
    `--service-account-key-file=${pki.saPub}`,
    `--service-account-signing-key-file=${pki.saKey}`,
    `--service-cluster-ip-range=${NET.serviceCidr}`,
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    '--allow-privileged=true',
    `--kubelet-client-certificate=${pki.adminCert}`,
    `--kubelet-client-key=${pki.adminKey}`,
    // Else `logs`/`exec` resolve the node's name through the host's resolver.
    '--kubelet-preferred-address-types=InternalIP',
    '--profiling=false',
    '--v=1',
  ]);
  const admin = ['--cacert', pki.caCert, '--cert', pki.adminCert, '--key', pki.adminKey];
  const base = `https://127.0.0.1:${APISERVER_PORT}`;
  await waitFor(
    'kube-apiserver /readyz',
    async () => (await curlInNs(host, [...admin, `${base}/readyz`])) === 'ok',
    {
      proc,
      timeoutMs: 120_000,
      intervalMs: 500,
    },
  );
  return proc;
}

export function startControllerManager(
  host: Host,
  runDir: string,
  pki: Pki,
  bin: string,
  kubeconfig: string,
): Proc {
  return startInNs(host, runDir, 'kube-controller-manager', bin, [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    `--service-account-private-key-file=${pki.saKey}`,
    `--root-ca-file=${pki.caCert}`,
    `--cluster-signing-cert-file=${pki.caCert}`,
    `--cluster-signing-key-file=${pki.caKey}`,
    '--use-service-account-credentials=true',
    `--service-cluster-ip-range=${NET.serviceCidr}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    '--secure-port=10257',
    '--v=1',
  ]);
}

export function startScheduler(host: Host, runDir: string, bin: string, kubeconfig: string): Proc {
  return startInNs(host, runDir, 'kube-scheduler', bin, [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    '--secure-port=10259',
    '--v=1',
  ]);
}

/** containerd 2 and what it starts, built by tests/cluster/build.sh. */
export interface ContainerdBins {
  containerd: string;
  /** containerd-shim-runc-v2: named explicitly, else containerd finds Debian's 1.6 shim on PATH. */
  shim: string;
  ctr: string;
}

/**
 * containerd's config (version 3, containerd 2.x): everything under the run directory, and the
 * two fixes this VM needs. Debian's runc and CNI plugins.
 */
export function containerdConfig(dir: string, pauseImage: string, shim: string): string {
  return `version = 3
root = "${dir}/root"
state = "${dir}/state"
# Plugins that would write outside the run directory (opt installs into /opt/containerd, NRI
# listens on /var/run/nri) or that this machine cannot run.
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.nri.v1.nri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.erofs"]
[grpc]
  address = "${dir}/containerd.sock"
[ttrpc]
  address = "${dir}/containerd.sock.ttrpc"
[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "${pauseImage}"
  [plugins.'io.containerd.cri.v1.images'.registry]
    config_path = "${dir}/certs.d"
[plugins.'io.containerd.cri.v1.runtime']
  # The VM's capability bounding set lacks CAP_SYS_RESOURCE: nobody may set a negative
  # oom_score_adj, and runc fails on the pause container's -998 without this.
  restrict_oom_score_adj = true
  # The sandboxes' network namespaces under the run directory, not /var/run/netns.
  netns_mounts_under_state_dir = true
  # CDI specs (none here) read from the run directory, not /etc/cdi and /var/run/cdi.
  cdi_spec_dirs = ["${dir}/cdi"]
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = "runc"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      runtime_path = "${shim}"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        # cgroupfs, as kubelet's cgroupDriver: this machine mounts cgroup v1 and runs no systemd.
        SystemdCgroup = false
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["/usr/lib/cni"]
    conf_dir = "${dir}/cni"
`;
}

/**
 * containerd's hosts.toml for one registry: plain HTTP, or TLS with the run's CA. containerd reads
 * these at each pull, so a registry added later needs no restart.
 */
export async function writeRegistryHosts(
  containerdDir: string,
  r: RegistryHost,
  caCert: string,
): Promise<void> {
  const d = join(containerdDir, 'certs.d', r.host);
  await mkdir(d, { recursive: true });
  const tls = r.scheme === 'https' ? `  ca = "${caCert}"\n` : '';
  await writeFile(
    join(d, 'hosts.toml'),
    `server = "${r.scheme}://${r.host}"\n[host."${r.scheme}://${r.host}"]\n  capabilities = ["pull", "resolve", "push"]\n${tls}`,
  );
}

export async function startContainerd(
  host: Host,
  runDir: string,
  bins: ContainerdBins,
  pauseImage: string,
  registries: RegistryHost[],
  caCert: string,
): Promise<{ proc: Proc; socket: string }> {
  const dir = join(runDir, 'containerd');
  await mkdir(join(dir, 'cni'), { recursive: true });
  for (const r of registries) await writeRegistryHosts(dir, r, caCert);
  await writeFile(
    join(dir, 'cni', '10-kuik.conflist'),
    JSON.stringify({
      cniVersion: '1.0.0',
      name: 'kuik',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: NET.podCidr }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: join(dir, 'ipam'),
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    }),
  );
  const config = join(dir, 'config.toml');
  await writeFile(config, containerdConfig(dir, pauseImage, bins.shim));
  const socket = join(dir, 'containerd.sock');
  const proc = startInNs(host, runDir, 'containerd', bins.containerd, [
    '--config',
    config,
    '--log-level',
    'warn',
  ]);
  await waitFor(
    'containerd',
    async () => (await run(bins.ctr, ['--address', socket, 'version'])).includes('Server'),
    {
      proc,
      timeoutMs: 60_000,
      intervalMs: 250,
    },
  );
  return { proc, socket };
}

export async function startKubelet(
  host: Host,
  runDir: string,
  pki: Pki,
  bin: string,
  kubeconfig: string,
  containerdSocket: string,
): Promise<Proc> {
  const dir = join(runDir, 'kubelet');
  await mkdir(join(dir, 'root'), { recursive: true });
  await writeFile(join(dir, 'resolv.conf'), '');
  const config = join(dir, 'config.yaml');
  await writeFile(
    config,
    JSON.stringify({
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      // This machine mounts cgroup v1; 1.35 refuses it unless told.
      failCgroupV1: false,
      cgroupDriver: 'cgroupfs',
      // The pods' cgroups under the run's own subtree, so teardown finds every pod process.
      cgroupRoot: `/${host.cgroupRoot}`,
      containerRuntimeEndpoint: `unix://${containerdSocket}`,
      address: NET.nodeIp,
      port: 10250,
      readOnlyPort: 0,
      healthzBindAddress: '127.0.0.1',
      healthzPort: 10248,
      tlsCertFile: pki.servingCert,
      tlsPrivateKeyFile: pki.servingKey,
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: true },
        x509: { clientCAFile: pki.caCert },
      },
      authorization: { mode: 'Webhook' },
      clusterDNS: [NET.dnsServiceIp],
      clusterDomain: 'cluster.local',
      // No upstream resolver: nothing in the cluster resolves names outside it.
      resolvConf: join(dir, 'resolv.conf'),
      podLogsDir: join(dir, 'pod-logs'),
      volumePluginDir: join(dir, 'volume-plugins'),
      failSwapOn: false,
      serializeImagePulls: false,
      // A test node on a shared disk: evict only when it is really full.
      evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      maxPods: 250,
      // Status every few seconds so tests see pods become Ready promptly.
      nodeStatusUpdateFrequency: '4s',
      syncFrequency: '10s',
      fileCheckFrequency: '0s',
      staticPodPath: '',
    }),
  );
  return startInNs(host, runDir, 'kubelet', bin, [
    `--config=${config}`,
    `--kubeconfig=${kubeconfig}`,
    `--root-dir=${join(dir, 'root')}`,
    `--hostname-override=${NODE_NAME}`,
    `--node-ip=${NET.nodeIp}`,
    '--v=1',
  ]);
}

export async function startKubeProxy(
  host: Host,
  runDir: string,
  bin: string,
  kubeconfig: string,
): Promise<Proc> {
  const config = join(runDir, 'kube-proxy.yaml');
  await writeFile(
    config,
    JSON.stringify({
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      mode: 'iptables',
      clientConnection: { kubeconfig },
      clusterCIDR: NET.podCidr,
      hostnameOverride: NODE_NAME,
      bindAddress: NET.nodeIp,
      healthzBindAddress: '127.0.0.1:10256',
      metricsBindAddress: '127.0.0.1:10249',
      // Leave the machine-wide conntrack sysctls alone.
      conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    }),
  );
  return startInNs(host, runDir, 'kube-proxy', bin, [`--config=${config}`, '--v=1']);
}
