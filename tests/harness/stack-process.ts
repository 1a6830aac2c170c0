// Starting the local stack the way a person does, for the stack's own tests: a process of its own,
// its output collected, the state it prints read back.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '#shared/errors.ts';
import type { HarnessState } from './env.ts';
import { eventually } from './fixtures.ts';
import { isAlive } from './proc.ts';
import { repoRoot } from './tools.ts';

/** The environment of a person's shell: nothing of the test run's own harness. */
export function userEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['KUBECONFIG', 'KUIK_HARNESS_STATE', 'KUIK_STACK_DIR', 'KUIK_KEEP_HARNESS']) delete env[k];
  return env;
}

export interface StartedStack {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: string | null }>;
  state: HarnessState;
  /** Every process the run recorded, and its watchdog. */
  pids: number[];
}

/** Runs `cmd args` in the repository (own process group) until it prints that the stack is ready. */
export async function startStackProcess(cmd: string, args: string[]): Promise<StartedStack> {
  const child = spawn(cmd, args, {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: userEnv(),
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) =>
    child.on('exit', (code, signal) => r({ code, signal })),
  );
  try {
    // A loaded machine has taken minutes (docs/testing.md): generous.
    const stateFile = await eventually(
      'the stack ready',
      async () => {
        if (child.exitCode !== null) throw new Error('exited');
        return /state file (\S+)\)/.exec(out)?.[1];
      },
      600_000,
      500,
    );
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as HarnessState;
    const pids = readFileSync(join(state.runDir, 'pids'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => Number(l.split(' ')[0]))
      .concat(state.watchdogPid);
    return { child, output: () => out, exited, state, pids };
  } catch (err) {
    killGroup(child);
    throw new Error(`${errorMessage(err)}\n--- output ---\n${out.slice(-4000)}`);
  }
}

export function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** What is left of a stopped stack: live processes and directories (both should be empty). */
/** Waits until nothing of `s` is left (generously: a clean stop takes a while); fails listing what is. */
export async function assertNoLeftovers(s: StartedStack): Promise<void> {
  await eventually(
    'every process gone, every directory removed',
    async () => (leftovers(s).length === 0 ? true : undefined),
    120_000,
    500,
  ).catch(() => assert.deepEqual(leftovers(s), []));
}

export function leftovers(s: StartedStack): string[] {
  return [
    ...s.pids.filter((p) => p > 1 && isAlive(p)).map((p) => `process ${p}`),
    ...[s.state.runDir, s.state.etcdDir].filter((d) => existsSync(d)).map((d) => `directory ${d}`),
  ];
}
