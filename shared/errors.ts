// What a caught value says, for a log line, a status field or an error that wraps it. `catch`
// gives `unknown`: a thrown string or object must not become `undefined` in a message, as the
// `(err as Error).message` cast made it.

/** The message of an Error, or the value itself as text. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
