// The monitor's tick endpoint takes unauthenticated POSTs (OpenFaaS's cron-connector form), and
// one tick lists CISAs and pods cluster-wide: twenty POSTs must cost what one does (issue 18).
// Cluster-wide, because a tick lists every pod. (reconcile's resync trigger coalesces the same
// way: functions/reconcile/resync.test.ts.)
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { uniq } from '../harness/fixtures.ts';
import { type RunningFunction, startFunction } from '../harness/functions.ts';

let monitor: RunningFunction | undefined;
after(async () => {
  await monitor?.stop();
});

test('twenty cron-connector POSTs in a row cost one tick: the others are answered Coalesced', async () => {
  // Owns no CISA (nothing to probe); the tick still lists and records itself.
  monitor = await startFunction('monitor', {
    env: { KUIK_MONITOR_CISA_SELECTOR: `kuik-test/edges=${uniq('none')}` },
  });
  const answers: { outcome?: string; reason?: string; id?: string }[] = [];
  for (let i = 0; i < 20; i++) {
    const r = await fetch(`http://127.0.0.1:${monitor.port}/`, {
      method: 'POST',
      headers: { 'x-connector': 'cron-connector', 'x-topic': 'cron-function' },
    });
    assert.equal(r.status, 200, await r.clone().text());
    answers.push((await r.json()) as (typeof answers)[number]);
  }
  const ticks = answers.filter((a) => a.outcome !== 'Coalesced');
  assert.equal(ticks.length, 1, JSON.stringify(answers));
  assert.ok(answers[0]?.id, 'the first POST ran the tick');
  assert.ok(
    answers.slice(1).every((a) => a.outcome === 'Coalesced' && a.reason === 'TooSoon'),
    JSON.stringify(answers.slice(1)),
  );
  const metrics = await (await fetch(`http://127.0.0.1:${monitor.port}/metrics`)).text();
  assert.match(metrics, /kube_image_keeper_monitor_ticks_total\{outcome="Coalesced",function="monitor"\} 19/);
});
