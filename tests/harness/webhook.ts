// Registering a function as a real MutatingWebhookConfiguration on the harness's kube-apiserver,
// the way envtest does: `url:` + `caBundle`, never a Service, so all
// traffic stays on loopback. The apiserver picks configurations up asynchronously; `waitActive`
// polls with dry-run Pods until the webhook's mutation shows.
import { readFile } from 'node:fs/promises';
import { AdmissionregistrationV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { harness, kubeConfig } from './env.ts';

export interface WebhookOptions {
  name: string;
  url: string;
  /** Only namespaces with this label reach the webhook; without it, every namespace but the excluded. */
  namespaceLabel?: { key: string; value: string };
  failurePolicy?: 'Ignore' | 'Fail';
  timeoutSeconds?: number;
  operations?: ('CREATE' | 'UPDATE')[];
}

export async function registerRouterWebhook(o: WebhookOptions): Promise<() => Promise<void>> {
  const kc = kubeConfig();
  const api = kc.makeApiClient(AdmissionregistrationV1Api);
  const caBundle = (await readFile(harness().pki.caCert)).toString('base64');
  const clientConfig = { url: o.url, caBundle };
  const namespaceSelector = {
    ...(o.namespaceLabel ? { matchLabels: { [o.namespaceLabel.key]: o.namespaceLabel.value } } : {}),
    // As in manifests/: never the system namespaces, nor the router's own.
    matchExpressions: [
      { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'kuik-system'] },
    ],
  };
  const common = {
    admissionReviewVersions: ['v1'],
    sideEffects: 'NoneOnDryRun',
    failurePolicy: o.failurePolicy ?? 'Ignore',
    timeoutSeconds: o.timeoutSeconds ?? 5,
    namespaceSelector,
  };
  await api.createMutatingWebhookConfiguration({
    body: {
      metadata: { name: o.name },
      webhooks: [
        {
          name: 'pods.router.kuik.enix.io',
          clientConfig,
          reinvocationPolicy: 'IfNeeded',
          rules: [
            {
              apiGroups: [''],
              apiVersions: ['v1'],
              operations: o.operations ?? ['CREATE', 'UPDATE'],
              resources: ['pods'],
              scope: 'Namespaced',
            },
          ],
          ...common,
        },
        {
          name: 'ephemeralcontainers.router.kuik.enix.io',
          clientConfig,
          rules: [
            {
              apiGroups: [''],
              apiVersions: ['v1'],
              operations: ['UPDATE'],
              resources: ['pods/ephemeralcontainers'],
              scope: 'Namespaced',
            },
          ],
          ...common,
        },
      ],
    },
  });
  return async () => {
    await api.deleteMutatingWebhookConfiguration({ name: o.name }).catch(() => {});
  };
}

/** Polls dry-run creates of `pod` in `namespace` until `mutated(pod)` holds. */
export async function waitActive(
  namespace: string,
  pod: V1Pod,
  mutated: (p: V1Pod) => boolean,
  timeoutMs = 30_000,
): Promise<void> {
  const core = kubeConfig().makeApiClient(CoreV1Api);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const created = await core.createNamespacedPod({ namespace, body: pod, dryRun: 'All' });
    if (mutated(created)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`webhook not active in ${namespace} after ${timeoutMs} ms`);
}

/**
 * The body of an AdmissionReview (admission.k8s.io/v1) for `object`, a Pod, as the API server
 * POSTs it to the router's /mutate. `name` and `dryRun` are sent only when given, as the API
 * server leaves out what it does not know (a generateName'd pod has no name yet).
 */
export function admissionReview(r: {
  uid: string;
  namespace: string;
  object: object;
  operation?: string;
  name?: string;
  dryRun?: boolean;
}): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: r.uid,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      operation: r.operation ?? 'CREATE',
      namespace: r.namespace,
      ...(r.name === undefined ? {} : { name: r.name }),
      ...(r.dryRun === undefined ? {} : { dryRun: r.dryRun }),
      object: r.object,
    },
  });
}
