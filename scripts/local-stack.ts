// `npm start`: the whole system on this machine (tests/harness/stack.ts), until Ctrl-C.
// `npm start -- --cluster`: the same on a real single-node Knative cluster (scripts/cluster-stack.ts).
//
// Nothing outlives it: Ctrl-C, SIGTERM and SIGHUP (the terminal closed) stop every part and remove
// the run's directories; if this process dies any other way (SIGKILL, a crash), the harness's
// watchdog (tests/harness/supervisor.sh) does the same.
import { stackGuide, startStack } from '../tests/harness/stack.ts';

// A closed terminal turns writes into EIO/EPIPE: that must not keep the stop from finishing.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});

const t0 = performance.now();
let stopStack: () => Promise<void>;
if (process.argv.includes('--cluster')) {
  const { startClusterStack } = await import('./cluster-stack.ts');
  const stack = await startClusterStack();
  stopStack = stack.stop;
  console.log(stack.guide);
  console.log(`(ready in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
} else {
  const stack = await startStack();
  stopStack = stack.stop;
  console.log(stackGuide(stack));
  console.log(
    `(ready in ${((performance.now() - t0) / 1000).toFixed(1)} s; state file ${stack.harness.stateFile})`,
  );
}

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping…');
  await stopStack();
  process.exit(0);
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop());
setInterval(() => {}, 1 << 30);
