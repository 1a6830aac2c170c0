// Optional authentication of /metrics and /status/images (issue 14), the way kube-rbac-proxy
// guards kuik v2's metrics: a bearer token, authenticated with a TokenReview, then authorized
// with a SubjectAccessReview for the non-resource URL (`get` on /metrics, /status/images). Grant
// Prometheus with a ClusterRole `nonResourceURLs: [/metrics, /status/images], verbs: [get]`.
// Off unless KUIK_METRICS_AUTH=true (docs/security.md); health endpoints stay open for probes.
import { createHash } from 'node:crypto';
import { AuthenticationV1Api, AuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { Hono } from 'hono';
import { errorMessage } from '../errors.ts';
import { LruCache } from '../lru.ts';
import { err, ok, type Result } from '../result.ts';

// The failure carries the HTTP status to answer with: 401 when the token is missing or not
// authenticated, 403 when it is but may not read the path.
export type ReaderVerdict = Result<void, { status: 401 | 403; message: string }>;

/** Who the token is, and whether they may `get` the path: the API server's answers. */
export interface ReaderReviews {
  authenticate(token: string): Promise<{ user: string; groups: string[]; uid?: string } | string>;
  authorize(who: { user: string; groups: string[]; uid?: string }, path: string): Promise<boolean | string>;
}

export function apiserverReviews(kc: KubeConfig): ReaderReviews {
  const authn = kc.makeApiClient(AuthenticationV1Api);
  const authz = kc.makeApiClient(AuthorizationV1Api);
  return {
    authenticate: async (token) => {
      const s = (await authn.createTokenReview({ body: { spec: { token } } })).status;
      if (!s?.authenticated) return s?.error || 'token not authenticated';
      return {
        user: s.user?.username ?? '',
        groups: s.user?.groups ?? [],
        ...(s.user?.uid ? { uid: s.user.uid } : {}),
      };
    },
    authorize: async (who, path) => {
      const s = (
        await authz.createSubjectAccessReview({
          body: {
            spec: {
              user: who.user,
              groups: who.groups,
              ...(who.uid ? { uid: who.uid } : {}),
              nonResourceAttributes: { path, verb: 'get' },
            },
          },
        })
      ).status;
      return s?.allowed === true ? true : s?.reason || 'not allowed';
    },
  };
}

export class ReaderAuth {
  readonly #reviews: ReaderReviews;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #cache = new LruCache<string, { verdict: ReaderVerdict; until: number }>(1000);

  constructor(reviews: ReaderReviews, ttlMs = 30_000, now: () => number = Date.now) {
    this.#reviews = reviews;
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  async check(header: string | undefined, path: string): Promise<ReaderVerdict> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!m?.[1]) return err({ status: 401, message: 'no bearer token' });
    const key = `${createHash('sha256').update(m[1]).digest('hex')} ${path}`;
    const now = this.#now();
    const hit = this.#cache.get(key);
    if (hit && hit.until > now) return hit.verdict;
    const who = await this.#reviews.authenticate(m[1]);
    let verdict: ReaderVerdict;
    if (typeof who === 'string') verdict = err({ status: 401, message: who });
    else {
      const allowed = await this.#reviews.authorize(who, path);
      verdict =
        allowed === true
          ? ok()
          : err({ status: 403, message: `${who.user} may not get ${path}: ${allowed}` });
    }
    this.#cache.set(key, { verdict, until: now + this.#ttlMs });
    return verdict;
  }
}

export const READER_PATHS = ['/metrics', '/status/images'] as const;

/** `app` with GET /metrics and /status/images behind the check: 401 / 403 with the reason. */
export function requireReader(app: Hono, auth: ReaderAuth): Hono {
  const outer = new Hono();
  for (const path of READER_PATHS) {
    outer.get(path, async (c, next) => {
      let verdict: ReaderVerdict;
      try {
        verdict = await auth.check(c.req.header('authorization'), path);
      } catch (err) {
        return c.json({ error: `could not check the reader: ${errorMessage(err)}` }, 503);
      }
      if (!verdict.ok) {
        return c.json(
          { error: verdict.error.message },
          verdict.error.status,
          verdict.error.status === 401 ? { 'www-authenticate': 'Bearer' } : {},
        );
      }
      await next();
    });
  }
  outer.all('*', (c) => app.fetch(c.req.raw));
  return outer;
}

/** KUIK_METRICS_AUTH=true: on; anything else but empty or false is a mistake worth stopping for. */
export function readerAuthFromEnv(env: NodeJS.ProcessEnv, kc: KubeConfig): ReaderAuth | undefined {
  const raw = (env['KUIK_METRICS_AUTH'] ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'false') return undefined;
  if (raw !== 'true') throw new Error(`KUIK_METRICS_AUTH must be true or false, got ${JSON.stringify(raw)}`);
  return new ReaderAuth(apiserverReviews(kc));
}
