// The watchdog alone (tests/harness/supervisor.sh): while its owner's pipe is open it does nothing;
// once the owner is gone — here killed with SIGKILL — it kills the recorded process groups and
// removes the directories. The whole stack killed every way: stack-orphans.cluster.int.test.ts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventually } from './fixtures.ts';
import { isAlive } from './proc.ts';
import { repoRoot } from './tools.ts';

test('when its owner is killed, the watchdog kills the recorded process groups and removes the directories', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kuik-supervisor-test-'));
  const other = mkdtempSync(join(tmpdir(), 'kuik-supervisor-test-'));
  // A part that forks: the watchdog must take its whole process group.
  const part = spawn('bash', ['-c', 'sleep 300 & sleep 300; wait'], { detached: true, stdio: 'ignore' });
  const pids = join(dir, 'pids');
  writeFileSync(pids, `${part.pid} part\n`);
  // The owner: a process holding the watchdog's pipe, as startHarness does.
  const owner = spawn(
    process.execPath,
    [
      '-e',
      `const { spawn } = require('node:child_process');
       const w = spawn('bash', [process.argv[1], ...process.argv.slice(2)], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
       console.log(w.pid);
       setInterval(() => {}, 1e6);`,
      join(repoRoot, 'tests/harness/supervisor.sh'),
      pids,
      dir,
      other,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const watchdog = Number(await new Promise<string>((r) => owner.stdout.once('data', (d) => r(String(d)))));
  try {
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(isAlive(part.pid!) && isAlive(watchdog), 'nothing happens while the owner lives');
    assert.ok(existsSync(dir) && existsSync(other));

    owner.kill('SIGKILL');
    await eventually('the part killed and the directories removed', async () =>
      !isAlive(part.pid!) && !existsSync(dir) && !existsSync(other) && !isAlive(watchdog) ? true : undefined,
    );
  } finally {
    owner.kill('SIGKILL');
    try {
      process.kill(-part.pid!, 'SIGKILL');
    } catch {
      // Gone, as it should be.
    }
  }
});
