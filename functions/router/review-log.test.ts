import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '#shared/log.ts';
import type { ContainerDecision } from './decide.ts';
import type { Handled } from './handle.ts';
import { reviewLog } from './review-log.ts';

function lines(level: string) {
  const out: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l) out.push(JSON.parse(l));
      cb();
    },
  });
  return { log: createLogger('router', level, sink), out };
}

const decision = (container: string, by: string): ContainerDecision => ({
  container,
  slot: 'containers',
  key: container,
  original: 'registry.down/app:1',
  chosen: by === 'original' ? 'registry.down/app:1' : 'mirror/app:1',
  by,
  reason: by === 'original' ? 'OriginalAvailable' : 'OnFailure',
  rejected: [],
  alternatives: [],
});
const handled = (i: number): Handled =>
  ({
    status: 200,
    body: {},
    outcome: 'rerouted',
    request: { uid: `u${i}`, operation: 'CREATE', namespace: 'shop', dryRun: false, object: {} },
    admission: {
      mutated: {},
      notes: [],
      decisions: [decision('api', 'ClusterImageSetMirror/global'), decision('sidecar', 'original')],
    },
  }) as never;

test('at info, 100 reviews rerouted alike log one line, and nothing for a container that kept its image', () => {
  const { log, out } = lines('info');
  const r = reviewLog(log);
  for (let i = 0; i < 100; i++) r.review(handled(i), 0.001);
  r.stop();
  assert.equal(out.length, 1);
  assert.equal(out[0]?.['msg'], 'routing decision');
  assert.equal(out[0]?.['container'], 'api');
});

test('at debug, every decision of every review is logged', () => {
  const { log, out } = lines('debug');
  const r = reviewLog(log);
  for (let i = 0; i < 100; i++) r.review(handled(i), 0.001);
  r.stop();
  assert.equal(out.filter((l) => l['msg'] === 'routing decision').length, 200);
});

test('the repeats are reported once the window is over, with their count', async () => {
  const { log, out } = lines('info');
  const r = reviewLog(log, { windowMs: 50 });
  for (let i = 0; i < 10; i++) r.review(handled(i), 0.001);
  await new Promise((res) => setTimeout(res, 150));
  r.stop();
  const repeated = out.find((l) => l['msg'] === 'routing decision (repeated)');
  assert.equal(repeated?.['repeated'], 9);
});
