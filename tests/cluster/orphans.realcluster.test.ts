// A real-cluster run killed with SIGKILL leaves nothing behind: its watchdog kills the node's
// processes and the pods, unmounts, removes the cgroups and the network namespace, and restores
// the host's sysctls (tests/cluster/teardown.sh).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { errorMessage } from '#shared/errors.ts';
import { run, waitFor } from '../harness/proc.ts';
import { repoRoot } from '../harness/tools.ts';

const SYSCTLS = ['vm.overcommit_memory', 'kernel.panic', 'kernel.panic_on_oops'];

test('a real-cluster run killed with SIGKILL: no process, mount, cgroup, namespace or changed sysctl remains', {
  timeout: 900_000,
}, async () => {
  const before = await Promise.all(SYSCTLS.map(async (k) => (await run('sysctl', ['-n', k])).trim()));
  const script = [
    `import { startCluster } from ${JSON.stringify(join(repoRoot, 'tests/cluster/start.ts'))};`,
    'const c = await startCluster({ knative: false });',
    'const pause = c.tools.images.pause;',
    "await c.k('create', 'deployment', 'p', '--image=10.201.0.1:5000/' + pause.name + ':' + pause.tag);",
    "await c.k('rollout', 'status', 'deployment/p', '--timeout=300s');",
    'console.log(JSON.stringify({ runDir: c.runDir, cgroupRoot: c.cgroupRoot }));',
    'setInterval(() => {}, 1 << 30);',
  ].join('\n');
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  await waitFor('the cluster up, a pod Running', async () => out.includes('runDir'), {
    timeoutMs: 600_000,
    intervalMs: 500,
  });
  const { runDir, cgroupRoot } = JSON.parse(out.slice(out.indexOf('{'))) as {
    runDir: string;
    cgroupRoot: string;
  };
  const netns = readFileSync(join(runDir, 'cluster.env'), 'utf8').match(/^NETNS=(.*)$/m)![1]!;
  assert.ok((await run('ip', ['netns', 'list'])).includes(netns), 'the namespace exists while the run lives');
  child.kill('SIGKILL');

  const leftovers = async () => {
    const procs = (await run('ps', ['-eo', 'args'])).split('\n').filter((l) => l.includes(runDir));
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => l.includes(runDir));
    const cgroups = ['memory', 'pids', 'cpu'].filter((h) =>
      existsSync(join('/sys/fs/cgroup', h, cgroupRoot)),
    );
    const ns = (await run('ip', ['netns', 'list'])).includes(netns);
    return { procs, mounts, cgroups, ns, dir: existsSync(runDir) };
  };
  await waitFor(
    'the watchdog undoes the run',
    async () => {
      const l = await leftovers();
      return l.procs.length === 0 && l.mounts.length === 0 && l.cgroups.length === 0 && !l.ns && !l.dir;
    },
    { timeoutMs: 120_000, intervalMs: 1000 },
  ).catch(async (err) => {
    throw new Error(`${errorMessage(err)}: ${JSON.stringify(await leftovers())}`);
  });
  const after = await Promise.all(SYSCTLS.map(async (k) => (await run('sysctl', ['-n', k])).trim()));
  assert.deepEqual(after, before);
});
