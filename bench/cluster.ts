// The real cluster (issue 11), measured: time to a Ready cluster (this run's; run it twice for
// cold and warm image caches), the whole cluster's RSS at idle, scale-from-zero latency of
// reconcile (an event sent → reconcile's status written, with reconcile at zero pods before each),
// Deployment rollout time with the upstream up and down, and a copy Job's start-to-mirrored time.
// Run: node bench/cluster.ts [--samples=10] [--copy-mib=64]
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { NET } from '../tests/cluster/host.ts';
import { installWithKustomize, KUIK_NS } from '../tests/cluster/kuik.ts';
import {
  applyYaml,
  deploymentYaml,
  eventually,
  imageSetMirrorYaml,
  jsonpath,
  MIRROR_PORT,
  podsOf,
  pullSecret,
  pushRunnable,
  pushSynthetic,
  runPod,
  UPSTREAM_PORT,
  waitMirrored,
} from '../tests/cluster/scenario.ts';
import { startCluster } from '../tests/cluster/start.ts';
import { benchArgs, percentile, table } from './lib.ts';

const args = benchArgs();
const SAMPLES = Number(args.get('samples') ?? 10);
const COPY_MIB = Number(args.get('copy-mib') ?? 64);
const load = () => loadavg()[0]!.toFixed(1);
const rows: (string | number)[][] = [];
const row = (what: string, value: string) => {
  rows.push([what, value, load()]);
  console.log(`${what}: ${value} (load ${load()})`);
};

/** RSS of every process of the run: its recorded processes' groups, the pods, the shims. */
function clusterRssMiB(runDir: string, cgroupRoot: string): number {
  const pids = new Set<number>();
  const groups = new Set(
    readFileSync(join(runDir, 'pids'), 'utf8')
      .split('\n')
      .map((l) => Number(l.split(' ')[0]))
      .filter((p) => p > 1),
  );
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      const cg = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (groups.has(pgid) || cg.includes(`/${cgroupRoot}/`) || cmd.includes(`${runDir}/containerd`))
        pids.add(pid);
    } catch {
      // Gone meanwhile.
    }
  }
  let kib = 0;
  for (const pid of pids) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      kib += Number(m?.[1] ?? 0);
    } catch {
      // Gone meanwhile.
    }
  }
  return Math.round(kib / 1024);
}

const t0 = performance.now();
const c = await startCluster();
row('cluster Ready (node, CoreDNS, Knative, Traefik)', `${((performance.now() - t0) / 1000).toFixed(1)} s`);
console.log(
  `  steps: ${Object.entries(c.timings)
    .map(([k, v]) => `${k}=${v}ms`)
    .join(' ')}`,
);
try {
  const upstream = await c.addRegistry('upstream', UPSTREAM_PORT);
  const mirror = await c.addRegistry('mirror', MIRROR_PORT);
  await pushRunnable(c, upstream, 'demo/app', 'v1');
  const t1 = performance.now();
  await installWithKustomize(c);
  row(
    'kuik-functions installed and Ready (kubectl apply -k, image build included if new)',
    `${((performance.now() - t1) / 1000).toFixed(1)} s`,
  );
  const ns = 'bench';
  await c.k('create', 'namespace', ns);
  await pullSecret(c, ns, 'upstream-pull', upstream);
  await pullSecret(c, ns, 'mirror-cred', mirror);
  const up = `${NET.nodeIp}:${UPSTREAM_PORT}`;
  const ism = (name: string) => imageSetMirrorYaml(ns, name, 'mirror');
  const deploy = (name: string, image: string) => deploymentYaml(ns, name, image);
  // Rollout with the upstream up.
  let t = performance.now();
  await applyYaml(c, deploy('up', `${up}/demo/app:v1`));
  await c.k('-n', ns, 'rollout', 'status', 'deployment/up', '--timeout=600s');
  row('Deployment rollout (2 pods), upstream up', `${((performance.now() - t) / 1000).toFixed(1)} s`);
  // Mirror it, then roll out with the upstream down.
  await applyYaml(c, ism('m0'));
  await waitMirrored(c, ns, 'm0', undefined, 'mirrored');
  await upstream.stop();
  t = performance.now();
  await applyYaml(c, deploy('down', `${up}/demo/app:v1`));
  await c.k('-n', ns, 'rollout', 'status', 'deployment/down', '--timeout=600s');
  row(
    'Deployment rollout (2 pods), upstream down (routed to the mirror)',
    `${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  await upstream.start();

  // Idle RSS: wait for reconcile and monitor at zero, then sum.
  await eventually(
    'reconcile at zero',
    async () => (await podsOf(c, KUIK_NS, 'serving.knative.dev/service=kuik-reconcile')) === 0,
    600_000,
  );
  row(
    'whole cluster RSS at idle (control plane, node, containerd, every pod)',
    `${clusterRssMiB(c.runDir, c.cgroupRoot)} MiB`,
  );

  // Scale from zero: each sample waits for zero pods, then creates an ISM and times its status.
  const samples: number[] = [];
  for (let i = 1; i <= SAMPLES; i++) {
    await eventually(
      'reconcile at zero',
      async () => (await podsOf(c, KUIK_NS, 'serving.knative.dev/service=kuik-reconcile')) === 0,
      600_000,
    );
    t = performance.now();
    await applyYaml(c, ism(`s${i}`));
    await eventually(
      'status written',
      async () =>
        (await jsonpath(c, ['-n', ns, 'get', 'ism', `s${i}`], '{.status.matchingImages[0].image}')) !== '',
      300_000,
    );
    samples.push(performance.now() - t);
    console.log(`  scale-from-zero sample ${i}: ${(samples.at(-1)! / 1000).toFixed(1)} s (load ${load()})`);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  row(
    `scale from zero: ImageSetMirror created → reconcile's status written (${SAMPLES} samples)`,
    `median ${(percentile(sorted, 50) / 1000).toFixed(1)} s, worst ${(sorted.at(-1)! / 1000).toFixed(1)} s`,
  );
  // Copy Job: from the ISM that asks for it to mirroredAt, for a COPY_MIB image.
  await pushSynthetic(c, upstream, 'demo/big', 'v1', COPY_MIB * 1024 * 1024);
  await runPod(c, ns, 'big', `${up}/demo/big:v1`);
  const jobsBefore = (await c.k('-n', KUIK_NS, 'get', 'jobs', '-o', 'name'))
    .split('\n')
    .filter(Boolean).length;
  t = performance.now();
  await waitMirrored(c, ns, 'm0', `${up}/demo/big:v1`, 'big mirrored');
  const jobsAfter = (await c.k('-n', KUIK_NS, 'get', 'jobs', '-o', 'name'))
    .split('\n')
    .filter(Boolean).length;
  row(
    `copy of a ${COPY_MIB} MiB image via the JobSink (pod event → mirroredAt; ${jobsAfter - jobsBefore} new Job(s))`,
    `${((performance.now() - t) / 1000).toFixed(1)} s`,
  );

  // The pod that made the copy cannot start (a synthetic image): its restarts are Pod events that
  // would keep waking reconcile.
  await c.k('-n', ns, 'delete', 'pod', 'big', '--wait=false');
} finally {
  await c.stop();
}
console.log(`\n${table(['measure', 'value', 'load (1 min)'], rows)}`);
