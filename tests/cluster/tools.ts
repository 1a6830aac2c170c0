// Where the real-cluster harness finds what tests/cluster/build.sh built, from tests/versions.env
// (one place, so build and harness cannot disagree), and the images packed from those binaries.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, versions } from '../harness/tools.ts';
import type { BinaryImage } from './images.ts';
import type { ContainerdBins } from './node.ts';

export { versions };

export interface ClusterTools {
  kubeApiserver: string;
  kubectl: string;
  kubelet: string;
  kubeProxy: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  containerd: ContainerdBins;
  /** Knative's YAML, copied out of the modules (eventing/, serving/, networking/). */
  yamlDir: string;
  /** The infrastructure registry's storage: kept between runs, so images are pushed once. */
  registryStorage: string;
  images: Record<string, BinaryImage>;
}

/** `knative`: also require Knative's and Traefik's builds (a node with DNS only needs the rest). */
export function clusterTools(knative = true): ClusterTools {
  const v = versions();
  const c = cacheDir();
  const k8s = `v${v['K8S_VERSION']}`;
  const ev = v['KNATIVE_EVENTING_VERSION']!;
  const sv = v['KNATIVE_SERVING_CLUSTER_VERSION']!;
  const tr = v['TRAEFIK_VERSION']!;
  const dns = v['COREDNS_VERSION']!;
  const cd = join(c, 'containerd', v['CONTAINERD_VERSION']!);
  const ko = (repo: string, dir: string, cmd: string, tag: string): BinaryImage => ({
    name: `${repo}/${cmd.replace(/_/g, '-')}`,
    tag,
    binary: join(dir, cmd),
    path: `/ko-app/${cmd}`,
  });
  const evDir = join(c, 'knative-eventing', ev);
  const svDir = join(c, 'knative-serving', sv);
  const images: Record<string, BinaryImage> = {
    // The version follows tests/cluster/build.sh's (2: prints the files named as arguments).
    pause: { name: 'kuik/pause', tag: '2', binary: join(c, 'pause/2/pause'), path: '/pause' },
    coredns: {
      name: 'coredns/coredns',
      tag: dns,
      binary: join(c, 'coredns', dns, 'coredns'),
      path: '/coredns',
    },
    traefik: {
      name: 'traefik/traefik',
      tag: tr,
      binary: join(c, 'traefik', tr, 'traefik'),
      path: '/traefik',
    },
  };
  for (const cmd of ['controller', 'webhook', 'jobsink', 'mtping', 'apiserver_receive_adapter']) {
    images[`eventing/${cmd}`] = ko('knative/eventing', evDir, cmd, ev);
  }
  for (const cmd of ['activator', 'autoscaler', 'controller', 'queue', 'webhook']) {
    images[`serving/${cmd}`] = ko('knative/serving', svDir, cmd, sv);
  }
  const t: ClusterTools = {
    kubeApiserver: join(c, 'kubebins', k8s, 'kube-apiserver'),
    kubectl: join(c, 'kubebins', k8s, 'kubectl'),
    kubelet: join(c, 'kubebins-node', k8s, 'kubelet'),
    kubeProxy: join(c, 'kubebins-node', k8s, 'kube-proxy'),
    kubeControllerManager: join(c, 'kubebins-node', k8s, 'kube-controller-manager'),
    kubeScheduler: join(c, 'kubebins-node', k8s, 'kube-scheduler'),
    containerd: {
      containerd: join(cd, 'containerd'),
      shim: join(cd, 'containerd-shim-runc-v2'),
      ctr: join(cd, 'ctr'),
    },
    yamlDir: join(c, 'cluster-yaml', `eventing-${ev}-serving-${sv}-traefik-${tr}`),
    registryStorage: join(c, 'cluster-registry'),
    images,
  };
  const missing = [
    t.kubeApiserver,
    t.kubectl,
    t.kubelet,
    t.kubeProxy,
    t.kubeControllerManager,
    t.kubeScheduler,
    ...Object.values(t.containerd),
    ...Object.entries(images)
      .filter(([k]) => knative || k === 'pause' || k === 'coredns')
      .map(([, i]) => i.binary),
  ].filter((p) => !existsSync(p));
  if (missing.length > 0) {
    throw new Error(`real-cluster parts missing: ${missing.join(', ')}. Run \`npm run setup\` first.`);
  }
  for (const cmd of ['runc', 'socat', 'conntrack', 'nsenter', 'ip', 'iptables']) {
    if (!['/usr/bin', '/usr/sbin', '/bin', '/sbin'].some((d) => existsSync(join(d, cmd)))) {
      throw new Error(`real-cluster command missing: ${cmd}. Run \`npm run setup\` first.`);
    }
  }
  return t;
}
