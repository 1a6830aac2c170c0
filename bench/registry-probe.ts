// HEAD-probe throughput and latency of the registry client against the harness's token-auth
// registry (distribution 2.8 over TLS, bearer tokens), at concurrency 1, 8 and 64, beside a plain
// undici `fetch` baseline doing the same HEAD with a token fetched once by hand. Also counts token
// requests on the token server (must be one per registry+scope, not one per probe) and the CPU
// of the client and of the registry process, which share this machine's cores.
//
// Run: node bench/registry-probe.ts [--seconds=5]
// It starts the harness itself (startHarness) and stops it. Results: a markdown table on stdout.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import { RegistryClient } from '#shared/registry/index.ts';
import type { RegistryInfo } from '../tests/harness/env.ts';
import { seed, uniq } from '../tests/harness/fixtures.ts';
import { startHarness } from '../tests/harness/start.ts';
import { benchArgs } from './lib.ts';

const args = benchArgs();
const SECONDS = Number(args.get('seconds') ?? 5);
const WARMUP_MS = 1000;
const LEVELS = [1, 8, 64];
const CLK_TCK = 100;

interface Row {
  client: string;
  concurrency: number;
  probes: number;
  rps: number;
  p50: number;
  p99: number;
  rssMiB: number;
  tokens: number;
  clientCpu: number;
  registryCpu: number;
  machineBusy: number;
  errors: number;
}

/** utime+stime of a process, in seconds. */
function procCpu(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** [busy, total] jiffies of the whole machine. */
function machineCpu(): [number, number] {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const n = line.split(/\s+/).slice(1).map(Number);
  const idle = (n[3] ?? 0) + (n[4] ?? 0);
  const total = n.reduce((a, b) => a + b, 0);
  return [total - idle, total];
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function tokenCount(reg: RegistryInfo, scope: string): Promise<number> {
  const stats = (await (await fetch(new URL('/stats', reg.tokenRealm))).json()) as {
    byScope: Record<string, number>;
  };
  return stats.byScope[scope] ?? 0;
}

/** Runs `op` from `concurrency` loops: a warm-up, then SECONDS measured. */
async function drive(
  concurrency: number,
  op: () => Promise<boolean>,
  registryPid: number,
): Promise<Omit<Row, 'client' | 'tokens'>> {
  const runFor = async (ms: number, record: boolean) => {
    const latencies: number[] = [];
    let errors = 0;
    const end = performance.now() + ms;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < end) {
          const t0 = performance.now();
          const ok = await op();
          if (record) latencies.push(performance.now() - t0);
          if (!ok) errors++;
        }
      }),
    );
    return { latencies, errors };
  };
  await runFor(WARMUP_MS, false);
  let rss = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    rss = Math.max(rss, process.memoryUsage.rss());
  }, 100);
  const cpu0 = process.cpuUsage();
  const reg0 = procCpu(registryPid);
  const [busy0, total0] = machineCpu();
  const t0 = performance.now();
  const { latencies, errors } = await runFor(SECONDS * 1000, true);
  const wall = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  const cpu = process.cpuUsage(cpu0);
  const [busy1, total1] = machineCpu();
  latencies.sort((a, b) => a - b);
  return {
    concurrency,
    probes: latencies.length,
    rps: latencies.length / wall,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    rssMiB: rss / 1024 / 1024,
    clientCpu: ((cpu.user + cpu.system) / 1e6 / wall) * 100,
    registryCpu: ((procCpu(registryPid) - reg0) / wall) * 100,
    machineBusy: ((busy1 - busy0) / (total1 - total0)) * 100 * availableParallelism(),
    errors,
  };
}

let rssBefore = 0;

async function main() {
  const h = await startHarness();
  process.env['KUIK_HARNESS_STATE'] = h.stateFile;
  const rows: Row[] = [];
  try {
    const reg = h.state.registries.token;
    const ca = await readFile(reg.caFile, 'utf8');
    const repo = uniq('bench/probe');
    const seeded = await seed(reg, repo, 'v1');
    const scope = `repository:${repo}:pull`;
    const pids = readFileSync(join(h.state.runDir, 'pids'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    const registryPid = Number(pids.find(([, name]) => name === 'registry-token')?.[0]);
    if (!Number.isFinite(registryPid)) throw new Error('registry-token pid not found');
    const credential = { username: reg.username, password: reg.password };
    rssBefore = process.memoryUsage.rss() / 1024 / 1024;

    for (const concurrency of LEVELS) {
      for (const h2 of [true, false]) {
        // A fresh client per row: cold pools and token cache, so the token column shows what
        // `concurrency` simultaneous cold probes cost.
        const client = new RegistryClient({ hosts: { [reg.host]: { ca } }, allowH2: h2 });
        const tokensBefore = await tokenCount(reg, scope);
        const r = await drive(
          concurrency,
          async () =>
            (await client.probe(seeded.ref, { credentials: [credential], timeoutMs: 1000 })).available,
          registryPid,
        );
        const tokens = (await tokenCount(reg, scope)) - tokensBefore;
        rows.push({ client: `RegistryClient.probe, ${h2 ? 'HTTP/2 (default)' : 'HTTP/1.1'}`, tokens, ...r });
        await client.close();
      }

      // Baseline: undici fetch with its defaults (HTTP/2 via ALPN), one token fetched by hand,
      // no retries, no deadline, no header checks beyond the digest.
      const agent = new Agent({ connect: { ca } });
      const tokensBase = await tokenCount(reg, scope);
      const basic = Buffer.from(`${reg.username}:${reg.password}`).toString('base64');
      const tokenUrl = `${reg.tokenRealm}?service=registry-token&scope=${encodeURIComponent(scope)}`;
      const tokenRes = await fetch(tokenUrl, { headers: { authorization: `Basic ${basic}` } });
      const { token } = (await tokenRes.json()) as { token: string };
      const url = `https://${reg.host}/v2/${repo}/manifests/v1`;
      const headers = {
        authorization: `Bearer ${token}`,
        accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json',
      };
      const b = await drive(
        concurrency,
        async () => {
          const res = await fetch(url, { method: 'HEAD', headers, dispatcher: agent });
          return res.status === 200 && res.headers.get('docker-content-digest') === seeded.digest;
        },
        registryPid,
      );
      const tokens = (await tokenCount(reg, scope)) - tokensBase;
      rows.push({ client: 'plain undici fetch (baseline)', tokens, ...b });
      await agent.close();
    }
  } finally {
    await h.stop();
  }

  const f = (n: number, d = 0) => n.toFixed(d);
  console.log(
    `\nHEAD manifest probes, token-auth registry (distribution 2.8, TLS) on loopback, ${SECONDS} s per row after ${WARMUP_MS} ms warm-up`,
  );
  console.log(
    `machine: ${availableParallelism()} cores (${cpus()[0]?.model.trim()}), Node ${process.version}`,
  );
  console.log(`command: node bench/registry-probe.ts${SECONDS !== 5 ? ` --seconds=${SECONDS}` : ''}\n`);
  console.log(
    '| client | c | probes | req/s | p50 ms | p99 ms | client RSS MiB | token requests | client CPU % | registry CPU % | other CPU % | errors |',
  );
  console.log('| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |');
  for (const r of rows) {
    console.log(
      `| ${r.client} | ${r.concurrency} | ${r.probes} | ${f(r.rps)} | ${f(r.p50, 1)} | ${f(r.p99, 1)} | ${f(r.rssMiB)} | ${r.tokens} | ${f(r.clientCpu)} | ${f(r.registryCpu)} | ${f(Math.max(0, r.machineBusy - r.clientCpu - r.registryCpu))} | ${r.errors} |`,
    );
  }
  console.log(
    '\nCPU % is of one core (200 % = both cores of a 2-core machine); "other" is everything else on the machine',
  );
  console.log(
    "(this harness's etcd and kube-apiserver, anything else running). Client RSS is the peak of the whole",
  );
  console.log(
    `bench process (it also hosts the harness's token server): ${f(rssBefore)} MiB before the first probe.`,
  );
}

await main();
