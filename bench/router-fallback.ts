// Router while a registry is down (issue 16): the fallback steady state, side by side for the
// router of an earlier commit ("before", default main's 28bb978) and this checkout ("after" from
// the TypeScript sources, "after-bundle" as the image runs it), in one run on one harness. Every pod is rerouted to a cluster-wide mirror whose credential is
// copied into the pod's namespace; its pods belong to one ReplicaSet (generateName), so every
// reroute is the same ImageRerouted event.
//   reviews: AdmissionReviews posted to the router at 1, 8 and 64 in flight (probe verdicts cached);
//   no reroute: the same pods with an image the original registry serves (the baseline);
//   pod creates: Pods created through the kube-apiserver with the router as its webhook;
//   burst: 10,000 reviews at 64 in flight, then 10 s of nothing: router CPU and RSS meanwhile.
//   the other scenarios of issue 16's comparison with kuik: reviews with the origin up at 1 and 8
//   in flight; 22 routing CRs applying to the pod at 64 (origin up, every mirror probed); cold,
//   origin refused (every review's images are new, so no verdict is cached: probes on every
//   review, no alternative found); origin hangs (a TCP tarpit that accepts and never answers,
//   the mirror up: rerouted once the probe's timeout has passed).
// For each: reviews/s, p50 and p99, router CPU per review, kube-apiserver and etcd CPU per review
// (from /proc), log bytes per 10,000 reviews at LOG_LEVEL=info, RSS. The router is pinned to one
// core (`taskset`).
// `kuik`: kuik v2's own manager (its Go binary, `--kuik-bin=PATH`, built from its public source
// by whoever runs this; the benchmark neither builds nor fetches it), started with the same
// kubeconfig, serving certificate and probe timeout, its webhook at :9443/mutate--v1-pod (a port
// its binary fixes), pinned to the same core; everything else as for the routers. It runs its
// controllers too (they cannot be turned off by flag; with no pod they are idle), and caches a
// probe verdict for 1 s, a duration it fixes: `--cache-ttl=1s` gives the routers the same.
// A variant may be named more than once (`--variants=kuik,after-bundle,kuik,after-bundle`: runs
// alternating); the summary compares the mean of each variant's runs with kuik's. `none` registers
// no webhook and runs only the pod creates: the apiserver's own ceiling for those rows.
// The "before" router is `git archive <commit>` unpacked in a temporary directory, with this
// checkout's node_modules linked in (lib.ts `unpackCommit`); "before-bundle" is that commit's bundle. Each variant runs
// with the Node options and malloc settings its own commit's manifests/router/deployment.yaml
// gives the router (NODE_OPTIONS, MALLOC_ARENA_MAX): as the image runs it in a cluster.
// Run: node bench/router-fallback.ts [--before=28bb978] [--reviews=3000] [--creates=300] [--burst=10000]
//   [--seconds=10] [--burst-seconds=120] [--variants=before,before-bundle,after,after-bundle,kuik,none]
//   [--cache-ttl=60s] [--kuik-bin=PATH] [--heap-snapshots=DIR] [--cpu-prof=DIR]
//   [--only=rerouted,no-reroute,crs,cold,hangs,creates]
// Each row stops at its count or its time, whichever comes first. --heap-snapshots writes a V8 heap
// snapshot of each router idle (a router started for it alone: writing a snapshot leaves ≈ 100 MiB
// of malloc'd pages behind, which would spoil the RSS columns) and one at the end of its run, and
// prints what each holds by constructor.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { Agent, request } from 'undici';
import { parse } from 'yaml';
import { harness, kubeConfig } from '../tests/harness/env.ts';
import {
  apply,
  kubectl,
  namespace,
  ownerReplicaSet,
  registrySecret,
  seed,
} from '../tests/harness/fixtures.ts';
import { functionEnv } from '../tests/harness/functions.ts';
import { freePort, type Proc, startProc, stopProc, waitFor } from '../tests/harness/proc.ts';
import { startHarness } from '../tests/harness/start.ts';
import { admissionReview, registerRouterWebhook } from '../tests/harness/webhook.ts';
import {
  benchArgs,
  heapSummary,
  load,
  memoryOf,
  replicaSetPod,
  routingCRs,
  type ScenarioResult,
  type Summary,
  summarize,
  table,
  tarpit,
  unpackCommit,
  versusBaseline,
} from './lib.ts';

const args = benchArgs();
const BEFORE = args.get('before') ?? '28bb978';
const REVIEWS = Number(args.get('reviews') ?? 3000);
const CREATES = Number(args.get('creates') ?? 300);
const BURST = Number(args.get('burst') ?? 10_000);
/** Each row stops after this long even if its count is not reached (a slow router on a busy machine). */
const SECONDS = Number(args.get('seconds') ?? 10);
const BURST_SECONDS = Number(args.get('burst-seconds') ?? 120);
const variants = (args.get('variants') ?? 'before,after,after-bundle').split(',');
const SNAPSHOTS = args.get('heap-snapshots');
/** The routers' probe-verdict cache TTL (kuik's is 1 s, fixed). */
const CACHE_TTL = args.get('cache-ttl') ?? '60s';
const KUIK_BIN = args.get('kuik-bin');
const CPU_PROF = args.get('cpu-prof');
/** --only: the rows to measure (the burst and the memory table always run), e.g. to profile one. */
const SCENARIOS = ['rerouted', 'no-reroute', 'crs', 'cold', 'hangs', 'creates'];
const only = new Set(args.get('only')?.split(',') ?? SCENARIOS);
for (const o of only)
  if (!SCENARIOS.includes(o)) throw new Error(`--only: ${o} is not one of ${SCENARIOS.join(', ')}`);
/** kuik's manager serves its webhook on this port; its binary has no flag for it. */
const KUIK_WEBHOOK_PORT = 9443;
if (variants.includes('kuik') && !KUIK_BIN) {
  throw new Error("the kuik variant needs --kuik-bin=PATH (kuik v2's manager, built from its source)");
}

if (variants.includes('kuik')) {
  // Fail now rather than after the harness and the other variants have run.
  await new Promise<void>((res, rej) => {
    const srv = createServer();
    srv.on('error', () => rej(new Error(`port ${KUIK_WEBHOOK_PORT} (kuik's webhook) is taken`)));
    srv.listen(KUIK_WEBHOOK_PORT, () => srv.close(() => res()));
  });
}

const h0 = await startHarness();
process.env['KUIK_HARNESS_STATE'] = h0.stateFile;
const h = harness();
const reg = h.registries.tls;
const cpus = Number(execFileSync('nproc').toString().trim());
const TICK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

/** CPU seconds (user + system) a process used so far. */
function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
}
function pidOf(name: string): number {
  for (const line of readFileSync(join(h.runDir, 'pids'), 'utf8').split('\n')) {
    const [pid, n] = line.split(' ');
    if (n === name) return Number(pid);
  }
  throw new Error(`no ${name} in the harness`);
}
const apiserverPid = pidOf('kube-apiserver');
const etcdPid = pidOf('etcd');
const load1 = () => loadavg()[0]!.toFixed(1);

let beforeDir: string | undefined;
let closeTarpit: (() => Promise<void>) | undefined;
try {
  if (variants.some((v) => v.startsWith('before'))) {
    beforeDir = unpackCommit(h.repoRoot, BEFORE, 'kuik-router-before-');
  }
  const down = `127.0.0.1:${await freePort()}`; // the "registry down": nothing listens there
  const hangs = await tarpit(); // the "registry hangs": accepts, never answers
  closeTarpit = hangs.close;
  const esc = (s: string) => s.replace(/\./g, '\\.');
  const names = ['api', 'worker', 'sidecar'];
  for (const n of names) {
    await seed(reg, `bench/${n}`, '1'); // the baseline's images: the original is up
    await seed(reg, `mirror/bench/${n}`, '1');
  }
  await kubectl(['create', 'namespace', 'kuik-system']).catch(() => '');
  const auth = Buffer.from(`${reg.username}:${reg.password}`).toString('base64');
  await apply(
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'mirror-cred', namespace: 'kuik-system' },
      type: 'kubernetes.io/dockerconfigjson',
      data: {
        '.dockerconfigjson': Buffer.from(JSON.stringify({ auths: { [reg.host]: { auth } } })).toString(
          'base64',
        ),
      },
    },
    {
      apiVersion: 'kuik.enix.io/v1alpha1',
      kind: 'ClusterImageSetMirror',
      metadata: { name: 'bench-fallback' },
      spec: {
        filter: {
          include: [
            { image: `${esc(down)}/.*` },
            { image: `${esc(hangs.host)}/.*` },
            { image: `${esc(reg.host)}/bench/.*` },
          ],
        },
        mirrors: [
          {
            registry: reg.host,
            path: 'mirror',
            credentialSecret: { name: 'mirror-cred', namespace: 'kuik-system' },
          },
        ],
      },
    },
  );
  const ns = await namespace('fallback');
  await kubectl(['label', 'namespace', ns, 'kuik-bench=on']);
  await registrySecret(ns, 'pull', reg);
  const rs = await ownerReplicaSet(ns);

  const podObject = (host: string) =>
    replicaSetPod(ns, rs, {
      containers: names.map((name) => ({
        name,
        image: `${host}/bench/${name}:1`,
        imagePullPolicy: 'IfNotPresent',
        env: [{ name: 'MODE', value: 'production' }],
        resources: { requests: { cpu: '100m', memory: '128Mi' } },
      })),
      imagePullSecrets: [{ name: 'pull' }],
      restartPolicy: 'Always',
    });
  const reviewBody = (i: number, host: string) =>
    admissionReview({ uid: `bench-${i}`, namespace: ns, dryRun: false, object: podObject(host) });
  const ca = readFileSync(h.pki.caCert);
  const core = kubeConfig().makeApiClient(CoreV1Api);

  /** The variant's bundle, made by its own commit's scripts/bundle.ts. */
  const bundled = (variant: string, root: string) => {
    const outdir = join(h.runDir, `bundle-${variant}`);
    if (!existsSync(outdir)) execFileSync(process.execPath, [join(root, 'scripts/bundle.ts'), outdir]);
    return join(outdir, 'main.mjs');
  };
  /** NODE_OPTIONS and MALLOC_ARENA_MAX as the commit's manifests give them to the router. */
  const runtimeEnv = (root: string): Record<string, string> => {
    const file = join(root, 'manifests/router/deployment.yaml');
    const env: { name: string; value?: string }[] =
      parse(readFileSync(file, 'utf8')).spec.template.spec.containers[0].env ?? [];
    return Object.fromEntries(
      env
        .filter((e) => ['NODE_OPTIONS', 'MALLOC_ARENA_MAX'].includes(e.name) && e.value !== undefined)
        .map((e) => [e.name, e.value!]),
    );
  };
  interface Router {
    proc: Proc;
    pid: number;
    /** Its HTTP port (/readyz, and for the routers /metrics). */
    port: number;
    webhookPort: number;
    /** The webhook's path. */
    path: string;
    kuik: boolean;
  }
  const core1 = cpus > 1 ? String(cpus - 1) : '0';
  /** kuik v2's manager: the same kubeconfig, serving certificate, probe timeout and core. */
  const startKuik = async (variant: string): Promise<Router> => {
    const port = await freePort();
    const config = join(h.runDir, 'kuik-config.yaml');
    writeFileSync(config, 'routing:\n  activeCheck:\n    timeout: 2s\n');
    const proc = startProc(
      h.runDir,
      `fallback-router-${variant}`,
      'taskset',
      [
        '-c',
        core1,
        KUIK_BIN!,
        `--config=${config}`,
        `--webhook-cert-path=${dirname(h.pki.webhookCert)}`,
        `--webhook-cert-name=${basename(h.pki.webhookCert)}`,
        `--webhook-cert-key=${basename(h.pki.webhookKey)}`,
        `--health-probe-bind-address=127.0.0.1:${port}`,
        '--metrics-bind-address=0',
      ],
      // Go reads the registries' CA from SSL_CERT_FILE (Node from NODE_EXTRA_CA_CERTS).
      { KUBECONFIG: h.kubeconfig, SSL_CERT_FILE: h.pki.caCert },
    );
    await waitFor('kuik', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, {
      proc,
      intervalMs: 20,
    });
    return {
      proc,
      pid: proc.child.pid!,
      port,
      webhookPort: KUIK_WEBHOOK_PORT,
      path: '/mutate--v1-pod',
      kuik: true,
    };
  };
  /** --cpu-prof: V8's CPU profile of each router's whole run, written when it stops. */
  const profFlags = (variant: string) =>
    CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${join(CPU_PROF, variant)}`, '--cpu-prof-interval=500'] : [];
  const start = async (variant: string, snapshotDir?: string): Promise<Router> => {
    if (variant === 'kuik') return await startKuik(variant);
    const root = variant.startsWith('before') ? beforeDir! : h.repoRoot;
    // `*-bundle`: as the image runs it (esbuild bundle + V8 compile cache).
    const isBundle = variant.endsWith('-bundle');
    const entry = isBundle ? bundled(variant, root) : join(root, 'functions/main.ts');
    // Only the signal handler: a snapshot is written when the benchmark asks for one.
    const snapFlags = snapshotDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshotDir}`] : [];
    const port = await freePort();
    const webhookPort = await freePort();
    const config = join(h.runDir, `fallback-${variant}.yaml`);
    writeFileSync(config, `routing:\n  activeCheck:\n    timeout: 2s\n    cacheTTL: ${CACHE_TTL}\n`);
    const proc = startProc(
      h.runDir,
      `fallback-router-${variant}`,
      'taskset',
      ['-c', core1, process.execPath, ...snapFlags, ...profFlags(variant), entry],
      {
        ...functionEnv('router', { config, port, webhookPort, logLevel: 'info' }),
        ...runtimeEnv(root),
        ...(isBundle ? { NODE_COMPILE_CACHE: join(h.runDir, `compile-cache-${variant}`) } : {}),
      },
    );
    await waitFor('router', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, {
      proc,
      intervalMs: 20,
    });
    // taskset execs node: the pid is the router's.
    return { proc, pid: proc.child.pid!, port, webhookPort, path: '/mutate', kuik: false };
  };

  /** V8 heap used and total (MiB), from the router's own metrics. */
  const heapOf = async (r: Router) => {
    if (r.kuik) return 'n/a';
    const text = await (await fetch(`http://127.0.0.1:${r.port}/metrics`)).text();
    const v = (name: string) =>
      Number(new RegExp(`^kube_image_keeper_${name}\\{[^}]*\\} (\\S+)`, 'm').exec(text)?.[1]) / 2 ** 20;
    return `${v('nodejs_heap_size_used_bytes').toFixed(0)}/${v('nodejs_heap_size_total_bytes').toFixed(0)}`;
  };
  /** Asks the router for a heap snapshot (SIGUSR2), waits for the file, prints its summary. */
  const snapshot = async (r: Router, dir: string, name: string) => {
    const known = new Set(readdirSync(dir));
    process.kill(r.pid, 'SIGUSR2');
    let file: string | undefined;
    await waitFor(
      `heap snapshot ${name}`,
      async () => {
        file = readdirSync(dir).find((f) => !known.has(f) && f.endsWith('.heapsnapshot'));
        // Written in one go, then left alone: the size stops changing.
        if (!file) return false;
        const size = statSync(join(dir, file)).size;
        await new Promise((res) => setTimeout(res, 1000));
        return size > 0 && statSync(join(dir, file)).size === size;
      },
      { timeoutMs: 300_000, intervalMs: 500 },
    );
    const to = join(dir, `${name}.heapsnapshot`);
    renameSync(join(dir, file!), to);
    const sum = heapSummary(JSON.parse(readFileSync(to, 'utf8')));
    console.log(`\nHeap snapshot ${to}: ${sum.total.toFixed(1)} MiB of objects (self sizes)\n`);
    console.log(table(['type and constructor', 'MiB', 'count'], sum.rows));
  };
  /** `host`: the pods' registry, or one per review (the cold scenario: images never seen before). */
  const reviews = async (
    r: Router,
    count: number,
    concurrency: number,
    host: string | ((i: number) => string),
    seconds = SECONDS,
  ) => {
    const agent = new Agent({ connect: { ca }, connections: concurrency, pipelining: 1 });
    const url = `https://127.0.0.1:${r.webhookPort}${r.path}`;
    const res = await timedLoad(count, seconds, concurrency, async (i) => {
      const x = await request(url, {
        method: 'POST',
        body: reviewBody(i, typeof host === 'string' ? host : host(i)),
        headers: { 'content-type': 'application/json' },
        dispatcher: agent,
      });
      const body = (await x.body.json()) as { response?: { allowed?: boolean; patch?: string } };
      if (x.statusCode !== 200 || body.response?.allowed !== true) throw new Error(String(x.statusCode));
    });
    await agent.close();
    return { ...summarize(res.latencies, res.wallMs), errors: res.errors };
  };
  /** Pod creates; each must come back rerouted unless no webhook is registered (`none`). */
  const creates = async (count: number, concurrency: number, rerouted = true) => {
    const res = await timedLoad(count, SECONDS, concurrency, async () => {
      const p = await core.createNamespacedPod({ namespace: ns, body: podObject(down) as never });
      if (rerouted && !p.spec?.containers[0]?.image?.includes('/mirror/')) throw new Error('not rerouted');
    });
    return { ...summarize(res.latencies, res.wallMs), errors: res.errors };
  };
  /** lib.ts `load`, with no new task started once `seconds` have passed. */
  const timedLoad = (
    count: number,
    seconds: number,
    concurrency: number,
    task: (i: number) => Promise<void>,
  ) => load(count, concurrency, task, seconds);
  /**
   * Runs `work`, measuring CPU of the router, the apiserver and etcd, and the router's log bytes;
   * with no router (the `none` variant) its CPU and log bytes are 0.
   */
  const measured = async <T extends { count: number }>(r: Router | undefined, work: () => Promise<T>) => {
    const routerCpu = () => (r ? cpuOf(r.pid) : 0);
    const logSize = () => (r ? statSync(r.proc.logFile).size : 0);
    const c0 = [routerCpu(), cpuOf(apiserverPid), cpuOf(etcdPid)];
    const l0 = logSize();
    const la = load1();
    const t0 = performance.now();
    const s = await work();
    const wallS = (performance.now() - t0) / 1000;
    const c1 = [routerCpu(), cpuOf(apiserverPid), cpuOf(etcdPid)];
    const perReview = (i: number) => ((c1[i]! - c0[i]!) * 1000) / s.count;
    const logBytes = logSize() - l0;
    return {
      s,
      routerMs: perReview(0),
      apiserverMs: perReview(1),
      // What the apiserver spends anyway (leases, watches, this harness), taken out: at a low review
      // rate it would otherwise look like a cost per review.
      apiserverAboveIdleMs: ((c1[1]! - c0[1]! - apiserverIdlePerS * wallS) * 1000) / s.count,
      etcdMs: perReview(2),
      logKiBPer10k: (logBytes / 1024 / s.count) * 10_000,
      load: la,
    };
  };

  const a0 = cpuOf(apiserverPid);
  await new Promise((res) => setTimeout(res, 5000));
  const apiserverIdlePerS = (cpuOf(apiserverPid) - a0) / 5;
  const rows: (string | number)[][] = [];
  const results: ScenarioResult[] = [];
  /** One line of the main table, printed as it is measured. */
  const row = (
    variant: string,
    scenario: string,
    inFlight: number,
    m: Awaited<ReturnType<typeof measured<Summary & { errors: number }>>>,
    r: Router | undefined,
  ) => {
    rows.push([
      variant,
      scenario,
      inFlight,
      m.s.count,
      m.s.perSecond,
      m.s.p50,
      m.s.p99,
      m.routerMs,
      m.apiserverMs,
      m.apiserverAboveIdleMs,
      m.etcdMs,
      m.logKiBPer10k,
      r ? memoryOf(r.pid).rssMiB : 0,
      m.s.errors,
      m.load,
    ]);
    console.log(rows.at(-1)!.join('\t'));
    results.push({
      variant,
      scenario,
      inFlight,
      perSecond: m.s.perSecond,
      p99: m.s.p99,
      cpuMsPerReview: m.routerMs,
    });
  };
  const memRows: (string | number)[][] = [];
  const burstRows: (string | number)[][] = [];
  let coldImages = 0;
  /** Pods created through the kube-apiserver with `r` registered as its mutating webhook. */
  const podCreates = async (r: Router, variant: string, run: number) => {
    const unregister = await registerRouterWebhook({
      name: `bench-fallback-${variant}-${run}`,
      url: `https://127.0.0.1:${r.webhookPort}${r.path}`,
      namespaceLabel: { key: 'kuik-bench', value: 'on' },
      operations: ['CREATE'],
    });
    // The apiserver picks the configuration up asynchronously.
    for (let i = 0; i < 100; i++) {
      const p = await core.createNamespacedPod({
        namespace: ns,
        body: podObject(down) as never,
        dryRun: 'All',
      });
      if (p.spec?.containers[0]?.image?.includes('/mirror/')) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    for (const c of [1, 8, 64]) {
      const m = await measured(r, () => creates(CREATES, c));
      row(variant, 'pod creates via apiserver', c, m, r);
    }
    await unregister();
    await kubectl(['delete', 'pods', '-n', ns, '--all', '--wait=false']);
  };
  /**
   * The `none` variant: the same pod creates with no webhook registered, so the apiserver and etcd
   * alone. No webhook can create pods faster than this; it is the ceiling a pod-create goal is
   * measured against.
   */
  const noWebhookCreates = async () => {
    for (const c of [1, 8, 64]) {
      const m = await measured(undefined, () => creates(CREATES, c, false));
      row('none', 'pod creates via apiserver', c, m, undefined);
    }
    await kubectl(['delete', 'pods', '-n', ns, '--all', '--wait=false']);
  };
  for (const [run, variant] of variants.entries()) {
    if (variant === 'none') {
      await noWebhookCreates();
      continue;
    }
    // Each variant on a namespace with no secret copy left by another (kuik labels its copies
    // with their owner's UID).
    await kubectl(['delete', 'secret', '-n', ns, '-l', 'app.kubernetes.io/managed-by=kuik-functions']);
    await kubectl(['delete', 'secret', '-n', ns, '-l', 'kuik.enix.io/owner-uid']);
    const snapDir = SNAPSHOTS && variant !== 'kuik' ? join(SNAPSHOTS, `${variant}-${run}`) : undefined;
    if (snapDir) {
      // The idle snapshot from a router of its own, stopped after it (see the header).
      mkdirSync(snapDir, { recursive: true });
      const r0 = await start(variant, snapDir);
      await new Promise((res) => setTimeout(res, 3000));
      await snapshot(r0, snapDir, 'idle');
      await stopProc(r0.proc);
    }
    const r = await start(variant, snapDir);
    // kuik's /readyz answers before its webhook listens (the routers' only once both listeners are up).
    if (r.kuik) {
      await waitFor('kuik webhook', async () => (await reviews(r, 1, 1, reg.host, 10)).count === 1, {
        proc: r.proc,
        intervalMs: 100,
      });
    }
    const idleCpu0 = cpuOf(r.pid);
    await new Promise((res) => setTimeout(res, 3000));
    const idleCpuPerS = (cpuOf(r.pid) - idleCpu0) / 3;
    const idle = memoryOf(r.pid).rssMiB;
    const idleHeap = await heapOf(r);
    await reviews(r, 300, 8, down, 5); // warm: probe verdicts cached, JIT warm, the copy made
    await reviews(r, 100, 8, reg.host, 3);
    const warm = memoryOf(r.pid).rssMiB;
    for (const c of only.has('rerouted') ? [1, 8, 64] : []) {
      const m = await measured(r, () => reviews(r, REVIEWS, c, down));
      row(variant, 'reviews, rerouted', c, m, r);
    }
    for (const c of only.has('no-reroute') ? [1, 8] : []) {
      const m = await measured(r, () => reviews(r, REVIEWS, c, reg.host));
      row(variant, 'reviews, no reroute', c, m, r);
    }
    if (only.has('crs')) {
      // 22 routing CRs apply to the pod: the fallback CISM and 21 more whose mirrors lack the
      // images (every alternative probed, the original kept). Only for this row.
      const crs = routingCRs({
        host: reg.host,
        namespace: ns,
        prefix: 'crs22-',
        cism: 8,
        ism: 7,
        cris: 3,
        ris: 3,
      });
      await apply(...crs);
      await reviews(r, 300, 8, reg.host, 5); // the watch caches have the CRs; verdicts cached
      const m = await measured(r, () => reviews(r, REVIEWS, 64, reg.host));
      row(variant, 'reviews, 22 CRs, origin up', 64, m, r);
      const names = crs.map((c) => {
        const o = c as { kind: string; metadata: { name: string } };
        return `${o.kind.toLowerCase()}/${o.metadata.name}`;
      });
      await kubectl(['delete', '-n', ns, ...names]);
    }
    if (only.has('cold')) {
      // Images no review has used before, so no verdict is cached: the original refused, the
      // mirror probed (it lacks them), the original kept.
      const m = await measured(r, () => reviews(r, REVIEWS, 8, () => `${down}/cold/${coldImages++}`));
      row(variant, 'reviews, cold, origin refused', 8, m, r);
    }
    if (only.has('hangs')) {
      await reviews(r, 8, 8, hangs.host, 5); // the first probes wait for their timeout
      const m = await measured(r, () => reviews(r, REVIEWS, 8, hangs.host));
      row(variant, 'reviews, origin hangs', 8, m, r);
    }
    if (only.has('creates')) await podCreates(r, variant, run);
    const afterLoad = memoryOf(r.pid).rssMiB;
    // Long enough for what a router does once a load has stopped (after's idle collection runs
    // 5–6 s after the last admission).
    await new Promise((res) => setTimeout(res, 15_000));
    const settled = memoryOf(r.pid).rssMiB;
    const settledHeap = await heapOf(r);

    // Burst: RSS sampled throughout; then the CPU the router spends once the load has stopped.
    let maxRss = 0;
    const sampler = setInterval(() => {
      maxRss = Math.max(maxRss, memoryOf(r.pid).rssMiB);
    }, 250);
    const burst = await measured(r, () => reviews(r, BURST, 64, down, BURST_SECONDS));
    const tail: number[] = [];
    let prev = cpuOf(r.pid);
    for (let i = 0; i < 10; i++) {
      await new Promise((res) => setTimeout(res, 1000));
      const now = cpuOf(r.pid);
      tail.push(now - prev);
      prev = now;
    }
    clearInterval(sampler);
    const tailCpu = tail.reduce((a, b) => a + b, 0);
    // "Back to idle": the first second from which the router used no more than 2 % of a core
    // above what it used idle before the load.
    const idleFrom = tail.findIndex((_, i) => tail.slice(i).every((t) => t <= idleCpuPerS + 0.02));
    burstRows.push([
      variant,
      burst.s.count,
      burst.s.perSecond,
      burst.routerMs,
      burst.apiserverMs,
      burst.logKiBPer10k,
      tailCpu,
      tail.map((t) => Math.round(t * 1000)).join(' '),
      Math.round(idleCpuPerS * 1000),
      idleFrom === -1 ? '> 10 s' : `${idleFrom} s`,
      maxRss,
      memoryOf(r.pid).rssMiB,
      burst.load,
    ]);
    console.log(burstRows.at(-1)!.join('\t'));
    memRows.push([
      variant,
      idle,
      idleHeap,
      warm,
      afterLoad,
      settled,
      `${(((settled - warm) / warm) * 100).toFixed(0)} %`,
      settledHeap,
      memoryOf(r.pid).peakMiB,
    ]);
    if (snapDir) await snapshot(r, snapDir, 'after-load');
    await stopProc(r.proc);
  }

  console.log(
    `\nRouter, registry down (fallback), ${cpus} cores; router pinned to 1 core; 3 containers/pod, one CISM with a credential; LOG_LEVEL=info; probe verdicts cached ${CACHE_TTL} (kuik: 1 s). before = ${BEFORE}, after = this checkout. kube-apiserver idle: ${(apiserverIdlePerS * 1000).toFixed(0)} ms CPU/s.`,
  );
  console.log(
    `Command: node bench/router-fallback.ts --before=${BEFORE} --reviews=${REVIEWS} --creates=${CREATES} --burst=${BURST} --seconds=${SECONDS} --burst-seconds=${BURST_SECONDS} --cache-ttl=${CACHE_TTL} --variants=${variants.join(',')}${KUIK_BIN ? ' --kuik-bin=PATH' : ''}${SNAPSHOTS ? ` --heap-snapshots=${SNAPSHOTS}` : ''}${CPU_PROF ? ` --cpu-prof=${CPU_PROF}` : ''}\n`,
  );
  console.log(
    table(
      [
        'router',
        'scenario',
        'in flight',
        'n',
        'per s',
        'p50 ms',
        'p99 ms',
        'router CPU ms/review',
        'apiserver CPU ms/review',
        'apiserver above its idle, ms/review',
        'etcd CPU ms/review',
        'log KiB/10k reviews',
        'RSS MiB',
        'errors',
        'load avg',
      ],
      rows,
    ),
  );
  if (variants.includes('kuik')) {
    console.log(
      "\nAgainst kuik (issue 16: throughput ≥ 1.5× kuik's and p99 at most kuik's), means over each variant's runs:\n",
    );
    console.log(
      table(
        [
          'router',
          'scenario',
          'in flight',
          'per s, router / kuik',
          'p99 ms, router / kuik',
          'throughput ratio',
          'p99 ratio',
          'router CPU ms/review, router / kuik',
          'goal met?',
        ],
        versusBaseline(results, 'kuik'),
      ),
    );
  }
  console.log('\nBurst, then 10 s of nothing:\n');
  console.log(
    table(
      [
        'router',
        'reviews',
        'per s',
        'router CPU ms/review',
        'apiserver CPU ms/review',
        'log KiB/10k',
        'router CPU s in next 10 s',
        'router CPU ms in each of those s',
        'idle CPU ms/s before load',
        'back to idle after',
        'max RSS MiB (sampled)',
        'RSS MiB after',
        'load avg',
      ],
      burstRows,
    ),
  );
  console.log('\nMemory (RSS MiB):\n');
  console.log(
    table(
      [
        'router',
        'idle (3 s after ready)',
        'idle heap used/total MiB',
        'after warm-up',
        'after load',
        '15 s later',
        'then vs after warm-up',
        'heap used/total MiB then',
        'peak (VmHWM, whole run)',
      ],
      memRows,
    ),
  );
} finally {
  if (beforeDir) rmSync(beforeDir, { recursive: true, force: true });
  await closeTarpit?.();
  await h0.stop();
}
