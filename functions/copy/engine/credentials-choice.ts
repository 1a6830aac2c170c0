// §2.8 step 4: every credential that matches an image is tried in turn, the first that works
// serves the whole copy; with none, the copy is anonymous. The first request of each side decides
// (GET of the source manifest, HEAD of the destination), so a copy does not pay for failed
// attempts more than once.
import { errorMessage } from '#shared/errors.ts';
import type { Repo } from '#shared/registry/repo.ts';
import type { BasicCredential } from '#shared/registry/transport.ts';

export async function chooseCredential<T>(
  base: Repo,
  credentials: readonly BasicCredential[],
  op: (repo: Repo) => Promise<T>,
  /** Whether an answer counts as success (a 404 with one pull secret may be a 200 with the next). */
  accept: (value: T) => boolean = () => true,
): Promise<{ repo: Repo; value: T }> {
  if (credentials.length === 0) return { repo: base, value: await op(base) };
  const errors: string[] = [];
  let first: unknown;
  let last: { repo: Repo; value: T } | undefined;
  for (const c of credentials) {
    const repo = base.withCredential(c);
    try {
      const value = await op(repo);
      if (accept(value)) return { repo, value };
      last ??= { repo, value };
    } catch (err) {
      first ??= err;
      errors.push(`${describe(c)}: ${errorMessage(err)}`);
    }
  }
  if (last) return last;
  // One credential: its own error, typed, as the transport threw it.
  if (credentials.length === 1) throw first;
  throw new Error(`every credential failed: ${errors.join('; ')}`);
}

/** `user "robot" (secret ns/name)`: never the password. */
function describe(c: BasicCredential): string {
  const from = c.source ? ` (secret ${c.source.namespace}/${c.source.name})` : '';
  return `user ${JSON.stringify(c.username)}${from}`;
}
