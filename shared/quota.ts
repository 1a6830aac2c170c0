// A registry's rate limit shared by several clusters (docs/shared-quota.md). Docker Hub counts
// pulls per account or IP; clusters sharing one credential spend one quota, and none of them sees
// what the others spend. Each cluster's monitor reads `ratelimit-limit` / `ratelimit-remaining`
// from its own probe answers and publishes them where every cluster can read them: in the mirror
// registry they already share, as one tiny OCI artifact per (cluster, registry, credential), the way
// claims are kept (shared/claims.ts). Each cluster then paces its probes of that registry to its
// share of the limit. Pure: the tags, the manifest, the pacing rule; functions/monitor/quota-store.ts
// does the I/O.
import { createHash } from 'node:crypto';
import type { RateLimit } from './registry/outcome.ts';

const PREFIX = 'kuik-quota.';
export const QUOTA_ARTIFACT_TYPE = 'application/vnd.kuik.quota.v1';
const A = 'kuik.enix.io/quota-';

/** What one cluster last saw of one (registry, credential) quota. */
export interface QuotaRecord {
  cluster: string;
  registry: string;
  /** `anonymous`, a user name, or Docker Hub's `docker-ratelimit-source`: whom the quota counts. Never a secret. */
  credential: string;
  limit: number;
  remaining: number;
  windowSeconds: number;
  /** Epoch ms of the answer that carried the headers. */
  observedAt: number;
  /** Seconds until the quota resets, when the registry says (`ratelimit-reset`). */
  resetSeconds?: number;
}

function short(s: string, n: number): string {
  return createHash('sha256').update(s).digest('hex').slice(0, n);
}

/** The key a quota is counted under: one registry, one credential. */
export function quotaKey(registry: string, credential: string): string {
  return `${registry}\n${credential}`;
}

/** The tag of `cluster`'s record for a quota; one per cluster so no two clusters write the same tag. */
export function quotaTag(cluster: string, registry: string, credential: string): string {
  return `${PREFIX}${short(cluster, 12)}.${short(quotaKey(registry, credential), 16)}`;
}

export function isQuotaTag(tag: string): boolean {
  return tag.startsWith(PREFIX);
}

/**
 * Whom a probe answer's quota counts: Docker Hub names it (`docker-ratelimit-source`, an IP or an
 * account id); otherwise the user name of the credential the probe used, or anonymous.
 */
export function quotaCredential(rl: RateLimit | undefined, username: string | undefined): string {
  return rl?.source ?? username ?? 'anonymous';
}

/** A record from a probe's rate-limit headers; undefined when they lack a limit, a remainder or a window. */
export function recordOf(
  rl: RateLimit | undefined,
  at: { cluster: string; registry: string; credential: string; observedAt: number },
): QuotaRecord | undefined {
  if (rl?.limit === undefined || rl.remaining === undefined || rl.windowSeconds === undefined)
    return undefined;
  if (!(rl.limit > 0) || !(rl.windowSeconds > 0)) return undefined;
  return {
    ...at,
    limit: rl.limit,
    remaining: Math.max(0, rl.remaining),
    windowSeconds: rl.windowSeconds,
    ...(rl.resetSeconds !== undefined ? { resetSeconds: rl.resetSeconds } : {}),
  };
}

/** The annotations of a record's manifest (values are strings, as OCI annotations are). */
export function recordAnnotations(r: QuotaRecord): Record<string, string> {
  return {
    [`${A}cluster`]: r.cluster,
    [`${A}registry`]: r.registry,
    [`${A}credential`]: r.credential,
    [`${A}limit`]: String(r.limit),
    [`${A}remaining`]: String(r.remaining),
    [`${A}window-seconds`]: String(r.windowSeconds),
    [`${A}observed-at`]: new Date(r.observedAt).toISOString(),
    ...(r.resetSeconds !== undefined ? { [`${A}reset-seconds`]: String(r.resetSeconds) } : {}),
  };
}

/** A record from a manifest's annotations; undefined when they are not a complete record. */
export function parseRecord(annotations: Record<string, unknown> | undefined): QuotaRecord | undefined {
  if (!annotations) return undefined;
  const s = (k: string) => {
    const x = annotations[`${A}${k}`];
    return typeof x === 'string' && x !== '' ? x : undefined;
  };
  const n = (k: string) => {
    const x = s(k);
    const v = x === undefined ? Number.NaN : Number(x);
    return Number.isFinite(v) ? v : undefined;
  };
  const cluster = s('cluster');
  const registry = s('registry');
  const credential = s('credential');
  const limit = n('limit');
  const remaining = n('remaining');
  const windowSeconds = n('window-seconds');
  const observedAt = Date.parse(s('observed-at') ?? '');
  if (!cluster || !registry || !credential || limit === undefined || remaining === undefined)
    return undefined;
  if (windowSeconds === undefined || Number.isNaN(observedAt)) return undefined;
  const reset = n('reset-seconds');
  return {
    cluster,
    registry,
    credential,
    limit,
    remaining,
    windowSeconds,
    observedAt,
    ...(reset !== undefined ? { resetSeconds: reset } : {}),
  };
}

/**
 * The share of the limit a cluster aims for: below 1 so that clusters joining or probing between
 * two reads of the records, and the router's own probes, have room.
 */
export const QUOTA_TARGET = 0.8;

export interface QuotaPacing {
  registry: string;
  credential: string;
  /** Clusters that reported this quota within its window (this one included). */
  clusters: number;
  /** ms between two probe starts of this cluster so that all of them together stay under the target. */
  spacingMs: number;
  /** No probe before this (epoch ms): the quota was spent when last seen. */
  notBefore?: number;
  limit: number;
  remaining: number;
  windowSeconds: number;
  /** The newest record's time (epoch ms). */
  observedAt: number;
}

/**
 * For each (registry, credential) quota seen within its window by any cluster: how far apart this
 * cluster's probes of the registry must start. N clusters sharing `limit` requests per `window`
 * each get limit·TARGET/N of them, i.e. one every window·N/(limit·TARGET); a quota seen spent
 * (remaining 0) stops probes until the registry's reset, or a whole window after it was seen.
 */
export function quotaPacing(records: readonly QuotaRecord[], self: string, now: number): QuotaPacing[] {
  const groups = new Map<string, QuotaRecord[]>();
  for (const r of records) {
    if (now - r.observedAt > r.windowSeconds * 1000) continue; // Outside its window: says nothing now.
    const k = quotaKey(r.registry, r.credential);
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  const out: QuotaPacing[] = [];
  for (const group of groups.values()) {
    const newest = group.reduce((a, b) => (b.observedAt > a.observedAt ? b : a));
    const clusters = new Set([self, ...group.map((r) => r.cluster)]).size;
    const limit = Math.min(...group.map((r) => r.limit));
    const windowMs = newest.windowSeconds * 1000;
    const p: QuotaPacing = {
      registry: newest.registry,
      credential: newest.credential,
      clusters,
      spacingMs: (windowMs * clusters) / Math.max(1, limit * QUOTA_TARGET),
      limit,
      remaining: newest.remaining,
      windowSeconds: newest.windowSeconds,
      observedAt: newest.observedAt,
    };
    if (newest.remaining <= 0) {
      const until =
        newest.observedAt + (newest.resetSeconds !== undefined ? newest.resetSeconds * 1000 : windowMs);
      if (until > now) p.notBefore = until;
    }
    out.push(p);
  }
  return out;
}

/**
 * The pacing of a registry's probe lane: the strictest of its quotas (a lane probes with several
 * credentials, and cannot tell in advance which one an image needs).
 */
export function registryPacing(
  pacing: readonly QuotaPacing[],
  registry: string,
): { spacingMs: number; notBefore?: number } | undefined {
  const mine = pacing.filter((p) => p.registry === registry);
  if (mine.length === 0) return undefined;
  const spacingMs = Math.max(...mine.map((p) => p.spacingMs));
  const stops = mine.flatMap((p) => (p.notBefore === undefined ? [] : [p.notBefore]));
  return stops.length > 0 ? { spacingMs, notBefore: Math.max(...stops) } : { spacingMs };
}
