// What every benchmark needs: latency summaries, a process's memory, and a printed table; an
// earlier commit's tree to run beside this one; and reading the tables a benchmark printed back.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** One row of a side-by-side benchmark: a variant's result in one scenario. */
export interface ScenarioResult {
  variant: string;
  scenario: string;
  inFlight: number;
  perSecond: number;
  p99: number;
  cpuMsPerReview: number;
}

/**
 * Each variant against `baseline`, per scenario (in the order first measured), from the means over
 * each variant's runs: throughput and p99 as `variant / baseline` ratios, CPU per review side by
 * side, and whether the goal holds (throughput ≥ `minThroughput`× the baseline's and p99 at most
 * the baseline's). A scenario the baseline did not run is left out.
 */
export function versusBaseline(
  results: readonly ScenarioResult[],
  baseline: string,
  minThroughput = 1.5,
): (string | number)[][] {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const groups = new Map<string, ScenarioResult[]>();
  for (const r of results) {
    const key = JSON.stringify([r.variant, r.scenario, r.inFlight]);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const of = (variant: string, scenario: string, inFlight: number) => {
    const g = groups.get(JSON.stringify([variant, scenario, inFlight]));
    return g
      ? {
          perSecond: mean(g.map((r) => r.perSecond)),
          p99: mean(g.map((r) => r.p99)),
          cpu: mean(g.map((r) => r.cpuMsPerReview)),
        }
      : undefined;
  };
  const f = (v: number) => (Number.isFinite(v) ? (v < 10 ? v.toFixed(2) : v.toFixed(1)) : 'n/a');
  const rows: (string | number)[][] = [];
  for (const g of groups.values()) {
    const { variant, scenario, inFlight } = g[0]!;
    if (variant === baseline) continue;
    const ours = of(variant, scenario, inFlight)!;
    const base = of(baseline, scenario, inFlight);
    if (!base) continue;
    const tput = ours.perSecond / base.perSecond;
    const p99 = ours.p99 / base.p99;
    const fails = [...(tput >= minThroughput ? [] : ['throughput']), ...(p99 <= 1 ? [] : ['p99'])];
    rows.push([
      variant,
      scenario,
      inFlight,
      `${f(ours.perSecond)} / ${f(base.perSecond)}`,
      `${f(ours.p99)} / ${f(base.p99)}`,
      `${f(tput)}×`,
      `${f(p99)}×`,
      `${f(ours.cpu)} / ${f(base.cpu)}`,
      !Number.isFinite(tput) || !Number.isFinite(p99)
        ? 'n/a'
        : fails.length
          ? `no (${fails.join(', ')})`
          : 'yes',
    ]);
  }
  return rows;
}

/** A TCP server that accepts connections and never answers: a registry that hangs. */
export async function tarpit(): Promise<{ host: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const srv = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  const { port } = srv.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((res) => srv.close(res));
    },
  };
}

/**
 * Routing CRs that all apply to a pod of `namespace` labelled app=shop whose images are under
 * `host/bench/`: `cism` ClusterImageSetMirrors and `ism` ImageSetMirrors (priorities 0, 1, …; mirror
 * paths `m<i>`, `n<i>`), and `cris` ClusterReplicatedImageSets and `ris` ReplicatedImageSets, each
 * with the original and one more upstream (`r<i>`, `s<i>`). None of the mirrors holds the images, so
 * a router probes them all and keeps the original. Names start with `prefix`.
 */
export function routingCRs(o: {
  host: string;
  namespace: string;
  prefix: string;
  cism: number;
  ism: number;
  cris: number;
  ris: number;
}): object[] {
  const esc = o.host.replace(/\./g, '\\.');
  const crs: object[] = [];
  for (let i = 0; i < o.cism; i++) {
    crs.push({
      apiVersion: 'kuik.enix.io/v1alpha1',
      kind: 'ClusterImageSetMirror',
      metadata: { name: `${o.prefix}cism-${i}` },
      spec: {
        priority: i,
        filter: { include: [{ image: `${esc}/bench/.*` }] },
        mirrors: [{ registry: o.host, path: `m${i}` }],
      },
    });
  }
  for (let i = 0; i < o.ism; i++) {
    crs.push({
      apiVersion: 'kuik.enix.io/v1alpha1',
      kind: 'ImageSetMirror',
      metadata: { name: `${o.prefix}ism-${i}`, namespace: o.namespace },
      spec: {
        priority: i,
        filter: { include: [{ image: `${esc}/bench/.*` }, { label: 'app=shop' }] },
        mirrors: [{ registry: o.host, path: `n${i}` }],
      },
    });
  }
  const up = (path: string) => ({ registry: o.host, path, imageFilter: { include: ['/bench/.*'] } });
  for (let i = 0; i < o.cris; i++) {
    crs.push({
      apiVersion: 'kuik.enix.io/v1alpha1',
      kind: 'ClusterReplicatedImageSet',
      metadata: { name: `${o.prefix}cris-${i}` },
      spec: { upstreams: [up(''), up(`r${i}`)] },
    });
  }
  for (let i = 0; i < o.ris; i++) {
    crs.push({
      apiVersion: 'kuik.enix.io/v1alpha1',
      kind: 'ReplicatedImageSet',
      metadata: { name: `${o.prefix}ris-${i}`, namespace: o.namespace },
      spec: { upstreams: [up(''), up(`s${i}`)] },
    });
  }
  return crs;
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
 * `git archive <commit>` of `repoRoot` unpacked in a fresh temporary directory, with `repoRoot`'s
 * node_modules linked in: an earlier commit's tree that runs with this checkout's dependencies
 * (both pin the same package-lock, or the comparison would measure the dependencies too). The
 * caller removes it with `rmSync(dir, { recursive: true, force: true })`.
 */
export function unpackCommit(repoRoot: string, commit: string, prefix = 'kuik-bench-before-'): string {
  try {
    execFileSync('git', ['-C', repoRoot, 'rev-parse', '--verify', '--quiet', `${commit}^{commit}`], {
      stdio: 'ignore',
    });
  } catch {
    throw new Error(`${commit} is not a commit of ${repoRoot}`);
  }
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    execFileSync('sh', ['-c', 'git -C "$1" archive "$2" | tar -x -C "$3"', 'sh', repoRoot, commit, dir]);
    symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return dir;
}

/** A Markdown table as a benchmark printed it, with the line of text above it (its title). */
export interface MdTable {
  title: string;
  head: string[];
  rows: string[][];
}

const isTableLine = (l: string) => l.startsWith('|') && l.endsWith('|') && l.length > 1;
const cells = (l: string) =>
  l
    .slice(1, -1)
    .split('|')
    .map((c) => c.trim());

/** Every Markdown table in a benchmark's output, in order. Lines that are not tables are skipped. */
export function parseTables(text: string): MdTable[] {
  const out: MdTable[] = [];
  const lines = text.split('\n').map((l) => l.trim());
  let title = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!isTableLine(line)) {
      if (line !== '') title = line;
      continue;
    }
    const sep = lines[i + 1] ?? '';
    if (!isTableLine(sep) || !/^[\s|:-]+$/.test(sep)) continue; // a table starts with head + ---
    const head = cells(line);
    const rows: string[][] = [];
    i += 2;
    for (; i < lines.length && isTableLine(lines[i]!); i++) rows.push(cells(lines[i]!));
    i--;
    out.push({ title, head, rows });
    title = '';
  }
  return out;
}

/**
 * The number a cell starts with: `**2,828**` is 2828, `7 (2 ping, 1 token)` is 7, `12 %` is 12;
 * NaN when it starts with none (`—`, a word).
 */
export function cellNumber(cell: string): number {
  const m = /^[-+]?\d[\d,]*(?:\.\d+)?|^[-+]?\.\d+/.exec(cell.replaceAll('*', '').trim());
  return m ? Number(m[0].replaceAll(',', '')) : Number.NaN;
}

/** One number of a benchmark's table to compare, and which way is better. */
export interface Metric {
  /** The column it is read from, and its name in the comparison. */
  column: string;
  better: 'higher' | 'lower';
  /** A number computed from the row's cells instead of read from `column` (which then only names it). */
  value?: (cell: (column: string) => number) => number;
}

/**
 * Which table of a benchmark's output to compare: the first whose head has every key column and
 * every metric's column (those without `value`). A row is named by its key cells; an empty key
 * cell repeats the row above's (a table that groups rows under one heading, as copy's images).
 */
export interface TableSpec {
  keys: string[];
  metrics: Metric[];
}

/** Rows of one table by their key (joined with `, `), each a lookup of column → cell. */
export function keyedRows(spec: TableSpec, tables: readonly MdTable[]): Map<string, (c: string) => string> {
  const needed = [...spec.keys, ...spec.metrics.filter((m) => !m.value).map((m) => m.column)];
  const t = tables.find((x) => needed.every((c) => x.head.includes(c)));
  const out = new Map<string, (c: string) => string>();
  if (!t) return out;
  const keyIdx = spec.keys.map((k) => t.head.indexOf(k));
  let prev: string[] = [];
  for (const row of t.rows) {
    const key = keyIdx.map((i, j) => (row[i] === '' || row[i] === undefined ? (prev[j] ?? '') : row[i]!));
    prev = key;
    out.set(key.join(', '), (c) => row[t.head.indexOf(c)] ?? '');
  }
  return out;
}

export interface ComparedRow {
  key: string;
  metric: string;
  before: number[];
  after: number[];
  /** median(after) / median(before). */
  ratio: number;
  /**
   * The runs' own noise: the larger, over before and after, of (max − min) / median of a side's
   * runs (a side with one run has none). NaN with one run a side.
   */
  spread: number;
  verdict: 'same' | 'within noise' | 'better' | 'worse' | 'better (1 run)' | 'worse (1 run)' | '—';
}

export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function relativeRange(xs: readonly number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x));
  if (s.length < 2) return Number.NaN;
  const m = median(s);
  return m === 0 ? 0 : (Math.max(...s) - Math.min(...s)) / Math.abs(m);
}

/**
 * A change counts only when it is larger than the difference between runs of the same tree
 * (`spread`): on a machine shared with other work, that difference is what one number is worth.
 */
export function verdict(ratio: number, spread: number, better: Metric['better']): ComparedRow['verdict'] {
  if (Number.isNaN(ratio)) return '—';
  const change = ratio - 1;
  if (Math.abs(change) < 1e-9) return 'same';
  const good = better === 'higher' ? change > 0 : change < 0;
  if (Number.isNaN(spread)) return good ? 'better (1 run)' : 'worse (1 run)';
  if (Math.abs(change) <= spread) return 'within noise';
  return good ? 'better' : 'worse';
}

/**
 * Before and after side by side: for each row (in the order the runs printed them) and metric,
 * every run's number, the ratio of the medians and the verdict. `before` and `after` hold the
 * parsed output of each run of each tree.
 */
export function compareRuns(
  spec: TableSpec,
  before: readonly MdTable[][],
  after: readonly MdTable[][],
): ComparedRow[] {
  const b = before.map((t) => keyedRows(spec, t));
  const a = after.map((t) => keyedRows(spec, t));
  const keys = [...new Set([...b, ...a].flatMap((m) => [...m.keys()]))];
  const read = (m: Metric, row: ((c: string) => string) | undefined) => {
    if (!row) return Number.NaN;
    return m.value ? m.value((c) => cellNumber(row(c))) : cellNumber(row(m.column));
  };
  const out: ComparedRow[] = [];
  for (const key of keys) {
    for (const m of spec.metrics) {
      const bv = b.map((r) => read(m, r.get(key)));
      const av = a.map((r) => read(m, r.get(key)));
      const mb = median(bv);
      const ma = median(av);
      const ratio = mb === ma ? 1 : ma / mb;
      // A tree with one good run has no spread of its own; the other tree's still says something.
      const spreads = [relativeRange(bv), relativeRange(av)].filter((x) => !Number.isNaN(x));
      const spread = spreads.length ? Math.max(...spreads) : Number.NaN;
      out.push({
        key,
        metric: m.column,
        before: bv,
        after: av,
        ratio,
        spread,
        verdict: verdict(ratio, spread, m.better),
      });
    }
  }
  return out;
}

const fmtNum = (v: number) =>
  Number.isNaN(v) ? '—' : Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) < 10 ? 2 : 1);

/** The comparison as a Markdown table: key, metric, each run's number, ratio, spread, verdict. */
export function comparisonTable(keyName: string, rows: readonly ComparedRow[]): string {
  const pct = (x: number) => (Number.isNaN(x) ? '—' : `${(x * 100).toFixed(0)} %`);
  return table(
    [
      keyName,
      'metric',
      'before (each run)',
      'after (each run)',
      'after/before',
      'spread between runs',
      'verdict',
    ],
    rows.map((r) => [
      r.key,
      r.metric,
      r.before.map(fmtNum).join(' / '),
      r.after.map(fmtNum).join(' / '),
      Number.isNaN(r.ratio) ? '—' : Number.isFinite(r.ratio) ? r.ratio.toFixed(2) : '∞',
      pct(r.spread),
      r.verdict,
    ]),
  );
}

/**
 * The `--name` options a benchmark script reads (`args.get('name')`, `args.has('name')`): what
 * an earlier commit's script accepts may differ from this checkout's.
 */
export function optionsOf(source: string): Set<string> {
  return new Set([...source.matchAll(/\bargs\.(?:get|has)\(\s*'([\w-]+)'/g)].map((m) => m[1]!));
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
