// The CLI's one rule for failures: one line on stderr that says what to do, and an exit code
// (2: the command line itself is wrong, 1: anything else). Never a stack trace: a person at a
// terminal needs the fix, not our call stack (KUIK_DEBUG=1 prints it for us).

import { errorMessage } from '#shared/errors.ts';

/** A failure the user can fix; `message` is the whole line, `exitCode` 1 or 2. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** The command line is wrong (unknown flag, missing argument, bad value): exit code 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(`${message} (see kuik --help)`, 2);
  }
}

/** Error codes of the network layer, found anywhere in an error's `cause` chain. */
function networkCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 6; depth++) {
    if (typeof e.code === 'string' && /^E[A-Z_]+$|^UND_ERR|CERT|SELF_SIGNED|VERIFY/.test(e.code))
      return e.code;
    e = e.cause as typeof e;
  }
  return undefined;
}

/** One line for any failure: our own messages as they are, anything else with its code. */
export function describeFailure(err: unknown): { line: string; exitCode: number } {
  if (err instanceof CliError) return { line: `kuik: ${err.message}`, exitCode: err.exitCode };
  const code = networkCode(err);
  const message = errorMessage(err).split('\n')[0] as string;
  return { line: `kuik: ${message}${code && !message.includes(code) ? ` (${code})` : ''}`, exitCode: 1 };
}

/** The API server cannot be reached at all: nothing else is worth trying. */
export class Unreachable extends CliError {}

/** A network error reaching the API server, told as what to check. */
export function apiUnreachable(err: unknown, server: string, context: string): CliError | undefined {
  // undici's fetch fails with TypeError('fetch failed'), the reason in `cause`.
  const fetchFailed = err instanceof TypeError && err.message === 'fetch failed';
  const code =
    networkCode(err) ??
    (fetchFailed ? (err.cause === undefined ? 'fetch failed' : errorMessage(err.cause)) : undefined);
  if (!code) return undefined;
  return new Unreachable(
    `cannot reach the API server ${server} of context "${context}" (${code}): check that the cluster is up, or pick another with --context / --kubeconfig`,
  );
}
