// Who may send events to a function (issue 14). The trigger endpoints (reconcile's, the monitor's,
// the copy's) are cluster-local but unauthenticated: anything in the cluster could POST them. With
// Knative Eventing's `authentication-oidc` feature on, every source sends
// `Authorization: Bearer <token>`, a ServiceAccount token minted for the sink's audience; this
// checks it with a TokenReview (the API server verifies signature, expiry and audience) and,
// optionally, that the sender is one of the expected identities. Off unless KUIK_SENDER_AUDIENCE
// is set (manifests set it; docs/security.md).
//
// Verdicts are cached for a short while by a hash of the token (never the token itself): one
// TokenReview per sender per half-minute, not per event.
import { createHash } from 'node:crypto';
import { AuthenticationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { Hono } from 'hono';
import { errorMessage } from '../errors.ts';
import { LruCache } from '../lru.ts';
import { err, ok, type Result } from '../result.ts';

/** The sender's username when the token is good, else why not. */
export type Verdict = Result<string>;

/** Checks a bearer token for an audience: the API server's answer (a TokenReview). */
export type TokenReviewer = (token: string, audience: string) => Promise<Verdict>;

export function tokenReviewer(kc: KubeConfig): TokenReviewer {
  const api = kc.makeApiClient(AuthenticationV1Api);
  return async (token, audience) => {
    const r = await api.createTokenReview({ body: { spec: { token, audiences: [audience] } } });
    const s = r.status;
    if (!s?.authenticated) return err(s?.error || 'token not authenticated');
    // An apiserver that does not know the audience answers authenticated for its own audiences
    // only; insist on ours being in the answer.
    if (!(s.audiences ?? []).includes(audience)) return err(`token is not for audience ${audience}`);
    return ok(s.user?.username ?? '');
  };
}

export interface SenderAuthOptions {
  /** The audience the senders' tokens must be minted for (the function's own name, e.g. kuik-copy). */
  audience: string;
  /**
   * Usernames allowed to send (system:serviceaccount:NS:NAME, or a prefix ending in `*` such as
   * system:serviceaccount:kuik-system:*); empty: any authenticated sender. Needed in practice: any
   * namespace admin can mint a token for the audience with `kubectl create token`.
   */
  senders?: readonly string[];
  review: TokenReviewer;
  ttlMs?: number;
  now?: () => number;
}

export class SenderAuth {
  readonly #o: SenderAuthOptions;
  readonly #cache = new LruCache<string, { verdict: Verdict; until: number }>(1000);

  constructor(o: SenderAuthOptions) {
    this.#o = o;
  }

  /** The verdict for an `Authorization` header value. */
  async check(header: string | undefined): Promise<Verdict> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    // The usual cause is Knative Eventing's OIDC feature being off: say so where it shows.
    if (!m?.[1])
      return err("no bearer token (is Knative Eventing's authentication-oidc feature on? docs/security.md)");
    const now = (this.#o.now ?? Date.now)();
    const key = createHash('sha256').update(m[1]).digest('hex');
    const hit = this.#cache.get(key);
    if (hit && hit.until > now) return hit.verdict;
    let verdict = await this.#o.review(m[1], this.#o.audience);
    const senders = this.#o.senders ?? [];
    if (verdict.ok && senders.length > 0) {
      const user = verdict.value;
      if (!senders.some((s) => senderMatches(s, user))) verdict = err(`sender ${user} is not allowed`);
    }
    this.#cache.set(key, { verdict, until: now + (this.#o.ttlMs ?? 30_000) });
    return verdict;
  }
}

function senderMatches(pattern: string, user: string): boolean {
  return pattern.endsWith('*') ? user.startsWith(pattern.slice(0, -1)) : user === pattern;
}

/** KUIK_SENDER_AUDIENCE (on when set), KUIK_SENDER_IDENTITIES (comma-separated usernames). */
export function senderAuthFromEnv(env: NodeJS.ProcessEnv, kc: KubeConfig): SenderAuth | undefined {
  const audience = env['KUIK_SENDER_AUDIENCE']?.trim();
  if (!audience) return undefined;
  const senders = (env['KUIK_SENDER_IDENTITIES'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return new SenderAuth({ audience, senders, review: tokenReviewer(kc) });
}

/**
 * `app` with its trigger (POST /) behind the sender check: 401 with the reason and nothing run
 * when it fails (a sender's retry then fails the same way, visibly, in its dead letters). Health
 * and metrics are untouched. A TokenReview that fails (API server down) answers 503: retry.
 */
export function requireSender(app: Hono, auth: SenderAuth, onRefused?: (reason: string) => void): Hono {
  const outer = new Hono();
  outer.post('/', async (c, next) => {
    let verdict: Verdict;
    try {
      verdict = await auth.check(c.req.header('authorization'));
    } catch (err) {
      return c.json({ error: `could not check the sender: ${errorMessage(err)}` }, 503);
    }
    if (!verdict.ok) {
      onRefused?.(verdict.error);
      return c.json({ error: `unauthenticated sender: ${verdict.error}` }, 401, {
        'www-authenticate': 'Bearer',
      });
    }
    await next();
  });
  outer.all('*', (c) => app.fetch(c.req.raw));
  return outer;
}
