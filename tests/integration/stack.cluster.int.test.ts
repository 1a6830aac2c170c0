// `npm start` as a new user runs it: the stack comes up and prints a walk-through; the
// walk-through, run with bash exactly as printed, mirrors an image, gets a pod routed to the mirror
// once the upstream is made unavailable, and shows the monitor's availability status; Ctrl-C then
// stops every process the stack started and removes its directories.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { errorMessage } from '#shared/errors.ts';
import { extractWalkthrough } from '../harness/stack.ts';
import { assertNoLeftovers, killGroup, startStackProcess, userEnv } from '../harness/stack-process.ts';

/** Runs a bash script file; resolves with its exit code and output. */
async function bash(file: string, cwd: string): Promise<{ code: number | null; out: string }> {
  const child = spawn('bash', ['-e', file], { cwd, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  return { code, out };
}

test('npm start: the printed walk-through runs as printed (mirrored, routed, monitored); Ctrl-C leaves nothing behind', {
  timeout: 1_200_000,
}, async () => {
  const t0 = performance.now();
  const s = await startStackProcess('npm', ['start', '--silent']);
  const dir = await mkdtemp(join(tmpdir(), 'kuik-walkthrough-test-'));
  try {
    console.log(`stack ready after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const printed = extractWalkthrough(s.output());
    assert.ok(printed, 'npm start prints the walk-through between its markers');
    // Pastes cleanly: no indented line outside a heredoc body, every heredoc ends unindented.
    assert.doesNotMatch(printed, /^\s+EOF$/m);
    assert.doesNotMatch(printed, /\/tmp\/demo/);
    assert.match(printed, /^kubectl -n demo wait ism\/demo --for=jsonpath=/m);

    // Exactly as printed, from a directory of its own, in a shell with nothing of ours set.
    const file = join(dir, 'walkthrough.sh');
    await writeFile(file, `${printed}\n`);
    const run = await bash(file, dir);
    assert.equal(run.code, 0, `the walk-through failed:\n${run.out.slice(-6000)}`);
    const { tls: upstream, token: mirror } = s.state.registries;
    // Mirrored: the ISM status names the mirror; the mirror serves the two-platform index.
    assert.match(run.out, new RegExp(`"image":"${mirror.host}/mirror/demo/app:v1","mirroredAt":"`));
    assert.match(run.out, /"platform":\{"os":"linux","architecture":"arm64"\}/);
    // Routed because the upstream went away, and the router says why.
    assert.match(run.out, new RegExp(`upstream ${upstream.host} is down`));
    assert.match(run.out, /"reason":"OnFailure"/);
    // kuik explain, in the walk-through's shell: the router's configuration and CA, so the same
    // verdict as the router (it said AllUnavailable, certificate unverified, before).
    assert.match(run.out, /configuration: ConfigMap kuik-system\/kuik-config/);
    assert.match(run.out, new RegExp(`→ ${mirror.host}/mirror/demo/app:v1 +\\(OnFailure`));
    assert.doesNotMatch(run.out, /unable to verify the first certificate/);
    // The monitor saw it available, then unreachable; and the upstream came back.
    assert.match(run.out, /"status":"Unreachable"/);
    assert.match(run.out, new RegExp(`upstream ${upstream.host} is up`));

    // Ctrl-C in a terminal signals the whole foreground process group: npm and the stack.
    process.kill(-s.child.pid!, 'SIGINT');
    const end = await s.exited;
    assert.ok(end.code === 0 || end.code === 130 || end.signal === 'SIGINT', JSON.stringify(end));
    assert.match(s.output(), /stopping/);
    await assertNoLeftovers(s);
  } catch (err) {
    throw new Error(`${errorMessage(err)}\n--- npm start output ---\n${s.output().slice(-4000)}`);
  } finally {
    killGroup(s.child);
    await rm(dir, { recursive: true, force: true });
  }
});
