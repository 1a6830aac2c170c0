// Starts every real part in parallel (control plane on one branch, the two registries on others),
// writes the HarnessState file, and returns a stop() that kills everything by PID. A run reaps what
// an earlier, crashed run left behind, and uses fresh ports, directories and an etcd prefix of its
// own, so two runs never collide.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyCrds, startApiserver, startEtcd, yamlFiles } from './controlplane.ts';
import type { HarnessState } from './env.ts';
import { makePki, writeKubeconfig } from './pki.ts';
import { isAlive, killGroup, type Proc, run, stopProc } from './proc.ts';
import { type RunningRegistry, startRegistry } from './registry.ts';
import { repoRoot, tools } from './tools.ts';

const PREFIX = 'kuik-harness-';

export interface Harness {
  state: HarnessState;
  stateFile: string;
  timings: Record<string, number>;
  /** The two registries' processes (to stop and start one: the stack's `upstream down|up`). */
  registries: { tls: RunningRegistry; token: RunningRegistry };
  stop(): Promise<void>;
}

/**
 * Kills the processes of harness runs whose owner process is gone, undoes what a real-cluster run
 * changed on the host (its teardown script), and removes their files.
 */
export function reapLeftovers(prefix = PREFIX): string[] {
  const reaped: string[] = [];
  for (const base of [tmpdir(), '/dev/shm']) {
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base)) {
      if (!name.startsWith(prefix)) continue;
      const dir = join(base, name);
      const ownerFile = join(dir, 'owner');
      const owner = existsSync(ownerFile) ? Number(readFileSync(ownerFile, 'utf8')) : Number.NaN;
      if (Number.isFinite(owner) && isAlive(owner)) continue;
      const pidsFile = join(dir, 'pids');
      if (existsSync(pidsFile)) {
        for (const line of readFileSync(pidsFile, 'utf8').split('\n')) {
          const pid = Number(line.split(' ')[0]);
          if (pid > 1 && isAlive(pid)) killGroup(pid, 'SIGKILL');
        }
      }
      if (existsSync(join(dir, 'cluster.env'))) {
        spawnSync('bash', [join(repoRoot, 'tests/cluster/teardown.sh'), dir], { stdio: 'ignore' });
      }
      rmSync(dir, { recursive: true, force: true });
      reaped.push(dir);
    }
  }
  return reaped;
}

/**
 * Starts the run's watchdog (supervisor.sh): it holds the read end of a pipe only this process
 * writes to, so when this process ends by any means, even SIGKILL, it kills the run's processes
 * (the process groups listed in `pidsFile`) and removes `dirs`. Unreferenced: it never keeps this
 * process alive.
 */
export function superviseRun(pidsFile: string, dirs: string[], teardown: string[] = []): ChildProcess {
  const args = [pidsFile, ...teardown.flatMap((d) => ['--teardown', d]), ...dirs];
  const child = spawn('bash', [join(repoRoot, 'tests/harness/supervisor.sh'), ...args], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  child.unref();
  (child.stdin as unknown as { unref(): void }).unref();
  // The watchdog gone early (it should not) must not crash the owner with EPIPE.
  child.stdin?.on('error', () => {});
  return child;
}

export async function startHarness(): Promise<Harness> {
  const t0 = performance.now();
  const timings: Record<string, number> = {};
  const mark = (k: string) => {
    timings[k] = Math.round(performance.now() - t0);
  };
  reapLeftovers();
  const t = tools();
  const runDir = await mkdtemp(join(tmpdir(), PREFIX));
  // etcd's data on tmpfs: fsync-free and fast; it has an owner file so a crashed run is reaped.
  const shmBase = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const etcdDir = await mkdtemp(join(shmBase, PREFIX));
  await writeFile(join(etcdDir, 'owner'), String(process.pid));
  await writeFile(join(runDir, 'owner'), String(process.pid));
  await mkdir(join(runDir, 'logs'));
  await writeFile(join(runDir, 'pids'), '');
  const keep = process.env['KUIK_KEEP_HARNESS'] === '1';
  const watchdog = superviseRun(join(runDir, 'pids'), keep ? [etcdDir] : [runDir, etcdDir]);

  const procs: Proc[] = [];
  const registries: RunningRegistry[] = [];
  const stop = async () => {
    await Promise.all([...registries.map((r) => r.stop()), ...registries.map((r) => r.token?.close())]);
    // The apiserver before etcd, so it does not spend its grace period reconnecting.
    for (const p of procs.reverse()) await stopProc(p);
    if (process.env['KUIK_KEEP_HARNESS'] !== '1') {
      await rm(runDir, { recursive: true, force: true });
    }
    await rm(etcdDir, { recursive: true, force: true });
    // Nothing left for the watchdog to do: let it go.
    watchdog.stdin?.end();
  };

  try {
    const pki = await makePki(join(runDir, 'pki'));
    mark('pki');
    const certs = {
      caCert: pki.caCert,
      servingCert: pki.servingCert,
      servingKey: pki.servingKey,
      tokenCert: pki.tokenCert,
      tokenKey: pki.tokenKey,
    };
    const kubeconfig = join(runDir, 'kubeconfig');

    const controlPlane = (async () => {
      const etcd = await startEtcd(runDir, join(etcdDir, 'data'), t);
      procs.push(etcd.proc);
      mark('etcd');
      const api = await startApiserver(runDir, etcd.url, pki, t);
      procs.push(api.proc);
      mark('kube-apiserver');
      await writeKubeconfig(kubeconfig, api.url, pki);
      const k = ['--kubeconfig', kubeconfig];
      // KUIK_CRD_DIR: apply another set of kuik CRDs (kuik's own, to compare; or none).
      const crdDir = process.env['KUIK_CRD_DIR'] ?? join(repoRoot, 'crds');
      const ours = (await yamlFiles(crdDir)).filter((f) =>
        readFileSync(f, 'utf8').includes('kind: CustomResourceDefinition'),
      );
      const knative = await yamlFiles(t.knativeCrdDir);
      await applyCrds(t.kubectl, kubeconfig, [...ours, ...knative]);
      mark('crds');
      // mtping watches these ConfigMaps in its system namespace and fails without them.
      await run(t.kubectl, [...k, 'create', 'namespace', 'knative-eventing']);
      await run(t.kubectl, [...k, 'apply', '--server-side', '-f', t.knativeConfigMapDir]);
      mark('knative-config');
      return api;
    })();
    const regTls = startRegistry({
      runDir,
      name: 'tls',
      auth: 'htpasswd',
      certs,
      registryBin: t.registry,
      htpasswdBin: t.htpasswd,
    }).then((r) => {
      registries.push(r);
      mark('registry-tls');
      return r;
    });
    const regToken = startRegistry({
      runDir,
      name: 'token',
      auth: 'token',
      certs,
      registryBin: t.registry,
    }).then((r) => {
      registries.push(r);
      mark('registry-token');
      return r;
    });
    const [api, tls, token] = await Promise.all([controlPlane, regTls, regToken]);

    const state: HarnessState = {
      runDir,
      etcdDir,
      watchdogPid: watchdog.pid ?? 0,
      kubeconfig,
      apiserver: { url: api.url, port: api.port, auditLog: join(runDir, 'audit.log') },
      pki: {
        dir: pki.dir,
        caCert: pki.caCert,
        caKey: pki.caKey,
        webhookCert: pki.servingCert,
        webhookKey: pki.servingKey,
      },
      registries: { tls: tls.info, token: token.info },
      bins: {
        kubectl: t.kubectl,
        kubeApiserver: t.kubeApiserver,
        apiserverReceiveAdapter: t.apiserverReceiveAdapter,
        mtping: t.mtping,
      },
      knativeCrdDir: t.knativeCrdDir,
      repoRoot,
    };
    const stateFile = join(runDir, 'state.json');
    await writeFile(stateFile, JSON.stringify(state, null, 2));
    mark('ready');
    return { state, stateFile, timings, registries: { tls, token }, stop };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}
