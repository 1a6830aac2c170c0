// The configuration the cluster's router runs, so that explain and preview decide as it does
// (probe timeout, resolveDigest, skip selectors, pull-policy switches) and trust what it trusts:
//   --config FILE                 that file;
//   --config-from NS/NAME         that ConfigMap's config.yaml;
//   otherwise                     the ConfigMap behind the file the router Deployment (kuik-router
//                                 in kuik-system) reads, i.e. kuik-config as the manifests and the
//                                 chart mount it; when unreadable, kuik's defaults, said on stderr.
// CAs: whatever the router's NODE_EXTRA_CA_CERTS points at, when it comes from a ConfigMap or
// Secret volume (the way to give the router a private registry's CA).
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import type { V1Container, V1Deployment } from '@kubernetes/client-node';
import { type Config, DEFAULT_CONFIG_PATH, defaultConfig, parseConfig } from '#shared/config/config.ts';
import { errorMessage } from '#shared/errors.ts';
import { apiStatus } from '#shared/kube/client.ts';
import type { Options } from './args.ts';
import { CliError, Unreachable } from './errors.ts';
import type { Cluster } from './kube.ts';
import { describeSource, envValue, type FileSource, fileSources } from './mounts.ts';

export const DEFAULT_NAMESPACE = 'kuik-system';
export const ROUTER_DEPLOYMENT = 'kuik-router';
export const DEFAULT_CONFIGMAP = 'kuik-config';
const CONFIG_KEY = 'config.yaml';

export interface RouterConfiguration {
  config: Config;
  /** Where it came from, for the "configuration: …" line. */
  source: string;
  /** The router's CA bundle(s), PEM, with where each came from. */
  cas: { source: string; pem: string }[];
  /** Things the user should know (printed on stderr). */
  warnings: string[];
}

function routerContainer(d: V1Deployment | undefined): V1Container | undefined {
  const cs = d?.spec?.template.spec?.containers ?? [];
  return cs.find((c) => c.name === 'router') ?? cs[0];
}

async function readKey(cluster: Cluster, namespace: string, s: FileSource): Promise<string | undefined> {
  try {
    if (s.kind === 'ConfigMap') {
      const cm = await cluster.call(`reading ConfigMap ${namespace}/${s.name}`, () =>
        cluster.kube.core.readNamespacedConfigMap({ namespace, name: s.name }),
      );
      return cm.data?.[s.key];
    }
    const secret = await cluster.call(`reading Secret ${namespace}/${s.name}`, () =>
      cluster.kube.core.readNamespacedSecret({ namespace, name: s.name }),
    );
    const b64 = secret.data?.[s.key];
    return b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8');
  } catch (err) {
    if (apiStatus(err) === 404) return undefined;
    throw err;
  }
}

function parsed(text: string, source: string): Config {
  const r = parseConfig(text, source);
  if (!r.ok)
    throw new CliError(
      `the configuration in ${source} is invalid (${r.error.message}); the router refuses it too: fix it, or pass --config FILE`,
    );
  return r.value.config;
}

export async function routerConfiguration(cluster: Cluster, opts: Options): Promise<RouterConfiguration> {
  const warnings: string[] = [];
  const namespace = opts.configFrom?.namespace ?? DEFAULT_NAMESPACE;
  let deployment: V1Deployment | undefined;
  try {
    deployment = await cluster.call(`reading Deployment ${namespace}/${ROUTER_DEPLOYMENT}`, () =>
      cluster.apps.readNamespacedDeployment({ namespace, name: ROUTER_DEPLOYMENT }),
    );
  } catch (err) {
    // Not installed this way (local stack, other names) or not readable: CAs then come from flags.
    if (err instanceof Unreachable || (!(err instanceof CliError) && apiStatus(err) !== 404)) throw err;
  }
  const container = routerContainer(deployment);
  const spec = deployment?.spec?.template.spec;

  const cas: RouterConfiguration['cas'] = [];
  const caPath = envValue(container, 'NODE_EXTRA_CA_CERTS');
  if (caPath) {
    const [source] = fileSources(spec, container, caPath);
    const pem = source ? await readKey(cluster, namespace, source).catch(() => undefined) : undefined;
    if (source && pem) cas.push({ source: describeSource(source, namespace), pem });
    else
      warnings.push(
        `the router trusts NODE_EXTRA_CA_CERTS=${caPath}, which is not readable from here: pass that CA with --ca-file`,
      );
  }

  if (opts.config !== undefined) {
    let text: string;
    try {
      text = await readFile(opts.config, 'utf8');
    } catch (err) {
      throw new CliError(
        `cannot read --config ${opts.config} (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}): check the path`,
      );
    }
    return { config: parsed(text, opts.config), source: `file ${opts.config}`, cas, warnings };
  }

  let source: FileSource = {
    kind: 'ConfigMap',
    name: opts.configFrom?.name ?? DEFAULT_CONFIGMAP,
    key: CONFIG_KEY,
  };
  if (!opts.configFrom && container) {
    const path = envValue(container, 'KUIK_CONFIG') ?? DEFAULT_CONFIG_PATH;
    const found = fileSources(spec, container, posix.normalize(path))[0];
    if (found) source = found;
  }
  const where = describeSource(source, namespace);
  let text: string | undefined;
  try {
    text = await readKey(cluster, namespace, source);
  } catch (err) {
    if (opts.configFrom || err instanceof Unreachable || !(err instanceof CliError)) throw err;
    warnings.push(`${err.message}; using kuik's defaults`);
    return { config: defaultConfig(), source: "kuik's defaults", cas, warnings };
  }
  if (text === undefined) {
    if (opts.configFrom)
      throw new CliError(
        `${where} does not exist: check --config-from NAMESPACE/NAME (the ConfigMap the router mounts)`,
      );
    warnings.push(
      `${where} not found: using kuik's defaults; pass --config-from NAMESPACE/NAME or --config FILE for the router's own`,
    );
    return { config: defaultConfig(), source: "kuik's defaults", cas, warnings };
  }
  return { config: parsed(text, where), source: where, cas, warnings };
}
