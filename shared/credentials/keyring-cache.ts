// Registry credentials for an image from a set of Secrets (§2.8), with the keyring of each set of
// Secret objects built once: decoding and parsing every docker config Secret for every alternative
// of every container was the router's largest cost. Secret objects come from SecretCache (or one
// tick's reads), so the same object stands for the same content until it is re-read; identities
// key the cache.
import { identityKey } from '../identity.ts';
import type { ImageReference } from '../image/reference.ts';
import { LruCache } from '../lru.ts';
import {
  buildKeyring,
  type CredentialError,
  type KeyringResult,
  lookupCredentials,
  type RegistryCredential,
  type SecretLike,
} from '../registry/credentials.ts';
import type { Result } from '../result.ts';

export type KeyringLookup = Result<RegistryCredential[], CredentialError>;

export class KeyringCache {
  readonly #cache = new LruCache<string, KeyringResult>(1024);
  /** Lookups by (keyring, image name): matching keys re-parses and re-globs every index entry. */
  readonly #lookups = new LruCache<string, RegistryCredential[]>(8192);
  builds = 0;

  /** The credentials in `secrets` for `image`, most specific first, or the Secret that is malformed. */
  lookup(secrets: readonly SecretLike[], image: ImageReference | string): KeyringLookup {
    if (secrets.length === 0) return { ok: true, value: [] };
    const key = identityKey(secrets);
    let k = this.#cache.get(key);
    if (k === undefined) {
      this.builds++;
      k = buildKeyring(secrets);
      this.#cache.set(key, k);
    }
    if (!k.ok) return k;
    // Credentials depend on the repository name only (§2.8 step 3), not on tag or digest.
    const lookupKey = `${key}\n${typeof image === 'string' ? image : image.name}`;
    let creds = this.#lookups.get(lookupKey);
    if (creds === undefined) {
      creds = lookupCredentials(k.value, image);
      this.#lookups.set(lookupKey, creds);
    }
    return { ok: true, value: creds };
  }

  /** lookup, throwing the malformed Secret's error (its message names the Secret, never a value). */
  credentialsFor(secrets: readonly SecretLike[], image: ImageReference | string): RegistryCredential[] {
    const r = this.lookup(secrets, image);
    if (!r.ok) throw new Error(r.error.message);
    return r.value;
  }
}
