// The one shape of a result that can fail without throwing: the payload is always `value`, the
// failure always `error`, so a reader never has to learn a union's own names. Where a success has
// several parts, `value` is an object of them; where a failure carries more than a message (an
// HTTP status, a reason code), `error` is a small object. A success with nothing to say is
// `Result<void, E>` with `value: undefined`.
export type Result<T, E = string> = { ok: true; value: T } | { ok: false; error: E };

/** A success; `ok()` for a `Result<void, E>`. `never` as the error type fits any `Result<T, E>`. */
export function ok(): Result<void, never>;
export function ok<T>(value: T): Result<T, never>;
export function ok<T>(value?: T): Result<T | undefined, never> {
  return { ok: true, value };
}

/** A failure. `never` as the payload type fits any `Result<T, E>`. */
export function err<E>(error: E): Result<never, E> {
  return { ok: false, error };
}
