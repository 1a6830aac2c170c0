// Router benchmark: AdmissionReviews over HTTPS to the router process, pinned to one core
// (`taskset -c 1`), from a load generator on the other core. Realistic pods (3 containers), 20
// routing CRs in the watch cache, real registries behind the probes.
//   warm: probe verdicts cached (cacheTTL 60s) — the steady state of a busy cluster;
//   cold: cacheTTL 0 — every review probes every alternative of every container.
// Also: process start → /readyz, and the router's memory.
// Run: node bench/router.ts   (starts and stops the harness itself)
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { harness } from '../tests/harness/env.ts';
import { apply, namespace, registrySecret, seed } from '../tests/harness/fixtures.ts';
import { functionEnv } from '../tests/harness/functions.ts';
import { freePort, startProc, stopProc, waitFor } from '../tests/harness/proc.ts';
import { startHarness } from '../tests/harness/start.ts';
import { admissionReview } from '../tests/harness/webhook.ts';
import { load, memoryOf, openLoop, replicaSetPod, routingCRs, summarize, table } from './lib.ts';

const h0 = await startHarness();
process.env['KUIK_HARNESS_STATE'] = h0.stateFile;
const h = harness();
const reg = h.registries.tls;
const cpus = Number(execFileSync('nproc').toString().trim());

try {
  const ns = await namespace('bench');
  for (const name of ['api', 'worker', 'sidecar']) await seed(reg, `bench/${name}`, '1');
  // 20 routing CRs that all apply to the pod: 8 CISMs, 6 ISMs, 3 CRISs, 3 RISs.
  const crs = routingCRs({
    host: reg.host,
    namespace: ns,
    prefix: 'bench-',
    cism: 8,
    ism: 6,
    cris: 3,
    ris: 3,
  });
  await apply(...crs);
  await registrySecret(ns, 'pull', reg);

  const container = (name: string) => ({
    name,
    image: `${reg.host}/bench/${name}:1`,
    imagePullPolicy: 'IfNotPresent',
    ports: [{ containerPort: 8080, protocol: 'TCP' }],
    env: [
      { name: 'MODE', value: 'production' },
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    ],
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
    volumeMounts: [{ name: 'data', mountPath: '/data' }],
  });
  // The owner is only named: the router reads the reference, not the ReplicaSet.
  const owner = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    name: 'shop-7d9f8',
    uid: 'rs-uid',
    controller: true,
  };
  const podObject = replicaSetPod(ns, owner, {
    containers: ['api', 'worker', 'sidecar'].map(container),
    imagePullSecrets: [{ name: 'pull' }],
    volumes: [{ name: 'data', emptyDir: {} }],
    serviceAccountName: 'default',
    restartPolicy: 'Always',
  });
  const review = (i: number) =>
    admissionReview({ uid: `bench-${i}`, namespace: ns, dryRun: false, object: podObject });

  const ca = readFileSync(h.pki.caCert);
  const startRouter = async (
    cacheTTL: string,
    entry = join(h.repoRoot, 'functions/main.ts'),
    extraEnv: Record<string, string> = {},
  ) => {
    const port = await freePort();
    const webhookPort = await freePort();
    const config = join(h.runDir, `bench-router-${cacheTTL}.yaml`);
    writeFileSync(config, `routing:\n  activeCheck:\n    timeout: 2s\n    cacheTTL: ${cacheTTL}\n`);
    const t0 = performance.now();
    const core = cpus > 1 ? String(cpus - 1) : '0';
    const proc = startProc(
      h.runDir,
      `bench-router-${cacheTTL}`,
      'taskset',
      ['-c', core, process.execPath, entry],
      {
        ...functionEnv('router', { config, port, webhookPort, logLevel: 'warn' }),
        ...extraEnv,
      },
    );
    await waitFor('router', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, {
      proc,
      intervalMs: 5,
    });
    return { proc, port, webhookPort, readyMs: performance.now() - t0 };
  };

  const run = async (webhookPort: number, count: number, concurrency: number) => {
    const agent = new Agent({ connect: { ca }, connections: concurrency, pipelining: 1 });
    const url = `https://127.0.0.1:${webhookPort}/mutate`;
    const r = await load(count, concurrency, async (i) => {
      const res = await request(url, {
        method: 'POST',
        body: review(i),
        headers: { 'content-type': 'application/json' },
        dispatcher: agent,
      });
      const body = (await res.body.json()) as { response?: { allowed?: boolean } };
      if (res.statusCode !== 200 || body.response?.allowed !== true) throw new Error(String(res.statusCode));
    });
    await agent.close();
    return { ...summarize(r.latencies, r.wallMs), errors: r.errors };
  };

  const rows: (string | number)[][] = [];
  const warm = await startRouter('60s');
  await run(warm.webhookPort, 300, 8); // fill the probe cache and warm the JIT
  for (const [count, c] of [
    [2000, 1],
    [10000, 64],
    [10000, 256],
  ] as const) {
    const s = await run(warm.webhookPort, count, c);
    const mem = memoryOf(warm.proc.child.pid!);
    rows.push(['warm', c, s.count, s.perSecond, s.p50, s.p99, s.errors, mem.rssMiB, mem.peakMiB]);
    console.log(rows.at(-1)!.join('\t'));
  }
  // Open loop: admissions arrive at a fixed rate, as an API server sends them.
  const openRows: (string | number)[][] = [];
  for (const rate of [500, 1000, 1500]) {
    const agent = new Agent({ connect: { ca }, connections: 64, pipelining: 1 });
    const url = `https://127.0.0.1:${warm.webhookPort}/mutate`;
    const r = await openLoop(rate, 10, 64, async (i) => {
      const res = await request(url, {
        method: 'POST',
        body: review(i),
        headers: { 'content-type': 'application/json' },
        dispatcher: agent,
      });
      await res.body.json();
      if (res.statusCode !== 200) throw new Error(String(res.statusCode));
    });
    await agent.close();
    const s = summarize(r.latencies, r.wallMs);
    openRows.push([rate, s.count, s.perSecond, s.p50, s.p99, r.errors, r.dropped]);
    console.log(openRows.at(-1)!.join('\t'));
  }
  await stopProc(warm.proc);
  const cold = await startRouter('0s');
  await run(cold.webhookPort, 50, 4);
  for (const [count, c] of [
    [100, 1],
    [400, 64],
  ] as const) {
    const s = await run(cold.webhookPort, count, c);
    const mem = memoryOf(cold.proc.child.pid!);
    rows.push([
      'cold (every probe misses)',
      c,
      s.count,
      s.perSecond,
      s.p50,
      s.p99,
      s.errors,
      mem.rssMiB,
      mem.peakMiB,
    ]);
  }
  await stopProc(cold.proc);

  const starts: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await startRouter('1s');
    starts.push(r.readyMs);
    await stopProc(r.proc);
  }
  starts.sort((a, b) => a - b);
  // The image runs the esbuild bundle with a compile cache filled at build time (Containerfile).
  const { bundle } = await import('../scripts/bundle.ts');
  const outdir = join(h.runDir, 'bundle');
  await bundle(outdir);
  const cacheDir = join(h.runDir, 'compile-cache');
  const bundled: number[] = [];
  for (let i = 0; i < 6; i++) {
    const r = await startRouter('1s', join(outdir, 'main.mjs'), { NODE_COMPILE_CACHE: cacheDir });
    if (i > 0) bundled.push(r.readyMs); // the first run fills the compile cache, as the image build does
    await stopProc(r.proc);
  }
  bundled.sort((a, b) => a - b);

  console.log(
    `\nRouter admission benchmark — ${cpus} cores; router pinned to 1 core, load on the other; 3 containers/pod, 20 routing CRs.`,
  );
  console.log('Command: node bench/router.ts\n');
  console.log(
    table(
      ['path', 'in flight', 'reviews', 'reviews/s', 'p50 ms', 'p99 ms', 'errors', 'RSS MiB', 'peak RSS MiB'],
      rows,
    ),
  );
  console.log('\nOpen loop (fixed arrival rate, at most 64 in flight, warm cache):\n');
  console.log(
    table(
      ['offered/s', 'reviews', 'served/s', 'p50 ms', 'p99 ms', 'errors', 'dropped (64 in flight)'],
      openRows,
    ),
  );
  console.log(
    `\nProcess start → /readyz (5 runs): min ${starts[0]!.toFixed(0)} ms, median ${starts[2]!.toFixed(0)} ms, max ${starts[4]!.toFixed(0)} ms`,
  );
  console.log(
    `Process start → /readyz, esbuild bundle + warm NODE_COMPILE_CACHE (5 runs): min ${bundled[0]!.toFixed(0)} ms, median ${bundled[2]!.toFixed(0)} ms, max ${bundled[4]!.toFixed(0)} ms`,
  );
} finally {
  await h0.stop();
}
