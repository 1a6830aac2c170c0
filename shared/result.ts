// The one shape of a result that can fail without throwing: the payload is always `value`, the
// failure always `error`, so a reader never has to learn a union's own names.
export type Result<T, E = string> = { ok: true; value: T } | { ok: false; error: E };
