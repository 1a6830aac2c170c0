// §4.6: every alternative is checked at once, and the winner is the first available one *in list
// order*: it is known as soon as every earlier check has failed, so a slow check of a preferred
// alternative delays the decision and a fast check of a later one cannot overtake it.

import { err, ok, type Result } from '#shared/result.ts';

export interface InOrderResult<T> {
  /** Index and value of the winner, if any task succeeded. */
  winner?: { index: number; value: T };
  /** Errors of the tasks before the winner (all errors when nothing succeeded), in list order. */
  errors: { index: number; error: unknown }[];
}

export async function firstSuccessInOrder<T>(
  tasks: readonly (() => Promise<T>)[],
): Promise<InOrderResult<T>> {
  // Start everything now; the loop below only decides the order in which results are read.
  const settled = tasks.map(
    (t): Promise<Result<T, unknown>> =>
      Promise.resolve()
        .then(t)
        .then(
          (value) => ok(value),
          (error: unknown) => err(error),
        ),
  );
  const errors: InOrderResult<T>['errors'] = [];
  for (let index = 0; index < settled.length; index++) {
    const r = await settled[index]!;
    if (r.ok) return { winner: { index, value: r.value }, errors };
    errors.push({ index, error: r.error });
  }
  return { errors };
}
