// Talking to a running local stack: `npm run stack -- upstream down|up|status`. The stack listens
// on a unix socket in its own run directory; one line in, one line out. Making the upstream
// registry unavailable (its process stopped, its port closed) and available again is what lets a
// person watch the router send a pod to the mirror.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive } from './proc.ts';
import type { RunningRegistry } from './registry.ts';

export const CONTROL_SOCKET = 'control.sock';

const running = (r: RunningRegistry) => r.proc.child.exitCode === null && r.proc.child.signalCode === null;

/** What a command does to the stack, and the line it answers. */
export async function handleCommand(line: string, upstream: RunningRegistry): Promise<string> {
  const host = upstream.info.host;
  switch (line.trim()) {
    case 'upstream down':
      if (running(upstream)) await upstream.stop();
      return `upstream ${host} is down (its registry stopped; \`upstream up\` starts it again)`;
    case 'upstream up':
      if (!running(upstream)) await upstream.restart();
      return `upstream ${host} is up`;
    case 'upstream status':
      return `upstream ${host} is ${running(upstream) ? 'up' : 'down'}`;
    default:
      throw new Error(`unknown command ${JSON.stringify(line.trim())}: want upstream down|up|status`);
  }
}

/** Serves commands on RUN_DIR/control.sock until close(). */
export async function serveControl(runDir: string, upstream: RunningRegistry): Promise<Server> {
  const server = createServer((conn) => {
    let buf = '';
    conn.setEncoding('utf8');
    conn.on('error', () => {});
    conn.on('data', (d) => {
      buf += d;
      if (!buf.includes('\n')) return;
      handleCommand(buf.split('\n')[0]!, upstream).then(
        (answer) => conn.end(`ok ${answer}\n`),
        (err: Error) => conn.end(`error ${err.message}\n`),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(join(runDir, CONTROL_SOCKET), resolve);
  });
  server.unref();
  return server;
}

/** The run directory of the stack to talk to: $KUIK_STACK_DIR, else the only live one. */
export function findStack(env: NodeJS.ProcessEnv = process.env): string {
  const named = env['KUIK_STACK_DIR'];
  if (named) {
    if (!existsSync(join(named, CONTROL_SOCKET))) throw new Error(`no stack runs in ${named}`);
    return named;
  }
  const live = readdirSync(tmpdir())
    .filter((n) => n.startsWith('kuik-harness-'))
    .map((n) => join(tmpdir(), n))
    .filter((d) => {
      if (!existsSync(join(d, CONTROL_SOCKET))) return false;
      const owner = Number(readFileSync(join(d, 'owner'), 'utf8'));
      return Number.isFinite(owner) && isAlive(owner);
    });
  if (live.length !== 1) {
    throw new Error(
      live.length === 0
        ? 'no local stack is running: start one with `npm start`'
        : `${live.length} local stacks are running: say which with KUIK_STACK_DIR (printed by npm start)`,
    );
  }
  return live[0]!;
}

/** Sends one command to the stack in `runDir`; resolves with its answer, rejects with its error. */
export async function sendCommand(runDir: string, command: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    let answer = '';
    const conn = createConnection(join(runDir, CONTROL_SOCKET));
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(`${command}\n`));
    conn.on('data', (d) => (answer += d));
    conn.on('error', reject);
    conn.on('end', () => {
      const line = answer.trim();
      if (line.startsWith('ok ')) resolve(line.slice(3));
      else reject(new Error(line.replace(/^error /, '') || 'the stack closed the connection'));
    });
  });
}
