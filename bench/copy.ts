// The copy engine against `skopeo copy --all`, same images, same registries, same run: a
// two-platform image of ~100 MiB and one of ~1 GiB (tests/harness/oci-image.ts: 2 platforms × 4 layers of
// incompressible data) pushed to the harness's htpasswd registry, then copied to its token-auth
// registry (another host: every byte moves, no cross-repository mount) by each tool into a fresh
// repository. Measures wall time (throughput ratio), the peak RSS of the copying process (VmHWM),
// and the registry requests of a no-op re-copy.
//
// Run: node bench/copy.ts [--reps=2] [--sizes=100,1024]
// It starts the harness itself (startHarness) and stops it; layouts go to a temporary directory
// that is removed at the end. Results: a markdown table on stdout.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RegistryInfo } from '../tests/harness/env.ts';
import { uniq } from '../tests/harness/fixtures.ts';
import { seedImage, skopeoAuth } from '../tests/harness/registry.ts';
import { startHarness } from '../tests/harness/start.ts';
import { benchArgs, table } from './lib.ts';

const args = benchArgs();
const REPS = Number(args.get('reps') ?? 2);
const SIZES = (args.get('sizes') ?? '100,1024').split(',').map(Number);
const PLATFORMS = [{ architecture: 'amd64' }, { architecture: 'arm64' }];
const LAYERS = 4;
// Knobs for experiments: the transport's HTTP/2 (default on), the PATCH size, blob parallelism.
const ENGINE_OPTS = {
  ...(args.has('h2') ? { allowH2: args.get('h2') !== 'false' } : {}),
  ...(args.has('chunk') ? { chunkMiB: Number(args.get('chunk')) } : {}),
  ...(args.has('parallel') ? { hostConcurrency: Number(args.get('parallel')) } : {}),
};
const MiB = 1024 * 1024;

interface Run {
  /** Process wall time, start-up included. */
  seconds: number;
  /** User + system CPU of the copying process. */
  cpuSeconds: number;
  /** The copy alone, as the engine process timed it (skopeo: not measured). */
  copySeconds?: number;
  peakMiB: number;
}

const TIME = '/usr/bin/time';

/**
 * Runs a command under GNU time: wall seconds, CPU seconds (user + system) and peak RSS
 * (ru_maxrss, the kernel's own high-water mark) of the process.
 */
async function measured(
  cmd: string,
  argv: string[],
  env: Record<string, string> = {},
): Promise<{ stdout: string; seconds: number; cpuSeconds: number; peakMiB: number }> {
  if (!existsSync(TIME)) throw new Error(`${TIME} (GNU time) is needed to measure CPU and peak RSS`);
  const out = join(tmpdir(), `kuik-bench-time-${process.pid}-${Date.now()}-${Math.random()}`);
  const t0 = performance.now();
  const child = spawn(TIME, ['-f', '%U %S %M', '-o', out, cmd, ...argv], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const code = await new Promise<number>((r) => child.on('exit', (c) => r(c ?? 1)));
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`${cmd} exited ${code}: ${stderr.slice(-2000)}`);
  const [user, sys, maxKb] = (await readFile(out, 'utf8')).trim().split('\n').at(-1)!.split(' ').map(Number);
  await rm(out, { force: true });
  return { stdout, seconds, cpuSeconds: (user ?? 0) + (sys ?? 0), peakMiB: (maxKb ?? 0) / 1024 };
}

/**
 * The runtime settings the copy function is deployed with (docs/copy.md): a 1 MiB young generation,
 * so the garbage of streaming (a Buffer per TLS record) is collected young instead of piling up
 * to V8's external-memory threshold, and one malloc arena, so freed buffers are reused instead
 * of fragmenting per-thread arenas.
 */
const DEPLOYED = { flags: ['--max-semi-space-size=1'], env: { MALLOC_ARENA_MAX: '1' } };
const NODE_DEFAULTS = { flags: [], env: {} };

async function engine(
  src: RegistryInfo,
  dst: RegistryInfo,
  source: string,
  destination: string,
  extra = {},
  runtime: { flags: string[]; env: Record<string, string> } = DEPLOYED,
) {
  const input = {
    source,
    destination,
    src: { username: src.username, password: src.password },
    dst: { username: dst.username, password: dst.password },
    platforms: PLATFORMS,
    caFile: src.caFile,
    ...extra,
  };
  const m = await measured(
    process.execPath,
    [...runtime.flags, join(import.meta.dirname, 'copy-child.ts'), JSON.stringify(input)],
    runtime.env,
  );
  const out = JSON.parse(m.stdout.trim().split('\n').at(-1) ?? '{}') as {
    wallMs: number;
    peakMiB: number;
    result: { digest: string; requests: Record<string, number>; bytes: { bytesUploaded: number } };
    transport: { requests: number; pings: number; tokenFetches: number };
  };
  // The child's own VmHWM at the end is exact; the parent's sampling is the fallback.
  return { seconds: m.seconds, cpuSeconds: m.cpuSeconds, peakMiB: m.peakMiB, out };
}

/**
 * skopeo remembers in a blob-info cache which repositories of a registry hold which blobs, and
 * mounts from them on the next copy: a second run would measure a mount, not a copy. Each run gets
 * an empty cache (a private tmpfs over the cache directory, when unshare is allowed).
 */
const SKOPEO_CACHE = '/var/lib/containers/cache';
let coldCache: boolean | undefined;
async function skopeoCommand(args: string[]): Promise<[string, string[]]> {
  coldCache ??= await new Promise<boolean>((resolve) => {
    const p = spawn('unshare', ['-m', 'sh', '-c', `mount -t tmpfs tmpfs ${SKOPEO_CACHE}`], {
      stdio: 'ignore',
    });
    p.on('exit', (c) => resolve(c === 0));
    p.on('error', () => resolve(false));
  });
  if (!coldCache) return ['skopeo', args];
  const quoted = args.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  return ['unshare', ['-m', 'sh', '-c', `mount -t tmpfs tmpfs ${SKOPEO_CACHE} && exec skopeo ${quoted}`]];
}

async function skopeo(
  src: RegistryInfo,
  dst: RegistryInfo,
  source: string,
  destination: string,
): Promise<Run> {
  const [cmd, argv] = await skopeoCommand([
    'copy',
    '--all',
    '--quiet',
    ...skopeoAuth('src', src),
    ...skopeoAuth('dest', dst),
    `docker://${source}`,
    `docker://${destination}`,
  ]);
  const m = await measured(cmd, argv);
  return { seconds: m.seconds, cpuSeconds: m.cpuSeconds, peakMiB: m.peakMiB };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const h = await startHarness();
const layouts = await mkdtemp(join(tmpdir(), 'kuik-bench-copy-'));
const rows: (string | number)[][] = [];
const noop: (string | number)[][] = [];
try {
  const { tls, token } = h.state.registries;
  for (const total of SIZES) {
    const layerMb = total / PLATFORMS.length / LAYERS;
    const t0 = performance.now();
    const seeded = await seedImage(tls, uniq('bench/src'), 'v1', {
      archs: PLATFORMS.map((p) => p.architecture),
      layerMb,
      layers: LAYERS,
      layoutDir: layouts,
    });
    console.error(`seeded ${total} MiB image ${seeded.digest} in ${Math.round(performance.now() - t0)} ms`);
    const ours: Run[] = [];
    const theirs: Run[] = [];
    let bytes = 0;
    for (let rep = 0; rep < REPS; rep++) {
      // Alternate who goes first, so neither always meets a cold page cache.
      const order = rep % 2 === 0 ? ['engine', 'skopeo'] : ['skopeo', 'engine'];
      for (const who of order) {
        const dest = `${token.host}/${uniq(`bench/${who}`)}:v1`;
        if (who === 'engine') {
          const r = await engine(tls, token, seeded.ref, dest, ENGINE_OPTS);
          if (r.out.result.digest !== seeded.digest)
            throw new Error(`digest changed: ${r.out.result.digest}`);
          bytes = r.out.result.bytes.bytesUploaded;
          ours.push({
            seconds: r.seconds,
            cpuSeconds: r.cpuSeconds,
            copySeconds: r.out.wallMs / 1000,
            peakMiB: r.peakMiB,
          });
        } else {
          theirs.push(await skopeo(tls, token, seeded.ref, dest));
        }
        console.error(
          `${who} ${total} MiB rep ${rep}: ${(who === 'engine' ? ours : theirs).at(-1)?.seconds.toFixed(2)} s`,
        );
      }
    }
    // Once more with Node's defaults, to show what the runtime settings buy.
    const plain = await engine(
      tls,
      token,
      seeded.ref,
      `${token.host}/${uniq('bench/plain')}:v1`,
      ENGINE_OPTS,
      NODE_DEFAULTS,
    );
    console.error(
      `engine (Node defaults) ${total} MiB: ${plain.seconds.toFixed(2)} s, peak ${plain.peakMiB.toFixed(0)} MiB`,
    );
    const mb = bytes / MiB;
    const summary = (runs: Run[]) => ({
      seconds: median(runs.map((r) => r.seconds)),
      best: Math.min(...runs.map((r) => r.seconds)),
      cpu: median(runs.map((r) => r.cpuSeconds)),
      copy: median(runs.map((r) => r.copySeconds ?? Number.NaN)),
      peak: Math.max(...runs.map((r) => r.peakMiB)),
    });
    const e = summary(ours);
    const k = summary(theirs);
    const p = summary([
      {
        seconds: plain.seconds,
        cpuSeconds: plain.cpuSeconds,
        copySeconds: plain.out.wallMs / 1000,
        peakMiB: plain.peakMiB,
      },
    ]);
    const row = (label: string, tool: string, x: ReturnType<typeof summary>, copy: boolean) => [
      label,
      tool,
      x.seconds,
      x.best,
      copy ? x.copy : '—',
      x.cpu,
      mb / x.seconds,
      x.peak,
      (k.seconds / x.seconds).toFixed(2),
      (k.cpu / x.cpu).toFixed(2),
    ];
    rows.push(
      row(
        `${total} MiB (2 × ${LAYERS} × ${layerMb} MiB)`,
        'kuik copy engine (deployed runtime settings)',
        e,
        true,
      ),
    );
    rows.push(row('', 'skopeo copy --all', k, false));
    rows.push(row('', 'kuik copy engine, Node defaults (1 run)', p, true));

    // A no-op re-copy: the destination already has the image.
    const dest = `${token.host}/${uniq('bench/noop')}:v1`;
    await engine(tls, token, seeded.ref, dest);
    const again = await engine(tls, token, seeded.ref, dest);
    const req = again.out.result.requests;
    noop.push([
      `${total} MiB`,
      req['manifest'] ?? 0,
      Object.entries(req)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
      `${again.out.transport.requests} (${again.out.transport.pings} ping, ${again.out.transport.tokenFetches} token)`,
    ]);
    await rm(layouts, { recursive: true, force: true });
  }
} finally {
  await rm(layouts, { recursive: true, force: true });
  await h.stop();
}

console.log(`\nnode bench/copy.ts --reps=${REPS} --sizes=${SIZES.join(',')}`);
console.log(
  `${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, loopback; median of ${REPS} runs; ` +
    `deployed runtime settings: node ${DEPLOYED.flags.join(' ')}, MALLOC_ARENA_MAX=1; skopeo blob-info cache: ` +
    `${coldCache ? 'empty for each run' : 'shared (unshare not allowed here)'}\n`,
);
console.log(
  table(
    [
      'image',
      'tool',
      'wall s (median)',
      'wall s (best)',
      'copy s (in process)',
      'CPU s',
      'MiB/s',
      'peak RSS MiB',
      'speed vs skopeo',
      'CPU efficiency vs skopeo',
    ],
    rows,
  ),
);
console.log('\nNo-op re-copy (the destination already has the image), engine:\n');
console.log(
  table(['image', 'manifest requests', 'registry exchanges by kind', 'HTTP requests (incl. auth)'], noop),
);
