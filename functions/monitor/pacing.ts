// §6.3 scheduling and per-registry pacing, as pure functions over the probe ledger kept in CRD status.
//
// The budget, as kuik defines it: for each registry, probes start at least
//   spacing = interval / maxPerInterval
// apart (3h/25 = 7 min 12 s by default, docker.io 1h/6 = 10 min), cluster-wide and shared by every
// ClusterImageSetAvailability. Consecutive starts ≥ spacing apart means at most maxPerInterval
// probes in any window of `interval`.
//
// kuik derived "when was this registry last probed" from the images' lastMonitor, read from a
// cache and written after the probe: two reconciles could both see the registry as due. Here the
// monitor scales to zero and may run as several instances, so the right to probe is RESERVED in the
// ledger before any probe starts, with the resourceVersion precondition of the one status writer:
// - a lease: one tick at a time may probe (no two instances probing the same overdue images);
// - per registry, `nextProbeAt`: a tick reserves the registry from max(now, nextProbeAt) up to its
//   probe deadline, for as many probes as fit there at the spacing, and moves nextProbeAt to
//   deadline + spacing. What it did not use is given back when the tick ends (nextProbeAt = its last
//   start + spacing); a tick that dies keeps the reservation spent until then.
// Within a reservation each probe starts at max(now, start, previous start + spacing) and before
// the deadline, so the spacing holds across reservations and instances. docs/monitoring.md has the
// argument at length.
import type {
  MonitoredImage,
  MonitoringLedger,
  MonitorTickRecord,
  RegistryPacing,
} from '#shared/crd/types.ts';
import { parseReference } from '#shared/image/reference.ts';
import type { Result } from '#shared/result.ts';

/** ms between two probe starts of one registry. */
export function spacingMs(settings: { interval: number; maxPerInterval: number }): number {
  return settings.interval / Math.max(1, settings.maxPerInterval);
}

/** The registry (§2.3) of a normalized reference, or undefined when it does not parse. */
export function registryOf(image: string): string | undefined {
  const r = parseReference(image);
  return r.ok ? r.value.domain : undefined;
}

/** RFC 3339 with milliseconds (the ledger needs sub-second precision; lastMonitor keeps kuik's seconds). */
export function isoMillis(ms: number): string {
  return new Date(Math.ceil(ms)).toISOString();
}

function parseTime(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

// --- candidates ----------------------------------------------------------------------------------

export interface Candidate {
  image: string;
  registry: string;
  /** The oldest lastMonitor among the entries for this image; undefined when one was never checked. */
  lastMonitor: number | undefined;
  /** Names of the CISAs whose status lists the image. */
  holders: string[];
}

/**
 * Every image of the given CISAs, deduplicated (one probe serves every CISA that lists it; kuik
 * probed it once per CISA), grouped by registry, most overdue first: never checked, then the oldest
 * lastMonitor, then by name so that the order, and with it where a stopped tick resumes, is stable.
 */
export function collectCandidates(
  cisas: readonly { name: string; images: readonly MonitoredImage[] }[],
): Map<string, Candidate[]> {
  const byImage = new Map<string, Candidate>();
  for (const cisa of cisas) {
    for (const entry of cisa.images) {
      let c = byImage.get(entry.image);
      const checked = parseTime(entry.lastMonitor);
      if (c === undefined) {
        const registry = registryOf(entry.image);
        if (registry === undefined) continue;
        c = { image: entry.image, registry, lastMonitor: checked, holders: [] };
        byImage.set(entry.image, c);
      } else if (checked === undefined || c.lastMonitor === undefined) {
        c.lastMonitor = undefined;
      } else {
        c.lastMonitor = Math.min(c.lastMonitor, checked);
      }
      c.holders.push(cisa.name);
    }
  }
  const out = new Map<string, Candidate[]>();
  for (const c of byImage.values()) {
    const list = out.get(c.registry) ?? [];
    list.push(c);
    out.set(c.registry, list);
  }
  for (const list of out.values()) list.sort(overdueFirst);
  return out;
}

export function overdueFirst(a: Candidate, b: Candidate): number {
  const am = a.lastMonitor ?? Number.NEGATIVE_INFINITY;
  const bm = b.lastMonitor ?? Number.NEGATIVE_INFINITY;
  if (am !== bm) return am < bm ? -1 : 1;
  return a.image < b.image ? -1 : a.image > b.image ? 1 : 0;
}

/** The most recent lastMonitor per registry over every entry of every CISA (kuik's registryLastMonitor). */
export function latestProbes(cisas: readonly { images: readonly MonitoredImage[] }[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const cisa of cisas) {
    for (const entry of cisa.images) {
      const t = parseTime(entry.lastMonitor);
      const registry = t === undefined ? undefined : registryOf(entry.image);
      if (t === undefined || registry === undefined) continue;
      out.set(registry, Math.max(out.get(registry) ?? t, t));
    }
  }
  return out;
}

// --- reservations --------------------------------------------------------------------------------

export interface LaneRequest {
  registry: string;
  spacingMs: number;
  /** How many probes the tick would like to make (its candidates). */
  wanted: number;
  /** No probe before this (epoch ms): a rate limit seen spent (shared/quota.ts). */
  notBefore?: number;
}

export interface Reservation {
  registry: string;
  spacingMs: number;
  /** No probe of this reservation starts before it (epoch ms, fractional). */
  start: number;
  /** Nor at or after it: the tick's probe deadline. */
  deadline: number;
  /** At most this many probes: what fits between start and deadline at the spacing, or fewer if fewer are wanted. */
  count: number;
  /** nextProbeAt as written by the reservation: deadline + spacing, past any start it allows. */
  end: string;
}

/** The failure is not a message: it names the tick that holds the lease, and until when. */
export type ReserveResult = Result<
  { ledger: MonitoringLedger; reservations: Reservation[] },
  { holder: string; until: string }
>;

export interface ReserveOptions {
  tickId: string;
  now: number;
  /** No slot starts at or after this time. */
  probeDeadline: number;
  /** When the lease ends if the tick never releases it (its hard deadline). */
  leaseUntil: number;
  /** kuik's registryLastMonitor, used for a registry the ledger does not know yet. */
  latest: ReadonlyMap<string, number>;
  /** Registries that still have images anywhere; ledger entries for others are dropped. */
  known: ReadonlySet<string>;
}

/** Seconds are all lastMonitor keeps: a probe recorded at :05 may have started at :05.999. */
const LAST_MONITOR_PRECISION_MS = 1000;

/** The earliest time the next probe of `registry` may start, before `now` is taken into account. */
export function earliestStart(
  ledger: MonitoringLedger | undefined,
  registry: string,
  spacing: number,
  latest: ReadonlyMap<string, number>,
): number {
  const entry = ledger?.registries?.find((r) => r.registry === registry);
  const next = parseTime(entry?.nextProbeAt);
  if (next !== undefined) return next;
  // Unknown to the ledger (first run, a kuik-written status, or the ledger CISA was deleted): fall
  // back on kuik's rule, from the last recorded check, rounded up to what lastMonitor cannot show.
  const last = latest.get(registry);
  return last === undefined ? Number.NEGATIVE_INFINITY : last + LAST_MONITOR_PRECISION_MS + spacing;
}

/**
 * Take the lease and reserve slots for each lane. Pure: apply it to the ledger as read, inside the
 * status write, and the resourceVersion precondition makes it atomic. Fails when another tick holds
 * an unexpired lease.
 */
export function reserve(
  ledger: MonitoringLedger | undefined,
  requests: readonly LaneRequest[],
  opts: ReserveOptions,
): ReserveResult {
  const lease = ledger?.lease;
  const until = parseTime(lease?.until);
  if (lease && lease.holder !== opts.tickId && until !== undefined && until > opts.now) {
    return { ok: false, error: { holder: lease.holder, until: lease.until } };
  }
  const entries = new Map<string, RegistryPacing>();
  for (const e of ledger?.registries ?? []) if (opts.known.has(e.registry)) entries.set(e.registry, { ...e });
  const reservations: Reservation[] = [];
  for (const req of requests) {
    if (req.wanted <= 0 || !(req.spacingMs > 0)) continue;
    const start = Math.max(
      opts.now,
      earliestStart(ledger, req.registry, req.spacingMs, opts.latest),
      req.notBefore ?? Number.NEGATIVE_INFINITY,
    );
    if (start >= opts.probeDeadline) continue;
    const fit = Math.ceil((opts.probeDeadline - start) / req.spacingMs);
    const count = Math.min(req.wanted, fit);
    // Probes may start late (a slow credential lookup, concurrency), but never at or after the
    // deadline: deadline + spacing is past what any of them allows.
    const end = isoMillis(opts.probeDeadline + req.spacingMs);
    entries.set(req.registry, { registry: req.registry, nextProbeAt: end });
    reservations.push({
      registry: req.registry,
      spacingMs: req.spacingMs,
      start,
      deadline: opts.probeDeadline,
      count,
      end,
    });
  }
  const next: MonitoringLedger = {
    ...ledger,
    lease: { holder: opts.tickId, until: isoMillis(opts.leaseUntil) },
    registries: [...entries.values()].sort((a, b) => (a.registry < b.registry ? -1 : 1)),
  };
  return { ok: true, value: { ledger: next, reservations } };
}

/**
 * End of a tick: give back the slots it did not use, drop the lease, record the tick. Returns
 * undefined when the lease is no longer this tick's (it expired and another tick took it over: the
 * ledger is then that tick's to write).
 */
export function release(
  ledger: MonitoringLedger | undefined,
  tickId: string,
  reservations: readonly Reservation[],
  lastStart: ReadonlyMap<string, number>,
  record: MonitorTickRecord,
): MonitoringLedger | undefined {
  if (ledger?.lease?.holder !== tickId) return undefined;
  const registries = (ledger.registries ?? []).map((entry) => {
    const r = reservations.find((x) => x.registry === entry.registry);
    // Only a value this tick wrote is given back; anything else is someone else's reservation.
    if (!r || entry.nextProbeAt !== r.end) return entry;
    const started = lastStart.get(r.registry);
    const nextProbeAt = isoMillis(started === undefined ? r.start : started + r.spacingMs);
    return { ...entry, nextProbeAt };
  });
  const { lease: _released, ...rest } = ledger;
  return { ...rest, registries, lastTick: record };
}

/**
 * When the next probe of a lane may start: max(now, start, previous start + spacing); undefined when
 * that is at or past the reservation's deadline. (The caller also stops after `count` probes.)
 */
export function nextStart(
  r: Reservation,
  previousStart: number | undefined,
  now: number,
): number | undefined {
  const t = Math.max(now, r.start, previousStart === undefined ? r.start : previousStart + r.spacingMs);
  return t >= r.deadline ? undefined : t;
}

/** Checks a log of probe starts against the budget: pairs of one registry closer than spacing. */
export function overBudget(
  starts: readonly { registry: string; at: number }[],
  spacing: (r: string) => number,
) {
  const byRegistry = new Map<string, number[]>();
  for (const s of starts) byRegistry.set(s.registry, [...(byRegistry.get(s.registry) ?? []), s.at]);
  let violations = 0;
  for (const [registry, times] of byRegistry) {
    times.sort((a, b) => a - b);
    for (let i = 1; i < times.length; i++) {
      if ((times[i] as number) - (times[i - 1] as number) < spacing(registry) - 1e-6) violations++;
    }
  }
  return violations;
}
