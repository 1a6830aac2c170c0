// One benchmark, an earlier commit's and this checkout's, in one run: the earlier commit's tree
// (`git archive`, this checkout's node_modules linked in) runs its own bench/BENCH.ts, this
// checkout runs its own, alternately (before, after, before, after, … for --reps), each starting
// its own harness. Benchmarks run separately minutes apart on a shared machine differ by more than
// most changes do; alternating them puts both under the same weather, and the difference between
// runs of the same tree says how much one number is worth.
//
// Run: node bench/compare.ts [--before=c94c19e] [--reps=2] BENCH [args...]
//   BENCH: router | copy | registry-probe | resync; args (after BENCH) go to both trees' scripts,
//   and must be options both accept (an earlier script may lack one).
// Prints the runs with the machine's load average, then per table of the benchmark: each run's
// numbers, the after/before ratio of the medians, the spread between runs and a verdict. Each
// run's whole output is kept in bench/out/compare-BENCH-TIME/.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import {
  compareRuns,
  comparisonTable,
  type MdTable,
  optionsOf,
  parseTables,
  type TableSpec,
  table,
  unpackCommit,
} from './lib.ts';

interface BenchSpec {
  tables: (TableSpec & { title: string })[];
  /** Numbers the benchmark prints as sentences, as a table. */
  extract?: (stdout: string) => MdTable[];
}

const lower = (column: string) => ({ column, better: 'lower' as const });
const higher = (column: string) => ({ column, better: 'higher' as const });

const BENCHES: Record<string, BenchSpec> = {
  router: {
    tables: [
      {
        title: 'Closed loop (reviews at a fixed number in flight)',
        keys: ['path', 'in flight'],
        metrics: [higher('reviews/s'), lower('p50 ms'), lower('p99 ms'), lower('peak RSS MiB')],
      },
      {
        title: 'Open loop (fixed arrival rate, at most 64 in flight)',
        keys: ['offered/s'],
        metrics: [higher('served/s'), lower('p50 ms'), lower('p99 ms')],
      },
      {
        title: 'Process start → /readyz',
        keys: ['entry'],
        metrics: [lower('median ms'), lower('min ms')],
      },
    ],
    extract: (stdout) => {
      const rows = [
        ...stdout.matchAll(
          /^Process start → \/readyz(?:, (.+?))? \(\d+ runs\): min (\S+) ms, median (\S+) ms, max (\S+) ms$/gm,
        ),
      ].map((m) => [m[1] ?? 'TypeScript sources', m[2]!, m[3]!, m[4]!]);
      return [{ title: 'start', head: ['entry', 'min ms', 'median ms', 'max ms'], rows }];
    },
  },
  copy: {
    tables: [
      {
        title: 'Copies (skopeo: the same tool in both trees, a measure of the machine)',
        keys: ['image', 'tool'],
        metrics: [
          lower('wall s (median)'),
          lower('copy s (in process)'),
          lower('CPU s'),
          lower('peak RSS MiB'),
          higher('speed vs skopeo'),
        ],
      },
      {
        title: 'No-op re-copy',
        keys: ['image'],
        metrics: [lower('manifest requests'), lower('HTTP requests (incl. auth)')],
      },
    ],
  },
  'registry-probe': {
    tables: [
      {
        title: 'HEAD probes (plain undici fetch: the same code in both trees, a measure of the machine)',
        keys: ['client', 'c'],
        metrics: [
          higher('req/s'),
          lower('p50 ms'),
          lower('p99 ms'),
          {
            // CPU % of one core over the row, per probe: what the client costs, whatever the rate.
            column: 'client CPU µs/probe',
            better: 'lower',
            value: (cell) => (cell('client CPU %') * 1e4) / cell('req/s'),
          },
          lower('token requests'),
        ],
      },
    ],
  },
  resync: {
    tables: [
      {
        title: 'Resync',
        keys: ['run'],
        metrics: [higher('CRs/s'), higher('mirror sets reconciled'), lower('failed')],
      },
    ],
  },
};

const repoRoot = join(import.meta.dirname, '..');

/** compare.ts's own options come before BENCH; everything after it is the benchmark's. */
function parseCommandLine(argv: readonly string[]) {
  const at = argv.findIndex((a) => !a.startsWith('--'));
  const own = new Map(
    argv.slice(0, at === -1 ? argv.length : at).map((a) => {
      const [k, ...v] = a.slice(2).split('=');
      return [k!, v.length ? v.join('=') : 'true'] as const;
    }),
  );
  for (const k of own.keys()) {
    if (!['before', 'reps'].includes(k))
      throw new Error(`unknown option --${k} (before BENCH: --before, --reps)`);
  }
  const bench = at === -1 ? undefined : argv[at]!;
  if (!bench || !(bench in BENCHES)) {
    throw new Error(
      `usage: node bench/compare.ts [--before=c94c19e] [--reps=2] BENCH [args...]; BENCH is one of ${Object.keys(BENCHES).join(', ')}`,
    );
  }
  const reps = Number(own.get('reps') ?? 2);
  if (!Number.isInteger(reps) || reps < 1)
    throw new Error(`--reps must be a whole number ≥ 1, not ${own.get('reps')}`);
  return { before: own.get('before') ?? 'c94c19e', reps, bench, args: argv.slice(at + 1) };
}

interface RunResult {
  n: number;
  tree: 'before' | 'after';
  startedAt: Date;
  seconds: number;
  load: { start: number; mean: number; end: number };
  stdout: string;
  /** Why the run failed (its numbers are left out), if it did. */
  failure?: string;
}

/**
 * Runs one tree's bench/BENCH.ts in that tree; its output goes to stderr as it comes and to
 * `outFile`. A run that fails is reported, not thrown: the others are still worth their ten
 * minutes.
 */
async function runTree(root: string, bench: string, args: readonly string[], outFile: string) {
  const samples = [loadavg()[0]!];
  // The 1-minute load every 5 s: its mean says what the run shared the machine with.
  const sampler = setInterval(() => samples.push(loadavg()[0]!), 5000);
  const startedAt = new Date();
  const t0 = performance.now();
  let stdout = '';
  let failure: string | undefined;
  try {
    const child = spawn(process.execPath, [join(root, 'bench', `${bench}.ts`), ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      process.stderr.write(d);
    });
    const code = await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
    });
    if (code !== 0) failure = `exited ${code}`;
  } catch (err) {
    failure = err instanceof Error ? err.message : String(err);
  } finally {
    clearInterval(sampler);
    writeFileSync(outFile, stdout);
  }
  samples.push(loadavg()[0]!);
  return {
    startedAt,
    seconds: (performance.now() - t0) / 1000,
    load: {
      start: samples[0]!,
      mean: samples.reduce((a, b) => a + b, 0) / samples.length,
      end: samples.at(-1)!,
    },
    stdout,
    ...(failure === undefined ? {} : { failure }),
  };
}

const git = (...a: string[]) =>
  execFileSync('git', ['-C', repoRoot, ...a])
    .toString()
    .trim();

async function main() {
  const { before, reps, bench, args } = parseCommandLine(process.argv.slice(2));
  const spec = BENCHES[bench]!;
  const beforeDir = unpackCommit(repoRoot, before);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const outDir = join(repoRoot, 'bench/out', `compare-${bench}-${stamp}`);
  const runs: RunResult[] = [];
  try {
    const trees = { before: beforeDir, after: repoRoot } as const;
    for (const [tree, root] of Object.entries(trees)) {
      const script = join(root, 'bench', `${bench}.ts`);
      if (!existsSync(script)) throw new Error(`the ${tree} tree has no bench/${bench}.ts`);
      const accepted = optionsOf(readFileSync(script, 'utf8'));
      for (const a of args) {
        const name = /^--([\w-]+)/.exec(a)?.[1];
        if (!name) throw new Error(`${a}: the benchmark's arguments are --name=value options`);
        if (!accepted.has(name)) {
          throw new Error(
            `--${name} is not an option of the ${tree} tree's bench/${bench}.ts (it reads: ${[...accepted].map((o) => `--${o}`).join(', ') || 'none'})`,
          );
        }
      }
    }
    mkdirSync(outDir, { recursive: true });
    for (let rep = 0; rep < reps; rep++) {
      for (const tree of ['before', 'after'] as const) {
        const n = runs.length + 1;
        console.error(`\n=== run ${n} of ${reps * 2}: ${tree} (${new Date().toISOString()}) ===`);
        const r = await runTree(trees[tree], bench, args, join(outDir, `${n}-${tree}.md`));
        runs.push({ n, tree, ...r });
      }
    }
  } finally {
    rmSync(beforeDir, { recursive: true, force: true });
  }

  const tablesOf = (r: RunResult) => [...parseTables(r.stdout), ...(spec.extract?.(r.stdout) ?? [])];
  const subject = (c: string) => git('log', '-1', '--format=%h %s', c).slice(0, 90);
  const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
  const lines: string[] = [];
  lines.push(`### ${bench}`, '');
  lines.push(
    `\`node bench/compare.ts --before=${before} --reps=${reps} ${bench}${args.map((a) => ` ${a}`).join('')}\``,
    '',
  );
  lines.push(`before: ${subject(before)}`, '');
  lines.push(`after: ${subject('HEAD')}${dirty ? ' (with uncommitted changes)' : ''}`, '');
  lines.push(
    table(
      [
        'run',
        'tree',
        'started (UTC)',
        'minutes',
        'load avg at start',
        'mean over the run',
        'at end',
        'result',
      ],
      runs.map((r) => [
        r.n,
        r.tree,
        r.startedAt.toISOString().slice(11, 19),
        r.seconds / 60,
        r.load.start,
        r.load.mean,
        r.load.end,
        r.failure ? `failed (${r.failure}), left out` : 'ok',
      ]),
    ),
  );
  const ok = runs.filter((r) => !r.failure);
  const beforeTables = ok.filter((r) => r.tree === 'before').map(tablesOf);
  const afterTables = ok.filter((r) => r.tree === 'after').map(tablesOf);
  for (const t of spec.tables) {
    const rows = compareRuns(t, beforeTables, afterTables);
    lines.push('', `${t.title}:`, '');
    lines.push(rows.length ? comparisonTable(t.keys.join(', '), rows) : '(no such table in the output)');
  }
  lines.push(
    '',
    'after/before: ratio of the medians of the runs. Spread between runs: the larger, over before and after, of (max − min) / median of one tree\'s runs; a change no larger than that is "within noise".',
  );
  const report = lines.join('\n');
  writeFileSync(join(outDir, 'comparison.md'), `${report}\n`);
  console.error(`\nEach run's output and this comparison: ${outDir}`);
  console.log(`\n${report}`);
  if (ok.length < runs.length) throw new Error(`${runs.length - ok.length} of ${runs.length} runs failed`);
}

try {
  await main();
} catch (err) {
  // A usage error or a failed run: the message says which; a stack trace would bury it.
  console.error(`bench/compare.ts: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
