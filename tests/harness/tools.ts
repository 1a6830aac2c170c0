// Where the harness finds the parts scripts/setup.sh installed or built. One place computes the
// paths from tests/versions.env, so setup and harness cannot disagree.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** tests/versions.env as a map (also read by tests/cluster/tools.ts). */
export function versions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(repoRoot, 'tests/versions.env'), 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** Where setup caches its builds: KUIK_CACHE_DIR, else ~/.cache/kuik-functions. */
export function cacheDir(): string {
  return process.env['KUIK_CACHE_DIR'] ?? join(homedir(), '.cache/kuik-functions');
}

export interface Tools {
  kubeApiserver: string;
  kubectl: string;
  apiserverReceiveAdapter: string;
  mtping: string;
  etcd: string;
  registry: string;
  skopeo: string;
  htpasswd: string;
  knativeCrdDir: string;
  knativeConfigMapDir: string;
}

export function tools(): Tools {
  const v = versions();
  const cache = cacheDir();
  const kube = join(cache, 'kubebins', `v${v['K8S_VERSION']}`);
  const kn = join(cache, 'knbins', v['KNATIVE_EVENTING_VERSION']!);
  const crds = join(
    cache,
    'knative-crds',
    `serving-${v['KNATIVE_SERVING_VERSION']}-eventing-${v['KNATIVE_EVENTING_VERSION']}`,
  );
  const t: Tools = {
    kubeApiserver: join(kube, 'kube-apiserver'),
    kubectl: join(kube, 'kubectl'),
    apiserverReceiveAdapter: join(kn, 'apiserver_receive_adapter'),
    mtping: join(kn, 'mtping'),
    etcd: '/usr/bin/etcd',
    registry: '/usr/bin/docker-registry',
    skopeo: '/usr/bin/skopeo',
    htpasswd: '/usr/bin/htpasswd',
    knativeCrdDir: join(crds, 'crds'),
    knativeConfigMapDir: join(crds, 'eventing-configmaps'),
  };
  const missing = Object.entries(t)
    .filter(([, p]) => !existsSync(p))
    .map(([k, p]) => `${k} (${p})`);
  if (missing.length > 0) {
    throw new Error(`harness parts missing: ${missing.join(', ')}. Run \`npm run setup\` first.`);
  }
  return t;
}

/**
 * What the manifests tests need beyond the harness: helm, cert-manager's CRDs and the Prometheus
 * Operator's ServiceMonitor/PodMonitor CRDs (scripts/setup.sh).
 */
export function manifestTools(): {
  helm: string;
  certManagerCrdDir: string;
  prometheusOperatorCrdDir: string;
} {
  const v = versions();
  const cache = cacheDir();
  const t = {
    helm: join(cache, 'helm', v['HELM_VERSION']!, 'helm'),
    certManagerCrdDir: join(cache, 'cert-manager-crds', v['CERT_MANAGER_VERSION']!),
    prometheusOperatorCrdDir: join(cache, 'prometheus-operator-crds', v['PROMETHEUS_OPERATOR_VERSION']!),
  };
  const missing = Object.values(t).filter((p) => !existsSync(p));
  if (missing.length > 0) throw new Error(`missing: ${missing.join(', ')}. Run \`npm run setup\` first.`);
  return t;
}
