// The test command: finds the test files, starts the harness when any of them is an integration
// test (`*.int.test.ts`), runs them all with node's test runner, and tears the harness down
// whatever happens. Usage: node tests/run.ts [--unit] [FILE...]
//
// Three phases. First every file but the cluster-wide ones, four at a time: each works in its own
// namespaces and repositories. Then the cluster-wide ones (`*.cluster.int.test.ts`), one at a
// time: they run what acts on every object of the cluster (an ApiServerSource watching all
// namespaces, reconcile's resync, which reconciles every mirror set), which would rewrite the
// hand-made objects of files running beside them. Last, with the harness stopped (its CPU back),
// the real-cluster files (`*.realcluster.test.ts`, tests/cluster/): each starts a real node with
// Knative in a network namespace of its own and installs the project on it (or, for one, runs the
// containerd built for that node). Their builds
// (tests/cluster/build.sh; a no-op once cached) run beside the first two phases at the lowest CPU
// priority, filling what the waiting tests leave idle: on a fresh machine that is most of an hour
// of Go builds taken out of the run's wall time (docs/testing.md).

import { spawn } from 'node:child_process';
import { openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { errorMessage } from '#shared/errors.ts';
import { type Harness, startHarness } from './harness/start.ts';
import { repoRoot } from './harness/tools.ts';

const ROOTS = ['shared', 'functions', 'tests', 'bench', 'scripts', 'cli'];

function findTests(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) findTests(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(repoRoot, p));
  }
  return out;
}

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const named = args.filter((a) => !a.startsWith('--'));
let files = named.length > 0 ? named : ROOTS.flatMap((r) => findTests(join(repoRoot, r))).sort();
if (unitOnly) files = files.filter((f) => !f.endsWith('.int.test.ts'));
const isReal = (f: string) => f.endsWith('.realcluster.test.ts');
if (unitOnly) files = files.filter((f) => !isReal(f));
const needsHarness = files.some((f) => f.endsWith('.int.test.ts'));
const real = files.filter(isReal);

/** tests/cluster/build.sh at nice 19, its output in a log file; resolves to its exit code. */
function startClusterBuild(): { done: Promise<number>; log: string; stop(): void } {
  const log = join(tmpdir(), `kuik-cluster-build-${process.pid}.log`);
  const child = spawn('nice', ['-n', '19', 'bash', 'tests/cluster/build.sh'], {
    cwd: repoRoot,
    stdio: ['ignore', openSync(log, 'w'), openSync(log, 'a')],
    // Its own process group, so that stopping the run stops every go build under it.
    detached: true,
  });
  const done = new Promise<number>((resolve) => {
    child.on('error', () => resolve(1));
    child.on('exit', (c) => resolve(c ?? 1));
  });
  return {
    done,
    log,
    stop: () => {
      if (child.exitCode === null && child.pid) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {}
      }
    },
  };
}
const clusterBuild = real.length > 0 ? startClusterBuild() : undefined;
if (clusterBuild) console.log(`cluster build: beside the tests, at nice 19 (log ${clusterBuild.log})`);

let harness: Harness | undefined;
let stopping = false;
const teardown = async () => {
  if (stopping || !harness) return;
  stopping = true;
  await harness.stop();
};
process.on('exit', () => clusterBuild?.stop());
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    void teardown().finally(() => process.exit(130));
  });
}

let code = 1;
try {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (needsHarness) {
    const t0 = Date.now();
    harness = await startHarness();
    env['KUIK_HARNESS_STATE'] = harness.stateFile;
    const steps = Object.entries(harness.timings)
      .map(([k, v]) => `${k}=${v}ms`)
      .join(' ');
    console.log(`harness: ready in ${Date.now() - t0} ms (${steps}); kubeconfig ${harness.state.kubeconfig}`);
  }
  // Integration files spend their time waiting on real processes, so run a few side by side even
  // on two cores; each test uses its own namespace and repository.
  const concurrency = process.env['KUIK_TEST_CONCURRENCY'] ?? '4';
  const clusterWide = files.filter((f) => f.endsWith('.cluster.int.test.ts'));
  const sideBySide = files.filter((f) => !clusterWide.includes(f) && !real.includes(f));
  const phases = [
    { name: 'side by side', files: sideBySide, concurrency },
    { name: 'cluster-wide, one at a time', files: clusterWide, concurrency: '1' },
    { name: 'real cluster (kubelet, containerd, Knative), one at a time', files: real, concurrency: '1' },
  ].filter((p) => p.files.length > 0);
  const codes: number[] = [];
  for (const phase of phases) {
    if (phase.files === real && clusterBuild) {
      const t0 = Date.now();
      const rc = await clusterBuild.done;
      console.log(`cluster build: exit ${rc}, waited ${Math.round((Date.now() - t0) / 1000)} s for it`);
      if (rc !== 0) {
        const tail = readFileSync(clusterBuild.log, 'utf8').split('\n').slice(-30).join('\n');
        console.error(`cluster build failed (tests/cluster/build.sh, log ${clusterBuild.log}):\n${tail}`);
        codes.push(rc);
        continue;
      }
    }
    if (phase.files === real) await teardown();
    if (phases.length > 1) console.log(`\n=== ${phase.name}: ${phase.files.length} files ===`);
    const child = spawn(
      process.execPath,
      ['--test', `--test-concurrency=${phase.concurrency}`, '--test-reporter=spec', ...phase.files],
      { stdio: 'inherit', env, cwd: repoRoot },
    );
    codes.push(await new Promise<number>((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0)))));
  }
  code = codes.find((c) => c !== 0) ?? 0;
} catch (err) {
  console.error(`test run failed before the tests: ${errorMessage(err)}`);
  code = 1;
} finally {
  await teardown();
}
process.exit(code);
