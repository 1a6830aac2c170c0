import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  benchArgs,
  cellNumber,
  compareRuns,
  comparisonTable,
  heapSummary,
  load,
  optionsOf,
  parseTables,
  percentile,
  replicaSetPod,
  routingCRs,
  summarize,
  type TableSpec,
  table,
  tarpit,
  unpackCommit,
  verdict,
  versusBaseline,
} from './lib.ts';

test('percentiles use the nearest-rank method', () => {
  const s = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(s, 50), 50);
  assert.equal(percentile(s, 99), 99);
  assert.equal(percentile([7], 99), 7);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test('summaries compute throughput from wall time', () => {
  const r = summarize([1, 2, 3, 4], 2000);
  assert.equal(r.perSecond, 2);
  assert.equal(r.max, 4);
});

test('load runs exactly count tasks at the given concurrency and counts failures', async () => {
  let inFlight = 0;
  let peak = 0;
  const r = await load(20, 4, async (i) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise((res) => setTimeout(res, 2));
    inFlight--;
    if (i % 10 === 0) throw new Error('x');
  });
  assert.equal(r.latencies.length + r.errors, 20);
  assert.equal(r.errors, 2);
  assert.equal(peak, 4);
});

test('load starts no task once its time is up', async () => {
  let started = 0;
  // A budget of 0 s is up before the first task could start: no clock race to lose.
  const r = await load(5, 2, async () => void started++, 0);
  assert.equal(started, 0);
  assert.deepEqual(r.latencies, []);
});

test('replicaSetPod names, labels and owns a pod as its ReplicaSet would', () => {
  const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'shop-7d9f8', uid: 'u', controller: true };
  assert.deepEqual(replicaSetPod('ns', owner, { containers: [] }), {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: 'shop-7d9f8-',
      namespace: 'ns',
      labels: { app: 'shop', 'pod-template-hash': '7d9f8' },
      ownerReferences: [owner],
    },
    spec: { containers: [] },
  });
});

test('tables render as Markdown', () => {
  assert.equal(table(['a', 'b'], [[1, 2.345]]), '| a | b |\n| --- | --- |\n| 1 | 2.35 |');
});

test('benchArgs reads --name=value and bare --flag', () => {
  const a = benchArgs(['--reps=5', '--sizes=100,1024', '--h2']);
  assert.equal(a.get('reps'), '5');
  assert.equal(a.get('sizes'), '100,1024');
  assert.equal(a.get('h2'), 'true');
  assert.equal(a.has('chunk'), false);
});

test('a heap summary groups by type and constructor, largest first, a big string on its own row', () => {
  const snapshot = {
    snapshot: {
      meta: { node_fields: ['type', 'name', 'self_size'], node_types: [['object', 'string', 'code']] },
    },
    strings: ['Pod', 'x'.repeat(100), 'source text of a module', 'fn'],
    // [type, name, self_size] per node
    nodes: [0, 0, 100, 0, 0, 300, 1, 1, 50, 1, 2, 3 * 2 ** 20, 2, 3, 700],
  };
  const s = heapSummary(snapshot as never, 10);
  assert.deepEqual(
    s.rows.map((r) => [r[0], r[2]]),
    [
      ['(string) "source text of a module"…', 1],
      ['(code)', 1],
      ['object Pod', 2],
      ['(string)', 1],
    ],
  );
  assert.equal(s.rows[2]![1], 400 / 2 ** 20);
});

// What bench/copy.ts prints: a title line, a table whose image cell is empty under its first row,
// then a second table.
const copyOutput = (engineWall: number, skopeoWall: number, requests: string) => `
seeded 100 MiB image sha256:abc in 900 ms
node bench/copy.ts --reps=1 --sizes=100

| image | tool | wall s (median) | CPU s | speed vs skopeo |
| --- | --- | --- | --- | --- |
| 100 MiB (2 × 4 × 12.5 MiB) | kuik copy engine | ${engineWall} | 0.73 | 0.81 |
|  | skopeo copy --all | ${skopeoWall} | 0.40 | 1.00 |

No-op re-copy (the destination already has the image), engine:

| image | manifest requests | HTTP requests (incl. auth) |
| --- | --: | --: |
| 100 MiB | 2 | ${requests} |
`;

test('parseTables finds each table with its title, head and rows, and nothing else', () => {
  const t = parseTables(copyOutput(0.83, 0.67, '7 (2 ping, 1 token)'));
  assert.equal(t.length, 2);
  assert.equal(t[0]!.title, 'node bench/copy.ts --reps=1 --sizes=100');
  assert.deepEqual(t[0]!.head, ['image', 'tool', 'wall s (median)', 'CPU s', 'speed vs skopeo']);
  assert.deepEqual(t[0]!.rows[1], ['', 'skopeo copy --all', '0.67', '0.40', '1.00']);
  assert.equal(t[1]!.title, 'No-op re-copy (the destination already has the image), engine:');
  assert.deepEqual(t[1]!.rows, [['100 MiB', '2', '7 (2 ping, 1 token)']]);
  // A line of pipes with no separator under it is not a table.
  assert.deepEqual(parseTables('| a | b |\n| 1 | 2 |\n'), []);
});

test('cellNumber reads the number a cell starts with', () => {
  assert.equal(cellNumber('**2,828**'), 2828);
  assert.equal(cellNumber('7 (2 ping, 1 token)'), 7);
  assert.equal(cellNumber('12.5 %'), 12.5);
  assert.equal(cellNumber('-3'), -3);
  assert.ok(Number.isNaN(cellNumber('—')));
  assert.ok(Number.isNaN(cellNumber('warm')));
});

test("verdict: a change counts only beyond the spread between runs, in the metric's direction", () => {
  assert.equal(verdict(1, 0.1, 'higher'), 'same');
  assert.equal(verdict(0.95, 0.1, 'higher'), 'within noise');
  assert.equal(verdict(0.8, 0.1, 'higher'), 'worse');
  assert.equal(verdict(0.8, 0.1, 'lower'), 'better');
  assert.equal(verdict(1.3, 0.1, 'lower'), 'worse');
  assert.equal(verdict(1.3, Number.NaN, 'lower'), 'worse (1 run)');
  assert.equal(verdict(Number.NaN, 0.1, 'lower'), '—');
  assert.equal(verdict(Number.POSITIVE_INFINITY, 0.1, 'lower'), 'worse');
});

test('compareRuns puts each run of before and after side by side per row and metric', () => {
  const spec: TableSpec = {
    keys: ['image', 'tool'],
    metrics: [
      { column: 'wall s (median)', better: 'lower' },
      { column: 'speed vs skopeo', better: 'higher' },
      // A number computed from cells, as registry-probe's CPU per probe.
      { column: 'CPU per wall', better: 'lower', value: (c) => c('CPU s') / c('wall s (median)') },
    ],
  };
  const before = [parseTables(copyOutput(0.8, 0.6, '7')), parseTables(copyOutput(1.0, 0.7, '7'))];
  const after = [parseTables(copyOutput(0.9, 0.6, '7')), parseTables(copyOutput(1.5, 0.6, '7'))];
  const rows = compareRuns(spec, before, after);
  assert.deepEqual(
    rows.map((r) => [r.key, r.metric]),
    [
      ['100 MiB (2 × 4 × 12.5 MiB), kuik copy engine', 'wall s (median)'],
      ['100 MiB (2 × 4 × 12.5 MiB), kuik copy engine', 'speed vs skopeo'],
      ['100 MiB (2 × 4 × 12.5 MiB), kuik copy engine', 'CPU per wall'],
      // The empty image cell is the row above's.
      ['100 MiB (2 × 4 × 12.5 MiB), skopeo copy --all', 'wall s (median)'],
      ['100 MiB (2 × 4 × 12.5 MiB), skopeo copy --all', 'speed vs skopeo'],
      ['100 MiB (2 × 4 × 12.5 MiB), skopeo copy --all', 'CPU per wall'],
    ],
  );
  const engine = rows[0]!;
  assert.deepEqual(engine.before, [0.8, 1.0]);
  assert.deepEqual(engine.after, [0.9, 1.5]);
  // medians 0.9 and 1.2; spreads (1.0 − 0.8) / 0.9 and (1.5 − 0.9) / 1.2 = 0.5
  assert.ok(Math.abs(engine.ratio - 1.2 / 0.9) < 1e-9);
  assert.ok(Math.abs(engine.spread - 0.5) < 1e-9);
  assert.equal(engine.verdict, 'within noise');
  assert.ok(Math.abs(rows[2]!.before[0]! - 0.73 / 0.8) < 1e-9);
  const skopeo = rows[3]!;
  assert.deepEqual(skopeo.after, [0.6, 0.6]);
  assert.equal(rows[4]!.verdict, 'same');
});

test('compareRuns picks the table that has the keys and metrics, and shows a row one tree lacks', () => {
  const spec: TableSpec = {
    keys: ['image'],
    metrics: [{ column: 'HTTP requests (incl. auth)', better: 'lower' }],
  };
  const before = [parseTables(copyOutput(1, 1, '7 (2 ping, 1 token)'))];
  const extra = `${copyOutput(1, 1, '9 (3 ping, 1 token)')}| 1024 MiB | 2 | 7 |\n`;
  const after = [parseTables(extra)];
  const rows = compareRuns(spec, before, after);
  assert.deepEqual(
    rows.map((r) => [r.key, r.before, r.after, r.verdict]),
    [
      ['100 MiB', [7], [9], 'worse (1 run)'],
      ['1024 MiB', [Number.NaN], [7], '—'],
    ],
  );
  assert.deepEqual(compareRuns({ keys: ['nope'], metrics: [] }, before, after), []);
});

test('comparisonTable prints every run, the ratio, the spread and the verdict', () => {
  const out = comparisonTable('image', [
    {
      key: 'x',
      metric: 'req/s',
      before: [100, 110],
      after: [99, 101.5],
      ratio: 0.95,
      spread: 0.1,
      verdict: 'within noise',
    },
    {
      key: 'y',
      metric: 'p99 ms',
      before: [Number.NaN],
      after: [3],
      ratio: Number.NaN,
      spread: Number.NaN,
      verdict: '—',
    },
  ]);
  assert.equal(
    out,
    [
      '| image | metric | before (each run) | after (each run) | after/before | spread between runs | verdict |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      '| x | req/s | 100 / 110 | 99 / 101.5 | 0.95 | 10 % | within noise |',
      '| y | p99 ms | — | 3 | — | — | — |',
    ].join('\n'),
  );
});

test('optionsOf lists the --options a benchmark script reads', () => {
  const src =
    "const REPS = Number(args.get('reps') ?? 2);\nif (args.has('h2')) x(args.get( 'burst-seconds'));\nother.get('no');";
  assert.deepEqual([...optionsOf(src)].sort(), ['burst-seconds', 'h2', 'reps']);
});

test('unpackCommit unpacks a commit beside this checkout with its node_modules linked, and refuses a non-commit', () => {
  const root = join(import.meta.dirname, '..');
  const head = execFileSync('git', ['-C', root, 'rev-parse', 'HEAD']).toString().trim();
  const dir = unpackCommit(root, head);
  try {
    assert.equal(
      readFileSync(join(dir, 'package.json'), 'utf8'),
      execFileSync('git', ['-C', root, 'show', `${head}:package.json`]).toString(),
    );
    assert.ok(lstatSync(join(dir, 'node_modules')).isSymbolicLink());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => unpackCommit(root, 'no-such-commit-0000'), /no-such-commit-0000 is not a commit of/);
  assert.equal(existsSync(dir), false);
});

test("versusBaseline compares the mean of each variant's runs with the baseline's, per scenario", () => {
  const r = (variant: string, scenario: string, perSecond: number, p99: number) => ({
    variant,
    scenario,
    inFlight: 8,
    perSecond,
    p99,
    cpuMsPerReview: 1,
  });
  const rows = versusBaseline(
    [
      r('kuik', 'a', 100, 10),
      r('ours', 'a', 140, 4),
      r('kuik', 'a', 100, 10),
      r('ours', 'a', 180, 6), // mean 160/s, p99 5 ms
      r('ours', 'b', 300, 20),
      r('kuik', 'b', 100, 10),
      r('ours', 'c', 1, 1), // kuik never ran it: left out
    ],
    'kuik',
  );
  assert.deepEqual(
    rows.map((x) => [x[0], x[1], x[5], x[6], x[8]]),
    [
      ['ours', 'a', '1.60×', '0.50×', 'yes'],
      ['ours', 'b', '3.00×', '2.00×', 'no (p99)'],
    ],
  );
  assert.equal(
    versusBaseline([r('kuik', 'a', 100, 10), r('ours', 'a', 100, 10)], 'kuik')[0]![8],
    'no (throughput)',
  );
});

test('a tarpit accepts connections and never answers', async () => {
  const t = await tarpit();
  const [host, port] = t.host.split(':');
  const s = connect(Number(port), host);
  let data = false;
  s.on('data', () => {
    data = true;
  });
  await new Promise((res) => s.once('connect', res));
  s.write('HEAD /v2/ HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((res) => setTimeout(res, 200));
  assert.equal(data, false);
  const closed = new Promise((res) => s.once('close', res));
  await t.close(); // and close ends the connections it holds
  await closed;
});

test('routingCRs makes the asked number of each kind, namespaced ones in the namespace', () => {
  const crs = routingCRs({
    host: 'r:5000',
    namespace: 'n',
    prefix: 'p-',
    cism: 2,
    ism: 3,
    cris: 1,
    ris: 4,
  }) as {
    kind: string;
    metadata: { name: string; namespace?: string };
  }[];
  const count = (k: string) => crs.filter((c) => c.kind === k).length;
  assert.deepEqual(
    [
      count('ClusterImageSetMirror'),
      count('ImageSetMirror'),
      count('ClusterReplicatedImageSet'),
      count('ReplicatedImageSet'),
    ],
    [2, 3, 1, 4],
  );
  assert.ok(crs.every((c) => c.metadata.name.startsWith('p-')));
  assert.ok(crs.filter((c) => !c.kind.startsWith('Cluster')).every((c) => c.metadata.namespace === 'n'));
});
