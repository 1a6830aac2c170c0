// The router's dependencies for a dry run from the CLI: the routing CRs read once with the user's
// kubeconfig (not the router's watch cache), Secrets read on demand, real probes with the
// configuration's timeout and resolveDigest, and no writes (upsertSecret and staleMirror are
// never called on a dry run; they do nothing here anyway).

import type { Config } from '#shared/config/config.ts';
import type {
  ClusterImageSetMirror,
  ClusterReplicatedImageSet,
  ImageSetMirror,
  KuikObject,
  ReplicatedImageSet,
} from '#shared/crd/types.ts';
import { GROUP, type KuikKind } from '#shared/crd/types.ts';
import { KeyringCache } from '#shared/credentials/keyring-cache.ts';
import { compileGlobalSkip } from '#shared/filter/filter.ts';
import { apiStatus, listKuik, pluralOf } from '#shared/kube/client.ts';
import { RegistryClient } from '#shared/registry/client.ts';
import { AvailabilityChecker, activeCheckProbe } from '../functions/router/availability.ts';
import type { RouterDeps } from '../functions/router/decide.ts';
import { CliError } from './errors.ts';
import type { Cluster } from './kube.ts';

export interface RoutingCrs {
  cisms: ClusterImageSetMirror[];
  crises: ClusterReplicatedImageSet[];
  /** Namespaced kinds, all namespaces read. */
  isms: ImageSetMirror[];
  riss: ReplicatedImageSet[];
}

/** Routing CRs: cluster kinds, and namespaced kinds of `namespaces` ('all': every namespace). */
export async function loadRoutingCrs(
  cluster: Cluster,
  namespaces: readonly string[] | 'all',
): Promise<RoutingCrs> {
  const list = async <T>(kind: KuikKind, namespace?: string): Promise<T[]> =>
    await cluster.call(`listing ${pluralOf(kind)}${namespace ? ` in ${namespace}` : ''}`, () =>
      listKuik<T>(cluster.kube, kind, { namespace }),
    );
  const namespaced = async <T>(kind: KuikKind): Promise<T[]> =>
    namespaces === 'all'
      ? await list<T>(kind)
      : (await Promise.all([...new Set(namespaces)].map((ns) => list<T>(kind, ns)))).flat();
  try {
    const [cisms, crises, isms, riss] = await Promise.all([
      list<ClusterImageSetMirror>('ClusterImageSetMirror'),
      list<ClusterReplicatedImageSet>('ClusterReplicatedImageSet'),
      namespaced<ImageSetMirror>('ImageSetMirror'),
      namespaced<ReplicatedImageSet>('ReplicatedImageSet'),
    ]);
    return { cisms, crises, isms, riss };
  } catch (err) {
    if (apiStatus(err) === 404)
      throw new CliError(
        `the kuik CRDs (${GROUP}) are not installed in context "${cluster.context}": install kuik-functions, or pick the right --context`,
      );
    throw err;
  }
}

/** The same set with `cr` in it (replacing a CR of the same kind and name): a preview of a file. */
export function withCr(crs: RoutingCrs, cr: KuikObject): RoutingCrs {
  const same = (o: KuikObject) =>
    o.metadata.name === cr.metadata.name && (o.metadata.namespace ?? '') === (cr.metadata.namespace ?? '');
  const put = <T extends KuikObject>(list: T[], kind: KuikObject['kind']): T[] =>
    cr.kind === kind ? [...list.filter((o) => !same(o)), cr as T] : list;
  return {
    cisms: put(crs.cisms, 'ClusterImageSetMirror'),
    crises: put(crs.crises, 'ClusterReplicatedImageSet'),
    isms: put(crs.isms, 'ImageSetMirror'),
    riss: put(crs.riss, 'ReplicatedImageSet'),
  };
}

export interface DryRun {
  deps: RouterDeps;
  close(): Promise<void>;
}

export function dryRunDeps(cluster: Cluster, config: Config, crs: RoutingCrs): DryRun {
  const skip = compileGlobalSkip(config.skipLabels, config.skipAnnotations);
  if (!skip.ok)
    throw new CliError(`the configuration's ${skip.error.message}: fix it, or pass --config FILE`);
  const client = new RegistryClient();
  const keyrings = new KeyringCache();
  const check = config.routing.activeCheck;
  const deps: RouterDeps = {
    config: {
      rewriteOnNeverImagePullPolicy: config.routing.rewriteOnNeverImagePullPolicy,
      honorPrioritiesOnAlwaysImagePullPolicy: config.routing.honorPrioritiesOnAlwaysImagePullPolicy,
      skip: skip.value,
      imageVolumes: config.imageVolumes,
    },
    routingSet: (namespace) => ({
      cisms: crs.cisms,
      crises: crs.crises,
      isms: crs.isms.filter((o) => o.metadata.namespace === namespace),
      riss: crs.riss.filter((o) => o.metadata.namespace === namespace),
    }),
    getSecret: async (namespace, name) => {
      try {
        return await cluster.call(`reading Secret ${namespace}/${name}`, () =>
          cluster.kube.getSecret(namespace, name),
        );
      } catch (err) {
        if (apiStatus(err) === 404) return undefined;
        throw err;
      }
    },
    credentialsFor: (secrets, image) => keyrings.credentialsFor(secrets, image),
    checker: new AvailabilityChecker({
      ttlMs: 0,
      // The router's own probe: HEAD, its timeout, its resolveDigest.
      probe: activeCheckProbe(client, check),
    }),
    upsertSecret: async () => {},
    staleMirror: () => {},
  };
  return { deps, close: () => client.close() };
}
