// etcd + a real kube-apiserver on loopback, envtest-style: no
// scheduler, kubelet or controller-manager, so Pods stay Pending and namespaces never finish
// deleting; admission (our webhook included), defaulting, validation and CRDs are all real.

import { readdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { errorMessage } from '#shared/errors.ts';
import type { Pki } from './pki.ts';
import { freePort, type Proc, run, startProc, waitFor } from './proc.ts';
import type { Tools } from './tools.ts';

export interface ControlPlane {
  etcd: Proc;
  apiserver: Proc;
  url: string;
  port: number;
  etcdUrl: string;
}

export async function startEtcd(
  runDir: string,
  dataDir: string,
  t: Tools,
): Promise<{ proc: Proc; url: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = startProc(runDir, 'etcd', t.etcd, [
    '--logger=zap',
    '--log-level=warn',
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${url}`,
    `--advertise-client-urls=${url}`,
    '--listen-peer-urls=http://127.0.0.1:0',
    // Test data: durability is worth nothing here and fsync dominates etcd latency.
    '--unsafe-no-fsync',
  ]);
  await waitFor(
    'etcd',
    async () => {
      const r = await fetch(`${url}/health`);
      return r.ok && ((await r.json()) as { health?: string }).health === 'true';
    },
    { proc, timeoutMs: 30_000, intervalMs: 100 },
  );
  return { proc, url };
}

export async function startApiserver(
  runDir: string,
  etcdUrl: string,
  pki: Pki,
  t: Tools,
  /** More flags (a private control plane's admission configuration, say). */
  extraArgs: string[] = [],
): Promise<{ proc: Proc; url: string; port: number }> {
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  // Metadata-level audit of every request: who called what. Tests use it to check that each
  // function's RBAC covers exactly the calls its code makes.
  const auditPolicy = join(runDir, 'audit-policy.yaml');
  await writeFile(
    auditPolicy,
    'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: Metadata\n',
  );
  const proc = startProc(runDir, 'kube-apiserver', t.kubeApiserver, [
    `--audit-policy-file=${auditPolicy}`,
    `--audit-log-path=${join(runDir, 'audit.log')}`,
    '--audit-log-format=json',
    '--audit-log-mode=blocking',
    `--etcd-servers=${etcdUrl}`,
    // A prefix of its own: a leftover etcd or a shared one can never mix two runs' objects.
    `--etcd-prefix=/registry-${port}`,
    '--bind-address=127.0.0.1',
    // Without this the apiserver may advertise an unreachable address from the default route.
    '--advertise-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${join(runDir, 'apiserver-certs')}`,
    `--tls-cert-file=${pki.apiserverCert}`,
    `--tls-private-key-file=${pki.apiserverKey}`,
    `--client-ca-file=${pki.caCert}`,
    `--service-account-issuer=${url}`,
    `--service-account-key-file=${pki.saPub}`,
    `--service-account-signing-key-file=${pki.saKey}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--authorization-mode=RBAC',
    '--allow-privileged=true',
    // No controller-manager creates default ServiceAccounts, so the plugin would reject every Pod.
    '--disable-admission-plugins=ServiceAccount',
    '--profiling=false',
    '--v=1',
    ...extraArgs,
  ]);
  const [cert, key, ca] = await Promise.all([
    readFile(pki.adminCert),
    readFile(pki.adminKey),
    readFile(pki.caCert),
  ]);
  const get = (path: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path, cert, key, ca, method: 'GET', timeout: 2000 },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end();
    });
  // /readyz with the admin certificate (system:masters bypasses the RBAC bootstrap window), then
  // the `default` namespace, which the bootstrap controller creates asynchronously.
  await waitFor('kube-apiserver /readyz', async () => (await get('/readyz')) === 200, {
    proc,
    timeoutMs: 90_000,
    intervalMs: 250,
  });
  await waitFor('namespace default', async () => (await get('/api/v1/namespaces/default')) === 200, {
    proc,
    timeoutMs: 30_000,
  });
  return { proc, url, port };
}

/**
 * Applies every CRD in `dirs` server-side (Knative's Service CRD is too large for client-side
 * apply's last-applied annotation) and waits until each is Established.
 */
export async function applyCrds(kubectl: string, kubeconfig: string, files: string[]): Promise<string[]> {
  if (files.length === 0) return [];
  const args = ['--kubeconfig', kubeconfig];
  await run(kubectl, [
    ...args,
    'apply',
    '--server-side',
    '--force-conflicts',
    '--field-manager=kuik-harness',
    ...files.flatMap((f) => ['-f', f]),
  ]);
  const names = (await run(kubectl, [...args, 'get', ...files.flatMap((f) => ['-f', f]), '-o', 'name']))
    .split('\n')
    .filter(Boolean);
  await waitEstablished(kubectl, args, names);
  return names;
}

/**
 * `kubectl wait --for=condition=Established` on CRDs, again while a CRD has no conditions yet:
 * kubectl fails at once (`.status.conditions accessor error: <nil>`) instead of waiting when it
 * reads a CRD just (re)created, e.g. by another test file applying the same CRDs.
 */
export async function waitEstablished(kubectl: string, args: readonly string[], names: readonly string[]) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await run(kubectl, [...args, 'wait', '--for=condition=Established', '--timeout=60s', ...names]);
      return;
    } catch (err) {
      if (!/accessor error/.test(errorMessage(err)) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

export async function yamlFiles(dir: string): Promise<string[]> {
  return (await readdir(dir))
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .map((f) => join(dir, f));
}
