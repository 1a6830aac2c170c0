#!/usr/bin/env node
// kuik: the operator's command line.
//   kuik explain [-n NAMESPACE] POD        where would this pod's containers be routed, and why
//   kuik explain -f pod.yaml [-n NAMESPACE]
//   options: --config FILE (operator config; default: kuik's defaults), -o json
// It reads the routing CRs and Secrets with your kubeconfig and probes the registries from here,
// with the router's own code, as a dry run: nothing is written.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { V1Pod } from '@kubernetes/client-node';
import YAML from 'yaml';
import { AvailabilityChecker } from '../functions/router/availability.ts';
import type { RouterDeps } from '../functions/router/decide.ts';
import { explainPod, renderExplanation } from '../functions/router/explain.ts';
import { defaultConfig, loadConfig } from '../shared/config/config.ts';
import type {
  ClusterImageSetMirror,
  ClusterReplicatedImageSet,
  ImageSetMirror,
  ReplicatedImageSet,
} from '../shared/crd/types.ts';
import { compileGlobalSkip } from '../shared/filter/filter.ts';
import { apiStatus, Kube, loadKubeConfig } from '../shared/kube/client.ts';
import { RegistryClient } from '../shared/registry/client.ts';
import { credentialsForImage } from '../shared/registry/credentials.ts';

const USAGE =
  'usage: kuik explain [-n NAMESPACE] POD | kuik explain -f POD.yaml [-n NAMESPACE] [--config FILE] [-o json]';

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      namespace: { type: 'string', short: 'n' },
      filename: { type: 'string', short: 'f' },
      config: { type: 'string' },
      output: { type: 'string', short: 'o' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, podName] = positionals;
  if (values.help || command !== 'explain' || (!podName && !values.filename)) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  let config = defaultConfig();
  if (values.config) {
    const loaded = await loadConfig(values.config);
    if (!loaded.ok) {
      console.error(`invalid configuration ${values.config}: ${loaded.error.message}`);
      return 2;
    }
    config = loaded.config;
  }
  const kc = loadKubeConfig();
  const kube = new Kube(kc);
  const namespace = values.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  let pod: V1Pod;
  if (values.filename) {
    pod = YAML.parse(readFileSync(values.filename === '-' ? 0 : values.filename, 'utf8')) as V1Pod;
  } else {
    try {
      pod = await kube.core.readNamespacedPod({ namespace, name: podName! });
    } catch (err) {
      console.error(
        apiStatus(err) === 404
          ? `pod ${namespace}/${podName} not found`
          : `reading pod ${namespace}/${podName}: ${(err as Error).message}`,
      );
      return 1;
    }
  }
  const ns = values.filename ? (pod.metadata?.namespace ?? namespace) : namespace;
  const skip = compileGlobalSkip(config.skipLabels, config.skipAnnotations);
  if (!skip.ok) throw new Error(skip.error.message);
  const g = { group: 'kuik.enix.io', version: 'v1alpha1' };
  const list = async <T>(plural: string, namespaced: boolean): Promise<T[]> =>
    (
      (namespaced
        ? await kube.custom.listNamespacedCustomObject({ ...g, namespace: ns, plural })
        : await kube.custom.listClusterCustomObject({ ...g, plural })) as { items: T[] }
    ).items;
  const [cisms, isms, crises, riss] = await Promise.all([
    list<ClusterImageSetMirror>('clusterimagesetmirrors', false),
    list<ImageSetMirror>('imagesetmirrors', true),
    list<ClusterReplicatedImageSet>('clusterreplicatedimagesets', false),
    list<ReplicatedImageSet>('replicatedimagesets', true),
  ]);
  const client = new RegistryClient();
  const check = config.routing.activeCheck;
  const deps: RouterDeps = {
    config: {
      rewriteOnNeverImagePullPolicy: config.routing.rewriteOnNeverImagePullPolicy,
      honorPrioritiesOnAlwaysImagePullPolicy: config.routing.honorPrioritiesOnAlwaysImagePullPolicy,
      skip: skip.value,
    },
    routingSet: () => ({ cisms, isms, crises, riss }),
    getSecret: async (namespace, name) => {
      try {
        return await kube.getSecret(namespace, name);
      } catch (err) {
        if (apiStatus(err) === 404) return undefined;
        throw err;
      }
    },
    credentialsFor: (secrets, image) => {
      const r = credentialsForImage(secrets, image);
      if (!r.ok) throw new Error(r.error.message);
      return r.credentials;
    },
    checker: new AvailabilityChecker({
      ttlMs: 0,
      probe: async (image, credentials) => {
        const r = await client.probe(image, {
          timeoutMs: check.timeout,
          resolveDigest: check.resolveDigest,
          credentials,
        });
        return { outcome: r.outcome, message: r.message };
      },
    }),
    upsertSecret: async () => {},
    staleMirror: () => {},
  };
  const admission = await explainPod(pod, ns, deps);
  await client.close();
  const name = `${ns}/${pod.metadata?.name ?? pod.metadata?.generateName ?? '(unnamed)'}`;
  if (values.output === 'json')
    console.log(
      JSON.stringify(
        { pod: name, skipped: admission.skipped, decisions: admission.decisions, notes: admission.notes },
        null,
        2,
      ),
    );
  else console.log(renderExplanation(admission, name));
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
