import assert from 'node:assert/strict';
import { test } from 'node:test';
import { benchArgs, load, percentile, summarize, table } from './lib.ts';

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
