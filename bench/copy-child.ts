// One engine copy in a process of its own, for bench/copy.ts: the parent reads this process's
// peak RSS (VmHWM) and wall time without its own memory in the way. Input: a JSON argument;
// output: one JSON line with the copy's report, the transport's request counts and VmHWM.
import { readFileSync } from 'node:fs';
import { RegistryTransport } from '#shared/registry/transport.ts';
import { COPY_TRANSPORT, copyImage } from '../functions/copy/engine/copy.ts';

interface Input {
  source: string;
  destination: string;
  src: { username: string; password: string };
  dst: { username: string; password: string };
  platforms: { os?: string; architecture: string }[];
  caFile: string;
  allowH2?: boolean;
  chunkMiB?: number;
  hostConcurrency?: number;
}

const input = JSON.parse(process.argv[2] ?? '{}') as Input;
const transport = new RegistryTransport({
  ...COPY_TRANSPORT,
  defaultHost: { ca: readFileSync(input.caFile, 'utf8') },
  ...(input.allowH2 !== undefined ? { allowH2: input.allowH2 } : {}),
});
const t0 = performance.now();
const result = await copyImage({
  transport,
  source: input.source,
  destination: input.destination,
  sourceCredentials: [input.src],
  destinationCredentials: [input.dst],
  platforms: input.platforms,
  ...(input.chunkMiB ? { chunkBytes: input.chunkMiB * 1024 * 1024 } : {}),
  ...(input.hostConcurrency ? { hostConcurrency: input.hostConcurrency } : {}),
});
const wallMs = performance.now() - t0;
const status = readFileSync('/proc/self/status', 'utf8');
const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
await transport.close();
process.stdout.write(
  `${JSON.stringify({ wallMs, peakMiB: kb('VmHWM') / 1024, result, transport: transport.stats })}\n`,
);
