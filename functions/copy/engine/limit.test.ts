import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostLimit, Semaphore } from './limit.ts';

describe('Semaphore', () => {
  it('never runs more than its capacity at once, and runs everything', async () => {
    const s = new Semaphore(2);
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    await Promise.all(
      [0, 1, 2, 3, 4, 5].map((i) =>
        s.run(async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setImmediate(r));
          running--;
          done.push(i);
        }),
      ),
    );
    assert.equal(peak, 2);
    assert.deepEqual(
      done.sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5],
    );
    assert.equal(s.inUse, 0);
  });

  it('frees the slot when the work throws, and a double release is harmless', async () => {
    const s = new Semaphore(1);
    await assert.rejects(
      s.run(async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    const release = await s.acquire();
    release();
    release();
    assert.equal(s.inUse, 0);
  });

  it('is shared per host across callers', () => {
    assert.equal(hostLimit('h.example:5000', 4), hostLimit('h.example:5000', 8));
    assert.notEqual(hostLimit('h.example:5000', 4), hostLimit('other.example', 4));
  });
});
