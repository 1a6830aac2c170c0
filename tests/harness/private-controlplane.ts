// A second etcd + kube-apiserver for one test file, trusting the harness's CA (same binaries, same
// PKI), with the kuik CRDs. For tests whose subjects act cluster-wide and must not touch other
// files' objects (reconcile's resync rewrites every CR it can list), or that need an audit log
// holding only their own calls. Its processes are recorded in the harness's pids file, so a
// crashed run's leftovers are reaped like the harness's own.
import { appendFileSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { applyCrds, startApiserver, startEtcd, yamlFiles } from './controlplane.ts';
import { harness } from './env.ts';
import { uniq } from './fixtures.ts';
import { pkiPaths, writeKubeconfig } from './pki.ts';
import { run, stopProc } from './proc.ts';
import { tools } from './tools.ts';

export interface PrivateControlPlane {
  url: string;
  /** Admin kubeconfig (system:masters). */
  kubeconfig: string;
  /** JSON lines, level Metadata: every request with its user, verb, objectRef and status code. */
  auditLog: string;
  dir: string;
  kc(): KubeConfig;
  kubectl(args: string[], input?: string): Promise<string>;
  /** A kubeconfig authenticating as a ServiceAccount, with a token the API server minted. */
  serviceAccountKubeconfig(namespace: string, name: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startPrivateControlPlane(
  prefix = 'private',
  /** More kube-apiserver flags; `{dir}` in them is replaced by this control plane's directory. */
  apiserverArgs: string[] = [],
  /** Files to write into that directory before the apiserver starts (`{dir}` replaced too). */
  files: Record<string, string> = {},
): Promise<PrivateControlPlane> {
  const h = harness();
  const t = tools();
  const dir = join(h.runDir, uniq(prefix));
  await mkdir(join(dir, 'logs'), { recursive: true });
  await writeFile(join(dir, 'pids'), '');
  for (const [name, content] of Object.entries(files))
    await writeFile(join(dir, name), content.replaceAll('{dir}', dir));
  const pki = pkiPaths(h.pki.dir);
  const etcd = await startEtcd(dir, join(dir, 'etcd'), t);
  const record = (pid: number | undefined, name: string) => {
    if (pid !== undefined) appendFileSync(join(h.runDir, 'pids'), `${pid} ${prefix}-${name}\n`);
  };
  record(etcd.proc.child.pid, 'etcd');
  let api: Awaited<ReturnType<typeof startApiserver>>;
  try {
    api = await startApiserver(
      dir,
      etcd.url,
      pki,
      t,
      apiserverArgs.map((a) => a.replaceAll('{dir}', dir)),
    );
  } catch (err) {
    await stopProc(etcd.proc);
    throw err;
  }
  record(api.proc.child.pid, 'kube-apiserver');
  const kubeconfig = join(dir, 'kubeconfig');
  await writeKubeconfig(kubeconfig, api.url, pki);
  const crds = (await yamlFiles(join(h.repoRoot, 'crds'))).filter((f) =>
    readFileSync(f, 'utf8').includes('kind: CustomResourceDefinition'),
  );
  await applyCrds(t.kubectl, kubeconfig, crds);
  const kubectl = (args: string[], input?: string) =>
    run(t.kubectl, ['--kubeconfig', kubeconfig, ...args], input === undefined ? {} : { input });
  return {
    url: api.url,
    kubeconfig,
    auditLog: join(dir, 'audit.log'),
    dir,
    kc: () => {
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfig);
      return kc;
    },
    kubectl,
    serviceAccountKubeconfig: async (namespace, name) => {
      const token = (await kubectl(['create', 'token', name, '-n', namespace, '--duration=2h'])).trim();
      const ca = readFileSync(pki.caCert).toString('base64');
      const file = join(dir, `${namespace}-${name}.kubeconfig`);
      await writeFile(
        file,
        `apiVersion: v1
kind: Config
clusters:
- name: private
  cluster: {server: ${api.url}, certificate-authority-data: ${ca}}
users:
- name: ${name}
  user: {token: ${token}}
contexts:
- name: ${name}
  context: {cluster: private, user: ${name}, namespace: ${namespace}}
current-context: ${name}
`,
        { mode: 0o600 },
      );
      return file;
    },
    stop: async () => {
      await stopProc(api.proc);
      await stopProc(etcd.proc);
    },
  };
}
