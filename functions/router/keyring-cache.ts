// Registry credentials for an image from a set of Secrets (§2.8), with the keyring of each set of
// Secret objects built once: decoding and parsing every docker config Secret for every alternative
// of every container was the router's largest cost. Secret objects come from SecretCache, so the
// same object stands for the same content until it is re-read; identities key the cache.
import type { ImageReference } from '#shared/image/reference.ts';
import { LruCache } from '#shared/lru.ts';
import {
  buildKeyring,
  type KeyringResult,
  lookupCredentials,
  type RegistryCredential,
  type SecretLike,
} from '#shared/registry/credentials.ts';

const ids = new WeakMap<object, number>();
let nextId = 1;
const idOf = (o: object) => {
  let id = ids.get(o);
  if (id === undefined) {
    id = nextId++;
    ids.set(o, id);
  }
  return id;
};

export class KeyringCache {
  readonly #cache = new LruCache<string, KeyringResult>(1024);
  /** Lookups by (keyring, image name): matching keys re-parses and re-globs every index entry. */
  readonly #lookups = new LruCache<string, RegistryCredential[]>(8192);
  builds = 0;

  credentialsFor(secrets: readonly SecretLike[], image: ImageReference): RegistryCredential[] {
    if (secrets.length === 0) return [];
    const key = secrets.map(idOf).join(',');
    let k = this.#cache.get(key);
    if (k === undefined) {
      this.builds++;
      k = buildKeyring(secrets);
      this.#cache.set(key, k);
    }
    if (!k.ok) throw new Error(k.error.message);
    // Credentials depend on the repository name only (§2.8 step 3), not on tag or digest.
    const lookupKey = `${key}\n${image.name}`;
    let creds = this.#lookups.get(lookupKey);
    if (creds === undefined) {
      creds = lookupCredentials(k.keyring, image);
      this.#lookups.set(lookupKey, creds);
    }
    return creds;
  }
}
