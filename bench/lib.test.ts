import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import {
  benchArgs,
  heapSummary,
  load,
  percentile,
  routingCRs,
  summarize,
  table,
  tarpit,
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
