// `npm run stack -- upstream down|up|status`: controls the local stack `npm start` runs (see
// tests/harness/stack-control.ts). Finds it through $KUIK_STACK_DIR (set by the env file the stack
// prints) or, when only one runs, by itself.
import { errorMessage } from '#shared/errors.ts';
import { findStack, sendCommand } from '../tests/harness/stack-control.ts';

try {
  console.log(await sendCommand(findStack(), process.argv.slice(2).join(' ')));
} catch (err) {
  console.error(`stack: ${errorMessage(err)}`);
  process.exit(1);
}
