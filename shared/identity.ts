// Cache keys from object identity. The router's inputs (CR objects of the watch cache, Secret
// objects of the SecretCache) are replaced, never mutated, when what they stand for changes: the
// same object means the same content, so its identity can key a memo without hashing the content.
// Weakly held: an object dropped by its cache takes its number with it.

const ids = new WeakMap<object, number>();
let nextId = 1;

/** A number that stands for `o` as long as `o` lives. */
export function identityOf(o: object): number {
  let id = ids.get(o);
  if (id === undefined) {
    id = nextId++;
    ids.set(o, id);
  }
  return id;
}

/** One key for a list of objects, in order: `[a, b]` and `[b, a]` differ. */
export function identityKey(list: readonly object[], separator = ','): string {
  return list.map(identityOf).join(separator);
}
