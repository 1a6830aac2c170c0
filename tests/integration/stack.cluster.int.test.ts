// `npm start` as a new user runs it: the stack comes up, a Pod and an ImageSetMirror made with
// kubectl get the image mirrored (same digest) and, once the upstream loses the tag, the next Pod
// routed to the mirror; Ctrl-C stops every process it started.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { HarnessState } from '../harness/env.ts';
import { eventually } from '../harness/fixtures.ts';
import { isAlive, run } from '../harness/proc.ts';
import { inspectRaw, seedImage } from '../harness/registry.ts';
import { repoRoot } from '../harness/tools.ts';

test('npm start: mirror an image with kubectl, route a pod to it, stop cleanly with Ctrl-C', {
  timeout: 300_000,
}, async () => {
  const child: ChildProcess = spawn('npm', ['start', '--silent'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) =>
    child.on('exit', (code, signal) => r({ code, signal })),
  );
  try {
    const stateFile = await eventually('the stack', async () => /state file (\S+)\)/.exec(out)?.[1], 180_000);
    assert.match(out, /export KUBECONFIG=/);
    assert.match(out, /Ctrl-C stops everything/);
    const s = JSON.parse(readFileSync(stateFile, 'utf8')) as HarnessState;
    const k = (args: string[], input?: string) =>
      run(s.bins.kubectl, ['--kubeconfig', s.kubeconfig, ...args], input === undefined ? {} : { input });
    const { tls: upstream, token: mirror } = s.registries;
    const seeded = await seedImage(upstream, 'demo/app', 'v1', {
      layoutDir: join(s.runDir, 'layouts'),
    });

    await k(['create', 'namespace', 'demo']);
    await k([
      '-n',
      'demo',
      'create',
      'secret',
      'docker-registry',
      'mirror-push',
      `--docker-server=${mirror.host}`,
      `--docker-username=${mirror.username}`,
      `--docker-password=${mirror.password}`,
    ]);
    await k([
      '-n',
      'demo',
      'create',
      'secret',
      'docker-registry',
      'upstream-pull',
      `--docker-server=${upstream.host}`,
      `--docker-username=${upstream.username}`,
      `--docker-password=${upstream.password}`,
    ]);
    await k(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'kuik.enix.io/v1alpha1',
        kind: 'ImageSetMirror',
        metadata: { name: 'demo', namespace: 'demo' },
        spec: {
          filter: { include: [{ image: `${upstream.host.replace(/\./g, '\\.')}/.*` }] },
          mirrors: [{ registry: mirror.host, path: 'mirror', credentialSecret: { name: 'mirror-push' } }],
        },
      }),
    );
    await k([
      '-n',
      'demo',
      'run',
      'app',
      `--image=${seeded.ref}`,
      '--overrides',
      JSON.stringify({ spec: { imagePullSecrets: [{ name: 'upstream-pull' }] } }),
    ]);
    await eventually(
      'mirroredAt',
      async () => {
        const ism = JSON.parse(await k(['-n', 'demo', 'get', 'ism', 'demo', '-o', 'json'])) as {
          status?: { matchingImages?: { mirrors?: { mirroredAt?: string }[] }[] };
        };
        return ism.status?.matchingImages?.[0]?.mirrors?.[0]?.mirroredAt;
      },
      120_000,
    );
    const copied = await inspectRaw(mirror, `${mirror.host}/mirror/demo/app:v1`);
    assert.equal(copied.digest, seeded.digest, 'the mirror holds the same image (digest preserved)');

    // The upstream loses the tag: the next pod is routed to the mirror.
    await run('skopeo', [
      'delete',
      `--creds=${upstream.username}:${upstream.password}`,
      `--cert-dir=${upstream.certDir}`,
      `docker://${seeded.ref}`,
    ]);
    // The router reuses a probe verdict for routing.activeCheck.cacheTTL (1 s by default, as kuik).
    await new Promise((r) => setTimeout(r, 1500));
    // A probe can time out on a loaded CI machine (the router then keeps the image, as designed):
    // a few pods, and the router's own account of each decision if none is routed.
    const routed = `${mirror.host}/mirror/demo/app:v1`;
    let image = '';
    let why = '';
    for (let i = 2; i <= 4 && image !== routed; i++) {
      await k([
        '-n',
        'demo',
        'run',
        `app${i}`,
        `--image=${seeded.ref}`,
        '--overrides',
        JSON.stringify({ spec: { imagePullSecrets: [{ name: 'upstream-pull' }] } }),
      ]);
      image = await k(['-n', 'demo', 'get', 'pod', `app${i}`, '-o', 'jsonpath={.spec.containers[0].image}']);
      why += `\napp${i}: ${await k(['-n', 'demo', 'get', 'pod', `app${i}`, '-o', 'jsonpath={.metadata.annotations.kuik\\.enix\\.io/decisions}'])}`;
    }
    assert.equal(image, routed, why);

    // Ctrl-C: everything the stack started is gone.
    const pids = readFileSync(join(s.runDir, 'pids'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => Number(l.split(' ')[0]));
    // Ctrl-C in a terminal signals the whole foreground process group: npm and the stack.
    process.kill(-child.pid!, 'SIGINT');
    const end = await exited;
    assert.ok(end.code === 0 || end.code === 130 || end.signal === 'SIGINT', JSON.stringify(end));
    await eventually(
      'the stack stopped',
      async () => (out.includes('stopping') && !existsSync(s.runDir) ? true : undefined),
      30_000,
    );
    for (const pid of pids) assert.equal(isAlive(pid), false, `process ${pid} still alive`);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- npm start output ---\n${out.slice(-4000)}`);
  } finally {
    try {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});
