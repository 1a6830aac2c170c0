// The copy engine against `skopeo copy --all`, same images, same registries, same run: a
// two-platform image of ~100 MiB and one of ~1 GiB (mkimage.py: 2 platforms × 4 layers of
// incompressible data) pushed to the harness's htpasswd registry, then copied to its token-auth
// registry (another host: every byte moves, no cross-repository mount) by each tool into a fresh
// repository. Measures wall time (throughput ratio), the peak RSS of the copying process (VmHWM),
// and the registry requests of a no-op re-copy.
//
// Run: node bench/copy.ts [--reps=2] [--sizes=100,1024]
// It starts the harness itself (startHarness) and stops it; layouts go to a temporary directory
// that is removed at the end. Results: a markdown table on stdout.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RegistryInfo } from '../tests/harness/env.ts';
import { uniq } from '../tests/harness/fixtures.ts';
import { seedImage } from '../tests/harness/registry.ts';
import { startHarness } from '../tests/harness/start.ts';
import { table } from './lib.ts';

const args = new Map(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k ?? '', v ?? 'true'] as const;
  }),
);
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
  /** The copy alone, as the engine process timed it (skopeo: not measured). */
  copySeconds?: number;
  peakMiB: number;
}

/** VmHWM of a running process in MiB, or NaN once it is gone. */
function peakOf(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmHWM:\s+(\d+) kB/m.exec(s)?.[1] ?? Number.NaN) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** Runs a command, sampling its peak RSS every 20 ms until it exits (VmHWM only grows). */
async function measured(
  cmd: string,
  argv: string[],
  env: Record<string, string> = {},
): Promise<{ stdout: string; seconds: number; peakMiB: number }> {
  const t0 = performance.now();
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  let peak = 0;
  const timer = setInterval(() => {
    const p = peakOf(child.pid ?? 0);
    if (p > peak) peak = p;
  }, 20);
  const code = await new Promise<number>((r) => child.on('exit', (c) => r(c ?? 1)));
  clearInterval(timer);
  if (code !== 0) throw new Error(`${cmd} exited ${code}: ${stderr.slice(-2000)}`);
  return { stdout, seconds: (performance.now() - t0) / 1000, peakMiB: peak };
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
  return { seconds: m.seconds, peakMiB: Number.isFinite(out.peakMiB) ? out.peakMiB : m.peakMiB, out };
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
    `--src-creds=${src.username}:${src.password}`,
    `--dest-creds=${dst.username}:${dst.password}`,
    `--src-cert-dir=${src.certDir}`,
    `--dest-cert-dir=${dst.certDir}`,
    `docker://${source}`,
    `docker://${destination}`,
  ]);
  const m = await measured(cmd, argv);
  return { seconds: m.seconds, peakMiB: m.peakMiB };
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
  const mkimage = join(h.state.sharedDir, 'tools/mkimage.py');
  for (const total of SIZES) {
    const layerMb = total / PLATFORMS.length / LAYERS;
    const t0 = performance.now();
    const seeded = await seedImage(tls, uniq('bench/src'), 'v1', {
      archs: PLATFORMS.map((p) => p.architecture),
      layerMb,
      layers: LAYERS,
      layoutDir: layouts,
      mkimage,
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
          ours.push({ seconds: r.seconds, copySeconds: r.out.wallMs / 1000, peakMiB: r.peakMiB });
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
    const e = median(ours.map((r) => r.seconds));
    const ec = median(ours.map((r) => r.copySeconds ?? Number.NaN));
    const s = median(theirs.map((r) => r.seconds));
    rows.push([
      `${total} MiB (2 × ${LAYERS} × ${layerMb} MiB)`,
      'kuik copy engine (deployed runtime settings)',
      e,
      ec,
      mb / e,
      Math.max(...ours.map((r) => r.peakMiB)),
      (s / e).toFixed(2),
    ]);
    rows.push(['', 'skopeo copy --all', s, '—', mb / s, Math.max(...theirs.map((r) => r.peakMiB)), '1.00']);
    rows.push([
      '',
      'kuik copy engine, Node defaults (1 run)',
      plain.seconds,
      plain.out.wallMs / 1000,
      mb / plain.seconds,
      plain.peakMiB,
      (s / plain.seconds).toFixed(2),
    ]);

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
      'process s',
      'copy s (in process)',
      'MiB/s (process)',
      'peak RSS MiB',
      'speed vs skopeo',
    ],
    rows,
  ),
);
console.log('\nNo-op re-copy (the destination already has the image), engine:\n');
console.log(
  table(['image', 'manifest requests', 'registry exchanges by kind', 'HTTP requests (incl. auth)'], noop),
);
