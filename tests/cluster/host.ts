// The real cluster's place on this machine: one network namespace the run creates (the whole
// cluster lives in it; nothing in it has a route out), a cgroup subtree of its own for the pods,
// and a record (cluster.env) of every host setting and path the run changes, from which
// teardown.sh undoes them — at stop, from the watchdog if the owner dies, or from the next run.
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../harness/proc.ts';
import { repoRoot } from '../harness/tools.ts';

/** Addresses inside the namespace. The node's IP sits on an empty bridge (no `dummy` module here). */
export const NET = {
  nodeIp: '10.201.0.1',
  nodeCidr: '10.201.0.1/24',
  bridge: 'kuiknode0',
  podCidr: '10.244.0.0/24',
  serviceCidr: '10.96.0.0/24',
  apiserverServiceIp: '10.96.0.1',
  dnsServiceIp: '10.96.0.10',
} as const;

/** Host sysctls kubelet sets (to its own defaults) unless told not to: saved, then restored. */
const KUBELET_SYSCTLS = ['vm.overcommit_memory', 'kernel.panic', 'kernel.panic_on_oops'];
/** Fixed host paths kubelet, containerd and libcni write to whatever their configuration says. */
const FIXED_PATHS = [
  '/var/lib/kubelet',
  '/var/log/containers',
  '/var/log/pods',
  '/var/lib/cni',
  '/run/containerd',
  '/usr/libexec/kubernetes',
  '/opt/containerd',
];

export interface Host {
  netns: string;
  cgroupRoot: string;
  /** A command line that runs `cmd args` inside the namespace (nsenter, not `ip netns exec`, which remounts /sys and hides the cgroup v1 mounts). */
  ns(cmd: string, args: readonly string[]): [string, string[]];
  undo(): Promise<void>;
}

export async function prepareHost(runDir: string, id: string): Promise<Host> {
  const netns = `kuik-${id}`;
  const cgroupRoot = `kuik-${id}`;
  const sysctls: string[] = [];
  for (const k of KUBELET_SYSCTLS) {
    sysctls.push(`${k}=${(await run('sysctl', ['-n', k])).trim()}`);
  }
  const created = FIXED_PATHS.filter((p) => !existsSync(p));
  await writeFile(
    join(runDir, 'cluster.env'),
    `NETNS=${netns}\nCGROUP_ROOT=${cgroupRoot}\nSYSCTLS="${sysctls.join(' ')}"\nCREATED_PATHS="${created.join(' ')}"\n`,
  );
  const undo = async () => {
    await run('bash', [join(repoRoot, 'tests/cluster/teardown.sh'), runDir]);
  };
  const ns = (cmd: string, args: readonly string[]): [string, string[]] => [
    'nsenter',
    [`--net=/var/run/netns/${netns}`, cmd, ...args],
  ];
  const inNs = (cmd: string, ...args: string[]) => run(...ns(cmd, args));
  try {
    await run('ip', ['netns', 'add', netns]);
    await inNs('ip', 'link', 'set', 'lo', 'up');
    await inNs('ip', 'link', 'add', NET.bridge, 'type', 'bridge');
    await inNs('ip', 'addr', 'add', NET.nodeCidr, 'dev', NET.bridge);
    await inNs('ip', 'link', 'set', NET.bridge, 'up');
    // Processes of the namespace (the apiserver calling webhooks) reach ClusterIPs through
    // kube-proxy's OUTPUT rules, which need a route to exist first.
    await inNs('ip', 'route', 'add', NET.serviceCidr, 'dev', NET.bridge);
    await inNs('sysctl', '-qw', 'net.ipv4.ip_forward=1');
    // Pod → Service → pod on the same bridge goes through iptables only with br_netfilter on.
    await inNs('sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=1');
    // A cgroup subtree of the run's own in every v1 hierarchy: kubelet's cgroupRoot.
    for (const h of await readdir('/sys/fs/cgroup')) {
      const dir = join('/sys/fs/cgroup', h);
      if (existsSync(join(dir, 'cgroup.procs'))) await mkdir(join(dir, cgroupRoot), { recursive: true });
    }
  } catch (err) {
    await undo().catch(() => {});
    throw err;
  }
  return { netns, cgroupRoot, ns, undo };
}
