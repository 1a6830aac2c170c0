import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isAlive } from './proc.ts';
import { reapLeftovers } from './start.ts';

test('a later run kills what a crashed run left behind, and leaves a live run alone', async () => {
  // A crashed run: its owner process is gone, one of its parts still runs.
  const dead = spawnSync('true').pid;
  const orphan = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
  const crashed = mkdtempSync(join(tmpdir(), 'kuik-harness-'));
  writeFileSync(join(crashed, 'owner'), String(dead));
  writeFileSync(join(crashed, 'pids'), `${orphan.pid} registry-tls\n`);
  // A live run (this process owns it).
  const live = mkdtempSync(join(tmpdir(), 'kuik-harness-'));
  writeFileSync(join(live, 'owner'), String(process.pid));

  const exited = new Promise((r) => orphan.on('exit', r));
  const reaped = reapLeftovers();
  await exited;
  assert.ok(reaped.includes(crashed));
  assert.equal(isAlive(orphan.pid!), false);
  assert.equal(existsSync(crashed), false);
  assert.equal(existsSync(live), true);
  spawnSync('rm', ['-rf', live]);
});
