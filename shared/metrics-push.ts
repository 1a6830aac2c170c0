// What reconcile, the monitor and the copy did, sent to the always-on router (docs/metrics.md).
//
// These functions scale to zero, and the copy also runs as a Job that exits: a counter that lives
// only in their process is gone before Prometheus has scraped it, or scraped by no one at all. So
// each of them sends the *increase* of its counters and histograms since the last send it knows
// arrived (`POST /metrics/push` on the router) every few seconds, and once more when it stops (a
// scale-down's SIGTERM, the end of a Job). The router adds these increases to counters it serves
// on its own /metrics, which Prometheus scrapes as any long-running exporter.
//
// Increases, not totals: the router's replicas each receive some of the pushes, each serves the
// sum of what it received, and `sum()` across replicas is the total. Totals would be counted once
// per replica that saw them. A send whose answer never came is sent again with what came since: if
// the router had applied it, that part is counted twice (a lost answer on a working network).
//
// Gauges (the copy's progress) are not increases: a push carries the sender's whole current set of
// each pushed gauge family, the router replaces what that sender (a random id per process) pushed
// before, and a copy that ended is absent from the next push. The push at stop thus removes the
// sender's series. The router also drops a sender's gauges not refreshed within `gaugeTtlMs`
// (3 push intervals): the last push may reach another router replica, or never come (SIGKILL).

import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import * as v from 'valibot';
import { errorMessage } from './errors.ts';
import type { Logger } from './log.ts';
import { isProcessMetric } from './metrics.ts';

export const PUSH_PATH = '/metrics/push';

export type PushedType = 'counter' | 'histogram' | 'gauge';

export interface PushSample {
  /** The series name: the family's, or `<family>_bucket`, `_sum`, `_count` for a histogram. */
  name: string;
  /** The series' labels, `le` included for buckets; never `function` (the payload says it). */
  labels: Record<string, string>;
  /** The increase since the last accepted push; a gauge's current value. */
  value: number;
}

export interface PushFamily {
  name: string;
  type: PushedType;
  samples: PushSample[];
}

export interface PushPayload {
  function: string;
  families: PushFamily[];
  /** The sending process (random): whose gauge series a gauge family replaces. */
  sender?: string;
  /** How long the router keeps this sender's gauge series without a new push. */
  gaugeTtlMs?: number;
}

const label = v.pipe(v.string(), v.maxLength(256, 'label value longer than 256 characters'));
const sampleSchema = v.object({
  name: v.pipe(v.string(), v.maxLength(200)),
  labels: v.record(v.pipe(v.string(), v.regex(/^[a-zA-Z_][a-zA-Z0-9_]{0,63}$/, 'invalid label name')), label),
  // Never negative: an increase, or a gauge the copy pushes (a byte count).
  value: v.pipe(v.number(), v.finite('value must be finite'), v.minValue(0, 'an increase is never negative')),
});
/** The push as the router accepts it: bounded so that one request cannot hold much memory. */
export const PushPayloadSchema = v.object({
  function: v.pipe(v.string(), v.maxLength(64)),
  families: v.pipe(
    v.array(
      v.object({
        name: v.pipe(v.string(), v.maxLength(200)),
        type: v.picklist(['counter', 'histogram', 'gauge']),
        samples: v.pipe(v.array(sampleSchema), v.maxLength(20_000, 'more than 20000 samples in one family')),
      }),
    ),
    v.maxLength(200, 'more than 200 families'),
  ),
  sender: v.optional(v.pipe(v.string(), v.regex(/^[a-zA-Z0-9_-]{1,64}$/, 'invalid sender'))),
  gaugeTtlMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
});

/** One value per series: `name{labels}` → value and where it belongs. */
export type Snapshot = Map<string, { family: string; type: PushedType; sample: PushSample }>;

export function seriesKey(name: string, labels: Record<string, string>): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return `${name}{${sorted.join(',')}}`;
}

/** The counters and histograms of `registry.getMetricsAsJSON()`, without the per-process ones. */
export function snapshotOf(
  metrics: readonly {
    name: string;
    type: unknown;
    values?: { value: number; metricName?: string; labels: object }[];
  }[],
): Snapshot {
  const out: Snapshot = new Map();
  for (const m of metrics) {
    const type = String(m.type);
    if ((type !== 'counter' && type !== 'histogram') || isProcessMetric(m.name)) continue;
    for (const val of m.values ?? []) {
      const labels: Record<string, string> = {};
      for (const [k, x] of Object.entries(val.labels)) if (k !== 'function') labels[k] = String(x);
      const name = val.metricName ?? m.name;
      out.set(seriesKey(name, labels), { family: m.name, type, sample: { name, labels, value: val.value } });
    }
  }
  return out;
}

/**
 * The current series of the gauge families named in `names`, one family per name (with no
 * samples when the gauge has none now: that push removes the sender's earlier ones).
 */
export function gaugesOf(
  metrics: readonly {
    name: string;
    type: unknown;
    values?: { value: number; metricName?: string; labels: object }[];
  }[],
  names: readonly string[],
): PushFamily[] {
  return names.map((name) => {
    const m = metrics.find((x) => x.name === name && String(x.type) === 'gauge');
    const samples = (m?.values ?? []).map((val) => {
      const labels: Record<string, string> = {};
      for (const [k, x] of Object.entries(val.labels)) if (k !== 'function') labels[k] = String(x);
      return { name, labels, value: val.value };
    });
    return { name, type: 'gauge' as const, samples };
  });
}

/** What grew from `acked` to `current`, by family; empty when nothing did. */
export function increases(acked: Snapshot, current: Snapshot): PushFamily[] {
  const families = new Map<string, PushFamily>();
  for (const [key, cur] of current) {
    const before = acked.get(key)?.sample.value ?? 0;
    // Counters never go down in-process; a value below the acknowledged one can only be a reset.
    const d = cur.sample.value >= before ? cur.sample.value - before : cur.sample.value;
    if (d === 0) continue;
    let f = families.get(cur.family);
    if (!f) {
      f = { name: cur.family, type: cur.type, samples: [] };
      families.set(cur.family, f);
    }
    f.samples.push({ ...cur.sample, value: d });
  }
  return [...families.values()];
}

export interface PusherOptions {
  registry: Registry;
  /** The router's push URL. */
  url: string;
  function: string;
  log: Logger;
  /** How often increases are sent while the process runs. */
  intervalMs: number;
  /** Gauge families sent with their current values (set, not increase); none by default. */
  gauges?: readonly string[];
  /** One request's deadline. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * Sends the registry's increases to the router: on a timer, and on `stop()` (with retries until
 * its deadline) so that the last work of a pod or Job is not lost with it.
 */
export class MetricsPusher {
  readonly #o: PusherOptions;
  #acked: Snapshot = new Map();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<boolean> | undefined;
  #failing = false;
  /** Whether the router may still hold gauge series of ours (sent, and not since sent empty). */
  #gaugesShown = false;
  readonly #sender = randomUUID();

  constructor(o: PusherOptions) {
    this.#o = o;
  }

  start(): this {
    this.#timer = setInterval(() => void this.flush(), this.#o.intervalMs);
    this.#timer.unref();
    return this;
  }

  /** Sends what grew since the last accepted push; true when nothing is left to send. */
  async flush(): Promise<boolean> {
    // One send at a time: two in flight would both carry the same increase.
    while (this.#running) await this.#running;
    this.#running = this.#send().finally(() => {
      this.#running = undefined;
    });
    return await this.#running;
  }

  async #send(): Promise<boolean> {
    const json = await this.#o.registry.getMetricsAsJSON();
    const current = snapshotOf(json);
    const families = increases(this.#acked, current);
    // Gauges go with every push while they have series (each push refreshes the router's expiry),
    // and once more when they have none, to remove them.
    const gauges = gaugesOf(json, this.#o.gauges ?? []);
    const gaugeSeries = gauges.reduce((n, f) => n + f.samples.length, 0);
    if (gaugeSeries > 0 || this.#gaugesShown) families.push(...gauges);
    if (families.length === 0) return true;
    const payload: PushPayload = { function: this.#o.function, families };
    if (gauges.length > 0)
      Object.assign(payload, { sender: this.#sender, gaugeTtlMs: 3 * this.#o.intervalMs });
    const doFetch = this.#o.fetch ?? fetch;
    try {
      const res = await doFetch(this.#o.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(this.#o.timeoutMs ?? 5_000),
      });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    } catch (err) {
      // Kept for the next send; one line per failing streak, not one per interval.
      if (!this.#failing)
        this.#o.log.warn({ url: this.#o.url, err: errorMessage(err) }, 'metrics push failed');
      this.#failing = true;
      return false;
    }
    if (this.#failing) this.#o.log.info({ url: this.#o.url }, 'metrics push works again');
    this.#failing = false;
    this.#acked = current;
    this.#gaugesShown = gaugeSeries > 0;
    return true;
  }

  /** Stops the timer and sends the rest, retrying until `deadlineMs` from now. */
  async stop(deadlineMs = 10_000): Promise<boolean> {
    clearInterval(this.#timer);
    const until = Date.now() + deadlineMs;
    for (let attempt = 0; ; attempt++) {
      if (await this.flush()) return true;
      if (Date.now() + 500 * 2 ** attempt > until) break;
      await new Promise((r) => setTimeout(r, Math.min(500 * 2 ** attempt, until - Date.now())));
    }
    this.#o.log.error({ url: this.#o.url }, 'metrics push: giving up, the last increases are lost');
    return false;
  }
}

/**
 * KUIK_METRICS_PUSH_URL (the router's `…/metrics/push`; unset: no push) and
 * KUIK_METRICS_PUSH_INTERVAL_MS (default 10000).
 */
export function metricsPusherFromEnv(
  env: NodeJS.ProcessEnv,
  registry: Registry,
  fn: string,
  log: Logger,
  gauges: readonly string[] = [],
): MetricsPusher | undefined {
  const url = env['KUIK_METRICS_PUSH_URL'];
  if (!url) return undefined;
  try {
    new URL(url);
  } catch {
    throw new Error(`KUIK_METRICS_PUSH_URL must be a URL, got ${JSON.stringify(url)}`);
  }
  const raw = env['KUIK_METRICS_PUSH_INTERVAL_MS'];
  const intervalMs = raw ? Number(raw) : 10_000;
  if (!Number.isFinite(intervalMs) || intervalMs < 100)
    throw new Error(`KUIK_METRICS_PUSH_INTERVAL_MS must be a number ≥ 100, got ${JSON.stringify(raw)}`);
  return new MetricsPusher({ registry, url, function: fn, log, intervalMs, gauges }).start();
}
