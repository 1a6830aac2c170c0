// The local stack: the harness's real parts plus the four functions as local processes, wired the
// way Knative wires them in a cluster — Knative's own ApiServerSource adapter sends CR and Pod
// events to reconcile, its own PingSource adapter sends ticks to monitor, reconcile sends copy
// requests to copy, and the router is registered as a real MutatingWebhookConfiguration.
import { join } from 'node:path';
import { harness } from './env.ts';
import { apply, kubectl, patchStatus } from './fixtures.ts';
import { type RunningFunction, startFunction } from './functions.ts';
import {
  type Adapter,
  readyPingSourceStatus,
  startApiServerSourceAdapter,
  startPingAdapter,
  WATCHED,
} from './knative.ts';
import { type Harness, startHarness } from './start.ts';
import { registerRouterWebhook } from './webhook.ts';

export interface Stack {
  harness: Harness;
  functions: Record<'router' | 'reconcile' | 'monitor' | 'copy', RunningFunction>;
  adapters: Adapter[];
  stop(): Promise<void>;
}

/** The operator configuration the local stack runs with (kuik's keys). */
export const STACK_CONFIG = `# kuik-functions local stack
routing:
  activeCheck:
    timeout: 2s
mirroring:
  platforms:
    - architecture: amd64
    - architecture: arm64
`;

export async function startStack(opts: { tickSchedule?: string } = {}): Promise<Stack> {
  const h = await startHarness();
  process.env['KUIK_HARNESS_STATE'] = h.stateFile;
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
    await h.stop();
  };
  try {
    await kubectl(['create', 'namespace', 'kuik-system']);
    const config = STACK_CONFIG;
    // Where the manifests keep it, so `kubectl kuik` decides with the configuration the router runs.
    await apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kuik-config', namespace: 'kuik-system' },
      data: { 'config.yaml': config },
    });
    const copy = await startFunction('copy', { config });
    stops.push(copy.stop);
    const reconcile = await startFunction('reconcile', {
      config,
      env: { COPY_SINK: `http://127.0.0.1:${copy.port}/` },
    });
    stops.push(reconcile.stop);
    const monitor = await startFunction('monitor', { config });
    stops.push(monitor.stop);
    const router = await startFunction('router', { config });
    stops.push(router.stop);
    stops.push(
      await registerRouterWebhook({
        name: 'kuik-functions-router',
        url: `https://127.0.0.1:${router.webhookPort}/mutate`,
      }),
    );

    const apiserverSource = await startApiServerSourceAdapter({
      name: 'kuik-reconcile-source',
      sink: `http://127.0.0.1:${reconcile.port}/`,
      resources: [
        WATCHED.imagesetmirrors,
        WATCHED.clusterimagesetmirrors,
        WATCHED.clusterreplicatedimagesets,
        WATCHED.clusterimagesetavailabilities,
        WATCHED.pods,
      ],
    });
    stops.push(apiserverSource.stop);
    const monitorUrl = `http://127.0.0.1:${monitor.port}/`;
    await apply({
      apiVersion: 'sources.knative.dev/v1',
      kind: 'PingSource',
      metadata: { name: 'kuik-monitor-tick', namespace: 'kuik-system' },
      spec: {
        schedule: opts.tickSchedule ?? '*/30 * * * * *',
        contentType: 'application/json',
        data: '{}',
        sink: { uri: monitorUrl },
      },
    });
    await patchStatus('pingsource', 'kuik-monitor-tick', readyPingSourceStatus(monitorUrl), 'kuik-system');
    const ping = await startPingAdapter('kuik-monitor-ping');
    stops.push(ping.stop);
    return {
      harness: h,
      functions: { router, reconcile, monitor, copy },
      adapters: [apiserverSource, ping],
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** What a person needs to use the stack, printed by `npm start`. */
export function stackGuide(s: Stack): string {
  const h = harness();
  const { tls, token } = h.registries;
  const f = s.functions;
  return `
kuik-functions local stack is up.

  export KUBECONFIG=${h.kubeconfig}
  alias kubectl=${h.bins.kubectl}

Registries (TLS, signed by ${h.pki.caCert}):
  upstream  ${tls.host}   user ${tls.username} / ${tls.password}  (htpasswd)
  mirror    ${token.host}   user ${token.username} / ${token.password}  (bearer tokens)

Try it:
  # 1. an image upstream
  python3 ${join(h.sharedDir, 'tools/mkimage.py')} /tmp/demo v1 1 1 amd64,arm64
  skopeo copy --all --dest-creds ${tls.username}:${tls.password} --dest-cert-dir ${tls.certDir} oci:/tmp/demo:v1 docker://${tls.host}/demo/app:v1

  # 2. mirror it: a credential for the mirror, then an ImageSetMirror
  kubectl create namespace demo
  kubectl -n demo create secret docker-registry mirror-push --docker-server=${token.host} --docker-username=${token.username} --docker-password=${token.password}
  kubectl -n demo create secret docker-registry upstream-pull --docker-server=${tls.host} --docker-username=${tls.username} --docker-password=${tls.password}
  kubectl apply -f - <<EOF
  apiVersion: kuik.enix.io/v1alpha1
  kind: ImageSetMirror
  metadata: {name: demo, namespace: demo}
  spec:
    filter: {include: [{image: '${tls.host.replace(/\./g, '\\\\.')}/.*'}]}
    mirrors: [{registry: '${token.host}', path: mirror, credentialSecret: {name: mirror-push}}]
  EOF
  kubectl -n demo run app --image=${tls.host}/demo/app:v1 --overrides='{"spec":{"imagePullSecrets":[{"name":"upstream-pull"}]}}'
  kubectl -n demo get ism demo -o yaml          # status.matchingImages: mirrored
  skopeo inspect --raw --creds ${token.username}:${token.password} --cert-dir ${token.certDir} docker://${token.host}/mirror/demo/app:v1

  # 3. why was my pod (not) rewritten?
  kubectl -n demo get pod app -o jsonpath='{.metadata.annotations}'

Functions (logs in ${h.runDir}/logs):
  router     webhook https://127.0.0.1:${f.router.webhookPort}/mutate   metrics http://127.0.0.1:${f.router.port}/metrics
  reconcile  http://127.0.0.1:${f.reconcile.port}/   metrics http://127.0.0.1:${f.reconcile.port}/metrics
  monitor    http://127.0.0.1:${f.monitor.port}/   (ticks every 30 s)   /status/images
  copy       http://127.0.0.1:${f.copy.port}/

Ctrl-C stops everything.`;
}
