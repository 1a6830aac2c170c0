// kuik-functions installed on the real cluster as a user installs it: the image built by
// scripts/build-image.sh and pushed to the cluster's registry, then `kubectl apply -k` of an
// overlay over manifests/ that changes only the image and the test's own settings (or `helm
// install` of the chart). The run plays cert-manager's part: it signs the webhook's certificate
// with the cluster's CA into the Secret the Certificate names and injects the CA into the webhook
// configuration, as cainjector would (cert-manager's CRDs are applied, so the Issuer and Certificate
// objects apply unchanged).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { signedCert } from '../harness/pki.ts';
import { run, waitFor } from '../harness/proc.ts';
import { manifestTools, repoRoot } from '../harness/tools.ts';
import { INFRA_REGISTRY } from './node.ts';
import type { Cluster } from './start.ts';

export const KUIK_NS = 'kuik-system';
const IMAGE_REPO = 'kuik/kuik-functions';
/** What the image is built from: a change here means a new image. */
const IMAGE_INPUTS = [
  'functions',
  'shared',
  'scripts/bundle.ts',
  'scripts/build-image.sh',
  'Containerfile',
  'package-lock.json',
];

function filesUnder(p: string): string[] {
  if (!statSync(p).isDirectory()) return [p];
  return readdirSync(p)
    .sort()
    .flatMap((n) => (n === 'node_modules' || n.endsWith('.test.ts') ? [] : filesUnder(join(p, n))));
}

/** A digest of the image's inputs, as its tag: an unchanged tree reuses the pushed image. */
export function imageInputsDigest(): string {
  const h = createHash('sha256');
  for (const f of IMAGE_INPUTS.flatMap((i) => filesUnder(join(repoRoot, i)))) {
    h.update(relative(repoRoot, f)).update('\0').update(readFileSync(f)).update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

/** Builds the project's image (unless this tree's is already in the registry) and pushes it. */
export async function kuikImage(c: Cluster): Promise<string> {
  const tag = imageInputsDigest();
  const link = join(
    c.tools.registryStorage,
    'docker/registry/v2/repositories',
    IMAGE_REPO,
    '_manifests/tags',
    tag,
    'current/link',
  );
  if (!existsSync(link)) {
    const local = `localhost/kuik-functions:cluster-${tag}`;
    await run('bash', [join(repoRoot, 'scripts/build-image.sh'), local], { cwd: repoRoot });
    await run(
      'buildah',
      [
        'push',
        '--quiet',
        '--tls-verify=false',
        local,
        `docker://${c.infraRegistry.local}/${IMAGE_REPO}:${tag}`,
      ],
      {
        env: { STORAGE_DRIVER: 'vfs' },
      },
    );
    // vfs keeps every byte of every image: the pushed copy is the one that counts.
    await run('buildah', ['rmi', local], { env: { STORAGE_DRIVER: 'vfs' } }).catch(() => '');
  }
  return `${INFRA_REGISTRY}/${IMAGE_REPO}:${tag}`;
}

/**
 * The functions trust the registries' CA. Here it is the cluster's own CA, which every pod already
 * has as its ServiceAccount's ca.crt; an operator with a private registry CA mounts theirs.
 */
export const CA_ENV = {
  name: 'NODE_EXTRA_CA_CERTS',
  value: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
};

/** Copies record their upload sessions every 8 MiB (default 64): a kill mid-layer has some to resume. */
export const COPY_RECORD_ENV = { name: 'KUIK_COPY_RECORD_EVERY_MIB', value: '8' };

/** The test's own settings, as the annotations an operator would set on the Knative Services. */
export const TEST_AUTOSCALING = {
  // Knative's shortest stable window, and no delay: the idle window is seconds, not minutes.
  'autoscaling.knative.dev/window': '6s',
  'autoscaling.knative.dev/scale-down-delay': '0s',
};

export function overlay(dir: string, image: string, kuikConfig: string): string {
  const [name, tag] = [image.slice(0, image.lastIndexOf(':')), image.slice(image.lastIndexOf(':') + 1)];
  const env = (path: string) => ({ op: 'add', path: `${path}/env/-`, value: CA_ENV });
  const ksvc = (n: string) => ({
    target: { group: 'serving.knative.dev', version: 'v1', kind: 'Service', name: n },
    patch: JSON.stringify([
      env('/spec/template/spec/containers/0'),
      ...Object.entries(TEST_AUTOSCALING).map(([k, v]) => ({
        op: 'add',
        path: `/spec/template/metadata/annotations/${k.replace(/\//g, '~1')}`,
        value: v,
      })),
    ]),
  });
  return JSON.stringify(
    {
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: [relative(dir, join(repoRoot, 'manifests'))],
      images: [{ name: 'localhost/kuik-functions', newName: name, newTag: tag }],
      patches: [
        {
          target: { group: 'apps', version: 'v1', kind: 'Deployment', name: 'kuik-router' },
          patch: JSON.stringify([env('/spec/template/spec/containers/0')]),
        },
        ksvc('kuik-reconcile'),
        ksvc('kuik-monitor'),
        {
          target: { group: 'sinks.knative.dev', kind: 'JobSink', name: 'kuik-copy' },
          patch: JSON.stringify([
            env('/spec/job/spec/template/spec/containers/0'),
            { op: 'add', path: '/spec/job/spec/template/spec/containers/0/env/-', value: COPY_RECORD_ENV },
          ]),
        },
        {
          target: { version: 'v1', kind: 'ConfigMap', name: 'kuik-config' },
          patch: JSON.stringify([{ op: 'replace', path: '/data/config.yaml', value: kuikConfig }]),
        },
      ],
    },
    null,
    2,
  );
}

/** cert-manager's CRDs, the namespace, and the webhook's serving certificate (cert-manager's part). */
export async function prepareInstall(c: Cluster): Promise<void> {
  const { certManagerCrdDir } = manifestTools();
  await c.k('apply', '--server-side', '-f', certManagerCrdDir);
  // Polled, not `kubectl wait --for=condition=Established`: on a CRD the apiserver has not given
  // conditions yet, that fails at once (`.status.conditions accessor error: <nil>`), seen on a
  // loaded machine.
  for (const crd of ['certificates.cert-manager.io', 'issuers.cert-manager.io']) {
    await waitFor(
      `crd/${crd} Established`,
      async () =>
        (await c.k(
          'get',
          'crd',
          crd,
          '-o',
          'jsonpath={.status.conditions[?(@.type=="Established")].status}',
        )) === 'True',
      { timeoutMs: 120_000, intervalMs: 500 },
    );
  }
  await c.k('create', 'namespace', KUIK_NS).catch(() => '');
  const dir = join(c.runDir, 'webhook-cert');
  await mkdir(dir, { recursive: true });
  const svc = `kuik-router.${KUIK_NS}.svc`;
  await writeFile(
    join(dir, 'ext'),
    `subjectAltName=DNS:${svc},DNS:${svc}.cluster.local\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`,
  );
  await signedCert({
    subject: `/CN=${svc}`,
    key: join(dir, 'tls.key'),
    cert: join(dir, 'tls.crt'),
    caCert: c.pki.caCert,
    caKey: c.pki.caKey,
    extFile: join(dir, 'ext'),
    days: '30',
  });
  await c
    .k(
      '-n',
      KUIK_NS,
      'create',
      'secret',
      'tls',
      'kuik-router-tls',
      `--cert=${join(dir, 'tls.crt')}`,
      `--key=${join(dir, 'tls.key')}`,
    )
    .catch(() => '');
}

/** cainjector's part: the CA that signed the webhook's certificate, into the webhook configuration. */
export async function injectWebhookCa(c: Cluster): Promise<void> {
  const ca = (await readFile(c.pki.caCert)).toString('base64');
  const names = JSON.parse(await c.k('get', 'mutatingwebhookconfiguration', 'kuik-router', '-o', 'json')) as {
    webhooks: { name: string }[];
  };
  const patch = names.webhooks.map((_w, i) => ({
    op: 'add',
    path: `/webhooks/${i}/clientConfig/caBundle`,
    value: ca,
  }));
  await c.k(
    'patch',
    'mutatingwebhookconfiguration',
    'kuik-router',
    '--type=json',
    '-p',
    JSON.stringify(patch),
  );
}

export async function waitInstalled(c: Cluster): Promise<void> {
  await c.k('-n', KUIK_NS, 'rollout', 'status', 'deployment/kuik-router', '--timeout=300s');
  await c.k(
    '-n',
    KUIK_NS,
    'wait',
    '--for=condition=Ready',
    'ksvc/kuik-reconcile',
    'ksvc/kuik-monitor',
    '--timeout=300s',
  );
  await c.k(
    '-n',
    KUIK_NS,
    'wait',
    '--for=condition=Ready',
    'jobsink/kuik-copy',
    'apiserversource/kuik-reconcile',
    'pingsource/kuik-monitor',
    'pingsource/kuik-reconcile-resync',
    '--timeout=300s',
  );
}

/** `kubectl apply -k` of the test overlay: the project's manifests with the image overridden. */
export async function installWithKustomize(c: Cluster, kuikConfig = '{}'): Promise<string> {
  const image = await kuikImage(c);
  await prepareInstall(c);
  const dir = join(c.runDir, 'overlay');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'kustomization.yaml'), overlay(dir, image, kuikConfig));
  await c.k('apply', '-k', dir);
  await injectWebhookCa(c);
  await waitInstalled(c);
  return image;
}

/** `helm install` of the chart, the image and the test's settings as values. */
export async function installWithHelm(c: Cluster, kuikConfig: Record<string, unknown> = {}): Promise<string> {
  const image = await kuikImage(c);
  await prepareInstall(c);
  const { helm } = manifestTools();
  const values = join(c.runDir, 'helm-values.json');
  await writeFile(
    values,
    JSON.stringify({
      image: {
        repository: image.slice(0, image.lastIndexOf(':')),
        tag: image.slice(image.lastIndexOf(':') + 1),
      },
      extraEnv: [CA_ENV, COPY_RECORD_ENV],
      config: kuikConfig,
    }),
  );
  await run(helm, [
    '--kubeconfig',
    c.kubeconfig,
    'install',
    'kuik',
    join(repoRoot, 'manifests/helm/kuik-functions'),
    '-n',
    KUIK_NS,
    '-f',
    values,
    '--wait=false',
  ]);
  await injectWebhookCa(c);
  await waitInstalled(c);
  return image;
}

export async function uninstall(c: Cluster, how: 'kustomize' | 'helm'): Promise<void> {
  if (how === 'helm') {
    const { helm } = manifestTools();
    await run(helm, ['--kubeconfig', c.kubeconfig, 'uninstall', 'kuik', '-n', KUIK_NS, '--wait']);
  } else {
    await c.k(
      'delete',
      '-k',
      join(c.runDir, 'overlay'),
      '--ignore-not-found',
      '--wait=true',
      '--timeout=180s',
    );
  }
}
