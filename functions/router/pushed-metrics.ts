// The counters and histograms of the functions that scale to zero (reconcile, monitor, copy),
// served by the always-on router from the increases they push (shared/metrics-push.ts;
// docs/metrics.md says why). Only the families those functions define are accepted, with their
// own label names, so a push cannot invent metrics or labels.
//
// A series the router has never served is first shown at 0 for `holdMs` from its first scrape,
// and the pushed increase is added after that: Prometheus' rate() and increase() count from a
// series' first sample, so a series that appeared at 3 would hide its first 3 (a copy Job's only
// copy, for example). A time rather than one scrape, so that every Prometheus scraping the router
// (an HA pair, or several jobs) sees the 0: holdMs must be at least their scrape interval.
//
// A replica that stops (a rollout, a scale-down) would take with it what no scrape has shown yet:
// the increases since the last scrape and every series still held at 0. So at SIGTERM it releases
// what it holds and keeps serving until one more scrape has come (serveLastScrape), within a bound,
// and only when someone scrapes it at all.
//
// Gauges (the copy's progress, COPY_PUSHED_GAUGES) are set, not added: each push of a gauge family
// replaces the series that sender pushed before, so a copy that ended disappears with the next
// push (the pusher sends one at stop). They are also dropped when their sender has not refreshed
// them for its `gaugeTtlMs` (3 push intervals, capped at MAX_GAUGE_TTL_MS): the last push may reach
// another replica, or never be sent (a killed Job), and a copy's gauge must not outlive it for long.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Registry } from 'prom-client';
import * as v from 'valibot';
import type { Logger } from '#shared/log.ts';
import { type FamilyDef, PUSHED_FAMILIES } from '#shared/metrics/families.ts';
import { type PushPayload, PushPayloadSchema, seriesKey } from '#shared/metrics-push.ts';
import { err, ok, type Result } from '#shared/result.ts';

/** The longest a sender's gauge series stay without a new push, whatever it asks. */
export const MAX_GAUGE_TTL_MS = 15 * 60_000;
/** For a push that names no TTL. */
const DEFAULT_GAUGE_TTL_MS = 30_000;

/** Each pushing function's families: the definitions the functions register (shared/metrics/). */
export function pushedFamilies(): Map<string, readonly FamilyDef[]> {
  return new Map(PUSHED_FAMILIES);
}

/** The sender as a bounded label: a function that pushes, or `unknown`. */
export function senderLabel(body: unknown): string {
  const fn = (body as { function?: unknown } | null)?.function;
  return typeof fn === 'string' && ['reconcile', 'monitor', 'copy'].includes(fn) ? fn : 'unknown';
}

interface Series {
  name: string;
  labels: Record<string, string>;
  /** What the last scrape showed, or will show. */
  value: number;
  /** Received while the series is still shown at 0. */
  pending: number;
  /** When the 0 was first served (epoch ms); undefined until then. */
  firstShownAt: number | undefined;
  released: boolean;
  order: string;
}

interface GaugeSet {
  /** When the sender last pushed this family (epoch ms). */
  at: number;
  ttlMs: number;
  series: Map<string, { name: string; labels: Record<string, string>; value: number }>;
}

/**
 * The number of samples taken, or the refusal with the HTTP status to answer: 400 for a push that
 * is wrong, 429 when the series limit is reached (the sender may retry later).
 */
export type ApplyResult = Result<number, { status: 400 | 429; message: string }>;

const SUFFIX_ORDER: Record<string, number> = { _bucket: 0, _sum: 1, _count: 2 };

export class PushedMetrics {
  readonly #defs: Map<string, Map<string, FamilyDef>>;
  readonly #families = new Map<string, Map<string, Series>>();
  /** Gauge family → sender (function and id) → what it pushed last. */
  readonly #gauges = new Map<string, Map<string, GaugeSet>>();
  readonly #maxSeries: number;
  readonly #holdMs: number;
  readonly #now: () => number;
  #count = 0;
  /** Scrapes served (a count, to tell that one came after a point in time). */
  #scrapes = 0;
  /** A shown series changed since the last scrape. */
  #unscraped = false;

  constructor(
    opts: {
      defs?: Map<string, readonly FamilyDef[]>;
      maxSeries?: number;
      holdMs?: number;
      now?: () => number;
    } = {},
  ) {
    const defs = opts.defs ?? pushedFamilies();
    this.#defs = new Map([...defs].map(([fn, fs]) => [fn, new Map(fs.map((f) => [f.name, f]))]));
    this.#maxSeries = opts.maxSeries ?? 20_000;
    this.#holdMs = opts.holdMs ?? 60_000;
    this.#now = opts.now ?? Date.now;
  }

  /** Checks the whole push first, then adds it: a push is applied entirely or not at all. */
  apply(body: unknown): ApplyResult {
    const parsed = v.safeParse(PushPayloadSchema, body);
    if (!parsed.success) {
      const i = parsed.issues[0];
      return err({ status: 400, message: `invalid push: ${v.getDotPath(i) ?? ''} ${i.message}`.trim() });
    }
    const p: PushPayload = parsed.output;
    const defs = this.#defs.get(p.function);
    if (!defs)
      return err({
        status: 400,
        message: `invalid push: no pushed metrics for function ${JSON.stringify(p.function)}`,
      });
    let fresh = 0;
    const now = this.#now();
    this.#expire(now);
    const sender = `${p.function}/${p.sender ?? ''}`;
    for (const f of p.families) {
      const def = defs.get(f.name);
      if (!def || def.type !== f.type)
        return err({ status: 400, message: `invalid push: ${p.function} has no ${f.type} ${f.name}` });
      if (f.type === 'gauge') {
        if (p.sender === undefined)
          return err({ status: 400, message: `invalid push: gauge ${f.name} without a sender` });
        for (const s of f.samples) {
          const problem = checkSample(def, s.name, s.labels);
          if (problem) return err({ status: 400, message: `invalid push: ${problem}` });
        }
        // Replaced: the sender's earlier series of this family make room for the new ones.
        fresh += f.samples.length - (this.#gauges.get(f.name)?.get(sender)?.series.size ?? 0);
        continue;
      }
      for (const s of f.samples) {
        const problem = checkSample(def, s.name, s.labels);
        if (problem) return err({ status: 400, message: `invalid push: ${problem}` });
        if (!this.#families.get(f.name)?.has(seriesKey(s.name, { ...s.labels, function: p.function })))
          fresh++;
      }
    }
    if (this.#count + fresh > this.#maxSeries)
      return err({ status: 429, message: `pushed series limit reached (${this.#maxSeries})` });
    let samples = 0;
    const ttlMs = Math.min(p.gaugeTtlMs ?? DEFAULT_GAUGE_TTL_MS, MAX_GAUGE_TTL_MS);
    for (const f of p.families) {
      if (f.type === 'gauge') {
        let bySender = this.#gauges.get(f.name);
        if (!bySender) {
          bySender = new Map();
          this.#gauges.set(f.name, bySender);
        }
        this.#count -= bySender.get(sender)?.series.size ?? 0;
        bySender.delete(sender);
        if (f.samples.length === 0) continue;
        const series = new Map<string, { name: string; labels: Record<string, string>; value: number }>();
        for (const s of f.samples) {
          const labels = { ...s.labels, function: p.function };
          series.set(seriesKey(s.name, labels), { name: s.name, labels, value: s.value });
          samples++;
        }
        bySender.set(sender, { at: now, ttlMs, series });
        this.#count += series.size;
        continue;
      }
      let family = this.#families.get(f.name);
      if (!family) {
        family = new Map();
        this.#families.set(f.name, family);
      }
      for (const s of f.samples) {
        const labels = { ...s.labels, function: p.function };
        const key = seriesKey(s.name, labels);
        const cur = family.get(key);
        if (!cur) {
          family.set(key, {
            name: s.name,
            labels,
            value: 0,
            pending: s.value,
            firstShownAt: undefined,
            released: false,
            order: orderKey(f.name, s.name, labels),
          });
          this.#count++;
        } else if (cur.released) {
          cur.value += s.value;
          this.#unscraped = true;
        } else cur.pending += s.value;
        samples++;
      }
    }
    return ok(samples);
  }

  /** Serves every pushed family on `registry` (its own `function` label wins over the default). */
  register(registry: Registry): void {
    const all = new Map<string, FamilyDef>();
    for (const defs of this.#defs.values()) for (const d of defs.values()) all.set(d.name, d);
    for (const def of all.values()) {
      const get = async () => ({
        name: def.name,
        help: def.help,
        type: def.type,
        aggregator: 'sum' as const,
        values: def.type === 'gauge' ? this.#renderGauge(def.name) : this.#render(def.name),
      });
      registry.registerMetric({
        name: def.name,
        help: def.help,
        type: def.type,
        aggregator: 'sum',
        get,
      } as never);
    }
  }

  /** How many scrapes this replica has served. */
  get scrapes(): number {
    return this.#scrapes;
  }

  /**
   * For a replica about to exit: shows every held series' count now (the next scrape is the last
   * chance to show it; a series already scraped at 0 still gives rate() its first increase), and
   * says whether one more scrape is needed: something no scrape has shown, and someone scraping
   * this replica (one never scraped will not be now).
   */
  releaseForLastScrape(): boolean {
    for (const family of this.#families.values())
      for (const s of family.values()) {
        if (s.released) continue;
        release(s);
        this.#unscraped = true;
      }
    return this.#scrapes > 0 && this.#unscraped;
  }

  /** Drops the gauge series whose sender stopped refreshing them. */
  #expire(now: number): void {
    for (const bySender of this.#gauges.values())
      for (const [sender, g] of bySender)
        if (now - g.at >= g.ttlMs) {
          bySender.delete(sender);
          this.#count -= g.series.size;
        }
  }

  #renderGauge(family: string): { value: number; metricName: string; labels: Record<string, string> }[] {
    this.#expire(this.#now());
    // Two senders with the same labels (a copy retried by a new Job while the old one's series
    // has not expired): one series, the latest push's value.
    const out = new Map<
      string,
      { at: number; value: number; metricName: string; labels: Record<string, string> }
    >();
    for (const g of this.#gauges.get(family)?.values() ?? [])
      for (const [key, s] of g.series) {
        const cur = out.get(key);
        if (!cur || cur.at <= g.at)
          out.set(key, { at: g.at, value: s.value, metricName: s.name, labels: s.labels });
      }
    return [...out.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, { value, metricName, labels }]) => ({ value, metricName, labels }));
  }

  #render(family: string): { value: number; metricName: string; labels: Record<string, string> }[] {
    // Every counter family is rendered in the same tick of one scrape (prom-client calls each
    // get() before awaiting any), so this marks the scrape, not a part of it.
    this.#scrapes++;
    this.#unscraped = false;
    const series = [...(this.#families.get(family)?.values() ?? [])].sort((a, b) =>
      a.order < b.order ? -1 : a.order > b.order ? 1 : 0,
    );
    const now = this.#now();
    for (const s of series) {
      if (s.released) continue;
      s.firstShownAt ??= now;
      if (now - s.firstShownAt < this.#holdMs) continue;
      release(s);
    }
    const out = series.map((s) => ({ value: s.value, metricName: s.name, labels: s.labels }));
    return out;
  }
}

/** A held series shows its count from now on. */
function release(s: Series): void {
  s.released = true;
  s.value += s.pending;
  s.pending = 0;
}

/**
 * At SIGTERM: when this replica holds counts no scrape has shown, it waits (up to `waitMs`) for one
 * more scrape before the process goes, so a rollout of the router loses no pushed count. The pod
 * is out of the Service's endpoints by then (no new pushes, no reviews), and Prometheus still
 * scrapes it: pod discovery lists a terminating pod, endpoint discovery its not-ready address.
 */
export async function serveLastScrape(pushed: PushedMetrics, waitMs: number, log: Logger): Promise<void> {
  if (waitMs <= 0 || !pushed.releaseForLastScrape()) return;
  const seen = pushed.scrapes;
  const waitSeconds = waitMs / 1000;
  log.info({ waitSeconds }, 'stopping: waiting for one more scrape of the counts pushed here');
  const until = Date.now() + waitMs;
  while (pushed.scrapes === seen && Date.now() < until) await sleep(Math.min(100, waitMs));
  if (pushed.scrapes === seen)
    log.warn(
      { waitSeconds },
      'stopping: no scrape came; what was pushed here since the last scrape is not in Prometheus',
    );
  else log.info('stopping: the last scrape has the counts pushed here');
}

function checkSample(def: FamilyDef, name: string, labels: Record<string, string>): string | undefined {
  const plain = def.type !== 'histogram';
  const suffix = plain ? '' : name.slice(def.name.length);
  if (!name.startsWith(def.name) || (plain ? name !== def.name : !(suffix in SUFFIX_ORDER)))
    return `${name} is not a series of ${def.name}`;
  for (const k of Object.keys(labels)) {
    if (k === 'le' && suffix === '_bucket') continue;
    if (!def.labelNames.includes(k)) return `${def.name} has no label ${k}`;
  }
  if (suffix === '_bucket' && !(labels['le'] === '+Inf' || Number.isFinite(Number(labels['le']))))
    return `${name} needs a numeric le label`;
  return undefined;
}

/** Sorts a histogram's series as Prometheus' text format groups them: per label set, buckets by le, sum, count. */
function orderKey(family: string, name: string, labels: Record<string, string>): string {
  const { le, ...base } = labels;
  const suffix = name.slice(family.length);
  const rank = SUFFIX_ORDER[suffix] ?? 0;
  const leRank =
    le === undefined ? '' : le === '+Inf' ? 'z' : `a${(Number(le) + 1e12).toFixed(6).padStart(24, '0')}`;
  return `${seriesKey(family, base)}\u0000${rank}${leRank}`;
}
