// The monitor at scale: 10,000 distinct images in use across 5 registries (the harness's two —
// TLS + htpasswd, TLS + bearer tokens — and three more bearer-token registries started here), held by
// 5 ClusterImageSetAvailabilities of 2,000 images each, on the harness's real kube-apiserver.
// A few hundred tags per registry exist (Available); the rest are real probes of missing tags
// (NotFound). Pods reference the images in 50-container pods with one pull secret for all five
// registries, so every probe carries a credential found through the pods, as in a cluster.
//
// Two runs:
//   A. pacing generous (1,000 probes per second per registry): what one instance can do. Two ticks:
//      the first discovers 10,000 Scheduled images and probes them, the second re-probes them all.
//   B. pacing binding (100 per second per registry, 500/s in all) with two instances ticking at the
//      same time, twice: the budget must hold across them (probes over budget: pairs of starts of
//      one registry closer than its spacing, from every probe start of both instances).
//
// Measured per tick: probes, probes/s over the probe phase (first to last probe start), tick wall
// time, status writes (one per CISA that changed plus the ledger's reservation), outcome, and where
// the CPU went meanwhile: this process (the monitor; it also hosts the token servers), the five
// registry processes, and the whole machine (2 cores, shared with the harness's etcd and
// kube-apiserver and with whatever else runs). Resync is off: it is reconcile's cost.
//
// Run: node bench/monitor.ts [--images=10000] [--seeded=100]
// It starts the harness itself and stops it; about three minutes. Results: a markdown table.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { resolveConfig } from '#shared/config/config.ts';
import type { ClusterImageSetAvailability } from '#shared/crd/types.ts';
import { compileGlobalSkip } from '#shared/filter/filter.ts';
import { Kube } from '#shared/kube/client.ts';
import { createLogger } from '#shared/log.ts';
import { createRegistry } from '#shared/metrics.ts';
import { RegistryClient } from '#shared/registry/client.ts';
import { createMonitorMetrics } from '../functions/monitor/metrics.ts';
import { overBudget } from '../functions/monitor/pacing.ts';
import { type MonitorDeps, runTick, type TickSummary } from '../functions/monitor/tick.ts';
import { kubeConfig, type RegistryInfo } from '../tests/harness/env.ts';
import { apply, namespace, seed } from '../tests/harness/fixtures.ts';
import { type RunningRegistry, startRegistry } from '../tests/harness/registry.ts';
import { startHarness } from '../tests/harness/start.ts';
import { tools } from '../tests/harness/tools.ts';
import { benchArgs, memoryOf, table } from './lib.ts';

const args = benchArgs();
const IMAGES = Number(args.get('images') ?? 10_000);
const SEEDED = Number(args.get('seeded') ?? 100);
const RUNS = new Set((args.get('runs') ?? 'A,B').split(','));
const REGISTRIES = 5;
const PER_REGISTRY = Math.ceil(IMAGES / REGISTRIES);
const CONTAINERS_PER_POD = 50;
const LABEL = 'kuik-bench/monitor';
const REPO = 'bench/app';

const h = await startHarness();
process.env['KUIK_HARNESS_STATE'] = h.stateFile;
const extra: RunningRegistry[] = [];
const clients: RegistryClient[] = [];

const tag = (i: number) => `t${String(i).padStart(5, '0')}`;

/** Seeds one image, then gives its index more tags with plain manifest PUTs (skopeo per tag is slow). */
async function seedTags(reg: RegistryInfo, client: RegistryClient, count: number): Promise<void> {
  await seed(reg, REPO, tag(0));
  const credential = { username: reg.username, password: reg.password };
  const m = await client.getManifest(`${reg.host}/${REPO}:${tag(0)}`, { credential });
  for (let i = 1; i < count; i++) {
    const res = await client.transport.request(reg.host, {
      method: 'PUT',
      path: `/v2/${REPO}/manifests/${tag(i)}`,
      headers: { 'content-type': m.descriptor.mediaType },
      body: m.body,
      scopes: [{ repository: REPO, actions: ['pull', 'push'] }],
      credential,
    });
    await res.body.dump();
    if (res.status !== 201) throw new Error(`PUT ${reg.host}/${REPO}:${tag(i)}: ${res.status}`);
  }
}

function dockerConfig(regs: RegistryInfo[]): string {
  const auths = Object.fromEntries(
    regs.map((r) => [r.host, { auth: Buffer.from(`${r.username}:${r.password}`).toString('base64') }]),
  );
  return Buffer.from(JSON.stringify({ auths })).toString('base64');
}

/** utime+stime of a process, in seconds (clock ticks of 1/100 s). */
function procCpu(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** [busy, total] jiffies of the whole machine. */
function machineCpu(): [number, number] {
  const n = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').split(/\s+/).slice(1).map(Number);
  const idle = (n[3] ?? 0) + (n[4] ?? 0);
  const total = n.reduce((a, b) => a + b, 0);
  return [total - idle, total];
}

interface Row {
  run: string;
  cpu: { monitor: number; registries: number; machine: number };
  instance: string;
  tick: number;
  summary: TickSummary;
  probePhaseS: number;
  wallS: number;
  overBudget: number;
}

try {
  const state = h.state;
  const t = tools();
  const pki = state.pki;
  const certs = {
    caCert: pki.caCert,
    servingCert: pki.webhookCert,
    servingKey: pki.webhookKey,
    tokenCert: join(pki.dir, 'token.crt'),
    tokenKey: join(pki.dir, 'token.key'),
  };
  extra.push(
    ...(await Promise.all(
      [0, 1, 2].map((i) =>
        startRegistry({
          runDir: state.runDir,
          name: `bench-${i}`,
          // Bearer tokens: the registry checks a JWT per request; htpasswd costs a bcrypt per request.
          auth: 'token',
          certs,
          registryBin: t.registry,
          htpasswdBin: t.htpasswd,
        }),
      ),
    )),
  );
  const regs = [state.registries.tls, state.registries.token, ...extra.map((r) => r.info)];
  const harnessPids = readFileSync(join(state.runDir, 'pids'), 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .filter(([, name]) => name === 'registry-tls' || name === 'registry-token')
    .map(([pid]) => Number(pid));
  const registryPids = [...harnessPids, ...extra.map((r) => r.proc.child.pid ?? 0)];
  const registriesCpu = () => registryPids.reduce((sum, pid) => sum + procCpu(pid), 0);
  const ca = await readFile(pki.caCert, 'utf8');
  const seeder = new RegistryClient({ defaultHost: { ca } });
  clients.push(seeder);
  const t0 = performance.now();
  // One after the other: seed() builds its OCI layout once, and parallel first builds would race.
  for (const r of regs) await seedTags(r, seeder, SEEDED);
  console.error(
    `seeded ${SEEDED} tags in each of ${regs.length} registries in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  // Pods: every image once, 50 containers a pod, one pull secret for the five registries.
  const kube = new Kube(kubeConfig());
  const ns = await namespace('bench-monitor');
  await kube.core.createNamespacedSecret({
    namespace: ns,
    body: {
      metadata: { name: 'pull', namespace: ns },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': dockerConfig(regs) },
    },
  });
  const images = regs.flatMap((r) =>
    Array.from({ length: PER_REGISTRY }, (_, i) => `${r.host}/${REPO}:${tag(i)}`),
  );
  const pods: V1Pod[] = [];
  for (let i = 0; i < images.length; i += CONTAINERS_PER_POD) {
    pods.push({
      metadata: { name: `p${i / CONTAINERS_PER_POD}`, namespace: ns },
      spec: {
        imagePullSecrets: [{ name: 'pull' }],
        containers: images.slice(i, i + CONTAINERS_PER_POD).map((image, j) => ({ name: `c${j}`, image })),
      },
    });
  }
  const t1 = performance.now();
  for (let i = 0; i < pods.length; i += 16) {
    await Promise.all(
      pods.slice(i, i + 16).map((body) => kube.core.createNamespacedPod({ namespace: ns, body })),
    );
  }
  console.error(`created ${pods.length} pods in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  for (const r of regs) {
    await apply({
      apiVersion: 'kuik.enix.io/v1alpha1',
      kind: 'ClusterImageSetAvailability',
      metadata: { name: `bench-${r.host.replace(/[.:]/g, '-')}`, labels: { [LABEL]: 'yes' } },
      spec: {
        filter: { include: [{ image: `${r.host.replace(/[.]/g, '\\.')}/.*` }, { namespace: ns }] },
      },
    });
  }

  const log = createLogger('bench', 'silent');
  const compiledSkip = compileGlobalSkip([], []);
  if (!compiledSkip.ok) throw new Error(compiledSkip.error.message);
  const skip = compiledSkip.value;
  const rows: Row[] = [];

  function instance(
    name: string,
    perSecond: number,
    starts: { registry: string; at: number }[],
  ): MonitorDeps {
    const r = resolveConfig({
      monitoring: {
        tickBudget: '60s',
        probeConcurrency: 8,
        registries: {
          items: Object.fromEntries(
            regs.map((x) => [x.host, { interval: '1s', maxPerInterval: perSecond, timeout: '5s' }]),
          ),
        },
      },
    });
    if (!r.ok) throw new Error(r.error.message);
    const client = new RegistryClient({ defaultHost: { ca } });
    clients.push(client);
    return {
      kube,
      log,
      config: r.value.config,
      skip,
      probe: (image, opts) => client.probe(image, opts),
      warn: async () => {},
      cisaSelector: `${LABEL}=yes`,
      instance: name,
      now: Date.now,
      onProbeStart: (registry, at) => void starts.push({ registry, at }),
    };
  }

  async function measure(
    run: string,
    deps: MonitorDeps,
    tick: number,
    spacing: number,
    starts: { registry: string; at: number }[],
  ) {
    const from = starts.length;
    const w0 = performance.now();
    const [c0, r0, m0] = [procCpu(process.pid), registriesCpu(), machineCpu()];
    const registry = createRegistry('monitor');
    const summary = await runTick(deps, createMonitorMetrics(registry));
    const wallS = (performance.now() - w0) / 1000;
    const [c1, r1, m1] = [procCpu(process.pid), registriesCpu(), machineCpu()];
    const cpu = {
      monitor: ((c1 - c0) / wallS) * 100,
      registries: ((r1 - r0) / wallS) * 100,
      machine: ((m1[0] - m0[0]) / (m1[1] - m0[1])) * 100 * availableParallelism(),
    };
    const mine = starts.slice(from);
    const first = Math.min(...mine.map((s) => s.at));
    const last = Math.max(...mine.map((s) => s.at));
    rows.push({
      run,
      cpu,
      instance: deps.instance,
      tick,
      summary,
      probePhaseS: mine.length > 1 ? (last - first) / 1000 : Number.NaN,
      wallS,
      overBudget: overBudget(mine, () => spacing),
    });
    console.error(
      `${run} ${deps.instance} tick ${tick}: ${summary.outcome}, ${summary.probed} probes, ${wallS.toFixed(1)} s`,
    );
  }

  // A. One instance, generous pacing.
  const startsA: { registry: string; at: number }[] = [];
  const a = instance('A', 1000, startsA);
  if (RUNS.has('A')) for (const tick of [1, 2]) await measure('A: 1000/s/registry', a, tick, 1, startsA);
  const countsA = await statusCounts(kube);

  // B. Two instances at once, binding pacing.
  const startsB: { registry: string; at: number }[] = [];
  const b1 = instance('B1', 100, startsB);
  const b2 = instance('B2', 100, startsB);
  for (const tick of RUNS.has('B') ? [1, 2] : []) {
    await Promise.all([
      measure('B: 100/s/registry', b1, tick, 10, startsB),
      measure('B: 100/s/registry', b2, tick, 10, startsB),
    ]);
  }
  const overB = overBudget(startsB, () => 10);

  console.log(
    `\nMonitor: ${images.length} images, ${regs.length} registries, ${SEEDED} tags seeded per registry, 5 CISAs, ${pods.length} pods; command: node bench/monitor.ts\n`,
  );
  console.log(
    table(
      [
        'run',
        'instance',
        'tick',
        'outcome',
        'probes',
        'probes/s (probe phase)',
        'tick wall s',
        'status writes',
        'probes over budget',
        'monitor CPU %',
        'registries CPU %',
        'machine busy %',
      ],
      rows.map((r) => [
        r.run,
        r.instance,
        r.tick,
        r.summary.outcome,
        r.summary.probed,
        Number.isNaN(r.probePhaseS) ? '—' : Math.round(r.summary.probed / r.probePhaseS),
        r.wallS,
        // The reservation on the ledger CISA is one more write when the tick probed.
        r.summary.writes.written + (r.summary.probed > 0 ? 1 : 0),
        r.overBudget,
        Math.round(r.cpu.monitor),
        Math.round(r.cpu.registries),
        Math.round(r.cpu.machine),
      ]),
    ),
  );
  console.log(`\nStatus after run A: ${JSON.stringify(countsA)}`);
  console.log(`Run B, both instances together: ${startsB.length} probes, ${overB} over budget.`);
  const mem = memoryOf(process.pid);
  console.log(
    `Bench process (monitor + harness helpers): RSS ${mem.rssMiB.toFixed(0)} MiB, peak ${mem.peakMiB.toFixed(0)} MiB.`,
  );
} finally {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(extra.map((r) => r.stop()));
  await h.stop();
}

async function statusCounts(kube: Kube): Promise<Record<string, number>> {
  const list = (await kube.custom.listClusterCustomObject({
    group: 'kuik.enix.io',
    version: 'v1alpha1',
    plural: 'clusterimagesetavailabilities',
    labelSelector: `${LABEL}=yes`,
  })) as { items: ClusterImageSetAvailability[] };
  const out: Record<string, number> = {};
  for (const c of list.items)
    for (const i of c.status?.images ?? []) out[i.status] = (out[i.status] ?? 0) + 1;
  return out;
}
