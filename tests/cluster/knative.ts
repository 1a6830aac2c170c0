// Knative Eventing and Serving on the real cluster, from their modules' own config/ YAML (copied
// by tests/cluster/build.sh), with the `ko://` image references pointed at the images packed here,
// and Traefik's Knative provider as Serving's networking layer (Envoy, which Kourier, Contour and
// Istio need, is not available here).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '#shared/errors.ts';
import { waitEstablished } from '../harness/controlplane.ts';
import { INFRA_REGISTRY } from './node.ts';
import type { Cluster } from './start.ts';
import { versions } from './tools.ts';

export const TRAEFIK_INGRESS_CLASS = 'traefik.ingress.networking.knative.dev';

function yamlFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...yamlFilesUnder(p));
    else if (/\.ya?ml$/.test(name)) out.push(p);
  }
  return out;
}

/** Splits YAML streams into documents (no parsing: the apiserver validates them). */
export function documents(text: string): string[] {
  return text
    .split(/^---\s*$/m)
    .map((d) => d.trim())
    .filter((d) => /^kind:/m.test(d));
}

/** `ko://knative.dev/<project>/cmd/<cmd>` → the image packed from that command (tools.ts names). */
export function resolveKo(doc: string, ev: string, sv: string): string {
  return doc.replace(
    /ko:\/\/knative\.dev\/(eventing|serving)\/cmd\/([a-z_]+)/g,
    (_m, project: string, cmd: string) => {
      const tag = project === 'eventing' ? ev : sv;
      return `${INFRA_REGISTRY}/knative/${project}/${cmd.replace(/_/g, '-')}:${tag}`;
    },
  );
}

/** The Traefik deployment, adapted from Traefik's own Knative fixtures: non-root ports, ClusterIP. */
export function traefikManifest(image: string): string {
  return `apiVersion: v1
kind: Namespace
metadata: {name: traefik}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: traefik, namespace: traefik}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: traefik, namespace: traefik, labels: {app: traefik}}
spec:
  replicas: 1
  selector: {matchLabels: {app: traefik}}
  template:
    metadata: {labels: {app: traefik}}
    spec:
      serviceAccountName: traefik
      containers:
      - name: traefik
        image: ${image}
        args:
        - --log.level=INFO
        - --ping=true
        - --ping.entrypoint=traefik
        - --entrypoints.pweb.address=:8000
        - --entrypoints.privweb.address=:8081
        - --entrypoints.traefik.address=:9000
        - --experimental.knative
        - --providers.knative.publicEntrypoints=pweb
        - --providers.knative.publicService.namespace=traefik
        - --providers.knative.publicService.name=traefik
        - --providers.knative.privateEntrypoints=privweb
        - --providers.knative.privateService.namespace=traefik
        - --providers.knative.privateService.name=privtraefik
        - --providers.knative.throttleduration=1s
        ports:
        - {name: pweb, containerPort: 8000}
        - {name: privweb, containerPort: 8081}
        - {name: traefik, containerPort: 9000}
        readinessProbe: {httpGet: {path: /ping, port: 9000}, periodSeconds: 2}
        securityContext: {runAsNonRoot: true, runAsUser: 65532, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false}
---
apiVersion: v1
kind: Service
metadata: {name: traefik, namespace: traefik}
spec:
  selector: {app: traefik}
  ports: [{name: http, port: 80, targetPort: pweb}]
---
apiVersion: v1
kind: Service
metadata: {name: privtraefik, namespace: traefik}
spec:
  selector: {app: traefik}
  ports: [{name: http, port: 80, targetPort: privweb}]
`;
}

/** Settings the run changes in Knative's ConfigMaps (merged over the modules' defaults). */
function configPatches(registries: string[]): Record<string, Record<string, string>> {
  return {
    'knative-serving/config-network': { 'ingress-class': TRAEFIK_INGRESS_CLASS },
    // The controller's pod cannot resolve tags in these registries' TLS setups: skip resolution.
    'knative-serving/config-deployment': {
      'registries-skipping-tag-resolving': registries.join(','),
      'progress-deadline': '300s',
    },
    // Idle pods go in seconds (Knative's shortest grace period), so tests see scale to zero soon.
    'knative-serving/config-autoscaler': { 'scale-to-zero-grace-period': '6s' },
    // Knative Services are cluster-local by default here (no external domain).
    'knative-serving/config-domain': { 'svc.cluster.local': '' },
    // Sources send an OIDC token for their sink's audience and the JobSink checks its senders:
    // kuik-functions' manifests check senders by default (docs/security.md), as an operator is
    // told to set it up (docs/install.md).
    'knative-eventing/config-features': { 'authentication-oidc': 'enabled' },
  };
}

/**
 * Knative's config webhooks validate its ConfigMaps (failurePolicy Fail), and right after the
 * apply their pods may not answer yet (seen: `failed calling webhook "config.webhook.serving.knative.dev"
 * … connection refused`). Retried while the webhook cannot be reached, for as long as a Deployment
 * gets to become Available below; any other refusal fails at once.
 */
async function patchConfigMap(c: Cluster, ns: string, name: string, data: Record<string, string>) {
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      await c.k('-n', ns, 'patch', 'configmap', name, '--type=merge', '-p', JSON.stringify({ data }));
      return;
    } catch (err) {
      if (!/failed calling webhook/.test(errorMessage(err)) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

/** `traefik: false` leaves Serving without a networking layer (Routes never get an address). */
export async function deployKnative(c: Cluster, opts: { traefik?: boolean } = {}): Promise<void> {
  const withTraefik = opts.traefik ?? true;
  const v = versions();
  const ev = v['KNATIVE_EVENTING_VERSION']!;
  const sv = v['KNATIVE_SERVING_CLUSTER_VERSION']!;
  const y = c.tools.yamlDir;
  const skip = (f: string) => /-hpa\.yaml$|request-reply\.yaml$/.test(f);
  const files = [
    ...yamlFilesUnder(join(y, 'eventing')),
    ...yamlFilesUnder(join(y, 'serving')),
    ...yamlFilesUnder(join(y, 'networking')),
  ].filter((f) => !skip(f));
  const docs = files.flatMap((f) => documents(resolveKo(readFileSync(f, 'utf8'), ev, sv)));
  const crds = docs.filter((d) => /^kind: CustomResourceDefinition$/m.test(d));
  const rest = docs.filter((d) => !/^kind: CustomResourceDefinition$/m.test(d));
  const traefikImage = c.tools.images['traefik']!;
  if (withTraefik) {
    rest.push(...documents(traefikManifest(`${INFRA_REGISTRY}/${traefikImage.name}:${traefikImage.tag}`)));
    rest.push(...documents(readFileSync(join(y, 'traefik-rbac.yaml'), 'utf8')));
  }
  const crdFile = join(c.runDir, 'knative-crds.yaml');
  const restFile = join(c.runDir, 'knative.yaml');
  await writeFile(crdFile, crds.join('\n---\n'));
  await writeFile(restFile, rest.join('\n---\n'));
  const apply = ['apply', '--server-side', '--force-conflicts', '--field-manager=kuik-cluster'];
  await c.k(...apply, '-f', crdFile);
  const names = (await c.k('get', '-f', crdFile, '-o', 'name')).split('\n').filter(Boolean);
  await waitEstablished(c.kubectl, ['--kubeconfig', c.kubeconfig], names);
  // Namespaces first: the rest lands in them.
  await c.k(...apply, '-f', restFile).catch(async () => {
    // A first apply can race its own namespaces and CRD-backed defaults; the second converges.
    await c.k(...apply, '-f', restFile);
  });
  for (const [key, data] of Object.entries(configPatches([INFRA_REGISTRY]))) {
    const [ns, name] = key.split('/') as [string, string];
    await patchConfigMap(c, ns, name, data);
  }
  for (const ns of ['knative-eventing', 'knative-serving', ...(withTraefik ? ['traefik'] : [])]) {
    await c.k('-n', ns, 'wait', '--for=condition=Available', 'deployment', '--all', '--timeout=300s');
  }
}
