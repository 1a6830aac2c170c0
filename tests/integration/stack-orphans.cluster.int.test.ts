// No orphans: whatever ends the stack's own process — SIGHUP (the terminal closed), SIGTERM, or
// SIGKILL standing for a crash — no process it started and none of its directories survive it.
// HUP and TERM take the stack's own clean stop; KILL leaves it no chance, so the run's watchdog
// (tests/harness/supervisor.sh) does the cleaning.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertNoLeftovers, killGroup, leftovers, startStackProcess } from '../harness/stack-process.ts';

for (const signal of ['SIGHUP', 'SIGTERM', 'SIGKILL'] as const) {
  test(`the stack's process ended by ${signal}: no process and no directory left behind`, {
    timeout: 900_000,
  }, async () => {
    // The stack's own process, as `npm start` runs it after setup.
    const s = await startStackProcess(process.execPath, ['scripts/local-stack.ts']);
    try {
      assert.ok(s.pids.length >= 10, `the stack recorded its processes: ${s.pids.join(' ')}`);
      assert.deepEqual(leftovers(s).filter((l) => l.startsWith('directory')).length, 2);
      process.kill(s.child.pid!, signal);
      const end = await s.exited;
      if (signal === 'SIGKILL') assert.equal(end.signal, 'SIGKILL');
      else {
        assert.equal(end.code, 0, `a clean stop: ${JSON.stringify(end)}\n${s.output().slice(-2000)}`);
        assert.match(s.output(), /stopping/);
      }
      await assertNoLeftovers(s);
    } finally {
      killGroup(s.child);
    }
  });
}
