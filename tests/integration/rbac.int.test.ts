// Each function's RBAC in manifests/ against what its code really calls. The ServiceAccounts,
// ClusterRoles and bindings come from `kubectl kustomize manifests/`; every function runs as its
// own process (node functions/main.ts) with a token of its ServiceAccount, is driven through the
// code paths that need each rule, and the API server's audit log then says which (verb, resource)
// each identity used. Two checks per identity:
//   - nothing it did was refused (no 403), and everything it did is granted by its own role;
//   - every rule of its role was used at least once, or is listed in EXEMPT with the reason.
// It runs on a control plane of its own (private-controlplane.ts): the functions act cluster-wide
// (reconcile's events and its resync rewrite every mirror set they can list), which must not reach
// other test files' objects, and the audit log then holds only this file's calls.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { CoreV1Api, EventsV1Api, type V1Pod } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import type {
  ClusterImageSetAvailability,
  ClusterImageSetMirror,
  ImageSetMirror,
  ReplicatedImageSet,
} from '#shared/crd/types.ts';
import { MIRROR_FINALIZER, OWNER_LABELS, SECRET_FINALIZER } from '#shared/crd/types.ts';
import { Kube } from '#shared/kube/client.ts';
import { copyJobEvent, copyRequest } from '../harness/copy-event.ts';
import { harness, type RegistryInfo } from '../harness/env.ts';
import { kubectl as harnessKubectl, seed, startOwnRegistry, uniq } from '../harness/fixtures.ts';
import { type RunningFunction, startCopyJob, startFunction } from '../harness/functions.ts';
import { type Adapter, RECONCILE_SOURCE, startApiServerSourceAdapter } from '../harness/knative.ts';
import { type PrivateControlPlane, startPrivateControlPlane } from '../harness/private-controlplane.ts';
import type { RunningRegistry } from '../harness/registry.ts';

interface RbacRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: RbacRule[];
  roleRef?: { name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
  // biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML.
  [k: string]: any;
}

/** Sender authentication's right, which this file's functions do not use (the reason says why). */
const TOKEN_REVIEW_EXEMPTION = {
  'authentication.k8s.io/tokenreviews:create':
    "sender authentication (on in manifests/): a TokenReview per sender's token. This file's " +
    'Knative adapters run outside a cluster and mint no OIDC token, so the functions run without it here; ' +
    'access.int.test.ts checks the TokenReview path, and the real cluster (tests/cluster) runs it with ' +
    "Knative's authentication-oidc, where a missing right would refuse every event",
};

/** Rules a function's code does not reach, and why. Everything else must be used. */
const EXEMPT: Record<string, Record<string, string>> = {
  'kuik-reconcile-source': Object.fromEntries(
    [
      'kuik.enix.io/imagesetmirrors',
      'kuik.enix.io/clusterimagesetmirrors',
      'kuik.enix.io/clusterreplicatedimagesets',
      'kuik.enix.io/replicatedimagesets',
      'core/pods',
    ].map((r) => [
      `${r}:get`,
      "Knative's ApiServerSource controller checks get, list and watch with SubjectAccessReviews " +
        'before it deploys the adapter (knative notes §1.4); the adapter itself lists and watches',
    ]),
  ),
  'kuik-monitor': Object.fromEntries(
    [
      'kuik.enix.io/imagesetmirrors:get',
      'kuik.enix.io/clusterimagesetmirrors:get',
      'kuik.enix.io/imagesetmirrors/status:update',
      'kuik.enix.io/clusterimagesetmirrors/status:update',
    ].map((k) => [
      k,
      'tag drift with monitoring.tagDrift.action remirror or pin rewrites a mirror status entry ' +
        '(off by default; tests/integration/tag-drift.int.test.ts drives it)',
    ]),
  ),
};
for (const account of ['kuik-reconcile', 'kuik-monitor', 'kuik-copy'])
  EXEMPT[account] = { ...EXEMPT[account], ...TOKEN_REVIEW_EXEMPTION };

let cp: PrivateControlPlane;
let kube: Kube;
let core: CoreV1Api;
let manifests: Obj[];
let origin: RunningRegistry;
let mirror: RegistryInfo;
/** A repository prefix of this run on the harness's TLS registry. */
let P: string;
const running: { stop(): Promise<void> }[] = [];
const kubeconfigs: Record<string, string> = {};

const sa = (name: string) => `system:serviceaccount:kuik-system:${name}`;

function dockerConfig(reg: RegistryInfo): string {
  const auth = Buffer.from(`${reg.username}:${reg.password}`).toString('base64');
  return JSON.stringify({ auths: { [reg.host]: { auth } } });
}

async function pullSecret(namespace: string, name: string, reg: RegistryInfo): Promise<void> {
  await core.createNamespacedSecret({
    namespace,
    body: {
      metadata: { name, namespace },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': Buffer.from(dockerConfig(reg)).toString('base64') },
    },
  });
}

async function apply(obj: object): Promise<void> {
  await cp.kubectl(['apply', '--server-side', '--field-manager=rbac-test', '-f', '-'], JSON.stringify(obj));
}

/** An ImageSetMirror of the images `include` names to `path` on the mirror, pushed with `push`. */
async function mirrorSet(namespace: string, name: string, include: object[], path: string): Promise<void> {
  const mirrors = [{ registry: mirror.host, path, credentialSecret: { name: 'push' } }];
  await kuik('ImageSetMirror', { name, namespace }, { filter: { include }, mirrors });
}

/** A kuik custom resource of `kind`, applied as above. */
async function kuik(kind: string, metadata: object, spec: object): Promise<void> {
  await apply({ apiVersion: 'kuik.enix.io/v1alpha1', kind, metadata, spec });
}

async function ns(prefix: string): Promise<string> {
  const name = uniq(prefix);
  await cp.kubectl(['create', 'namespace', name]);
  return name;
}

async function eventually<T>(what: string, f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const quote = (host: string) => host.replace(/\./g, '\\.');

// --- the audit log and the roles ---------------------------------------------------------------

interface AuditEvent {
  user: { username: string };
  verb: string;
  stage: string;
  requestURI: string;
  objectRef?: { apiGroup?: string; resource?: string; subresource?: string; namespace?: string };
  responseStatus?: { code?: number };
}

const ruleKey = (group: string, resource: string, verb: string) => `${group || 'core'}/${resource}:${verb}`;

/** (group/resource[/subresource]:verb) → one request URI that used it, per identity. */
async function usage(user: string): Promise<{ used: Map<string, string>; refused: string[] }> {
  const used = new Map<string, string>();
  const refused: string[] = [];
  for (const line of (await readFile(cp.auditLog, 'utf8')).split('\n')) {
    if (!line) continue;
    const e = JSON.parse(line) as AuditEvent;
    // Discovery (non-resource URLs) is every authenticated user's, through system:discovery.
    const resource = e.objectRef?.resource;
    if (e.user.username !== user || !resource) continue;
    const sub = e.objectRef?.subresource;
    const k = ruleKey(e.objectRef?.apiGroup ?? '', sub ? `${resource}/${sub}` : resource, e.verb);
    if (e.responseStatus?.code === 403) refused.push(`${k} ${e.requestURI}`);
    else if (!used.has(k)) used.set(k, `${e.verb} ${e.requestURI}`);
  }
  return { used, refused };
}

/** What the manifests grant an identity: the rules of every ClusterRole bound to it. */
function granted(account: string): Set<string> {
  const roles = manifests
    .filter(
      (o) =>
        o.kind === 'ClusterRoleBinding' &&
        o.subjects?.some(
          (s) => s.kind === 'ServiceAccount' && s.name === account && s.namespace === 'kuik-system',
        ),
    )
    .map((b) => b.roleRef?.name);
  const out = new Set<string>();
  for (const role of manifests.filter((o) => o.kind === 'ClusterRole' && roles.includes(o.metadata.name))) {
    for (const r of role.rules ?? [])
      for (const g of r.apiGroups)
        for (const res of r.resources) for (const v of r.verbs) out.add(ruleKey(g, res, v));
  }
  return out;
}

async function assertLeastPrivilege(account: string): Promise<void> {
  const { used, refused } = await usage(sa(account));
  assert.deepEqual(refused, [], `${account} was refused`);
  const grants = granted(account);
  assert.ok(grants.size > 0, `no role bound to ${account}`);
  const outside = [...used.keys()].filter((k) => !grants.has(k));
  assert.deepEqual(outside, [], `${account} used what its role does not grant`);
  const exempt = EXEMPT[account] ?? {};
  const unused = [...grants].filter((k) => !used.has(k) && !(k in exempt)).sort();
  assert.deepEqual(unused, [], `${account}'s role grants what its code never used`);
  // An exemption for a rule the code does use is stale.
  for (const k of Object.keys(exempt)) {
    assert.ok(grants.has(k), `${account}: exemption for ${k}, which the role does not grant`);
    assert.ok(!used.has(k), `${account}: ${k} is used after all; drop its exemption`);
  }
}

// --- setup ---------------------------------------------------------------------------------------

before(async () => {
  const h = harness();
  cp = await startPrivateControlPlane('rbac');
  running.push(cp);
  kube = new Kube(cp.kc());
  core = cp.kc().makeApiClient(CoreV1Api);
  manifests = parseAllDocuments(await harnessKubectl(['kustomize', `${h.repoRoot}/manifests`]))
    .map((d) => d.toJSON() as Obj)
    .filter(Boolean);
  // The namespace and every ServiceAccount, ClusterRole and binding, exactly as manifests/ has them.
  const identity = manifests.filter((o) =>
    ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind),
  );
  await cp.kubectl(['apply', '--server-side', '-f', '-'], identity.map((o) => JSON.stringify(o)).join('\n'));
  for (const name of [
    'kuik-router',
    'kuik-reconcile',
    'kuik-reconcile-source',
    'kuik-monitor',
    'kuik-copy',
  ]) {
    kubeconfigs[name] = await cp.serviceAccountKubeconfig('kuik-system', name);
  }

  mirror = h.registries.tls;
  P = uniq('rbac');
  origin = await startOwnRegistry('rbac-origin');
  running.push(origin);
  await seed(origin.info, 'app/web', '1');
  await seed(origin.info, 'app/missing', '1');
  await seed(mirror, `${P}/mirror/app/web`, '1');
  await seed(mirror, `${P}/src/app`, '1');
  await seed(mirror, `${P}/mon/app`, '1');
});

after(async () => {
  for (const r of running.reverse()) await r.stop().catch(() => {});
});

// --- the router ----------------------------------------------------------------------------------

let router: RunningFunction;
let copy: RunningFunction;
let reconcile: RunningFunction;

test('router: routing, secret copies, events and stale-mirror clearing use exactly its role', async () => {
  router = await startFunction('router', {
    config: 'routing:\n  activeCheck:\n    timeout: 2s\n    cacheTTL: 0s\n',
    env: { KUBECONFIG: kubeconfigs['kuik-router']! },
  });
  running.push(router);
  // The MutatingWebhookConfiguration of manifests/, with the URL of this process instead of the
  // in-cluster Service (cert-manager would inject the CA; here it is the harness's).
  const mwc = structuredClone(manifests.find((o) => o.kind === 'MutatingWebhookConfiguration')!);
  const caBundle = (await readFile(harness().pki.caCert)).toString('base64');
  for (const w of mwc['webhooks'] as { clientConfig: object }[]) {
    w.clientConfig = { url: `https://127.0.0.1:${router.webhookPort}/mutate`, caBundle };
  }
  await apply(mwc);

  const app = await ns('app');
  await pullSecret(app, 'origin-pull', origin.info);
  await pullSecret(app, 'mirror-cred', mirror);
  await pullSecret('kuik-system', 'mirror-cred', mirror);
  const cism = uniq('cism');
  const ism = uniq('ism');
  const include = [{ image: `${quote(origin.info.host)}/.*` }];
  await kuik(
    'ClusterImageSetMirror',
    { name: cism },
    {
      filter: { include },
      mirrors: [
        {
          registry: mirror.host,
          path: `${P}/mirror`,
          credentialSecret: { name: 'mirror-cred', namespace: 'kuik-system' },
        },
      ],
    },
  );
  await kuik(
    'ImageSetMirror',
    { name: ism, namespace: app },
    {
      filter: { include },
      mirrors: [{ registry: mirror.host, path: `${P}/ism`, credentialSecret: { name: 'mirror-cred' } }],
    },
  );
  const pod = (name: string, image: string): V1Pod => ({
    metadata: { name },
    spec: { containers: [{ name: 'app', image }], imagePullSecrets: [{ name: 'origin-pull' }] },
  });
  // The apiserver picks the configuration up asynchronously, and the router's watch cache the new
  // mirror sets: dry-run until the router answers with the mirror sets in view (an image they
  // cover has alternatives, the original still answering).
  await eventually('webhook active, mirror sets in the router’s cache', async () => {
    const p = await core.createNamespacedPod({
      namespace: app,
      body: pod('probe', `${origin.info.host}/app/web:1`),
      dryRun: 'All',
    });
    return p.metadata?.annotations?.['kuik.enix.io/reason'] === '{"app":"OriginalAvailable"}'
      ? true
      : undefined;
  });

  await origin.stop();
  const web = await core.createNamespacedPod({
    namespace: app,
    body: pod('web', `${origin.info.host}/app/web:1`),
  });
  assert.equal(
    web.spec?.containers[0]?.image,
    `${mirror.host}/${P}/mirror/app/web:1`,
    JSON.stringify(web.metadata?.annotations),
  );
  // The credential rotates: a later pod finds its copy there but outdated, and the router replaces
  // it (a current copy is not written again; the source is re-read within its 10 s cache).
  const source = await core.readNamespacedSecret({ namespace: 'kuik-system', name: 'mirror-cred' });
  const marker = Buffer.from('rotated').toString('base64');
  await core.replaceNamespacedSecret({
    namespace: 'kuik-system',
    name: 'mirror-cred',
    body: { ...source, data: { ...source.data, rotated: marker } },
  });
  let n = 0;
  await eventually(
    'the copy follows the rotated credential',
    async () => {
      await core.createNamespacedPod({
        namespace: app,
        body: pod(`web2-${n++}`, `${origin.info.host}/app/web:1`),
      });
      const copies = await core.listNamespacedSecret({ namespace: app, labelSelector: OWNER_LABELS.uid });
      if (copies.items[0]?.data?.['rotated'] === marker) return copies.items;
      await new Promise((r) => setTimeout(r, 1000));
      return undefined;
    },
    60_000,
  );
  const copies = await core.listNamespacedSecret({ namespace: app, labelSelector: OWNER_LABELS.uid });
  assert.equal(copies.items.length, 1);

  // Both mirror sets claim an image their mirrors do not have: each NotFound clears mirroredAt.
  const missing = `${origin.info.host}/app/missing:1`;
  const stale = (path: string) => ({
    matchingImages: [
      {
        image: missing,
        mirrors: [{ image: `${mirror.host}/${path}/app/missing:1`, mirroredAt: '2026-01-01T00:00:00Z' }],
      },
    ],
  });
  await kube.updateStatus<ClusterImageSetMirror>({ kind: 'ClusterImageSetMirror', name: cism }, (o) => {
    o.status = stale(`${P}/mirror`);
    return true;
  });
  await kube.updateStatus<ImageSetMirror>({ kind: 'ImageSetMirror', name: ism, namespace: app }, (o) => {
    o.status = stale(`${P}/ism`);
    return true;
  });
  const mirroredAt = async () => {
    const a = await kube.getKuik<ClusterImageSetMirror>({ kind: 'ClusterImageSetMirror', name: cism });
    const b = await kube.getKuik<ImageSetMirror>({ kind: 'ImageSetMirror', name: ism, namespace: app });
    return [a, b].map((o) => o.status?.matchingImages?.[0]?.mirrors?.[0]?.mirroredAt);
  };
  // The router sees the statuses through its watch: admit pods until it has acted on both.
  let i = 0;
  await eventually('stale mirroredAt cleared', async () => {
    if ((await mirroredAt()).every((m) => m === undefined)) return true;
    await core.createNamespacedPod({ namespace: app, body: pod(`missing-${i++}`, missing) });
    return undefined;
  });
  await eventually('ImageRerouted event', async () => {
    const events = await cp.kc().makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: app });
    return events.items.find((e) => e.reason === 'ImageRerouted' && e.regarding?.name === 'web');
  });
  // Two pods of one ReplicaSet rerouted alike: one event on the ReplicaSet, whose series counts
  // the second (events list + patch).
  const replicaPod = (): V1Pod => {
    const p = pod('', `${origin.info.host}/app/web:1`);
    p.metadata = {
      generateName: 'web-rs-',
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'web-rs',
          uid: '00000000-0000-4000-8000-000000000001',
          controller: true,
        },
      ],
    };
    return p;
  };
  await core.createNamespacedPod({ namespace: app, body: replicaPod() });
  await eventually('ImageRerouted event on the ReplicaSet', async () => {
    const events = await cp.kc().makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: app });
    return events.items.find((e) => e.reason === 'ImageRerouted' && e.regarding?.name === 'web-rs');
  });
  await core.createNamespacedPod({ namespace: app, body: replicaPod() });
  await eventually('its series counts the second pod', async () => {
    const events = await cp.kc().makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: app });
    const onRs = events.items.filter((e) => e.reason === 'ImageRerouted' && e.regarding?.name === 'web-rs');
    return onRs.length === 1 && onRs[0]?.series?.count === 2 ? true : undefined;
  });

  await assertLeastPrivilege('kuik-router');
});

// --- reconcile, its ApiServerSource, copy -------------------------------------------------------

test('reconcile, its ApiServerSource and copy: mirror sets, secret owners, deletions and copies use exactly their roles', async () => {
  copy = await startFunction('copy', { env: { KUBECONFIG: kubeconfigs['kuik-copy']! } });
  running.push(copy);
  // Resyncs back to back (the monitor's test below triggers them): no minimum interval.
  reconcile = await startFunction('reconcile', {
    config: 'monitoring:\n  tickBudget: 20s\n  minTickInterval: 0s\n',
    env: { KUBECONFIG: kubeconfigs['kuik-reconcile']!, COPY_SINK: `http://127.0.0.1:${copy.port}/` },
  });
  running.push(reconcile);
  const adapter: Adapter = await startApiServerSourceAdapter({
    sink: `http://127.0.0.1:${reconcile.port}/`,
    kubeconfig: kubeconfigs['kuik-reconcile-source']!,
    resources: RECONCILE_SOURCE,
  });
  running.push(adapter);
  const source = manifests.find((o) => o.kind === 'ApiServerSource')!;
  assert.deepEqual(
    source['spec'].resources.map((r: { kind: string }) => r.kind),
    ['ImageSetMirror', 'ClusterImageSetMirror', 'ClusterReplicatedImageSet', 'ReplicatedImageSet', 'Pod'],
  );

  const rec = await ns('rec');
  // The adapter sends nothing for what exists when it starts: touch a sentinel until reconcile
  // has finalized it, then events demonstrably flow.
  await kuik('ImageSetMirror', { name: 'sentinel', namespace: rec }, {});
  await eventually(
    'adapter delivering',
    async () => {
      await cp.kubectl(['annotate', 'ism', 'sentinel', '-n', rec, '--overwrite', `touch=${Date.now()}`]);
      const o = await kube.getKuik<ImageSetMirror>({
        kind: 'ImageSetMirror',
        name: 'sentinel',
        namespace: rec,
      });
      return o.metadata.finalizers?.length ? true : undefined;
    },
    60_000,
  );

  await pullSecret(rec, 'pull', mirror);
  await pullSecret(rec, 'push', mirror);
  const src = `${mirror.host}/${P}/src/app:1`;
  const include = [{ image: `${quote(mirror.host)}/${P}/src/.*` }];
  const ism = uniq('ism');
  const cism = uniq('cism');
  await mirrorSet(rec, ism, include, `${P}/dst-ism`);
  await kuik(
    'ClusterImageSetMirror',
    { name: cism },
    {
      filter: { include },
      mirrors: [
        { registry: mirror.host, path: `${P}/dst-cism`, credentialSecret: { name: 'push', namespace: rec } },
      ],
    },
  );
  await core.createNamespacedPod({
    namespace: rec,
    body: {
      metadata: { name: 'src' },
      spec: { containers: [{ name: 'app', image: src }], imagePullSecrets: [{ name: 'pull' }] },
    },
  });
  // reconcile fills status and asks for the copies; copy mirrors and records them.
  const mirrored = async (ref: {
    kind: 'ImageSetMirror' | 'ClusterImageSetMirror';
    name: string;
    namespace?: string;
  }) =>
    await eventually(
      `${ref.kind} mirrored`,
      async () => {
        const o = await kube.getKuik<ImageSetMirror | ClusterImageSetMirror>(ref);
        return o.status?.matchingImages?.[0]?.mirrors?.[0]?.mirroredAt ? o : undefined;
      },
      60_000,
    );
  await mirrored({ kind: 'ImageSetMirror', name: ism, namespace: rec });
  await mirrored({ kind: 'ClusterImageSetMirror', name: cism });
  // mirroredAt cleared (as the router does for a mirror answering NotFound): reconcile asks again,
  // copy copies again, and its Mirrored event, the same as before, is counted in the first one's
  // series (events list + patch).
  await kube.updateStatus<ClusterImageSetMirror>({ kind: 'ClusterImageSetMirror', name: cism }, (o) => {
    const m = o.status?.matchingImages?.[0]?.mirrors?.[0];
    if (m) delete m.mirroredAt;
    return true;
  });
  await eventually(
    'Mirrored event counted twice',
    async () => {
      const events = await cp.kc().makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: 'default' });
      const mirroredEvents = events.items.filter(
        (e) => e.reason === 'Mirrored' && e.regarding?.name === cism,
      );
      return mirroredEvents.length === 1 && mirroredEvents[0]?.series?.count === 2 ? true : undefined;
    },
    60_000,
  );

  // An invalid filter: reconcile warns with an event.
  await kuik(
    'ImageSetMirror',
    { name: 'invalid', namespace: rec },
    {
      filter: { include: [{ label: '===' }] },
      mirrors: [{ registry: mirror.host, path: `${P}/invalid` }],
    },
  );
  await eventually('InvalidFilter event', async () => {
    const events = await cp.kc().makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: rec });
    return events.items.find((e) => e.reason === 'InvalidFilter') ? true : undefined;
  });
  // Touched: reconcile warns again, on the same event (its series).
  await cp.kubectl(['annotate', 'ism', 'invalid', '-n', rec, '--overwrite', `touch=${Date.now()}`]);
  await eventually('InvalidFilter event counted twice', async () => {
    const events = await cp.kc().makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: rec });
    const invalid = events.items.filter((e) => e.reason === 'InvalidFilter');
    return invalid.length === 1 && (invalid[0]?.series?.count ?? 1) >= 2 ? true : undefined;
  });

  // A ClusterReplicatedImageSet owning a pull-secret copy (as the router makes them), deleted:
  // reconcile finalizes it first, then deletes the copy and lets it go.
  const cris = uniq('cris');
  await kuik(
    'ClusterReplicatedImageSet',
    { name: cris },
    { upstreams: [{ registry: mirror.host, path: `/${P}/src` }] },
  );
  const finalized = await eventually('CRIS finalizer', async () => {
    const o = await kube.getKuik<{ metadata: { uid: string; finalizers?: string[] } }>({
      kind: 'ClusterReplicatedImageSet',
      name: cris,
    });
    return o.metadata.finalizers?.includes(SECRET_FINALIZER) ? o : undefined;
  });
  await core.createNamespacedSecret({
    namespace: rec,
    body: {
      metadata: { name: 'kuik-copy-of-cris', labels: { [OWNER_LABELS.uid]: finalized.metadata.uid } },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': Buffer.from(dockerConfig(mirror)).toString('base64') },
    },
  });
  // A ReplicatedImageSet: reconcile writes its status (upstream count, Ready).
  await kuik(
    'ReplicatedImageSet',
    { name: 'ris', namespace: rec },
    { upstreams: [{ registry: mirror.host, path: `/${P}/src` }] },
  );
  await eventually('RIS status', async () => {
    const o = await kube.getKuik<ReplicatedImageSet>({
      kind: 'ReplicatedImageSet',
      name: 'ris',
      namespace: rec,
    });
    return o.status?.conditions?.length ? true : undefined;
  });
  await cp.kubectl(['delete', 'clusterreplicatedimageset', cris, '--wait=false']);
  // The mirrored ImageSetMirror, deleted: its mirrored image is deleted with its credential.
  await cp.kubectl(['delete', 'imagesetmirror', ism, '-n', rec, '--wait=false']);
  await eventually('CRIS and ISM gone', async () => {
    const left = await cp.kubectl(['get', 'clusterreplicatedimagesets,imagesetmirrors', '-A', '-o', 'name']);
    return left.includes(cris) || left.includes(ism) ? undefined : true;
  });
  assert.equal(
    (await core.listNamespacedSecret({ namespace: rec, labelSelector: OWNER_LABELS.uid })).items.length,
    0,
  );

  await adapter.stop();
  await assertLeastPrivilege('kuik-reconcile-source');
  // kuik-reconcile is checked after its resync, below: the resync lists what events never need.
  await assertLeastPrivilege('kuik-copy');
});

// --- the monitor -----------------------------------------------------------------------------------

test("monitor: a tick (probes, ledger, events) uses exactly its role, reconcile's resync of every CR exactly reconcile's; then the copy function as a Job uses exactly kuik-copy", async () => {
  // No ApiServerSource now (stopped above): what changes below is the resync's to handle.
  const monitor = await startFunction('monitor', {
    config: 'monitoring:\n  tickBudget: 20s\n  minTickInterval: 0s\n',
    env: { KUBECONFIG: kubeconfigs['kuik-monitor']! },
  });
  running.push(monitor);
  const mon = await ns('mon');
  await pullSecret(mon, 'pull', mirror);
  await pullSecret(mon, 'push', mirror);
  const image = `${mirror.host}/${P}/mon/app:1`;
  await core.createNamespacedPod({
    namespace: mon,
    body: {
      metadata: { name: 'mon' },
      spec: { containers: [{ name: 'app', image }], imagePullSecrets: [{ name: 'pull' }] },
    },
  });
  const cisa = uniq('cisa');
  await kuik(
    'ClusterImageSetAvailability',
    { name: cisa },
    { filter: { include: [{ image: `${quote(mirror.host)}/${P}/mon/.*` }] } },
  );
  const cisaInvalid = uniq('cisa-invalid');
  await kuik(
    'ClusterImageSetAvailability',
    { name: cisaInvalid },
    { filter: { include: [{ label: '===' }] } },
  );
  // New mirror sets and a CRIS nobody reconciled yet: the resync finalizes them and fills status.
  const include = [{ image: `${quote(mirror.host)}/${P}/mon/.*` }];
  const monIsm = uniq('ism');
  await mirrorSet(mon, monIsm, include, `${P}/mon-ism`);
  await kuik(
    'ClusterImageSetMirror',
    { name: uniq('cism') },
    { filter: { include }, mirrors: [{ registry: mirror.host, path: `${P}/mon-cism` }] },
  );
  await kuik(
    'ClusterReplicatedImageSet',
    { name: uniq('cris') },
    { upstreams: [{ registry: mirror.host, path: `/${P}/mon` }] },
  );
  // A ReplicatedImageSet nobody reconciled yet: the resync writes its status.
  await kuik(
    'ReplicatedImageSet',
    { name: 'ris', namespace: mon },
    { upstreams: [{ registry: mirror.host, path: `/${P}/mon` }] },
  );
  // Deletions the ApiServerSource missed: a CRIS with a secret copy, a mirrored ImageSetMirror.
  const crisDel = uniq('cris-del');
  await kuik(
    'ClusterReplicatedImageSet',
    { name: crisDel, finalizers: [SECRET_FINALIZER] },
    { upstreams: [{ registry: mirror.host, path: `/${P}/mon` }] },
  );
  const crisUid = (
    await kube.getKuik<{ metadata: { uid: string } }>({ kind: 'ClusterReplicatedImageSet', name: crisDel })
  ).metadata.uid;
  await core.createNamespacedSecret({
    namespace: mon,
    body: {
      metadata: { name: 'kuik-copy-of-cris', labels: { [OWNER_LABELS.uid]: crisUid } },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': Buffer.from(dockerConfig(mirror)).toString('base64') },
    },
  });
  const ismDel = uniq('ism-del');
  await kuik(
    'ImageSetMirror',
    { name: ismDel, namespace: mon, finalizers: [MIRROR_FINALIZER] },
    {
      filter: { include },
      mirrors: [{ registry: mirror.host, path: `${P}/gone`, credentialSecret: { name: 'push' } }],
    },
  );
  await kube.updateStatus<ImageSetMirror>({ kind: 'ImageSetMirror', name: ismDel, namespace: mon }, (o) => {
    o.status = {
      matchingImages: [
        { image, mirrors: [{ image: `${mirror.host}/${P}/gone/app:1`, mirroredAt: '2026-01-01T00:00:00Z' }] },
      ],
    };
    return true;
  });
  await cp.kubectl(['delete', 'clusterreplicatedimageset', crisDel, '--wait=false']);
  await cp.kubectl(['delete', 'imagesetmirror', ismDel, '-n', mon, '--wait=false']);

  // Ticks and resyncs the way OpenFaaS's cron-connector sends them (a PingSource's CloudEvent takes
  // the same path once parsed): the resync on reconcile, ticks on the monitor until the CISA holds
  // a probe result.
  const cronPost = async (port: number) => {
    const r = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      headers: { 'x-connector': 'cron-connector', 'x-topic': 'cron-function' },
    });
    assert.equal(r.status, 200, await r.clone().text());
    return (await r.json()) as { resync?: string; errors?: string[] };
  };
  const tick = () => cronPost(monitor.port);
  const first = await cronPost(reconcile.port);
  assert.equal(first.resync, 'ok', JSON.stringify(first));
  await tick();
  await eventually(
    'CISA probed',
    async () => {
      const o = await kube.getKuik<ClusterImageSetAvailability>({
        kind: 'ClusterImageSetAvailability',
        name: cisa,
      });
      const probed = o.status?.images?.find((i) => i.image === image && i.lastMonitor);
      if (probed) return probed;
      await tick();
      return undefined;
    },
    90_000,
  );
  const left = await cp.kubectl(['get', 'clusterreplicatedimagesets,imagesetmirrors', '-A', '-o', 'name']);
  assert.ok(!left.includes(crisDel) && !left.includes(ismDel), left);
  const monRis = await kube.getKuik<ReplicatedImageSet>({
    kind: 'ReplicatedImageSet',
    name: 'ris',
    namespace: mon,
  });
  assert.equal(monRis.status?.conditions?.[0]?.status, 'True', JSON.stringify(monRis.status));
  // The invalid CISA warns on every tick: one event, its series counting the ticks.
  await tick();
  await eventually('InvalidFilter on the CISA counted per tick', async () => {
    const events = await cp.kc().makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: 'default' });
    const invalid = events.items.filter(
      (e) => e.reason === 'InvalidFilter' && e.regarding?.name === cisaInvalid,
    );
    return invalid.length === 1 && (invalid[0]?.series?.count ?? 1) >= 2 ? true : undefined;
  });

  await assertLeastPrivilege('kuik-monitor');
  await assertLeastPrivilege('kuik-reconcile');

  // The copy function as a JobSink Job (event file, exit code), as kuik-copy: the monitor's mirror
  // set marked not mirrored, nothing else running that would copy it.
  const monRef = { kind: 'ImageSetMirror' as const, name: monIsm, namespace: mon };
  const copied = await eventually('the resync’s copy landed', async () => {
    const o = await kube.getKuik<ImageSetMirror>(monRef);
    return o.status?.matchingImages?.[0]?.mirrors?.[0]?.mirroredAt ? o : undefined;
  });
  await kube.updateStatus<ImageSetMirror>(monRef, (o) => {
    const m = o.status?.matchingImages?.[0]?.mirrors?.[0];
    if (m) delete m.mirroredAt;
    return true;
  });
  const entry = copied.status?.matchingImages?.[0];
  const owner = {
    kind: 'ImageSetMirror' as const,
    name: monIsm,
    namespace: mon,
    uid: copied.metadata.uid ?? '',
  };
  const req = copyRequest(owner, entry?.image ?? '', entry?.mirrors?.[0]?.image ?? '');
  const jobProc = await startCopyJob(copyJobEvent(req), { KUBECONFIG: kubeconfigs['kuik-copy']! });
  assert.equal(await jobProc.exited, 0, await readFile(jobProc.logFile, 'utf8'));
  assert.match(
    (await kube.getKuik<ImageSetMirror>(monRef)).status?.matchingImages?.[0]?.mirrors?.[0]?.mirroredAt ?? '',
    /Z$/,
  );
  await assertLeastPrivilege('kuik-copy');
});
