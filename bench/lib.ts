// What every benchmark needs: latency summaries, a process's memory, and a printed table.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

export interface Summary {
  count: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** Latencies in ms and the wall time they took, summarized. */
export function summarize(latenciesMs: readonly number[], wallMs: number): Summary {
  const s = [...latenciesMs].sort((a, b) => a - b);
  return {
    count: s.length,
    seconds: wallMs / 1000,
    perSecond: s.length / (wallMs / 1000),
    p50: percentile(s, 50),
    p99: percentile(s, 99),
    max: s.at(-1) ?? Number.NaN,
  };
}

/** VmRSS and VmHWM (peak) of a process, in MiB, from /proc. */
export function memoryOf(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMiB: kb('VmRSS') / 1024, peakMiB: kb('VmHWM') / 1024 };
}

/** A Markdown table (paste-able into docs/performance.md). */
export function table(head: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const fmt = (v: string | number) =>
    typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 2 : 1)) : v;
  const lines = [head, head.map(() => '---'), ...rows.map((r) => r.map(fmt))];
  return lines.map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/**
 * Runs `task` with `concurrency` workers until `count` tasks are done, starting none once `seconds`
 * have passed; returns per-task latencies (ms).
 */
export async function load(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
  seconds = Number.POSITIVE_INFINITY,
): Promise<{ latencies: number[]; wallMs: number; errors: number }> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count && performance.now() < end) {
        const i = next++;
        const s = performance.now();
        try {
          await task(i);
          latencies.push(performance.now() - s);
        } catch {
          errors++;
        }
      }
    }),
  );
  return { latencies, wallMs: performance.now() - t0, errors };
}

/**
 * Open-loop load: requests start at a fixed `rate` per second whatever the server does (as an API
 * server sends admissions), latency counted from each request's *scheduled* start so a stalled
 * server cannot hide its queueing (no coordinated omission). `maxInFlight` bounds the client.
 */
export async function openLoop(
  rate: number,
  seconds: number,
  maxInFlight: number,
  task: (i: number) => Promise<void>,
): Promise<{ latencies: number[]; wallMs: number; errors: number; dropped: number }> {
  const latencies: number[] = [];
  let errors = 0;
  let dropped = 0;
  let inFlight = 0;
  const total = Math.round(rate * seconds);
  const t0 = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const scheduled = t0 + (i * 1000) / rate;
    const wait = scheduled - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (inFlight >= maxInFlight) {
      dropped++;
      continue;
    }
    inFlight++;
    pending.push(
      task(i)
        .then(
          () => void latencies.push(performance.now() - scheduled),
          () => void errors++,
        )
        .finally(() => inFlight--),
    );
  }
  await Promise.all(pending);
  return { latencies, wallMs: performance.now() - t0, errors, dropped };
}

/** `--name=value` options (`--flag` alone is `'true'`), parsed by node:util's parseArgs. */
export function benchArgs(argv: readonly string[] = process.argv.slice(2)): Map<string, string> {
  const { values } = parseArgs({ args: [...argv], strict: false, allowPositionals: true });
  return new Map(Object.entries(values).map(([k, v]) => [k, String(v)]));
}

/** The parts of a V8 .heapsnapshot file a summary needs. */
export interface HeapSnapshotJson {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/**
 * What a heap snapshot holds, by kind of object: self size (MiB) and count per V8 node type and
 * constructor name, largest first. Strings are one row (`(string)`) and so are compiled code and
 * closures; a single string larger than 1 MiB (a module's source text) gets a row of its own.
 * Self sizes, not retained sizes: enough to see where the bulk is, with no dominator tree.
 */
export function heapSummary(
  s: HeapSnapshotJson,
  top = 15,
): { total: number; rows: [string, number, number][] } {
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const n = fields.length;
  const [iType, iName, iSize] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const by = new Map<string, [number, number]>();
  let total = 0;
  for (let i = 0; i < s.nodes.length; i += n) {
    const type = types[s.nodes[i + iType]!] ?? '?';
    const size = s.nodes[i + iSize]!;
    const name = s.strings[s.nodes[i + iName]!] ?? '';
    const key = type.endsWith('string')
      ? size > 2 ** 20
        ? `(string) ${JSON.stringify(name.slice(0, 40))}…`
        : '(string)'
      : type === 'code'
        ? '(code)'
        : type === 'closure'
          ? '(closure)'
          : `${type} ${name.slice(0, 50)}`;
    const v = by.get(key) ?? [0, 0];
    v[0] += size;
    v[1]++;
    by.set(key, v);
    total += size;
  }
  const rows = [...by]
    .sort((a, b) => b[1][0] - a[1][0])
    .slice(0, top)
    .map(([k, [size, count]]) => [k, size / 2 ** 20, count] as [string, number, number]);
  return { total: total / 2 ** 20, rows };
}

/**
 * A pod as a Deployment's ReplicaSet `owner` makes it (generateName from the owner's name, the
 * template-hash label, the owner reference), with `spec`: what the router sees at admission.
 */
export function replicaSetPod(namespace: string, owner: { name: string }, spec: object): object {
  // A Deployment `shop`'s ReplicaSet is `shop-<template hash>`.
  const dash = owner.name.lastIndexOf('-');
  const [app, hash] = [owner.name.slice(0, dash), owner.name.slice(dash + 1)];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${owner.name}-`,
      namespace,
      labels: { app, 'pod-template-hash': hash },
      ownerReferences: [owner],
    },
    spec,
  };
}
