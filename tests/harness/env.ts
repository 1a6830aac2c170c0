// The contract between the test harness and the tests that use it.
//
// `tests/run.ts` (or `npm run harness`) starts the real parts, writes a HarnessState as JSON and
// points KUIK_HARNESS_STATE at it; test processes read it with `harness()`. Keeping the state in a
// file (not in memory) lets node:test run each test file in its own process, and lets a person
// attach kubectl or skopeo to the same parts.
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';

export interface RegistryInfo {
  /** `127.0.0.1:PORT`, the registry host as it appears in image references. */
  host: string;
  /** Credentials accepted by the registry (htpasswd or the token server). */
  username: string;
  password: string;
  /** PEM of the CA that signed the registry's serving certificate. */
  caFile: string;
  /** A directory holding `ca.crt`, the form skopeo's `--cert-dir` wants. */
  certDir: string;
  auth: 'htpasswd' | 'token';
  /** Where the registry stores its data (for tests that inspect or corrupt it). */
  dataDir: string;
  /** The token server's URL, for a token-auth registry. */
  tokenRealm?: string;
}

export interface HarnessState {
  /** A directory private to this run: logs, PKI, data. Removed at teardown. */
  runDir: string;
  /** etcd's data directory (on tmpfs when there is one). Removed at teardown. */
  etcdDir: string;
  /** The run's watchdog (tests/harness/supervisor.sh): cleans up if the owner process dies. */
  watchdogPid: number;
  /** Admin kubeconfig (client certificate in group system:masters). */
  kubeconfig: string;
  apiserver: {
    url: string;
    port: number /** JSON lines, one audit event per request (level Metadata). */;
    auditLog: string;
  };
  pki: {
    dir: string;
    /** The cluster CA: signs the apiserver's and the test webhook's serving certificates. */
    caCert: string;
    caKey: string;
    /** A serving certificate and key for 127.0.0.1/localhost, signed by caCert (for webhooks). */
    webhookCert: string;
    webhookKey: string;
  };
  registries: { tls: RegistryInfo; token: RegistryInfo };
  bins: {
    kubectl: string;
    kubeApiserver: string;
    apiserverReceiveAdapter: string;
    mtping: string;
  };
  /** Directory with the Knative Serving and Eventing CRD YAMLs that were applied. */
  knativeCrdDir: string;
  /** The repository root. */
  repoRoot: string;
}

let cached: HarnessState | undefined;

/** The running harness. Throws with the command to run when a test is started outside it. */
export function harness(): HarnessState {
  if (cached) return cached;
  const file = process.env['KUIK_HARNESS_STATE'];
  if (!file) {
    throw new Error(
      'KUIK_HARNESS_STATE is not set: integration tests need the harness. Run them with `npm test` ' +
        '(or `node tests/run.ts FILE...`), which starts etcd, kube-apiserver and the registries.',
    );
  }
  cached = JSON.parse(readFileSync(file, 'utf8')) as HarnessState;
  return cached;
}

/** A KubeConfig for the harness's kube-apiserver, as cluster admin. */
export function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(harness().kubeconfig);
  return kc;
}
