// Child processes for the harness: each real part runs in its own process group with its output in
// a log file, is recorded in the run directory, and is killed by PID at teardown. A later run
// reaps what a crashed run left behind (see reapLeftovers in start.ts).

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { appendFileSync, openSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { errorMessage } from '#shared/errors.ts';

const execFileP = promisify(execFile);

export interface Proc {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<number | string>;
}

/** Listens on a free loopback port and returns it (`what` names the server in the error). */
export async function listenLocal(server: Server, what: string, port = 0): Promise<number> {
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error(`${what}: no address`);
  return addr.port;
}

/** A free TCP port on 127.0.0.1 (bind to 0, read it, release it). */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') return reject(new Error('no port'));
      srv.close(() => resolve(addr.port));
    });
  });
}

export function startProc(
  runDir: string,
  name: string,
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Proc {
  const logFile = join(runDir, 'logs', `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(cmd, args, {
    // A process group of its own, so teardown can kill the part and anything it forked.
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...env },
  });
  if (child.pid !== undefined) appendFileSync(join(runDir, 'pids'), `${child.pid} ${name}\n`);
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    child.on('error', (err) => {
      appendFileSync(logFile, `\nspawn error: ${err.message}\n`);
      resolve('spawn-error');
    });
  });
  return { name, child, logFile, exited };
}

/** SIGTERM the process group, then SIGKILL it if it has not exited within graceMs. */
export async function stopProc(p: Proc, graceMs = 5000): Promise<void> {
  const pid = p.child.pid;
  if (pid === undefined || p.child.exitCode !== null || p.child.signalCode !== null) return;
  killGroup(pid, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise((r) => {
    timer = setTimeout(r, graceMs, 'timeout');
  });
  // Cleared once the process is gone: a long grace must not hold the test process open.
  const outcome = await Promise.race([p.exited, grace]).finally(() => clearTimeout(timer));
  if (outcome === 'timeout') {
    killGroup(pid, 'SIGKILL');
    await p.exited;
  }
}

export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` every intervalMs until it returns true; fails with the last error and the log tail. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  {
    timeoutMs = 90_000,
    intervalMs = 200,
    proc,
  }: { timeoutMs?: number; intervalMs?: number; proc?: Proc } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    if (proc && (proc.child.exitCode !== null || proc.child.signalCode !== null)) {
      throw new Error(`${what}: ${proc.name} exited early; see ${proc.logFile}`);
    }
    try {
      if (await check()) return;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const detail = lastErr === undefined ? '' : `: ${errorMessage(lastErr)}`;
  throw new Error(`${what}: not ready after ${timeoutMs} ms${detail}${proc ? `; see ${proc.logFile}` : ''}`);
}

/** Runs a command to completion; throws with its stderr on failure. */
export async function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
): Promise<string> {
  try {
    const p = execFileP(cmd, args, {
      env: { ...process.env, ...opts.env },
      cwd: opts.cwd,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (opts.input !== undefined) {
      p.child.stdin?.end(opts.input);
    }
    const { stdout } = await p;
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}
