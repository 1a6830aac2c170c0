// The cluster, as kubectl would reach it: --kubeconfig, else $KUBECONFIG, else ~/.kube/config,
// else the pod's ServiceAccount; --context, else the current context. Every way this goes wrong
// becomes one CliError saying which flag or file to fix, before the first API call.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { AppsV1Api, KubeConfig } from '@kubernetes/client-node';
import { errorMessage } from '#shared/errors.ts';
import { apiMessage, apiStatus, Kube } from '#shared/kube/client.ts';
import type { Options } from './args.ts';
import { apiUnreachable, CliError } from './errors.ts';

export interface Cluster {
  kube: Kube;
  apps: AppsV1Api;
  context: string;
  server: string;
  /** -n, else the context's namespace, else `default`. */
  namespace: string;
  /** Runs one API call; a network or permission failure becomes a CliError naming `what`. */
  call<T>(what: string, fn: () => Promise<T>): Promise<T>;
}

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

function loadKubeConfig(opts: Pick<Options, 'kubeconfig'>, env: NodeJS.ProcessEnv): KubeConfig {
  const kc = new KubeConfig();
  const load = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      throw new CliError(`cannot load ${what}: ${errorMessage(err).split('\n')[0]}`);
    }
  };
  if (opts.kubeconfig !== undefined) {
    if (!existsSync(opts.kubeconfig))
      throw new CliError(`kubeconfig ${opts.kubeconfig} does not exist: check the --kubeconfig path`);
    load(`kubeconfig ${opts.kubeconfig}`, () => kc.loadFromFile(opts.kubeconfig as string));
    return kc;
  }
  const fromEnv = (env['KUBECONFIG'] ?? '').split(delimiter).filter(Boolean);
  if (fromEnv.length > 0) {
    const missing = fromEnv.filter((f) => !existsSync(f));
    if (missing.length === fromEnv.length)
      throw new CliError(
        `KUBECONFIG names no existing file (${fromEnv.join(delimiter)}): fix KUBECONFIG or pass --kubeconfig FILE`,
      );
    // client-node reads every file named; kubectl skips missing ones, and so do we.
    const saved = env['KUBECONFIG'];
    process.env['KUBECONFIG'] = fromEnv.filter((f) => existsSync(f)).join(delimiter);
    try {
      load('the kubeconfig files in KUBECONFIG', () => kc.loadFromDefault());
    } finally {
      process.env['KUBECONFIG'] = saved;
    }
    return kc;
  }
  const home = join(env['HOME'] ?? homedir(), '.kube', 'config');
  if (existsSync(home)) {
    load(`kubeconfig ${home}`, () => kc.loadFromFile(home));
    return kc;
  }
  if (env['KUBERNETES_SERVICE_HOST'] && existsSync(IN_CLUSTER_TOKEN)) {
    load('the in-cluster ServiceAccount', () => kc.loadFromCluster());
    return kc;
  }
  throw new CliError(
    'no kubeconfig: pass --kubeconfig FILE or set KUBECONFIG (~/.kube/config does not exist either)',
  );
}

export function openCluster(opts: Options, env: NodeJS.ProcessEnv = process.env): Cluster {
  const kc = loadKubeConfig(opts, env);
  const names = kc.getContexts().map((c) => c.name);
  if (opts.context !== undefined) {
    if (!names.includes(opts.context))
      throw new CliError(
        `context "${opts.context}" is not in the kubeconfig (it has: ${names.join(', ') || 'none'}): pass one of those to --context`,
      );
    kc.setCurrentContext(opts.context);
  }
  const context = kc.getCurrentContext();
  if (!context || !names.includes(context))
    throw new CliError(
      `the kubeconfig has no current context: pass --context NAME (it has: ${names.join(', ') || 'none'})`,
    );
  const cluster = kc.getCurrentCluster();
  if (!cluster)
    throw new CliError(
      `context "${context}" names a cluster the kubeconfig does not define: fix the kubeconfig or pick another --context`,
    );
  const namespace = opts.namespace ?? kc.getContextObject(context)?.namespace ?? 'default';
  const server = cluster.server;
  return {
    kube: new Kube(kc),
    apps: kc.makeApiClient(AppsV1Api),
    context,
    server,
    namespace,
    async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
      try {
        return await fn();
      } catch (err) {
        const unreachable = apiUnreachable(err, server, context);
        if (unreachable) throw unreachable;
        const status = apiStatus(err);
        if (status === 401)
          throw new CliError(
            `the API server refused your credentials (401) ${what}: log in again or pick another --context`,
          );
        if (status === 403)
          throw new CliError(
            `not allowed ${what}: ${apiMessage(err)} (ask for read access, or use another --context)`,
          );
        throw err;
      }
    },
  };
}
