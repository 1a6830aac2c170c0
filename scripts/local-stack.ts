// `npm start`: the whole system on this machine (tests/harness/stack.ts), until Ctrl-C.
import { stackGuide, startStack } from '../tests/harness/stack.ts';

const t0 = performance.now();
const stack = await startStack();
console.log(stackGuide(stack));
console.log(
  `(ready in ${((performance.now() - t0) / 1000).toFixed(1)} s; state file ${stack.harness.stateFile})`,
);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping…');
  await stack.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
setInterval(() => {}, 1 << 30);
