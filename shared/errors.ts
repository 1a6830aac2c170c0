// What a caught value says, for a log line, a status field or an error that wraps it. `catch`
// gives `unknown`: a thrown string or object must not become `undefined` in a message, as the
// `(err as Error).message` cast made it.

/**
 * The message of an Error, or of a plain object that carries one (the router throws those on
 * purpose: no stack trace to capture for each unavailable alternative), else the value as text.
 */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null && 'message' in err && typeof err.message === 'string')
    return err.message;
  return String(err);
}
