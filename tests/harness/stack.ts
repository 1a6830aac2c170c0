// The local stack: the harness's real parts plus the four functions as local processes, wired the
// way Knative wires them in a cluster — Knative's own ApiServerSource adapter sends CR and Pod
// events to reconcile, its own PingSource adapter sends ticks to monitor and resync pings to
// reconcile (two PingSources, as manifests/ has them), reconcile sends copy requests to copy, and
// the router is registered as a real MutatingWebhookConfiguration.
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { HarnessState } from './env.ts';
import { apply, kubectl, patchStatus } from './fixtures.ts';
import { type RunningFunction, startFunction } from './functions.ts';
import {
  type Adapter,
  readyPingSourceStatus,
  startApiServerSourceAdapter,
  startPingAdapter,
  WATCHED,
} from './knative.ts';
import { serveControl } from './stack-control.ts';
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
monitoring:
  registries:
    default:
      # One probe per registry every 30 s, so the walk-through sees a status change soon.
      interval: 30s
      maxPerInterval: 1
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
        WATCHED.replicatedimagesets,
        WATCHED.clusterimagesetavailabilities,
        WATCHED.pods,
      ],
    });
    stops.push(apiserverSource.stop);
    // The monitor's ticks and reconcile's full resync, each on its PingSource; one mtping serves both.
    for (const [name, url] of [
      ['kuik-monitor-tick', `http://127.0.0.1:${monitor.port}/`],
      ['kuik-reconcile-resync', `http://127.0.0.1:${reconcile.port}/`],
    ] as const) {
      await apply({
        apiVersion: 'sources.knative.dev/v1',
        kind: 'PingSource',
        metadata: { name, namespace: 'kuik-system' },
        spec: {
          schedule: opts.tickSchedule ?? '*/30 * * * * *',
          contentType: 'application/json',
          data: '{}',
          sink: { uri: url },
        },
      });
      await patchStatus('pingsource', name, readyPingSourceStatus(url), 'kuik-system');
    }
    const ping = await startPingAdapter('kuik-monitor-ping');
    stops.push(ping.stop);
    // `npm run stack -- upstream down|up`, and the files the printed walk-through uses.
    const control = await serveControl(h.state.runDir, h.registries.tls);
    stops.push(async () => void control.close());
    await writeFile(stackEnvFile(h.state.runDir), stackEnv(h.state));
    await writeFile(join(h.state.runDir, 'walkthrough.sh'), `${walkthrough(h.state)}\n`);
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

/** Where the stack writes what a person sources to use it: KUBECONFIG, PATH, registry hosts. */
export function stackEnvFile(runDir: string): string {
  return join(runDir, 'stack.env');
}

/** Marks the walk-through in what `npm start` prints (and the test that runs it finds it by). */
export const WALKTHROUGH_BEGIN = '# ---- walk-through: paste into bash ----';
export const WALKTHROUGH_END = '# ---- end of walk-through ----';

const shellQuote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

/** The env file's content: everything the walk-through and a person's shell need. */
export function stackEnv(h: HarnessState): string {
  const { tls, token } = h.registries;
  const q = shellQuote;
  return [
    '# kuik-functions local stack: source this file (. FILE) to use the stack from a shell.',
    `export KUBECONFIG=${q(h.kubeconfig)}`,
    `export KUIK_STACK_DIR=${q(h.runDir)}`,
    // kubectl of the stack's version first, and the project's Node for its scripts.
    `export PATH=${q(dirname(h.bins.kubectl))}:${q(join(h.repoRoot, 'node_modules/.bin'))}:"$PATH"`,
    `export UPSTREAM=${q(tls.host)} UPSTREAM_CERTS=${q(tls.certDir)} UPSTREAM_CREDS=${q(`${tls.username}:${tls.password}`)}`,
    `export MIRROR=${q(token.host)} MIRROR_CERTS=${q(token.certDir)} MIRROR_CREDS=${q(`${token.username}:${token.password}`)}`,
    // The stack's registries are signed by its own CA, which the functions trust: so must
    // `kuik explain`, or it reports every registry unavailable ("unable to verify the first
    // certificate") where the router saw them up.
    `export NODE_EXTRA_CA_CERTS=${q(h.pki.caCert)}`,
    '',
  ].join('\n');
}

/**
 * The walk-through `npm start` prints: bash, to paste as printed (nothing indented, quoted
 * heredocs, files under the stack's own directory), waiting for state with `kubectl wait` instead
 * of racing it. It shows the three jobs: an image mirrored, a pod routed to the mirror when its
 * upstream is unavailable, and the monitor's availability status.
 * tests/integration/stack.cluster.int.test.ts runs it exactly as printed.
 */
export function walkthrough(h: HarnessState): string {
  const { tls, token } = h.registries;
  const upstreamRe = `${tls.host.replace(/\./g, '\\.')}/.*`;
  const pullSecret = `'{"spec":{"imagePullSecrets":[{"name":"upstream-pull"}]}}'`;
  const lines = [
    WALKTHROUGH_BEGIN,
    `cd ${shellQuote(h.repoRoot)}`,
    `. ${shellQuote(stackEnvFile(h.runDir))}`,
    '',
    '# 1. An image upstream: a synthetic two-platform image, pushed with skopeo.',
    'node tests/harness/oci-image.ts "$KUIK_STACK_DIR/demo" --size 1MiB --seed demo',
    'skopeo copy --all --quiet --dest-creds "$UPSTREAM_CREDS" --dest-cert-dir "$UPSTREAM_CERTS" "oci:$KUIK_STACK_DIR/demo:v1" "docker://$UPSTREAM/demo/app:v1"',
    '',
    "# 2. Mirror it: a push credential for the mirror, an ImageSetMirror for the upstream's images",
    '#    and a pod using one. Reconcile sees the pod; copy copies the image.',
    'kubectl create namespace demo',
    `kubectl -n demo create secret docker-registry mirror-push --docker-server="$MIRROR" --docker-username=${token.username} --docker-password=${token.password}`,
    `kubectl -n demo create secret docker-registry upstream-pull --docker-server="$UPSTREAM" --docker-username=${tls.username} --docker-password=${tls.password}`,
    "kubectl apply -f - <<'EOF'",
    'apiVersion: kuik.enix.io/v1alpha1',
    'kind: ImageSetMirror',
    'metadata: {name: demo, namespace: demo}',
    'spec:',
    `  filter: {include: [{image: '${upstreamRe}'}]}`,
    `  mirrors: [{registry: '${token.host}', path: mirror, credentialSecret: {name: mirror-push}}]`,
    'EOF',
    `kubectl -n demo run app --image="$UPSTREAM/demo/app:v1" --overrides=${pullSecret}`,
    "kubectl -n demo wait ism/demo --for=jsonpath='{.status.matchingImages[0].mirrors[0].mirroredAt}' --timeout=180s",
    `kubectl -n demo get ism demo -o jsonpath='{.status.matchingImages[0].mirrors[0]}{"\\n"}'`,
    'skopeo inspect --raw --creds "$MIRROR_CREDS" --cert-dir "$MIRROR_CERTS" "docker://$MIRROR/mirror/demo/app:v1"; echo',
    '',
    "# 3. Availability: the monitor probes the upstream's images that pods use (here one probe per",
    '#    registry every 30 s) and writes what it finds.',
    "kubectl apply -f - <<'EOF'",
    'apiVersion: kuik.enix.io/v1alpha1',
    'kind: ClusterImageSetAvailability',
    'metadata: {name: demo}',
    'spec:',
    `  filter: {include: [{image: '${upstreamRe}'}]}`,
    'EOF',
    "kubectl wait cisa/demo --for=jsonpath='{.status.images[0].status}'=Available --timeout=180s",
    '',
    '# 4. The upstream becomes unavailable: the next pod is routed to the mirror, and the monitor',
    '#    reports the upstream image Unreachable at its next probe.',
    'npm run --silent stack -- upstream down',
    `kubectl -n demo run app2 --image="$UPSTREAM/demo/app:v1" --overrides=${pullSecret}`,
    `kubectl -n demo wait pod/app2 --for=jsonpath='{.spec.containers[0].image}'="$MIRROR/mirror/demo/app:v1" --timeout=10s`,
    `kubectl -n demo get pod app2 -o jsonpath='{.metadata.annotations.kuik\\.enix\\.io/decisions}{"\\n"}'`,
    "# Why? kuik explain runs the router's own decision again, with the configuration the router",
    '#    runs (the kuik-config ConfigMap): every alternative, each probe, the winner.',
    'npm run --silent kuik -- explain -n demo app2',
    "kubectl wait cisa/demo --for=jsonpath='{.status.images[0].status}'=Unreachable --timeout=180s",
    `kubectl get cisa demo -o jsonpath='{.status.images[0]}{"\\n"}'`,
    '',
    '# 5. And back.',
    'npm run --silent stack -- upstream up',
    WALKTHROUGH_END,
  ];
  return lines.join('\n');
}

/** The walk-through as `npm start` printed it: the lines between the markers, markers included. */
export function extractWalkthrough(printed: string): string | undefined {
  const begin = printed.indexOf(WALKTHROUGH_BEGIN);
  const end = printed.indexOf(WALKTHROUGH_END, begin);
  if (begin < 0 || end < 0) return undefined;
  return printed.slice(begin, end + WALKTHROUGH_END.length);
}

/** What a person needs to use the stack, printed by `npm start`. */
export function stackGuide(s: Stack): string {
  const h = s.harness.state;
  const { tls, token } = h.registries;
  const f = s.functions;
  return `
kuik-functions local stack is up.

Use it from another terminal: . ${stackEnvFile(h.runDir)}
(KUBECONFIG, kubectl and the project's node on PATH, UPSTREAM and MIRROR registry hosts)

Registries (TLS, signed by ${h.pki.caCert}):
  upstream  ${tls.host}   user ${tls.username} / ${tls.password}  (htpasswd)
            unavailable and back: npm run stack -- upstream down   /   npm run stack -- upstream up
  mirror    ${token.host}   user ${token.username} / ${token.password}  (bearer tokens)

Functions (logs in ${h.runDir}/logs):
  router     webhook https://127.0.0.1:${f.router.webhookPort}/mutate   metrics http://127.0.0.1:${f.router.port}/metrics
  reconcile  http://127.0.0.1:${f.reconcile.port}/   (full resync every 30 s)   metrics http://127.0.0.1:${f.reconcile.port}/metrics
  monitor    http://127.0.0.1:${f.monitor.port}/   (ticks every 30 s)   /status/images
  copy       http://127.0.0.1:${f.copy.port}/

Try it: paste this into bash (it is also in ${join(h.runDir, 'walkthrough.sh')}).

${walkthrough(h)}

Ctrl-C stops everything.`;
}
