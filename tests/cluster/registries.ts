// Registries inside the cluster's network namespace (Debian's docker-registry), and loopback
// forwards that let this machine's processes (the tests, skopeo, kubectl) reach what only the
// namespace can: host 127.0.0.1:PORT → socat → unix socket → socat in the namespace → target.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, type Proc, run, startProc, stopProc, waitFor } from '../harness/proc.ts';
import { REGISTRY_PASSWORD, REGISTRY_USER } from '../harness/registry.ts';
import type { Host } from './host.ts';
import { NET } from './host.ts';
import { curlInNs, startInNs } from './node.ts';

export interface Forward {
  /** 127.0.0.1:PORT on this machine. */
  local: string;
  procs: Proc[];
}

export async function forward(host: Host, runDir: string, name: string, target: string): Promise<Forward> {
  const sock = join(runDir, `fwd-${name}.sock`);
  const inner = startInNs(host, runDir, `fwd-${name}-ns`, 'socat', [
    `UNIX-LISTEN:${sock},fork,unlink-early`,
    `TCP:${target}`,
  ]);
  const port = await freePort();
  const outer = startProc(runDir, `fwd-${name}-host`, 'socat', [
    `TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr`,
    `UNIX-CONNECT:${sock}`,
  ]);
  return { local: `127.0.0.1:${port}`, procs: [inner, outer] };
}

export interface NsRegistry {
  name: string;
  /** host:port as containerd and pods see it. */
  host: string;
  /** host:port on this machine's loopback (a forward). */
  local: string;
  scheme: 'http' | 'https';
  username?: string;
  password?: string;
  dataDir: string;
  proc: Proc;
  /** Stops it (the upstream-down scenarios) and starts it again on the same port and data. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startNsRegistry(
  host: Host,
  runDir: string,
  opts: {
    name: string;
    port: number;
    dataDir: string;
    /** TLS with htpasswd auth (the tests' user), or plain HTTP without auth. */
    tls?: { cert: string; key: string; caCert: string };
  },
): Promise<NsRegistry> {
  const dir = join(runDir, 'registries', opts.name);
  await mkdir(dir, { recursive: true });
  await mkdir(opts.dataDir, { recursive: true });
  const addr = `${NET.nodeIp}:${opts.port}`;
  let extra = '';
  if (opts.tls) {
    const htpasswd = join(dir, 'htpasswd');
    await writeFile(
      htpasswd,
      `${(await run('htpasswd', ['-Bbn', REGISTRY_USER, REGISTRY_PASSWORD])).trim()}\n`,
    );
    extra =
      `  tls:\n    certificate: ${opts.tls.cert}\n    key: ${opts.tls.key}\n` +
      `auth:\n  htpasswd:\n    realm: kuik-cluster\n    path: ${htpasswd}\n`;
  }
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    `version: 0.1
log:
  level: warn
  accesslog: {disabled: true}
storage:
  filesystem: {rootdirectory: ${opts.dataDir}}
  delete: {enabled: true}
http:
  addr: ${addr}
  secret: kuik-cluster-test-only
  debug: {addr: ""}
${extra}`,
  );
  const scheme = opts.tls ? 'https' : 'http';
  const ready = async (proc: Proc) => {
    const ca = opts.tls ? ['--cacert', opts.tls.caCert] : [];
    await waitFor(
      `registry ${opts.name}`,
      async () =>
        /^(200|401)$/.test(
          await curlInNs(host, [...ca, '-o', '/dev/null', '-w', '%{http_code}', `${scheme}://${addr}/v2/`]),
        ),
      { proc, timeoutMs: 60_000, intervalMs: 250 },
    );
  };
  const launch = () =>
    startInNs(host, runDir, `registry-${opts.name}`, '/usr/bin/docker-registry', ['serve', config]);
  const fwd = await forward(host, runDir, `registry-${opts.name}`, addr);
  const reg: NsRegistry = {
    name: opts.name,
    host: addr,
    local: fwd.local,
    scheme,
    ...(opts.tls ? { username: REGISTRY_USER, password: REGISTRY_PASSWORD } : {}),
    dataDir: opts.dataDir,
    proc: launch(),
    async stop() {
      await stopProc(reg.proc);
    },
    async start() {
      reg.proc = launch();
      await ready(reg.proc);
    },
  };
  await ready(reg.proc);
  return reg;
}
