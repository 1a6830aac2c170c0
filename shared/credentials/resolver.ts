// Secret → ordered registry credentials (§2.8), the one way every function does it: read the
// named Secrets, build their keyring (once per set of Secret objects), look the image up. What
// differs between functions is passed in, not re-implemented:
//   - how a Secret is read (`ReadSecret`): the router and reconcile through a SecretCache, the
//     monitor once per tick, the copy afresh; always with the function's own ServiceAccount, so
//     each keeps its RBAC (the copy can read only what its Role grants);
//   - which Secrets are named: the caller decides (the copy from the CR and the pods, never from
//     the request, issue 14; the monitor from the pods in scope, then the fallback);
//   - how a failure reads in a status or a log: `describeFailures` with the caller's role word.
// Secret values never appear in a failure: messages name the Secret and the problem.
import { errorMessage } from '../errors.ts';
import type { ImageReference } from '../image/reference.ts';
import type { RegistryCredential, SecretLike } from '../registry/credentials.ts';
import type { Result } from '../result.ts';
import { KeyringCache } from './keyring-cache.ts';
import type { SecretRef } from './mirror-credential.ts';

/** Reads a Secret: undefined when it does not exist; rejects on any other error. */
export type ReadSecret = (namespace: string, name: string) => Promise<SecretLike | undefined>;

export interface CredentialFailure {
  /** `absent`: no such Secret; `unreadable`: the read failed; `malformed`: not a usable docker config. */
  kind: 'absent' | 'unreadable' | 'malformed';
  secret: SecretRef;
  /** `not found`, the read's error, or for `malformed` a sentence naming the Secret. */
  message: string;
}

/** Credentials most specific first (callers try them in order), or every Secret that failed. */
export type Resolution = Result<RegistryCredential[], CredentialFailure[]>;

export class CredentialResolver {
  readonly #read: ReadSecret;
  readonly #keyrings: KeyringCache;

  constructor(read: ReadSecret, keyrings: KeyringCache = new KeyringCache()) {
    this.#read = read;
    this.#keyrings = keyrings;
  }

  /** Reads `secrets` (all at once), then the credentials in them for `image`. */
  async resolve(secrets: readonly SecretRef[], image: ImageReference | string): Promise<Resolution> {
    const reads = await Promise.allSettled(secrets.map((s) => this.#read(s.namespace, s.name)));
    const found: SecretLike[] = [];
    const failures: CredentialFailure[] = [];
    reads.forEach((r, i) => {
      const secret = secrets[i] as SecretRef;
      if (r.status === 'rejected')
        failures.push({ kind: 'unreadable', secret, message: errorMessage(r.reason) });
      else if (r.value === undefined) failures.push({ kind: 'absent', secret, message: 'not found' });
      else found.push(r.value);
    });
    if (failures.length > 0) return { ok: false, error: failures };
    return this.inSecrets(found, image);
  }

  /** The credentials for `image` in Secrets already read. */
  inSecrets(secrets: readonly SecretLike[], image: ImageReference | string): Resolution {
    const r = this.#keyrings.lookup(secrets, image);
    if (r.ok) return r;
    return { ok: false, error: [{ kind: 'malformed', secret: r.error.secret, message: r.error.message }] };
  }
}

/**
 * One line for a status or an error: `ROLE ns/name: why` for each Secret that could not be read
 * (`credential secret kuik-system/push: not found`), the keyring's own sentence for a malformed
 * one (it already names the Secret).
 */
export function describeFailures(failures: readonly CredentialFailure[], role: string): string {
  return failures
    .map((f) =>
      f.kind === 'malformed' ? f.message : `${role} ${f.secret.namespace}/${f.secret.name}: ${f.message}`,
    )
    .join('; ');
}

/**
 * `read`, once per key for as long as the returned reader lives (one tick, one admission):
 * concurrent and later callers share the first read, its failure included, so one scope sees one
 * answer per Secret.
 */
export function readOnce<T>(
  read: (namespace: string, name: string) => Promise<T>,
): (namespace: string, name: string) => Promise<T> {
  const reads = new Map<string, Promise<T>>();
  return (namespace, name) => {
    const key = `${namespace}/${name}`;
    let p = reads.get(key);
    if (!p) {
      p = read(namespace, name);
      reads.set(key, p);
    }
    return p;
  };
}
