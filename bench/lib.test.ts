import assert from 'node:assert/strict';
import { test } from 'node:test';
import { benchArgs, heapSummary, load, percentile, replicaSetPod, summarize, table } from './lib.ts';

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
